package nfs4

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/vfs"
)

func argReadlink() nfs4xdr.NfsArgop4 { return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_READLINK} }

func argSecinfo(name string) nfs4xdr.NfsArgop4 {
	return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_SECINFO, Opsecinfo: &nfs4xdr.SECINFO4args{Name: nfs4xdr.Component4(name)}}
}

func argSecinfoNoName(style nfs4xdr.SecinfoStyle4) nfs4xdr.NfsArgop4 {
	return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_SECINFO_NO_NAME, OpsecinfoNoName: &style}
}

// mksymlink makes a symlink through the backend.
func (f *fixture) mksymlink(export string, dir vfs.Handle, name, target string) vfs.Handle {
	f.t.Helper()
	fs := f.fs[export]
	if dir == nil {
		dir = fs.Root()
	}
	h, _, err := fs.Symlink(context.Background(), vfs.RootCred(), dir, name, target, vfs.SetAttr{})
	if err != nil {
		f.t.Fatal(err)
	}
	return h
}

// getfhAfter runs ops then GETFH and returns the handle.
func getfhAfter(t *testing.T, s *session, ops ...nfs4xdr.NfsArgop4) []byte {
	t.Helper()
	ops = append(ops, opGetfh())
	res := s.call(ops...)
	s.f.wantStatus(res, nfs4xdr.NFS4_OK, len(ops)+1)
	return res.Resarray[len(ops)].Opgetfh.Resok4.Object
}

// RFC 8881 §18.21, §18.19, §18.8: PUTROOTFH lands on the pseudo root, or
// on the root of an export at "/"; PUTFH takes back what GETFH gave, and
// refuses handles that are malformed (NFS4ERR_BADHANDLE) or name an export
// the server does not have (NFS4ERR_STALE, §4.2.3).
func TestPutfh(t *testing.T) {
	f := newFixture(t, "")
	s := f.newSession(root)
	e, _ := f.ns.Find("/")
	if got := getfhAfter(t, s, opPutrootfh()); !bytes.Equal(got, f.wireFH("/", e.Root)) {
		t.Errorf("PUTROOTFH with an export at / is not its root")
	}
	pf := newFixture(t, "/export/a *(rw)\n")
	ps := pf.newSession(root)
	if got := getfhAfter(t, ps, opPutrootfh()); !bytes.Equal(got, pf.ns.PseudoHandle(nil, pf.ns.PseudoRoot())) {
		t.Errorf("PUTROOTFH without an export at / is not the pseudo root")
	}
	fh := f.wireFH("/", f.mkfileB("/", nil, "file", 0))
	if got := getfhAfter(t, s, opPutfh(fh)); !bytes.Equal(got, fh) {
		t.Errorf("GETFH after PUTFH gives another handle")
	}
	if got := getfhAfter(t, s, opPutpubfh()); !bytes.Equal(got, f.wireFH("/", e.Root)) {
		t.Errorf("PUTPUBFH is not the root")
	}

	// A well-made handle of an export this server does not have: same
	// key, other exports.
	other := newFixture(t, "/elsewhere *(rw)\n")
	oe, _ := other.ns.Find("/elsewhere")
	stale := other.wireFH("/elsewhere", oe.Root)
	bad := bytes.Clone(fh)
	bad[len(bad)-1] ^= 1
	tests := []struct {
		name string
		ops  []nfs4xdr.NfsArgop4
		want nfs4xdr.Nfsstat4
	}{
		{"garbage", []nfs4xdr.NfsArgop4{opPutfh([]byte("not a handle"))}, nfs4xdr.NFS4ERR_BADHANDLE},
		{"empty", []nfs4xdr.NfsArgop4{opPutfh(nil)}, nfs4xdr.NFS4ERR_BADHANDLE},
		// A MAC that does not verify is a handle of another key: stale
		// (fhandle.ErrStale).
		{"tampered", []nfs4xdr.NfsArgop4{opPutfh(bad)}, nfs4xdr.NFS4ERR_STALE},
		{"unknown export", []nfs4xdr.NfsArgop4{opPutfh(stale)}, nfs4xdr.NFS4ERR_STALE},
		{"GETFH without one", []nfs4xdr.NfsArgop4{opGetfh()}, nfs4xdr.NFS4ERR_NOFILEHANDLE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.wantStatus(s.call(tt.ops...), tt.want, len(tt.ops)+1)
		})
	}
}

func opPutpubfh() nfs4xdr.NfsArgop4 { return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_PUTPUBFH} }

// RFC 8881 §18.32, §18.27: SAVEFH and RESTOREFH; RESTOREFH with nothing
// saved is NFS4ERR_RESTOREFH, SAVEFH without a current filehandle
// NFS4ERR_NOFILEHANDLE.
func TestSaveRestore(t *testing.T) {
	f := newFixture(t, "")
	s := f.newSession(root)
	f.mkdirB("/", nil, "d", 0o755)
	d := fhOf(t, s, "d")
	if got := getfhAfter(t, s, opPutfh(d), opSavefh(), opPutrootfh(), opRestorefh()); !bytes.Equal(got, d) {
		t.Errorf("RESTOREFH does not give back the saved handle")
	}
	f.wantStatus(s.call(opPutrootfh(), opRestorefh()), nfs4xdr.NFS4ERR_RESTOREFH, 3)
	f.wantStatus(s.call(opSavefh()), nfs4xdr.NFS4ERR_NOFILEHANDLE, 2)
}

// RFC 8881 §18.15, §14.2: LOOKUP name rules, and what a non-directory
// answers (NFS4ERR_SYMLINK for a symlink, §18.15.3; NOTDIR otherwise).
func TestLookupErrors(t *testing.T) {
	f := newFixture(t, "")
	s := f.newSession(root)
	file := f.wireFH("/", f.mkfileB("/", nil, "file", 0))
	link := f.wireFH("/", f.mksymlink("/", nil, "link", "file"))
	rootFH := fhOf(t, s)
	tests := []struct {
		name string
		fh   []byte
		look string
		want nfs4xdr.Nfsstat4
	}{
		{"empty", rootFH, "", nfs4xdr.NFS4ERR_INVAL},
		{"not UTF-8", rootFH, "a\xffb", nfs4xdr.NFS4ERR_INVAL},
		{"dot", rootFH, ".", nfs4xdr.NFS4ERR_BADNAME},
		{"dotdot", rootFH, "..", nfs4xdr.NFS4ERR_BADNAME},
		{"slash", rootFH, "a/b", nfs4xdr.NFS4ERR_BADCHAR},
		{"nul", rootFH, "a\x00b", nfs4xdr.NFS4ERR_BADCHAR},
		{"too long", rootFH, strings.Repeat("x", 256), nfs4xdr.NFS4ERR_NAMETOOLONG},
		{"longest", rootFH, strings.Repeat("x", 255), nfs4xdr.NFS4ERR_NOENT},
		{"missing", rootFH, "missing", nfs4xdr.NFS4ERR_NOENT},
		{"in a file", file, "x", nfs4xdr.NFS4ERR_NOTDIR},
		{"in a symlink", link, "x", nfs4xdr.NFS4ERR_SYMLINK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.wantStatus(s.call(opPutfh(tt.fh), opLookup(tt.look)), tt.want, 3)
		})
	}
	f.wantStatus(s.call(opLookup("x")), nfs4xdr.NFS4ERR_NOFILEHANDLE, 2)
	// In the pseudo-filesystem.
	pf := newFixture(t, "/export/a *(rw)\n")
	ps := pf.newSession(root)
	pf.wantStatus(ps.call(opPutrootfh(), opLookup("nothing")), nfs4xdr.NFS4ERR_NOENT, 3)
	pf.wantStatus(ps.call(opPutrootfh(), opLookup("..")), nfs4xdr.NFS4ERR_BADNAME, 3)
}

// RFC 8881 §18.14, §7.4: LOOKUPP walks back up, from an export's root to
// the pseudo directory it is mounted on; the root of everything has no
// parent (NFS4ERR_NOENT).
func TestLookupp(t *testing.T) {
	f := newFixture(t, "/export/a *(rw,no_root_squash)\n")
	s := f.newSession(root)
	sub := f.mkdirB("/export/a", nil, "sub", 0o755)
	file := f.wireFH("/export/a", f.mkfileB("/export/a", sub, "file", 0))
	aFH, exportFH, rootFH := fhOf(t, s, "export", "a"), fhOf(t, s, "export"), fhOf(t, s)
	tests := []struct {
		name string
		from []byte
		want []byte
	}{
		{"subdirectory to export root", f.wireFH("/export/a", sub), aFH},
		{"export root to pseudo dir", aFH, exportFH},
		{"pseudo dir to pseudo root", exportFH, rootFH},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := getfhAfter(t, s, opPutfh(tt.from), opLookupp()); !bytes.Equal(got, tt.want) {
				t.Errorf("LOOKUPP led elsewhere")
			}
		})
	}
	f.wantStatus(s.call(opPutrootfh(), opLookupp()), nfs4xdr.NFS4ERR_NOENT, 3)
	f.wantStatus(s.call(opPutfh(file), opLookupp()), nfs4xdr.NFS4ERR_NOTDIR, 3)
	f.wantStatus(s.call(opLookupp()), nfs4xdr.NFS4ERR_NOFILEHANDLE, 2)
	// With an export at "/", its root is the root of everything.
	rf := newFixture(t, "")
	rs := rf.newSession(root)
	rf.wantStatus(rs.call(opPutrootfh(), opLookupp()), nfs4xdr.NFS4ERR_NOENT, 3)
}

// RFC 8881 §7.7, §18.15, §18.14: a walk from the root across nested
// exports (/ and /a/b) crosses into /a/b where it is mounted, with its own
// fsid, and LOOKUPP comes back to the directory it covers; READDIR of that
// directory lists the export's root.
func TestNestedExports(t *testing.T) {
	f := newFixture(t, "/ *(rw,no_root_squash)\n/a/b *(rw,no_root_squash)\n")
	s := f.newSession(root)
	a := f.mkdirB("/", nil, "a", 0o755)
	covered := f.mkdirB("/", a, "b", 0o755)
	f.mkfileB("/", covered, "hidden", 0)
	f.mkfileB("/a/b", nil, "inner", 0)
	top, _ := f.ns.Find("/")
	nested, _ := f.ns.Find("/a/b")

	bFH := fhOf(t, s, "a", "b")
	if !bytes.Equal(bFH, f.wireFH("/a/b", nested.Root)) {
		t.Fatalf("LOOKUP a, b did not cross into export /a/b")
	}
	attrs, _ := getattrOf(t, s, bFH, nfs4xdr.FATTR4_FSID)
	if attrs[nfs4xdr.FATTR4_FSID] != [2]uint64{nested.FSID(), 0} {
		t.Errorf("fsid %v, want /a/b's %d", attrs[nfs4xdr.FATTR4_FSID], nested.FSID())
	}
	fhOf(t, s, "a", "b", "inner")
	f.wantStatus(s.call(opPutfh(bFH), opLookup("hidden")), nfs4xdr.NFS4ERR_NOENT, 3)

	aFH := f.wireFH("/", a)
	if got := getfhAfter(t, s, opPutfh(bFH), opLookupp()); !bytes.Equal(got, aFH) {
		t.Errorf("LOOKUPP from /a/b is not directory a of export /")
	}
	if got := getfhAfter(t, s, opPutfh(bFH), opLookupp(), opLookupp()); !bytes.Equal(got, f.wireFH("/", top.Root)) {
		t.Errorf("LOOKUPP twice from /a/b is not the root")
	}

	want := []uint32{nfs4xdr.FATTR4_FSID, nfs4xdr.FATTR4_FILEHANDLE, nfs4xdr.FATTR4_MOUNTED_ON_FILEID}
	ents, _ := readdir(t, s, aFH, 0, 0, 4096, want...)
	coveredAttrs, err := f.fs["/"].GetAttr(context.Background(), covered)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].name != "b" {
		t.Fatalf("a lists %+v", ents)
	}
	switch e := ents[0].attrs; {
	case e[nfs4xdr.FATTR4_FSID] != [2]uint64{nested.FSID(), 0}:
		t.Errorf("entry b has fsid %v", e[nfs4xdr.FATTR4_FSID])
	case !bytes.Equal(e[nfs4xdr.FATTR4_FILEHANDLE].([]byte), bFH):
		t.Errorf("entry b has another handle than its export root")
	case e[nfs4xdr.FATTR4_MOUNTED_ON_FILEID] != coveredAttrs.FileID:
		t.Errorf("entry b has mounted_on_fileid %v, want %d", e[nfs4xdr.FATTR4_MOUNTED_ON_FILEID], coveredAttrs.FileID)
	}

	// When the outer export has no directory on the way (memfs here; a
	// real tree always has it), the pseudo directory stands in.
	g := newFixture(t, "/ *(rw,no_root_squash)\n/x/y *(rw,no_root_squash)\n")
	gs := g.newSession(root)
	gy, _ := g.ns.Find("/x/y")
	if got := fhOf(t, gs, "x", "y"); !bytes.Equal(got, g.wireFH("/x/y", gy.Root)) {
		t.Errorf("walk through a pseudo stand-in did not reach /x/y")
	}
	xNode, _ := g.ns.PseudoRoot().Child("x")
	if got := getfhAfter(t, gs, opPutfh(fhOf(t, gs, "x", "y")), opLookupp()); !bytes.Equal(got, g.ns.PseudoHandle(nil, xNode)) {
		t.Errorf("LOOKUPP from /x/y is not the pseudo directory x")
	}
}

// RFC 8881 §18.1: ACCESS as the backend grants it, without the modifying
// bits in a read-only export, and read and lookup only in the
// pseudo-filesystem.
func TestAccess(t *testing.T) {
	f := newFixture(t, "/rw *(rw)\n/ro *(ro,no_root_squash)\n")
	user := f.newSession(cred{1000, 1000})
	admin := f.newSession(root)
	rwFile := f.wireFH("/rw", f.mkfileB("/rw", nil, "file", 0))
	roDir := fhOf(t, admin, "ro")
	all := uint32(nfs4xdr.ACCESS4_READ) | nfs4xdr.ACCESS4_LOOKUP | nfs4xdr.ACCESS4_MODIFY | nfs4xdr.ACCESS4_EXTEND |
		nfs4xdr.ACCESS4_DELETE | nfs4xdr.ACCESS4_EXECUTE
	tests := []struct {
		name      string
		s         *session
		fh        []byte
		supported uint32
		access    uint32
	}{
		// Only the rights that mean something for the type are decided
		// (supported): no LOOKUP or DELETE on a file, no EXECUTE on a
		// directory, as knfsd (RFC 8881 §18.1.3).
		{"others on a 0644 file", user, rwFile, fileAccessBits, nfs4xdr.ACCESS4_READ},
		{"root on a read-only export", admin, roDir, dirAccessBits, nfs4xdr.ACCESS4_READ | nfs4xdr.ACCESS4_LOOKUP},
		{"pseudo root", user, fhOf(t, user), dirAccessBits, nfs4xdr.ACCESS4_READ | nfs4xdr.ACCESS4_LOOKUP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.s.call(opPutfh(tt.fh), opAccess(all|0x100))
			f.wantStatus(res, nfs4xdr.NFS4_OK, 3)
			ok := res.Resarray[2].Opaccess.Resok4
			if ok.Supported != tt.supported || ok.Access != tt.access {
				t.Errorf("supported %#x access %#x, want %#x and %#x", ok.Supported, ok.Access, tt.supported, tt.access)
			}
		})
	}
}

// RFC 8881 §18.24: READLINK of a symlink; anything else is NFS4ERR_INVAL.
func TestReadlink(t *testing.T) {
	f := newFixture(t, "")
	s := f.newSession(root)
	link := f.wireFH("/", f.mksymlink("/", nil, "link", "../some/where"))
	file := f.wireFH("/", f.mkfileB("/", nil, "file", 0))
	res := s.call(opPutfh(link), argReadlink())
	f.wantStatus(res, nfs4xdr.NFS4_OK, 3)
	if got := string(res.Resarray[2].Opreadlink.Resok4.Link); got != "../some/where" {
		t.Errorf("READLINK = %q", got)
	}
	f.wantStatus(s.call(opPutfh(file), argReadlink()), nfs4xdr.NFS4ERR_INVAL, 3)
	f.wantStatus(s.call(argReadlink()), nfs4xdr.NFS4ERR_NOFILEHANDLE, 2)
	pf := newFixture(t, "/export/a *(rw)\n")
	ps := pf.newSession(root)
	pf.wantStatus(ps.call(opPutrootfh(), argReadlink()), nfs4xdr.NFS4ERR_INVAL, 3)
}

// RFC 8881 §18.29, §18.45, §2.6.3.1.1.8: SECINFO and SECINFO_NO_NAME
// answer the flavors of the export a name leads to, and leave no current
// filehandle behind.
func TestSecinfo(t *testing.T) {
	f := newFixture(t, "/export/a *(rw,sec=none:sys)\n/export/b *(rw)\n/export/n *(rw,sec=none)\n")
	s := f.newSession(root)
	exportFH, aFH := fhOf(t, s, "export"), fhOf(t, s, "export", "a")
	f.mkfileB("/export/a", nil, "file", 0)
	nFile := f.mkfileB("/export/n", nil, "file", 0)
	nFH := f.wireFH("/export/n", f.fs["/export/n"].Root())
	flavors := func(r nfs4xdr.SECINFO4resok) []uint32 {
		var out []uint32
		for _, sec := range r {
			out = append(out, sec.Flavor)
		}
		return out
	}
	tests := []struct {
		name string
		ops  []nfs4xdr.NfsArgop4
		want []uint32
	}{
		{"export a from its pseudo dir", []nfs4xdr.NfsArgop4{opPutfh(exportFH), argSecinfo("a")}, []uint32{nfs4xdr.AUTH_NONE, nfs4xdr.AUTH_SYS}},
		{"export b", []nfs4xdr.NfsArgop4{opPutfh(exportFH), argSecinfo("b")}, []uint32{nfs4xdr.AUTH_SYS}},
		{"file in a", []nfs4xdr.NfsArgop4{opPutfh(aFH), argSecinfo("file")}, []uint32{nfs4xdr.AUTH_NONE, nfs4xdr.AUTH_SYS}},
		{"pseudo dir", []nfs4xdr.NfsArgop4{opPutrootfh(), argSecinfo("export")}, []uint32{nfs4xdr.AUTH_SYS}},
		{"no name, current", []nfs4xdr.NfsArgop4{opPutfh(aFH), argSecinfoNoName(nfs4xdr.SECINFO_STYLE4_CURRENT_FH)}, []uint32{nfs4xdr.AUTH_NONE, nfs4xdr.AUTH_SYS}},
		// AUTH_SYS is the wrong flavor in n, yet SECINFO answers there.
		{"in an export of another flavor", []nfs4xdr.NfsArgop4{opPutfh(nFH), argSecinfo("file")}, []uint32{nfs4xdr.AUTH_NONE}},
		{"no name, parent", []nfs4xdr.NfsArgop4{opPutfh(aFH), argSecinfoNoName(nfs4xdr.SECINFO_STYLE4_PARENT)}, []uint32{nfs4xdr.AUTH_SYS}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := s.call(append(tt.ops, opGetfh())...)
			// The GETFH after fails: SECINFO consumed the filehandle.
			f.wantStatus(res, nfs4xdr.NFS4ERR_NOFILEHANDLE, len(tt.ops)+2)
			last := res.Resarray[len(tt.ops)]
			var got []uint32
			if last.Opsecinfo != nil {
				got = flavors(last.Opsecinfo.Resok4)
			} else {
				got = flavors(last.OpsecinfoNoName.Resok4)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("flavors %v, want %v", got, tt.want)
			}
		})
	}
	errs := []struct {
		name string
		ops  []nfs4xdr.NfsArgop4
		want nfs4xdr.Nfsstat4
	}{
		{"missing name", []nfs4xdr.NfsArgop4{opPutfh(aFH), argSecinfo("nothing")}, nfs4xdr.NFS4ERR_NOENT},
		{"missing pseudo name", []nfs4xdr.NfsArgop4{opPutrootfh(), argSecinfo("nothing")}, nfs4xdr.NFS4ERR_NOENT},
		{"bad name", []nfs4xdr.NfsArgop4{opPutfh(aFH), argSecinfo("..")}, nfs4xdr.NFS4ERR_BADNAME},
		{"parent of the root", []nfs4xdr.NfsArgop4{opPutrootfh(), argSecinfoNoName(nfs4xdr.SECINFO_STYLE4_PARENT)}, nfs4xdr.NFS4ERR_NOENT},
		{"no filehandle", []nfs4xdr.NfsArgop4{argSecinfo("a")}, nfs4xdr.NFS4ERR_NOFILEHANDLE},
		{"bad style", []nfs4xdr.NfsArgop4{opPutrootfh(), argSecinfoNoName(7)}, nfs4xdr.NFS4ERR_INVAL},
		// Anything but SECINFO with the wrong flavor is NFS4ERR_WRONGSEC.
		{"wrong flavor", []nfs4xdr.NfsArgop4{opPutfh(f.wireFH("/export/n", nFile)), argGetattr(nfs4xdr.FATTR4_TYPE)}, nfs4xdr.NFS4ERR_WRONGSEC},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			f.wantStatus(s.call(tt.ops...), tt.want, len(tt.ops)+1)
		})
	}
}

// RFC 8881 §7.7: crossing into a nested export needs search permission on
// the directory it is mounted in, as looking the name up would.
func TestNestedExportsSearch(t *testing.T) {
	f := newFixture(t, "/ *(rw,no_root_squash)\n/a/b *(rw,no_root_squash)\n")
	a := f.mkdirB("/", nil, "a", 0o700)
	f.mkdirB("/", a, "b", 0o755)
	user := f.newSession(cred{1000, 1000})
	f.wantStatus(user.call(opPutfh(f.wireFH("/", a)), opLookup("b")), nfs4xdr.NFS4ERR_ACCESS, 3)
	admin := f.newSession(root)
	fhOf(t, admin, "a", "b")
}
