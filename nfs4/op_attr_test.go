package nfs4

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/nfs4/fattr"
	"github.com/gonfs/gonfs/nfs4/state"
	"github.com/gonfs/gonfs/nlm"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
	"github.com/gonfs/gonfs/xdr/xdrtest"
)

// Helpers for the attribute and namespace op tests (op_attr, op_create,
// op_dir, op_readdir, op_fh). Builders are named argXxx so as not to
// collide with other files' helpers.

func argGetattr(attrs ...uint32) nfs4xdr.NfsArgop4 {
	return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_GETATTR, Opgetattr: &nfs4xdr.GETATTR4args{AttrRequest: fattr.Of(attrs...).Bitmap4()}}
}

func argSetattr(sid nfs4xdr.Stateid4, f nfs4xdr.Fattr4) nfs4xdr.NfsArgop4 {
	return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_SETATTR, Opsetattr: &nfs4xdr.SETATTR4args{Stateid: sid, ObjAttributes: f}}
}

func argVerify(f nfs4xdr.Fattr4) nfs4xdr.NfsArgop4 {
	return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_VERIFY, Opverify: &nfs4xdr.VERIFY4args{ObjAttributes: f}}
}

func argNverify(f nfs4xdr.Fattr4) nfs4xdr.NfsArgop4 {
	return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_NVERIFY, Opnverify: &nfs4xdr.NVERIFY4args{ObjAttributes: f}}
}

// attrVal is one attribute value of a fattr4 to send: its number and how
// to write its value.
type attrVal struct {
	a   uint32
	put func(w *xdr.Writer)
}

func u32Val(a, v uint32) attrVal { return attrVal{a, func(w *xdr.Writer) { w.Uint32(v) }} }
func u64Val(a uint32, v uint64) attrVal {
	return attrVal{a, func(w *xdr.Writer) { w.Uint64(v) }}
}
func strVal(a uint32, s string) attrVal { return attrVal{a, func(w *xdr.Writer) { w.String(s) }} }

// clientTime is a settime4 of SET_TO_CLIENT_TIME4.
func clientTime(a uint32, t time.Time) attrVal {
	return attrVal{a, func(w *xdr.Writer) {
		w.Int32(int32(nfs4xdr.SET_TO_CLIENT_TIME4))
		w.Int64(t.Unix())
		w.Uint32(uint32(t.Nanosecond()))
	}}
}

// mkFattr builds a fattr4; vals must be in attribute order.
func mkFattr(vals ...attrVal) nfs4xdr.Fattr4 {
	var b fattr.Bitmap
	var w xdr.Writer
	for _, v := range vals {
		b.Set(v.a)
		v.put(&w)
	}
	return nfs4xdr.Fattr4{Attrmask: b.Bitmap4(), AttrVals: w.Bytes()}
}

// attrMap holds the decoded values of a fattr4 reply: numbers as uint64,
// booleans, strings and opaques as []byte, fsid and rawdev as [2]uint64,
// times as time.Time, bitmaps as fattr.Bitmap, open_arguments as
// nfs4xdr.OpenArguments4.
type attrMap map[uint32]any

// decodeAttrs decodes a fattr4 from the server, failing the test on any
// attribute it cannot shape or on leftover bytes.
func decodeAttrs(t *testing.T, f *nfs4xdr.Fattr4) attrMap {
	t.Helper()
	out := attrMap{}
	mask := fattr.FromWords(f.Attrmask)
	r := xdr.NewReader(f.AttrVals)
	for a := uint32(0); a <= fattr.MaxAttr; a++ {
		if !mask.Has(a) {
			continue
		}
		switch a {
		case nfs4xdr.FATTR4_SUPPORTED_ATTRS, nfs4xdr.FATTR4_SUPPATTR_EXCLCREAT:
			b, _ := fattr.DecodeBitmap(r)
			out[a] = b
		case nfs4xdr.FATTR4_TYPE, nfs4xdr.FATTR4_FH_EXPIRE_TYPE, nfs4xdr.FATTR4_LEASE_TIME,
			nfs4xdr.FATTR4_RDATTR_ERROR, nfs4xdr.FATTR4_MAXLINK, nfs4xdr.FATTR4_MAXNAME,
			nfs4xdr.FATTR4_MODE, nfs4xdr.FATTR4_NUMLINKS, nfs4xdr.FATTR4_FS_CHARSET_CAP,
			nfs4xdr.FATTR4_CLONE_BLKSIZE, nfs4xdr.FATTR4_CHANGE_ATTR_TYPE:
			out[a] = uint64(r.Uint32())
		case nfs4xdr.FATTR4_CHANGE, nfs4xdr.FATTR4_SIZE, nfs4xdr.FATTR4_FILEID,
			nfs4xdr.FATTR4_FILES_AVAIL, nfs4xdr.FATTR4_FILES_FREE, nfs4xdr.FATTR4_FILES_TOTAL,
			nfs4xdr.FATTR4_MAXFILESIZE, nfs4xdr.FATTR4_MAXREAD, nfs4xdr.FATTR4_MAXWRITE,
			nfs4xdr.FATTR4_SPACE_AVAIL, nfs4xdr.FATTR4_SPACE_FREE, nfs4xdr.FATTR4_SPACE_TOTAL,
			nfs4xdr.FATTR4_SPACE_USED, nfs4xdr.FATTR4_MOUNTED_ON_FILEID:
			out[a] = r.Uint64()
		case nfs4xdr.FATTR4_LINK_SUPPORT, nfs4xdr.FATTR4_SYMLINK_SUPPORT, nfs4xdr.FATTR4_NAMED_ATTR,
			nfs4xdr.FATTR4_UNIQUE_HANDLES, nfs4xdr.FATTR4_CANSETTIME, nfs4xdr.FATTR4_CASE_INSENSITIVE,
			nfs4xdr.FATTR4_CASE_PRESERVING, nfs4xdr.FATTR4_CHOWN_RESTRICTED, nfs4xdr.FATTR4_HOMOGENEOUS,
			nfs4xdr.FATTR4_NO_TRUNC, nfs4xdr.FATTR4_XATTR_SUPPORT:
			out[a] = r.Bool()
		case nfs4xdr.FATTR4_FSID:
			out[a] = [2]uint64{r.Uint64(), r.Uint64()}
		case nfs4xdr.FATTR4_RAWDEV:
			out[a] = [2]uint64{uint64(r.Uint32()), uint64(r.Uint32())}
		case nfs4xdr.FATTR4_FILEHANDLE, nfs4xdr.FATTR4_OWNER, nfs4xdr.FATTR4_OWNER_GROUP:
			out[a] = bytes.Clone(r.Opaque(xdr.Unbounded))
		case nfs4xdr.FATTR4_TIME_ACCESS, nfs4xdr.FATTR4_TIME_DELTA, nfs4xdr.FATTR4_TIME_METADATA,
			nfs4xdr.FATTR4_TIME_MODIFY:
			sec, nsec := r.Int64(), r.Uint32()
			out[a] = time.Unix(sec, int64(nsec))
		case nfs4xdr.FATTR4_FS_LAYOUT_TYPES:
			n := r.ArrayLen(xdr.Unbounded, 4)
			r.Skip(4 * n)
			out[a] = uint64(n)
		case nfs4xdr.FATTR4_OPEN_ARGUMENTS:
			var oa nfs4xdr.OpenArguments4
			oa.Decode(r)
			out[a] = oa
		default:
			t.Fatalf("decodeAttrs: no shape for %s", fattr.Name(a))
		}
	}
	if err := r.Done(); err != nil {
		t.Fatalf("decodeAttrs %v: %v", mask, err)
	}
	return out
}

func (a attrMap) u64(t *testing.T, attr uint32) uint64 {
	t.Helper()
	v, ok := a[attr].(uint64)
	if !ok {
		t.Fatalf("attribute %s missing or not a number: %v", fattr.Name(attr), a[attr])
	}
	return v
}

// getattr runs PUTFH fh; GETATTR in s and returns the decoded attributes
// and the reply bitmap.
func getattrOf(t *testing.T, s *session, fh []byte, want ...uint32) (attrMap, fattr.Bitmap) {
	t.Helper()
	res := s.call(opPutfh(fh), argGetattr(want...))
	s.f.wantStatus(res, nfs4xdr.NFS4_OK, 3)
	f := &res.Resarray[2].Opgetattr.Resok4.ObjAttributes
	return decodeAttrs(t, f), fattr.FromWords(f.Attrmask)
}

// fhOf walks from the root by LOOKUP and returns the handle reached.
func fhOf(t *testing.T, s *session, names ...string) []byte {
	t.Helper()
	ops := []nfs4xdr.NfsArgop4{opPutrootfh()}
	for _, n := range names {
		ops = append(ops, opLookup(n))
	}
	ops = append(ops, opGetfh())
	res := s.call(ops...)
	s.f.wantStatus(res, nfs4xdr.NFS4_OK, len(ops)+1)
	return res.Resarray[len(ops)].Opgetfh.Resok4.Object
}

// mkfile makes a regular file in the memfs of export path through the
// backend (regular files are OPEN's to create).
func (f *fixture) mkfileB(export string, dir vfs.Handle, name string, size uint64) vfs.Handle {
	f.t.Helper()
	fs := f.fs[export]
	if dir == nil {
		dir = fs.Root()
	}
	h, _, _, err := fs.Create(context.Background(), vfs.RootCred(), dir, name, vfs.SetAttr{Size: &size}, true)
	if err != nil {
		f.t.Fatal(err)
	}
	return h
}

// mkdirB makes a directory through the backend.
func (f *fixture) mkdirB(export string, dir vfs.Handle, name string, mode uint32) vfs.Handle {
	f.t.Helper()
	fs := f.fs[export]
	if dir == nil {
		dir = fs.Root()
	}
	h, _, err := fs.Mkdir(context.Background(), vfs.RootCred(), dir, name, vfs.SetAttr{Mode: &mode})
	if err != nil {
		f.t.Fatal(err)
	}
	return h
}

// wire is the wire handle of backend handle h in export path.
func (f *fixture) wireFH(export string, h vfs.Handle) []byte {
	e, ok := f.ns.Find(export)
	if !ok {
		f.t.Fatalf("no export %s", export)
	}
	return f.ns.Handle(nil, e, h)
}

var anonymousSid nfs4xdr.Stateid4 // all zeros: the anonymous stateid (RFC 8881 §8.2.3)

// RFC 8881 §18.7: GETATTR of a file, a directory, the pseudo root and an
// export root; fsid changes at the export boundary (§7.4), and an export
// root reports the pseudo directory it is mounted on (§5.8.2.19).
func TestGetattr(t *testing.T) {
	f := newFixture(t, "/export/a *(rw,no_root_squash)\n/export/b *(ro,no_root_squash)\n")
	s := f.newSession(root)
	h := f.mkfileB("/export/a", nil, "file", 1234)
	fileFH := f.wireFH("/export/a", h)
	ea, _ := f.ns.Find("/export/a")

	all := []uint32{nfs4xdr.FATTR4_SUPPORTED_ATTRS, nfs4xdr.FATTR4_TYPE, nfs4xdr.FATTR4_CHANGE,
		nfs4xdr.FATTR4_SIZE, nfs4xdr.FATTR4_FSID, nfs4xdr.FATTR4_LEASE_TIME, nfs4xdr.FATTR4_RDATTR_ERROR,
		nfs4xdr.FATTR4_FILEHANDLE, nfs4xdr.FATTR4_FILEID, nfs4xdr.FATTR4_MODE, nfs4xdr.FATTR4_NUMLINKS,
		nfs4xdr.FATTR4_OWNER, nfs4xdr.FATTR4_OWNER_GROUP, nfs4xdr.FATTR4_SPACE_TOTAL,
		nfs4xdr.FATTR4_TIME_MODIFY, nfs4xdr.FATTR4_MOUNTED_ON_FILEID,
		nfs4xdr.FATTR4_ACL,                           // unsupported: silently left out
		nfs4xdr.FATTR4_FS_CHARSET_CAP, fattr.MaxAttr, // beyond everything: left out
	}

	rootFH := fhOf(t, s)
	exportFH := fhOf(t, s, "export")
	aFH := fhOf(t, s, "export", "a")
	bFH := fhOf(t, s, "export", "b")
	exportNode, _ := f.ns.PseudoRoot().Child("export")

	type want struct {
		typ     uint64
		mode    uint64
		fsid    [2]uint64
		size    uint64
		fileid  uint64 // 0: do not check
		mounted uint64 // 0: same as fileid
	}
	tests := []struct {
		name string
		fh   []byte
		want want
	}{
		{"pseudo root", rootFH, want{uint64(nfs4xdr.NF4DIR), 0o555, [2]uint64{0, 0}, 4096, f.ns.PseudoRoot().FileID, 0}},
		{"pseudo dir", exportFH, want{uint64(nfs4xdr.NF4DIR), 0o555, [2]uint64{0, 0}, 4096, exportNode.FileID, 0}},
		{"export root", aFH, want{uint64(nfs4xdr.NF4DIR), 0o777, [2]uint64{ea.FSID(), 0}, 0, 0, ea.Mount.FileID}},
		{"file", fileFH, want{uint64(nfs4xdr.NF4REG), 0o644, [2]uint64{ea.FSID(), 0}, 1234, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, got := getattrOf(t, s, tt.fh, all...)
			if got.Has(nfs4xdr.FATTR4_ACL) || got.Has(nfs4xdr.FATTR4_RDATTR_ERROR) || got.Has(fattr.MaxAttr) {
				t.Errorf("reply bitmap %v holds attributes not returned", got)
			}
			if a.u64(t, nfs4xdr.FATTR4_TYPE) != tt.want.typ {
				t.Errorf("type %d, want %d", a[nfs4xdr.FATTR4_TYPE], tt.want.typ)
			}
			if m := a.u64(t, nfs4xdr.FATTR4_MODE); m != tt.want.mode {
				t.Errorf("mode %o, want %o", m, tt.want.mode)
			}
			if a[nfs4xdr.FATTR4_FSID] != tt.want.fsid {
				t.Errorf("fsid %v, want %v", a[nfs4xdr.FATTR4_FSID], tt.want.fsid)
			}
			if tt.want.typ == uint64(nfs4xdr.NF4REG) || tt.want.size != 0 {
				if sz := a.u64(t, nfs4xdr.FATTR4_SIZE); sz != tt.want.size {
					t.Errorf("size %d, want %d", sz, tt.want.size)
				}
			}
			id := a.u64(t, nfs4xdr.FATTR4_FILEID)
			if tt.want.fileid != 0 && id != tt.want.fileid {
				t.Errorf("fileid %d, want %d", id, tt.want.fileid)
			}
			mounted := tt.want.mounted
			if mounted == 0 {
				mounted = id
			}
			if m := a.u64(t, nfs4xdr.FATTR4_MOUNTED_ON_FILEID); m != mounted {
				t.Errorf("mounted_on_fileid %d, want %d", m, mounted)
			}
			if !bytes.Equal(a[nfs4xdr.FATTR4_FILEHANDLE].([]byte), tt.fh) {
				t.Errorf("filehandle attribute is not the handle")
			}
			if a.u64(t, nfs4xdr.FATTR4_LEASE_TIME) != uint64(f.state.LeaseTime()/time.Second) {
				t.Errorf("lease_time %d, want %v", a[nfs4xdr.FATTR4_LEASE_TIME], f.state.LeaseTime())
			}
			if a[nfs4xdr.FATTR4_SUPPORTED_ATTRS] != fattr.Supported(1) {
				t.Errorf("supported_attrs %v, want %v", a[nfs4xdr.FATTR4_SUPPORTED_ATTRS], fattr.Supported(1))
			}
			if string(a[nfs4xdr.FATTR4_OWNER].([]byte)) != "0" {
				t.Errorf("owner %q", a[nfs4xdr.FATTR4_OWNER])
			}
			if a.u64(t, nfs4xdr.FATTR4_CHANGE) == 0 {
				t.Errorf("change is 0")
			}
		})
	}

	// The two exports are two filesystems.
	ab, _ := getattrOf(t, s, aFH, nfs4xdr.FATTR4_FSID)
	bb, _ := getattrOf(t, s, bFH, nfs4xdr.FATTR4_FSID)
	if ab[nfs4xdr.FATTR4_FSID] == bb[nfs4xdr.FATTR4_FSID] {
		t.Errorf("exports a and b share fsid %v", ab[nfs4xdr.FATTR4_FSID])
	}
	// A pseudo directory has one link per child plus two.
	pa, _ := getattrOf(t, s, exportFH, nfs4xdr.FATTR4_NUMLINKS)
	if n := pa.u64(t, nfs4xdr.FATTR4_NUMLINKS); n != 4 {
		t.Errorf("numlinks of /export = %d, want 4", n)
	}
	// supported_attrs follows the minor version (RFC 7862 §12.2).
	res := s.call42(opPutfh(fileFH), argGetattr(nfs4xdr.FATTR4_SUPPORTED_ATTRS, nfs4xdr.FATTR4_CLONE_BLKSIZE))
	f.wantStatus(res, nfs4xdr.NFS4_OK, 3)
	a42 := decodeAttrs(t, &res.Resarray[2].Opgetattr.Resok4.ObjAttributes)
	if a42[nfs4xdr.FATTR4_SUPPORTED_ATTRS] != fattr.Supported(2) {
		t.Errorf("4.2 supported_attrs %v", a42[nfs4xdr.FATTR4_SUPPORTED_ATTRS])
	}
	if _, ok := a42[nfs4xdr.FATTR4_CLONE_BLKSIZE]; !ok {
		t.Errorf("4.2 GETATTR left out clone_blksize")
	}
	a41, got := getattrOf(t, s, fileFH, nfs4xdr.FATTR4_CLONE_BLKSIZE)
	if len(a41) != 0 || !got.IsEmpty() {
		t.Errorf("4.1 GETATTR returned the 4.2 attribute clone_blksize")
	}
}

// RFC 8881 §18.7.3 and §5.7: GETATTR errors.
func TestGetattrErrors(t *testing.T) {
	f := newFixture(t, "")
	s := f.newSession(root)
	tests := []struct {
		name string
		ops  []nfs4xdr.NfsArgop4
		want nfs4xdr.Nfsstat4
	}{
		{"no filehandle", []nfs4xdr.NfsArgop4{argGetattr(nfs4xdr.FATTR4_TYPE)}, nfs4xdr.NFS4ERR_NOFILEHANDLE},
		{"write-only attribute", []nfs4xdr.NfsArgop4{opPutrootfh(), argGetattr(nfs4xdr.FATTR4_TIME_MODIFY_SET)}, nfs4xdr.NFS4ERR_INVAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := s.call(tt.ops...)
			f.wantStatus(res, tt.want, len(tt.ops)+1)
		})
	}
	// A handle whose file is gone is stale.
	h := f.mkfileB("/", nil, "gone", 0)
	if err := f.fs["/"].Remove(context.Background(), vfs.RootCred(), f.fs["/"].Root(), "gone"); err != nil {
		t.Fatal(err)
	}
	res := s.call(opPutfh(f.wireFH("/", h)), argGetattr(nfs4xdr.FATTR4_TYPE))
	f.wantStatus(res, nfs4xdr.NFS4ERR_STALE, 3)
}

// setattr runs PUTFH fh; SETATTR and returns the SETATTR result.
func setattrOf(t *testing.T, s *session, fh []byte, sid nfs4xdr.Stateid4, vals ...attrVal) (nfs4xdr.Nfsstat4, fattr.Bitmap) {
	t.Helper()
	res := s.call(opPutfh(fh), argSetattr(sid, mkFattr(vals...)))
	if len(res.Resarray) != 3 {
		t.Fatalf("SETATTR compound: %v", statuses(res))
	}
	sr := res.Resarray[2].Opsetattr
	return sr.Status, fattr.FromWords(sr.Attrsset)
}

// RFC 8881 §18.30: SETATTR of mode, size, owner, group and times, and the
// attrsset that SETATTR4res carries whatever the status.
func TestSetattr(t *testing.T) {
	f := newFixture(t, "/ *(rw,no_root_squash)\n/ro *(ro,no_root_squash)\n")
	s := f.newSession(root)
	fh := f.wireFH("/", f.mkfileB("/", nil, "file", 100))
	dirFH := f.wireFH("/", f.mkdirB("/", nil, "dir", 0o755))
	roFH := f.wireFH("/ro", f.mkfileB("/ro", nil, "file", 1))
	mtime := time.Unix(1_600_000_000, 5)
	f.clock.Advance(time.Hour) // so that server time differs from creation time

	tests := []struct {
		name    string
		fh      []byte
		vals    []attrVal
		want    nfs4xdr.Nfsstat4
		check   uint32 // attribute to read back, 0: none
		checkTo any
	}{
		{"mode", fh, []attrVal{u32Val(nfs4xdr.FATTR4_MODE, 0o600)}, nfs4xdr.NFS4_OK, nfs4xdr.FATTR4_MODE, uint64(0o600)},
		{"size", fh, []attrVal{u64Val(nfs4xdr.FATTR4_SIZE, 7)}, nfs4xdr.NFS4_OK, nfs4xdr.FATTR4_SIZE, uint64(7)},
		{"owner", fh, []attrVal{strVal(nfs4xdr.FATTR4_OWNER, "1000")}, nfs4xdr.NFS4_OK, nfs4xdr.FATTR4_OWNER, []byte("1000")},
		{"group", fh, []attrVal{strVal(nfs4xdr.FATTR4_OWNER_GROUP, "50")}, nfs4xdr.NFS4_OK, nfs4xdr.FATTR4_OWNER_GROUP, []byte("50")},
		{"mtime", fh, []attrVal{clientTime(nfs4xdr.FATTR4_TIME_MODIFY_SET, mtime)}, nfs4xdr.NFS4_OK, nfs4xdr.FATTR4_TIME_MODIFY, mtime},
		{"atime from the server", fh, []attrVal{{nfs4xdr.FATTR4_TIME_ACCESS_SET, func(w *xdr.Writer) { w.Int32(int32(nfs4xdr.SET_TO_SERVER_TIME4)) }}},
			nfs4xdr.NFS4_OK, nfs4xdr.FATTR4_TIME_ACCESS, f.clock.Now()},
		{"bad owner", fh, []attrVal{strVal(nfs4xdr.FATTR4_OWNER, "nobody@nowhere")}, nfs4xdr.NFS4ERR_BADOWNER, 0, nil},
		{"read-only attribute", fh, []attrVal{u64Val(nfs4xdr.FATTR4_FILEID, 1)}, nfs4xdr.NFS4ERR_INVAL, 0, nil},
		{"unsupported attribute", fh, []attrVal{u32Val(nfs4xdr.FATTR4_ARCHIVE, 1)}, nfs4xdr.NFS4ERR_ATTRNOTSUPP, 0, nil},
		{"size of a directory", dirFH, []attrVal{u64Val(nfs4xdr.FATTR4_SIZE, 0)}, nfs4xdr.NFS4ERR_ISDIR, 0, nil},
		{"read-only export", roFH, []attrVal{u32Val(nfs4xdr.FATTR4_MODE, 0o600)}, nfs4xdr.NFS4ERR_ROFS, 0, nil},
		{"pseudo directory", nil, []attrVal{u32Val(nfs4xdr.FATTR4_MODE, 0o700)}, nfs4xdr.NFS4ERR_ROFS, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := tt.fh
			if target == nil {
				target = f.srv.ns.PseudoHandle(nil, f.ns.PseudoRoot())
			}
			st, set := setattrOf(t, s, target, anonymousSid, tt.vals...)
			if st != tt.want {
				t.Fatalf("SETATTR: %v, want %v", st, tt.want)
			}
			var want fattr.Bitmap
			if st == nfs4xdr.NFS4_OK {
				for _, v := range tt.vals {
					want.Set(v.a)
				}
			}
			if set != want {
				t.Errorf("attrsset %v, want %v", set, want)
			}
			if tt.check != 0 {
				a, _ := getattrOf(t, s, target, tt.check)
				got := a[tt.check]
				if tm, ok := tt.checkTo.(time.Time); ok {
					if !got.(time.Time).Equal(tm) {
						t.Errorf("%s = %v, want %v", fattr.Name(tt.check), got, tm)
					}
				} else if b, ok := tt.checkTo.([]byte); ok {
					if !bytes.Equal(got.([]byte), b) {
						t.Errorf("%s = %q, want %q", fattr.Name(tt.check), got, b)
					}
				} else if got != tt.checkTo {
					t.Errorf("%s = %v, want %v", fattr.Name(tt.check), got, tt.checkTo)
				}
			}
		})
	}
}

// RFC 8881 §18.30.3, §8.2: a size change needs a stateid that may write:
// the anonymous stateid, or an open of this client with write access;
// the current-stateid placeholder stands for the current stateid, and a
// refused SETATTR sets nothing.
func TestSetattrStateid(t *testing.T) {
	f := newFixture(t, "")
	s := f.newSession(root)
	h := f.mkfileB("/", nil, "file", 100)
	fh := f.wireFH("/", h)
	e, _ := f.ns.Find("/")
	open := func(owner string, access lock.ShareMode) nfs4xdr.Stateid4 {
		res, _, st := f.state.Open(state.OpenArgs{ClientID: s.clientID(), Owner: []byte(owner),
			File: nlm.FileKey(e, h), Access: access})
		if st != nfs4xdr.NFS4_OK {
			t.Fatalf("Open: %v", st)
		}
		return nfs4xdr.Stateid4(res.Stateid)
	}
	reader := open("reader", lock.ShareRead)
	writer := open("writer", lock.ShareBoth)
	current := nfs4xdr.Stateid4{Seqid: 1} // "current stateid" (§16.2.3.1.2)
	bogus := writer
	bogus.Other[11] ^= 0xff

	tests := []struct {
		name string
		sid  nfs4xdr.Stateid4
		size uint64
		want nfs4xdr.Nfsstat4
	}{
		{"read-only open", reader, 1, nfs4xdr.NFS4ERR_OPENMODE},
		{"unknown stateid", bogus, 1, nfs4xdr.NFS4ERR_BAD_STATEID},
		{"current without one", current, 1, nfs4xdr.NFS4ERR_BAD_STATEID},
		{"write open", writer, 50, nfs4xdr.NFS4_OK},
		{"anonymous", anonymousSid, 60, nfs4xdr.NFS4_OK},
	}
	size := uint64(100)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, set := setattrOf(t, s, fh, tt.sid, u64Val(nfs4xdr.FATTR4_SIZE, tt.size))
			if st != tt.want {
				t.Fatalf("SETATTR: %v, want %v", st, tt.want)
			}
			if st == nfs4xdr.NFS4_OK {
				size = tt.size
			} else if !set.IsEmpty() {
				t.Errorf("attrsset %v after a failure", set)
			}
			a, _ := getattrOf(t, s, fh, nfs4xdr.FATTR4_SIZE)
			if got := a.u64(t, nfs4xdr.FATTR4_SIZE); got != size {
				t.Errorf("size %d, want %d", got, size)
			}
		})
	}
	// Without a size change the stateid is not consulted.
	if st, _ := setattrOf(t, s, fh, bogus, u32Val(nfs4xdr.FATTR4_MODE, 0o640)); st != nfs4xdr.NFS4_OK {
		t.Errorf("mode with an unknown stateid: %v", st)
	}
}

// RFC 8881 §18.31 and §18.15: VERIFY goes on when the values match and
// answers NFS4ERR_NOT_SAME when not; NVERIFY the other way round.
func TestVerify(t *testing.T) {
	f := newFixture(t, "")
	s := f.newSession(root)
	fh := f.wireFH("/", f.mkfileB("/", nil, "file", 42))
	same := mkFattr(u64Val(nfs4xdr.FATTR4_SIZE, 42), u32Val(nfs4xdr.FATTR4_MODE, 0o644))
	differ := mkFattr(u64Val(nfs4xdr.FATTR4_SIZE, 43))
	tests := []struct {
		name string
		op   nfs4xdr.NfsArgop4
		want nfs4xdr.Nfsstat4
	}{
		{"verify same", argVerify(same), nfs4xdr.NFS4_OK},
		{"verify differ", argVerify(differ), nfs4xdr.NFS4ERR_NOT_SAME},
		{"nverify same", argNverify(same), nfs4xdr.NFS4ERR_SAME},
		{"nverify differ", argNverify(differ), nfs4xdr.NFS4_OK},
		{"rdattr_error", argVerify(mkFattr(u32Val(nfs4xdr.FATTR4_RDATTR_ERROR, 0))), nfs4xdr.NFS4ERR_INVAL},
		{"unsupported", argVerify(mkFattr(u32Val(nfs4xdr.FATTR4_ARCHIVE, 0))), nfs4xdr.NFS4ERR_ATTRNOTSUPP},
		{"owner as number", argVerify(mkFattr(strVal(nfs4xdr.FATTR4_OWNER, "0"))), nfs4xdr.NFS4_OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops := []nfs4xdr.NfsArgop4{opPutfh(fh), tt.op}
			if tt.want == nfs4xdr.NFS4_OK {
				// The compound goes on after a check that passes.
				ops = append(ops, opGetfh())
			}
			res := s.call(ops...)
			f.wantStatus(res, tt.want, len(ops)+1)
		})
	}
	// A pseudo directory can be verified too.
	res := s.call(opPutrootfh(), argVerify(mkFattr(u32Val(nfs4xdr.FATTR4_TYPE, uint32(nfs4xdr.NF4DIR)))))
	f.wantStatus(res, nfs4xdr.NFS4_OK, 3)
}

// RFC 9754: open_arguments tells a 4.2 client which OPEN arguments the
// server supports. It is read-only and a 4.2 attribute only.
func TestGetattrOpenArguments(t *testing.T) {
	f := newFixture(t, "")
	s := f.newSession(root)
	fileFH := f.wireFH("/", f.mkfileB("/", nil, "file", 42))
	rootFH := fhOf(t, s)
	// Five one-word bitmap4s, bit N for each supported enum value N.
	wantHex := "00000001 0000000e" + // share access READ, WRITE, BOTH
		" 00000001 0000000f" + // share deny NONE, READ, WRITE, BOTH
		" 00000001 00000038" + // wants ANY_DELEG, NO_DELEG, CANCEL
		" 00000001 00000037" + // claims NULL, PREVIOUS, DELEGATE_CUR, FH, DELEG_CUR_FH
		" 00000001 0000000f" // create modes UNCHECKED4, GUARDED, EXCLUSIVE4, EXCLUSIVE4_1
	want := xdrtest.Unhex(t, wantHex)

	for _, tt := range []struct {
		name string
		fh   []byte
	}{{"file", fileFH}, {"pseudo root", rootFH}} {
		t.Run(tt.name, func(t *testing.T) {
			res := s.call42(opPutfh(tt.fh), argGetattr(nfs4xdr.FATTR4_SUPPORTED_ATTRS, nfs4xdr.FATTR4_OPEN_ARGUMENTS))
			f.wantStatus(res, nfs4xdr.NFS4_OK, 3)
			got := res.Resarray[2].Opgetattr.Resok4.ObjAttributes
			a := decodeAttrs(t, &got)
			if !a[nfs4xdr.FATTR4_SUPPORTED_ATTRS].(fattr.Bitmap).Has(nfs4xdr.FATTR4_OPEN_ARGUMENTS) {
				t.Errorf("4.2 supported_attrs lacks open_arguments")
			}
			if _, ok := a[nfs4xdr.FATTR4_OPEN_ARGUMENTS]; !ok {
				t.Fatalf("open_arguments left out of the reply (bitmap %v)", got.Attrmask)
			}
			// The value on the wire, byte for byte: it is the last one,
			// and decodeAttrs found nothing after it.
			if !bytes.HasSuffix(got.AttrVals, want) {
				t.Errorf("attr_vals %x do not end in open_arguments %x", got.AttrVals, want)
			}
		})
	}

	// 4.1 neither offers nor returns it.
	a41, got41 := getattrOf(t, s, fileFH, nfs4xdr.FATTR4_SUPPORTED_ATTRS, nfs4xdr.FATTR4_OPEN_ARGUMENTS)
	if got41 != fattr.Of(nfs4xdr.FATTR4_SUPPORTED_ATTRS) ||
		a41[nfs4xdr.FATTR4_SUPPORTED_ATTRS].(fattr.Bitmap).Has(nfs4xdr.FATTR4_OPEN_ARGUMENTS) {
		t.Errorf("4.1 GETATTR returned or offered open_arguments: %v", got41)
	}

	oaVal := attrVal{nfs4xdr.FATTR4_OPEN_ARGUMENTS, func(w *xdr.Writer) { w.Buf = append(w.Buf, want...) }}
	for _, tt := range []struct {
		name  string
		minor uint32
		op    nfs4xdr.NfsArgop4
		want  nfs4xdr.Nfsstat4
	}{
		// Read-only (RFC 8881 §18.30.3).
		{"SETATTR in 4.2", 2, argSetattr(anonymousSid, mkFattr(oaVal)), nfs4xdr.NFS4ERR_INVAL},
		{"SETATTR in 4.1", 1, argSetattr(anonymousSid, mkFattr(oaVal)), nfs4xdr.NFS4ERR_ATTRNOTSUPP},
		{"VERIFY in 4.2", 2, argVerify(mkFattr(oaVal)), nfs4xdr.NFS4_OK},
		{"NVERIFY in 4.2", 2, argNverify(mkFattr(oaVal)), nfs4xdr.NFS4ERR_SAME},
	} {
		t.Run(tt.name, func(t *testing.T) {
			call := s.call
			if tt.minor == 2 {
				call = s.call42
			}
			res := call(opPutfh(fileFH), tt.op)
			f.wantStatus(res, tt.want, 3)
		})
	}
}

// RFC 8881 §18.7.3, §2.6.3.1.1: GETATTR and VERIFY in an export the
// client may not use fail as the export's rules say, even after a PUTFH
// that succeeded (access is decided at use).
func TestGetattrDenied(t *testing.T) {
	f := newFixture(t, "/open *(rw)\n/closed 10.9.9.9(rw)\n")
	s := f.newSession(root)
	closed, _ := f.ns.Find("/closed")
	fh := f.wireFH("/closed", closed.Root)
	for _, op := range []nfs4xdr.NfsArgop4{argGetattr(nfs4xdr.FATTR4_TYPE), argVerify(mkFattr(u32Val(nfs4xdr.FATTR4_TYPE, uint32(nfs4xdr.NF4DIR))))} {
		res := s.call(opPutfh(fh), op)
		if len(res.Resarray) != 3 || resStatus(&res.Resarray[1]) != nfs4xdr.NFS4_OK || res.Status == nfs4xdr.NFS4_OK {
			t.Errorf("%v in a closed export: %v", op.Argop, statuses(res))
		}
	}
}
