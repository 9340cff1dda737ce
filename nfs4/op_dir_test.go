package nfs4

import (
	"testing"

	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

func argLink(name string) nfs4xdr.NfsArgop4 {
	return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_LINK, Oplink: &nfs4xdr.LINK4args{Newname: nfs4xdr.Component4(name)}}
}

func argRemove(name string) nfs4xdr.NfsArgop4 {
	return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_REMOVE, Opremove: &nfs4xdr.REMOVE4args{Target: nfs4xdr.Component4(name)}}
}

func argRename(from, to string) nfs4xdr.NfsArgop4 {
	return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_RENAME, Oprename: &nfs4xdr.RENAME4args{Oldname: nfs4xdr.Component4(from), Newname: nfs4xdr.Component4(to)}}
}

// changeOf reads a file's change attribute.
func changeOf(t *testing.T, s *session, fh []byte) uint64 {
	t.Helper()
	a, _ := getattrOf(t, s, fh, 3 /* change */)
	return a.u64(t, nfs4xdr.FATTR4_CHANGE)
}

// wantCinfo checks a change_info4 against the directory's change attribute
// read before and after the operation (RFC 8881 §3.3.6).
func wantCinfo(t *testing.T, what string, ci nfs4xdr.ChangeInfo4, before, after uint64) {
	t.Helper()
	if uint64(ci.Before) != before || uint64(ci.After) != after || before == after {
		t.Errorf("%s cinfo %+v, want before %d after %d (and a change)", what, ci, before, after)
	}
}

// RFC 8881 §18.9: LINK gives the saved file a new name in the current
// directory, which stays current.
func TestLink(t *testing.T) {
	f := newFixture(t, "")
	s := f.newSession(root)
	fileFH := f.wireFH("/", f.mkfileB("/", nil, "file", 3))
	dirFH := f.wireFH("/", f.mkdirB("/", nil, "dir", 0o755))
	before := changeOf(t, s, dirFH)
	res := s.call(opPutfh(fileFH), opSavefh(), opPutfh(dirFH), argLink("alias"), opGetfh(), argGetattr(nfs4xdr.FATTR4_NUMLINKS))
	f.wantStatus(res, nfs4xdr.NFS4_OK, 7)
	wantCinfo(t, "LINK", res.Resarray[4].Oplink.Resok4.Cinfo, before, changeOf(t, s, dirFH))
	if string(res.Resarray[5].Opgetfh.Resok4.Object) != string(dirFH) {
		t.Errorf("current filehandle after LINK is not the directory")
	}
	if got := fhOf(t, s, "dir", "alias"); string(got) != string(fileFH) {
		t.Errorf("the new name leads to another file")
	}
	a, _ := getattrOf(t, s, fileFH, nfs4xdr.FATTR4_NUMLINKS)
	if a.u64(t, nfs4xdr.FATTR4_NUMLINKS) != 2 {
		t.Errorf("numlinks %d, want 2", a[nfs4xdr.FATTR4_NUMLINKS])
	}
}

// RFC 8881 §18.9.3: LINK errors.
func TestLinkErrors(t *testing.T) {
	f := newFixture(t, "/a *(rw,no_root_squash)\n/b *(rw,no_root_squash)\n/ro *(ro,no_root_squash)\n")
	s := f.newSession(root)
	aFile := f.wireFH("/a", f.mkfileB("/a", nil, "file", 0))
	aDir := f.wireFH("/a", f.mkdirB("/a", nil, "dir", 0o755))
	roFile := f.wireFH("/ro", f.mkfileB("/ro", nil, "file", 0))
	aRoot, bRoot, roRoot, pseudo := fhOf(t, s, "a"), fhOf(t, s, "b"), fhOf(t, s, "ro"), fhOf(t, s)
	tests := []struct {
		name      string
		src, dst  []byte
		newname   string
		want      nfs4xdr.Nfsstat4
		noSavedFH bool
	}{
		{"across exports", aFile, bRoot, "x", nfs4xdr.NFS4ERR_XDEV, false},
		{"from the pseudo-fs", pseudo, aRoot, "x", nfs4xdr.NFS4ERR_XDEV, false},
		{"within the pseudo-fs", pseudo, pseudo, "x", nfs4xdr.NFS4ERR_ROFS, false},
		{"read-only export", roFile, roRoot, "x", nfs4xdr.NFS4ERR_ROFS, false},
		{"exists", aFile, aRoot, "file", nfs4xdr.NFS4ERR_EXIST, false},
		{"bad name", aFile, aRoot, "..", nfs4xdr.NFS4ERR_BADNAME, false},
		{"target not a directory", aFile, aFile, "x", nfs4xdr.NFS4ERR_NOTDIR, false},
		{"a directory", aDir, aRoot, "x", nfs4xdr.NFS4ERR_ISDIR, false},
		{"no saved filehandle", nil, aRoot, "x", nfs4xdr.NFS4ERR_NOFILEHANDLE, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ops []nfs4xdr.NfsArgop4
			if !tt.noSavedFH {
				ops = append(ops, opPutfh(tt.src), opSavefh())
			}
			ops = append(ops, opPutfh(tt.dst), argLink(tt.newname))
			res := s.call(ops...)
			f.wantStatus(res, tt.want, len(ops)+1)
		})
	}
}

// RFC 8881 §18.25: REMOVE takes files of any type and empty directories.
func TestRemove(t *testing.T) {
	f := newFixture(t, "/ *(rw,no_root_squash)\n/ro *(ro,no_root_squash)\n")
	s := f.newSession(root)
	f.mkfileB("/", nil, "file", 0)
	f.mkdirB("/", nil, "empty", 0o755)
	full := f.mkdirB("/", nil, "full", 0o755)
	f.mkfileB("/", full, "inside", 0)
	f.mkfileB("/ro", nil, "file", 0)
	rootFH := fhOf(t, s)
	res := s.call(opPutrootfh(), argCreate(nfs4xdr.Createtype4{Type: nfs4xdr.NF4LNK, Linkdata: nfs4xdr.Linktext4("file")}, "link", nfs4xdr.Fattr4{}))
	f.wantStatus(res, nfs4xdr.NFS4_OK, 3)

	tests := []struct {
		name   string
		fh     []byte
		target string
		want   nfs4xdr.Nfsstat4
	}{
		{"file", rootFH, "file", nfs4xdr.NFS4_OK},
		{"empty directory", rootFH, "empty", nfs4xdr.NFS4_OK},
		{"symlink", rootFH, "link", nfs4xdr.NFS4_OK},
		{"non-empty directory", rootFH, "full", nfs4xdr.NFS4ERR_NOTEMPTY},
		{"missing", rootFH, "nothing", nfs4xdr.NFS4ERR_NOENT},
		{"bad name", rootFH, ".", nfs4xdr.NFS4ERR_BADNAME},
		{"read-only export", fhOf(t, s, "ro"), "file", nfs4xdr.NFS4ERR_ROFS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := changeOf(t, s, tt.fh)
			res := s.call(opPutfh(tt.fh), argRemove(tt.target), opLookup(tt.target))
			if tt.want != nfs4xdr.NFS4_OK {
				f.wantStatus(res, tt.want, 3)
				return
			}
			// The name is gone: the LOOKUP after it fails.
			f.wantStatus(res, nfs4xdr.NFS4ERR_NOENT, 4)
			wantCinfo(t, "REMOVE", res.Resarray[2].Opremove.Resok4.Cinfo, before, changeOf(t, s, tt.fh))
		})
	}
	// The pseudo-filesystem is read-only.
	pf := newFixture(t, "/export/a *(rw,no_root_squash)\n")
	ps := pf.newSession(root)
	pf.wantStatus(ps.call(opPutrootfh(), argRemove("export")), nfs4xdr.NFS4ERR_ROFS, 3)
	pf.wantStatus(ps.call(argRemove("export")), nfs4xdr.NFS4ERR_NOFILEHANDLE, 2)
}

// RFC 8881 §18.26: RENAME moves from the saved directory to the current
// one, reporting both change_info4s; renaming a file onto another name of
// itself succeeds and changes nothing.
func TestRename(t *testing.T) {
	f := newFixture(t, "")
	s := f.newSession(root)
	src := f.mkdirB("/", nil, "src", 0o755)
	dst := f.mkdirB("/", nil, "dst", 0o755)
	moved := f.wireFH("/", f.mkfileB("/", src, "a", 1))
	srcFH, dstFH := f.wireFH("/", src), f.wireFH("/", dst)

	srcBefore, dstBefore := changeOf(t, s, srcFH), changeOf(t, s, dstFH)
	res := s.call(opPutfh(srcFH), opSavefh(), opPutfh(dstFH), argRename("a", "b"))
	f.wantStatus(res, nfs4xdr.NFS4_OK, 5)
	ok := res.Resarray[4].Oprename.Resok4
	wantCinfo(t, "source", ok.SourceCinfo, srcBefore, changeOf(t, s, srcFH))
	wantCinfo(t, "target", ok.TargetCinfo, dstBefore, changeOf(t, s, dstFH))
	if string(fhOf(t, s, "dst", "b")) != string(moved) {
		t.Errorf("dst/b is not the file moved")
	}
	f.wantStatus(s.call(opPutfh(srcFH), opLookup("a")), nfs4xdr.NFS4ERR_NOENT, 3)

	// Onto a hard link of itself: nothing happens, both names stay.
	res = s.call(opPutfh(moved), opSavefh(), opPutfh(dstFH), argLink("c"))
	f.wantStatus(res, nfs4xdr.NFS4_OK, 5)
	res = s.call(opPutfh(dstFH), opSavefh(), argRename("b", "c"))
	f.wantStatus(res, nfs4xdr.NFS4_OK, 4)
	for _, n := range []string{"b", "c"} {
		if string(fhOf(t, s, "dst", n)) != string(moved) {
			t.Errorf("dst/%s lost by a rename onto itself", n)
		}
	}
	// Onto the same name.
	f.wantStatus(s.call(opPutfh(dstFH), opSavefh(), argRename("b", "b")), nfs4xdr.NFS4_OK, 4)
	fhOf(t, s, "dst", "b")
}

// RFC 8881 §18.26.3: RENAME errors.
func TestRenameErrors(t *testing.T) {
	f := newFixture(t, "/a *(rw,no_root_squash)\n/b *(rw,no_root_squash)\n/ro *(ro,no_root_squash)\n")
	s := f.newSession(root)
	aFile := f.wireFH("/a", f.mkfileB("/a", nil, "file", 0))
	f.mkdirB("/a", nil, "empty", 0o755)
	d := f.mkdirB("/a", nil, "dir", 0o755)
	f.mkfileB("/a", d, "inside", 0)
	f.mkfileB("/ro", nil, "file", 0)
	aRoot, bRoot, roRoot, pseudo := fhOf(t, s, "a"), fhOf(t, s, "b"), fhOf(t, s, "ro"), fhOf(t, s)
	tests := []struct {
		name     string
		from, to []byte
		old, new string
		want     nfs4xdr.Nfsstat4
	}{
		{"across exports", aRoot, bRoot, "file", "x", nfs4xdr.NFS4ERR_XDEV},
		{"into the pseudo-fs", aRoot, pseudo, "file", "x", nfs4xdr.NFS4ERR_XDEV},
		{"within the pseudo-fs", pseudo, pseudo, "a", "x", nfs4xdr.NFS4ERR_ROFS},
		{"read-only export", roRoot, roRoot, "file", "x", nfs4xdr.NFS4ERR_ROFS},
		{"missing", aRoot, aRoot, "nothing", "x", nfs4xdr.NFS4ERR_NOENT},
		{"file onto a directory", aRoot, aRoot, "file", "dir", nfs4xdr.NFS4ERR_EXIST},
		{"directory onto a file", aRoot, aRoot, "dir", "file", nfs4xdr.NFS4ERR_EXIST},
		{"onto a non-empty directory", aRoot, aRoot, "empty", "dir", nfs4xdr.NFS4ERR_EXIST},
		{"from a file", aFile, aRoot, "x", "y", nfs4xdr.NFS4ERR_NOTDIR},
		{"empty old name", aRoot, aRoot, "", "x", nfs4xdr.NFS4ERR_INVAL},
		{"dotdot new name", aRoot, aRoot, "file", "..", nfs4xdr.NFS4ERR_BADNAME},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := s.call(opPutfh(tt.from), opSavefh(), opPutfh(tt.to), argRename(tt.old, tt.new))
			f.wantStatus(res, tt.want, 5)
		})
	}
	f.wantStatus(s.call(opPutfh(aRoot), argRename("file", "x")), nfs4xdr.NFS4ERR_NOFILEHANDLE, 3)
}
