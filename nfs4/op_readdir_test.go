package nfs4

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/gonfs/gonfs/nfs4/fattr"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/xdr"
)

func argReaddir(cookie uint64, dircount, maxcount uint32, attrs ...uint32) nfs4xdr.NfsArgop4 {
	return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_READDIR, Opreaddir: &nfs4xdr.READDIR4args{
		Cookie: nfs4xdr.NfsCookie4(cookie), Dircount: nfs4xdr.Count4(dircount), Maxcount: nfs4xdr.Count4(maxcount),
		AttrRequest: fattr.Of(attrs...).Bitmap4()}}
}

// dirEntry is an entry of a READDIR reply, decoded.
type dirEntry struct {
	cookie uint64
	name   string
	attrs  attrMap
}

// readdir runs PUTFH fh; READDIR and returns the entries and eof. The reply
// must re-encode to the very bytes sent, and the READDIR4resok must fit
// maxcount.
func readdir(t *testing.T, s *session, fh []byte, cookie uint64, dircount, maxcount uint32, attrs ...uint32) ([]dirEntry, bool) {
	t.Helper()
	res, raw := s.callRaw(opPutfh(fh), argReaddir(cookie, dircount, maxcount, attrs...))
	s.f.wantStatus(res, nfs4xdr.NFS4_OK, 3)
	if again := xdr.Marshal(nil, res); !bytes.Equal(again, raw) {
		t.Fatalf("READDIR reply does not re-encode byte for byte")
	}
	ok := &res.Resarray[2].Opreaddir.Resok4
	if n := len(xdr.Marshal(nil, ok)); n > int(maxcount) {
		t.Fatalf("READDIR4resok is %d bytes, maxcount %d", n, maxcount)
	}
	if ok.Cookieverf != (nfs4xdr.Verifier4{}) {
		t.Errorf("cookie verifier %x, want the constant zero", ok.Cookieverf)
	}
	var out []dirEntry
	for e := ok.Reply.Entries; e != nil; e = e.Nextentry {
		out = append(out, dirEntry{uint64(e.Cookie), string(e.Name), decodeAttrs(t, &e.Attrs)})
	}
	return out, ok.Reply.Eof
}

// RFC 8881 §18.23: a directory of 1,000 entries read in small pieces gives
// every entry exactly once, with the attributes asked for, whatever the
// budgets; cookies are never 0, 1 or 2.
func TestReaddirPieces(t *testing.T) {
	f := newFixture(t, "")
	s := f.newSession(root)
	dir := f.mkdirB("/", nil, "big", 0o755)
	const n = 1000
	fileids := map[string]bool{}
	for i := range n {
		f.mkfileB("/", dir, fmt.Sprintf("file-%04d", i), uint64(i))
	}
	dirFH := f.wireFH("/", dir)
	for _, tc := range []struct {
		name               string
		dircount, maxcount uint32
		attrs              []uint32
	}{
		{"names only", 0, 400, []uint32{nfs4xdr.FATTR4_RDATTR_ERROR, nfs4xdr.FATTR4_FILEID}},
		{"with attributes", 0, 1000, []uint32{nfs4xdr.FATTR4_TYPE, nfs4xdr.FATTR4_SIZE, nfs4xdr.FATTR4_FILEID, nfs4xdr.FATTR4_FILEHANDLE, nfs4xdr.FATTR4_MOUNTED_ON_FILEID}},
		{"dircount hint", 100, 1 << 16, []uint32{nfs4xdr.FATTR4_SIZE}},
		{"large", 0, 1 << 20, []uint32{nfs4xdr.FATTR4_SIZE, nfs4xdr.FATTR4_SPACE_AVAIL}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[string]bool{}
			cookie, calls := uint64(0), 0
			for {
				ents, eof := readdir(t, s, dirFH, cookie, tc.dircount, tc.maxcount, tc.attrs...)
				calls++
				if len(ents) == 0 && !eof {
					t.Fatalf("no entries and no eof at cookie %d", cookie)
				}
				for _, e := range ents {
					if seen[e.name] {
						t.Fatalf("%s listed twice", e.name)
					}
					seen[e.name] = true
					if e.cookie <= 2 {
						t.Fatalf("%s has cookie %d", e.name, e.cookie)
					}
					var i uint64
					fmt.Sscanf(e.name, "file-%d", &i)
					if sz, ok := e.attrs[nfs4xdr.FATTR4_SIZE]; ok && sz != i {
						t.Fatalf("%s has size %v", e.name, sz)
					}
					if fh, ok := e.attrs[nfs4xdr.FATTR4_FILEHANDLE]; ok && !bytes.Equal(fh.([]byte), fhOf(t, s, "big", e.name)) {
						t.Fatalf("%s: filehandle attribute is not LOOKUP's handle", e.name)
					}
					if id, ok := e.attrs[nfs4xdr.FATTR4_FILEID]; ok {
						if m := e.attrs[nfs4xdr.FATTR4_MOUNTED_ON_FILEID]; m != nil && m != id {
							t.Fatalf("%s: mounted_on_fileid %v, fileid %v", e.name, m, id)
						}
						if tc.name == "names only" {
							fileids[fmt.Sprint(id)] = true
						}
					}
				}
				if eof {
					break
				}
				cookie = ents[len(ents)-1].cookie
			}
			if len(seen) != n {
				t.Fatalf("%d entries seen, want %d", len(seen), n)
			}
			if tc.maxcount < 2000 && calls < 10 {
				t.Errorf("maxcount %d took only %d calls", tc.maxcount, calls)
			}
		})
	}
	if len(fileids) != n {
		t.Errorf("%d distinct fileids, want %d", len(fileids), n)
	}
}

// RFC 8881 §18.23.3: READDIR errors.
func TestReaddirErrors(t *testing.T) {
	f := newFixture(t, "")
	s := f.newSession(root)
	f.mkfileB("/", nil, "file", 0)
	rootFH := fhOf(t, s)
	fileFH := fhOf(t, s, "file")
	tests := []struct {
		name string
		ops  []nfs4xdr.NfsArgop4
		want nfs4xdr.Nfsstat4
	}{
		{"no filehandle", []nfs4xdr.NfsArgop4{argReaddir(0, 0, 4096)}, nfs4xdr.NFS4ERR_NOFILEHANDLE},
		{"not a directory", []nfs4xdr.NfsArgop4{opPutfh(fileFH), argReaddir(0, 0, 4096)}, nfs4xdr.NFS4ERR_NOTDIR},
		{"cookie 1", []nfs4xdr.NfsArgop4{opPutfh(rootFH), argReaddir(1, 0, 4096)}, nfs4xdr.NFS4ERR_BAD_COOKIE},
		{"cookie 2", []nfs4xdr.NfsArgop4{opPutfh(rootFH), argReaddir(2, 0, 4096)}, nfs4xdr.NFS4ERR_BAD_COOKIE},
		{"too small for one entry", []nfs4xdr.NfsArgop4{opPutfh(rootFH), argReaddir(0, 0, 30)}, nfs4xdr.NFS4ERR_TOOSMALL},
		{"too small for anything", []nfs4xdr.NfsArgop4{opPutfh(rootFH), argReaddir(0, 0, 8)}, nfs4xdr.NFS4ERR_TOOSMALL},
		{"write-only attribute", []nfs4xdr.NfsArgop4{opPutfh(rootFH), argReaddir(0, 0, 4096, nfs4xdr.FATTR4_TIME_ACCESS_SET)}, nfs4xdr.NFS4ERR_INVAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.wantStatus(s.call(tt.ops...), tt.want, len(tt.ops)+1)
		})
	}
	// An empty directory fits however small the budget, once the fixed
	// parts do.
	empty := f.wireFH("/", f.mkdirB("/", nil, "empty", 0o755))
	if ents, eof := readdir(t, s, empty, 0, 0, 16, nfs4xdr.FATTR4_SIZE); len(ents) != 0 || !eof {
		t.Errorf("empty directory: %d entries, eof %v", len(ents), eof)
	}
	// A cookie past the end is the end.
	if ents, eof := readdir(t, s, rootFH, 1<<40, 0, 4096); len(ents) != 0 || !eof {
		t.Errorf("cookie past the end: %d entries, eof %v", len(ents), eof)
	}
}

// RFC 8881 §18.23.3, §5.8.1.12: a caller that may read a directory but not
// search it gets names and fileids, and for any other attribute
// rdattr_error NFS4ERR_ACCESS per entry (or, without rdattr_error asked
// for, the READDIR fails), so that no handle reaches it through the
// listing.
func TestReaddirNoSearch(t *testing.T) {
	f := newFixture(t, "")
	s := f.newSession(cred{1000, 1000})
	d := f.mkdirB("/", nil, "locked", 0o644)
	f.mkfileB("/", d, "secret", 5)
	dirFH := f.wireFH("/", d)

	ents, eof := readdir(t, s, dirFH, 0, 0, 4096, nfs4xdr.FATTR4_FILEID)
	if len(ents) != 1 || !eof || ents[0].name != "secret" || ents[0].attrs[nfs4xdr.FATTR4_FILEID] == nil {
		t.Fatalf("names only: %+v eof %v", ents, eof)
	}
	ents, _ = readdir(t, s, dirFH, 0, 0, 4096, nfs4xdr.FATTR4_RDATTR_ERROR, nfs4xdr.FATTR4_SIZE, nfs4xdr.FATTR4_FILEHANDLE)
	if len(ents) != 1 || len(ents[0].attrs) != 1 || ents[0].attrs[nfs4xdr.FATTR4_RDATTR_ERROR] != uint64(nfs4xdr.NFS4ERR_ACCESS) {
		t.Fatalf("with rdattr_error: %+v", ents)
	}
	res := s.call(opPutfh(dirFH), argReaddir(0, 0, 4096, nfs4xdr.FATTR4_SIZE))
	f.wantStatus(res, nfs4xdr.NFS4ERR_ACCESS, 3)
}

// RFC 8881 §7.3, §18.23: pseudo directories list their children; an
// export mounted on one is listed with the export root's attributes, its
// own fsid, and mounted_on_fileid the pseudo directory's fileid
// (§5.8.2.19).
func TestReaddirPseudo(t *testing.T) {
	f := newFixture(t, "/export/a *(rw,no_root_squash)\n/export/b *(ro,no_root_squash)\n/other *(rw,no_root_squash)\n")
	s := f.newSession(root)
	want := []uint32{nfs4xdr.FATTR4_RDATTR_ERROR, nfs4xdr.FATTR4_TYPE, nfs4xdr.FATTR4_FSID, nfs4xdr.FATTR4_FILEID,
		nfs4xdr.FATTR4_FILEHANDLE, nfs4xdr.FATTR4_MOUNTED_ON_FILEID}

	ents, eof := readdir(t, s, fhOf(t, s), 0, 0, 4096, want...)
	if !eof || len(ents) != 2 || ents[0].name != "export" || ents[1].name != "other" {
		t.Fatalf("root lists %+v eof %v", ents, eof)
	}
	exportNode, _ := f.ns.PseudoRoot().Child("export")
	if ents[0].attrs[nfs4xdr.FATTR4_FSID] != [2]uint64{0, 0} || ents[0].attrs[nfs4xdr.FATTR4_FILEID] != exportNode.FileID ||
		!bytes.Equal(ents[0].attrs[nfs4xdr.FATTR4_FILEHANDLE].([]byte), fhOf(t, s, "export")) {
		t.Errorf("pseudo entry: %v", ents[0].attrs)
	}

	ents, eof = readdir(t, s, fhOf(t, s, "export"), 0, 0, 4096, want...)
	if !eof || len(ents) != 2 {
		t.Fatalf("/export lists %+v eof %v", ents, eof)
	}
	for _, e := range ents {
		ex, _ := f.ns.Find("/export/" + e.name)
		rootAttrs, _ := getattrOf(t, s, fhOf(t, s, "export", e.name), nfs4xdr.FATTR4_FILEID)
		switch {
		case e.attrs[nfs4xdr.FATTR4_FSID] != [2]uint64{ex.FSID(), 0}:
			t.Errorf("%s: fsid %v, want the export's %d", e.name, e.attrs[nfs4xdr.FATTR4_FSID], ex.FSID())
		case e.attrs[nfs4xdr.FATTR4_MOUNTED_ON_FILEID] != ex.Mount.FileID:
			t.Errorf("%s: mounted_on_fileid %v, want %d", e.name, e.attrs[nfs4xdr.FATTR4_MOUNTED_ON_FILEID], ex.Mount.FileID)
		case e.attrs[nfs4xdr.FATTR4_FILEID] != rootAttrs[nfs4xdr.FATTR4_FILEID]:
			t.Errorf("%s: fileid %v, want the export root's %v", e.name, e.attrs[nfs4xdr.FATTR4_FILEID], rootAttrs[nfs4xdr.FATTR4_FILEID])
		case !bytes.Equal(e.attrs[nfs4xdr.FATTR4_FILEHANDLE].([]byte), f.wireFH(ex.Config.Path, ex.Root)):
			t.Errorf("%s: filehandle is not the export root's", e.name)
		}
	}

	// Piece by piece: the cookie after the first entry gives the second.
	first, eof := readdir(t, s, fhOf(t, s, "export"), 0, 0, 16+4+8+8+4+12+4+8, nfs4xdr.FATTR4_MOUNTED_ON_FILEID)
	if len(first) != 1 || eof {
		t.Fatalf("first piece %+v eof %v", first, eof)
	}
	rest, eof := readdir(t, s, fhOf(t, s, "export"), first[0].cookie, 0, 4096, nfs4xdr.FATTR4_MOUNTED_ON_FILEID)
	if len(rest) != 1 || !eof || rest[0].name != "b" {
		t.Fatalf("second piece %+v eof %v", rest, eof)
	}
}

// RFC 8881 §5.8.1.12: an export this client may not use is listed with
// rdattr_error, not its attributes.
func TestReaddirPseudoDenied(t *testing.T) {
	f := newFixture(t, "/open *(rw)\n/closed 10.9.9.9(rw)\n")
	s := f.newSession(root)
	ents, _ := readdir(t, s, fhOf(t, s), 0, 0, 4096, nfs4xdr.FATTR4_RDATTR_ERROR, nfs4xdr.FATTR4_FSID)
	if len(ents) != 2 || ents[0].name != "closed" || ents[1].name != "open" {
		t.Fatalf("root lists %+v", ents)
	}
	if st := ents[0].attrs[nfs4xdr.FATTR4_RDATTR_ERROR]; st == nil || st == uint64(nfs4xdr.NFS4_OK) {
		t.Errorf("closed export listed with %v", ents[0].attrs)
	}
	if ents[1].attrs[nfs4xdr.FATTR4_RDATTR_ERROR] != uint64(nfs4xdr.NFS4_OK) {
		t.Errorf("open export listed with %v", ents[1].attrs)
	}
}
