package nfs3

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gonfs/gonfs/proto/nfs3xdr"
)

// checkDirWcc checks a directory's wcc data against the attributes read
// just before and just after the operation.
func checkDirWcc(t *testing.T, what string, wcc nfs3xdr.WccData, before, after nfs3xdr.Fattr3) {
	t.Helper()
	if !wcc.Before.AttributesFollow || wcc.Before.Attributes != wccOf(before) {
		t.Errorf("%s: pre-op %+v, want %+v", what, wcc.Before, wccOf(before))
	}
	if !wcc.After.AttributesFollow || wcc.After.Attributes != after {
		t.Errorf("%s: post-op %+v, want %+v", what, wcc.After, after)
	}
}

// TestCreate covers the three modes of RFC 1813 §3.3.8.
func TestCreate(t *testing.T) {
	verfA := nfs3xdr.Createverf3{1, 2, 3, 4, 5, 6, 7, 8}
	verfB := nfs3xdr.Createverf3{8, 7, 6, 5, 4, 3, 2, 1}
	size0 := nfs3xdr.Sattr3{Size: nfs3xdr.SetSize3{SetIt: true, Size: 0}}
	unchecked := func(sa nfs3xdr.Sattr3) nfs3xdr.Createhow3 {
		return nfs3xdr.Createhow3{Mode: nfs3xdr.UNCHECKED, ObjAttributes: sa}
	}
	guarded := func(sa nfs3xdr.Sattr3) nfs3xdr.Createhow3 {
		return nfs3xdr.Createhow3{Mode: nfs3xdr.GUARDED, ObjAttributes: sa}
	}
	exclusive := func(v nfs3xdr.Createverf3) nfs3xdr.Createhow3 {
		return nfs3xdr.Createhow3{Mode: nfs3xdr.EXCLUSIVE, Verf: v}
	}
	// Every row runs in a fresh /rw holding "old" (content "data", mode
	// 0640, by UNCHECKED) and "excl" (made by EXCLUSIVE with verfA).
	tests := []struct {
		name     string
		export   string
		file     string
		how      nfs3xdr.Createhow3
		want     nfs3xdr.Nfsstat3
		sameAs   string // the reply's handle is this existing file's
		wantSize int64  // -1: do not check
		wantMode uint32 // 0: do not check
	}{
		{"unchecked new", "/rw", "new", unchecked(modeAttr(0o600)), nfs3xdr.NFS3_OK, "", 0, 0o600},
		{"unchecked new default mode", "/rw", "new", unchecked(nfs3xdr.Sattr3{}), nfs3xdr.NFS3_OK, "", 0, 0o644},
		{"unchecked new with size", "/rw", "new", unchecked(nfs3xdr.Sattr3{Size: nfs3xdr.SetSize3{SetIt: true, Size: 7}}), nfs3xdr.NFS3_OK, "", 7, 0},
		{"unchecked existing truncates", "/rw", "old", unchecked(size0), nfs3xdr.NFS3_OK, "old", 0, 0o640},
		{"unchecked existing keeps", "/rw", "old", unchecked(modeAttr(0o600)), nfs3xdr.NFS3_OK, "old", 4, 0o640},
		{"unchecked over directory", "/rw", "dir", unchecked(nfs3xdr.Sattr3{}), nfs3xdr.NFS3ERR_EXIST, "", -1, 0},
		{"guarded new", "/rw", "new", guarded(modeAttr(0o606)), nfs3xdr.NFS3_OK, "", 0, 0o606},
		{"guarded existing", "/rw", "old", guarded(size0), nfs3xdr.NFS3ERR_EXIST, "", -1, 0},
		{"exclusive new", "/rw", "new", exclusive(verfB), nfs3xdr.NFS3_OK, "", 0, 0},
		{"exclusive retransmission", "/rw", "excl", exclusive(verfA), nfs3xdr.NFS3_OK, "excl", 0, 0},
		{"exclusive other verifier", "/rw", "excl", exclusive(verfB), nfs3xdr.NFS3ERR_EXIST, "", -1, 0},
		{"exclusive over unchecked file", "/rw", "old", exclusive(verfA), nfs3xdr.NFS3ERR_EXIST, "", -1, 0},
		{"exclusive over directory", "/rw", "dir", exclusive(verfA), nfs3xdr.NFS3ERR_EXIST, "", -1, 0},
		{"dot unchecked", "/rw", ".", unchecked(nfs3xdr.Sattr3{}), nfs3xdr.NFS3ERR_EXIST, "", -1, 0},
		{"dotdot guarded", "/rw", "..", guarded(nfs3xdr.Sattr3{}), nfs3xdr.NFS3ERR_EXIST, "", -1, 0},
		{"dot exclusive", "/rw", ".", exclusive(verfA), nfs3xdr.NFS3ERR_EXIST, "", -1, 0},
		{"slash", "/rw", "a/b", unchecked(nfs3xdr.Sattr3{}), nfs3xdr.NFS3ERR_ACCES, "", -1, 0},
		{"too long", "/rw", strings.Repeat("x", 256), unchecked(nfs3xdr.Sattr3{}), nfs3xdr.NFS3ERR_NAMETOOLONG, "", -1, 0},
		{"read-only export", "/ro", "new", unchecked(nfs3xdr.Sattr3{}), nfs3xdr.NFS3ERR_ROFS, "", -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			u := e.user()
			root := e.root["/rw"]
			existing := map[string]nfs3xdr.NfsFh3{
				"old": u.create(root, "old", 0o640),
				"dir": u.mkdir(root, "dir", 0o755),
			}
			u.write(existing["old"], 0, []byte("data"))
			var ex nfs3xdr.CREATE3res
			u.call(nfs3xdr.NFSPROC3_CREATE, &nfs3xdr.CREATE3args{Where: diropargs(root, "excl"), How: exclusive(verfA)}, &ex)
			must(t, "CREATE EXCLUSIVE", ex.Status, nfs3xdr.NFS3_OK)
			existing["excl"] = ex.Resok.Obj.Handle

			dir := e.root[tt.export]
			before := u.getattr(dir)
			var res nfs3xdr.CREATE3res
			u.call(nfs3xdr.NFSPROC3_CREATE, &nfs3xdr.CREATE3args{Where: diropargs(dir, tt.file), How: tt.how}, &res)
			must(t, "CREATE", res.Status, tt.want)
			after := u.getattr(dir)
			wcc := res.Resfail.DirWcc
			if res.Status == nfs3xdr.NFS3_OK {
				wcc = res.Resok.DirWcc
			}
			checkDirWcc(t, "CREATE", wcc, before, after)
			if res.Status != nfs3xdr.NFS3_OK {
				if tt.file == "old" {
					if got := u.read(existing["old"], 0, 100); string(got.Resok.Data) != "data" {
						t.Errorf("a failed CREATE changed the file: %q", got.Resok.Data)
					}
				}
				return
			}
			obj := res.Resok.Obj
			if !obj.HandleFollows {
				t.Fatalf("no handle")
			}
			if tt.sameAs != "" && !bytes.Equal(obj.Handle.Data, existing[tt.sameAs].Data) {
				t.Errorf("handle %x, want the existing %s's %x", obj.Handle.Data, tt.sameAs, existing[tt.sameAs].Data)
			}
			_, looked := u.lookup(dir, tt.file)
			if !bytes.Equal(looked.Data, obj.Handle.Data) {
				t.Errorf("handle %x, LOOKUP finds %x", obj.Handle.Data, looked.Data)
			}
			a := u.getattr(obj.Handle)
			if !res.Resok.ObjAttributes.AttributesFollow || res.Resok.ObjAttributes.Attributes != a {
				t.Errorf("object attributes %+v, GETATTR %+v", res.Resok.ObjAttributes, a)
			}
			if a.Type != nfs3xdr.NF3REG || a.Uid != 1000 || a.Gid != 1000 {
				t.Errorf("attributes %+v, want a regular file of 1000:1000", a)
			}
			if tt.wantSize >= 0 && a.Size != nfs3xdr.Size3(tt.wantSize) {
				t.Errorf("size %d, want %d", a.Size, tt.wantSize)
			}
			if tt.wantMode != 0 && a.Mode != nfs3xdr.Mode3(tt.wantMode) {
				t.Errorf("mode %o, want %o", a.Mode, tt.wantMode)
			}
		})
	}
}

// TestCreateExclusiveThenSetattr follows what a client does after an
// EXCLUSIVE create: it sets the real attributes, after which a stray
// retransmission must no longer match (the verifier is gone).
func TestCreateExclusiveThenSetattr(t *testing.T) {
	e := newEnv(t)
	u := e.user()
	root := e.root["/rw"]
	verf := nfs3xdr.Createverf3{0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1}
	args := &nfs3xdr.CREATE3args{Where: diropargs(root, "f"), How: nfs3xdr.Createhow3{Mode: nfs3xdr.EXCLUSIVE, Verf: verf}}
	var res nfs3xdr.CREATE3res
	u.call(nfs3xdr.NFSPROC3_CREATE, args, &res)
	must(t, "CREATE", res.Status, nfs3xdr.NFS3_OK)
	at, mt := sattrTime(nfs3xdr.Nfstime3{Seconds: 1_650_000_000})
	var sr nfs3xdr.SETATTR3res
	u.call(nfs3xdr.NFSPROC3_SETATTR, &nfs3xdr.SETATTR3args{Object: res.Resok.Obj.Handle,
		NewAttributes: nfs3xdr.Sattr3{Mode: nfs3xdr.SetMode3{SetIt: true, Mode: 0o644}, Atime: at, Mtime: mt}}, &sr)
	must(t, "SETATTR", sr.Status, nfs3xdr.NFS3_OK)
	u.call(nfs3xdr.NFSPROC3_CREATE, args, &res)
	must(t, "CREATE again", res.Status, nfs3xdr.NFS3ERR_EXIST)
}

// TestMkdir covers RFC 1813 §3.3.9.
func TestMkdir(t *testing.T) {
	tests := []struct {
		name     string
		export   string
		dir      string
		attrs    nfs3xdr.Sattr3
		want     nfs3xdr.Nfsstat3
		wantMode uint32
	}{
		{"new", "/rw", "d", modeAttr(0o700), nfs3xdr.NFS3_OK, 0o700},
		{"default mode", "/rw", "d", nfs3xdr.Sattr3{}, nfs3xdr.NFS3_OK, 0o755},
		{"sticky", "/rw", "d", modeAttr(0o1777), nfs3xdr.NFS3_OK, 0o1777},
		{"existing", "/rw", "old", nfs3xdr.Sattr3{}, nfs3xdr.NFS3ERR_EXIST, 0},
		{"dot", "/rw", ".", nfs3xdr.Sattr3{}, nfs3xdr.NFS3ERR_EXIST, 0},
		{"dotdot", "/rw", "..", nfs3xdr.Sattr3{}, nfs3xdr.NFS3ERR_EXIST, 0},
		{"empty", "/rw", "", nfs3xdr.Sattr3{}, nfs3xdr.NFS3ERR_NOENT, 0},
		{"read-only export", "/ro", "d", nfs3xdr.Sattr3{}, nfs3xdr.NFS3ERR_ROFS, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			u := e.user()
			u.create(e.root["/rw"], "old", 0o644)
			dir := e.root[tt.export]
			before := u.getattr(dir)
			var res nfs3xdr.MKDIR3res
			u.call(nfs3xdr.NFSPROC3_MKDIR, &nfs3xdr.MKDIR3args{Where: diropargs(dir, tt.dir), Attributes: tt.attrs}, &res)
			must(t, "MKDIR", res.Status, tt.want)
			after := u.getattr(dir)
			if res.Status != nfs3xdr.NFS3_OK {
				checkDirWcc(t, "MKDIR", res.Resfail.DirWcc, before, after)
				if after != before {
					t.Errorf("a failed MKDIR changed the directory")
				}
				return
			}
			checkDirWcc(t, "MKDIR", res.Resok.DirWcc, before, after)
			if after.Nlink != before.Nlink+1 {
				t.Errorf("parent nlink %d, want %d", after.Nlink, before.Nlink+1)
			}
			a := u.getattr(res.Resok.Obj.Handle)
			if a.Type != nfs3xdr.NF3DIR || a.Mode != nfs3xdr.Mode3(tt.wantMode) || a.Nlink != 2 {
				t.Errorf("new directory %+v, want mode %o nlink 2", a, tt.wantMode)
			}
			if res.Resok.ObjAttributes.Attributes != a {
				t.Errorf("reply attributes %+v, GETATTR %+v", res.Resok.ObjAttributes.Attributes, a)
			}
		})
	}
}

// TestSymlink covers RFC 1813 §3.3.10.
func TestSymlink(t *testing.T) {
	tests := []struct {
		name   string
		export string
		link   string
		target string
		want   nfs3xdr.Nfsstat3
	}{
		{"new", "/rw", "l", "target", nfs3xdr.NFS3_OK},
		{"dangling absolute", "/rw", "l", "/no/such/file", nfs3xdr.NFS3_OK},
		{"empty target", "/rw", "l", "", nfs3xdr.NFS3ERR_INVAL},
		{"existing", "/rw", "old", "x", nfs3xdr.NFS3ERR_EXIST},
		{"dot", "/rw", ".", "x", nfs3xdr.NFS3ERR_EXIST},
		{"read-only export", "/ro", "l", "x", nfs3xdr.NFS3ERR_ROFS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			u := e.user()
			u.create(e.root["/rw"], "old", 0o644)
			dir := e.root[tt.export]
			before := u.getattr(dir)
			var res nfs3xdr.SYMLINK3res
			u.call(nfs3xdr.NFSPROC3_SYMLINK, &nfs3xdr.SYMLINK3args{Where: diropargs(dir, tt.link),
				Symlink: nfs3xdr.Symlinkdata3{SymlinkAttributes: modeAttr(0o600), SymlinkData: nfs3xdr.Nfspath3(tt.target)}}, &res)
			must(t, "SYMLINK", res.Status, tt.want)
			after := u.getattr(dir)
			if res.Status != nfs3xdr.NFS3_OK {
				checkDirWcc(t, "SYMLINK", res.Resfail.DirWcc, before, after)
				return
			}
			checkDirWcc(t, "SYMLINK", res.Resok.DirWcc, before, after)
			a := u.getattr(res.Resok.Obj.Handle)
			if a.Type != nfs3xdr.NF3LNK || a.Size != nfs3xdr.Size3(len(tt.target)) || a.Uid != 1000 {
				t.Errorf("symlink attributes %+v", a)
			}
		})
	}
}

// TestMknod covers RFC 1813 §3.3.11: FIFOs and sockets for anyone, devices
// for root only, and NFS3ERR_BADTYPE for the types MKNOD does not make.
func TestMknod(t *testing.T) {
	dev := func(t nfs3xdr.Ftype3, major, minor uint32) nfs3xdr.Mknoddata3 {
		return nfs3xdr.Mknoddata3{Type: t, Device: nfs3xdr.Devicedata3{DevAttributes: modeAttr(0o600),
			Spec: nfs3xdr.Specdata3{Specdata1: major, Specdata2: minor}}}
	}
	pipe := func(t nfs3xdr.Ftype3) nfs3xdr.Mknoddata3 {
		return nfs3xdr.Mknoddata3{Type: t, PipeAttributes: modeAttr(0o640)}
	}
	tests := []struct {
		name   string
		export string
		uid    uint32
		what   nfs3xdr.Mknoddata3
		want   nfs3xdr.Nfsstat3
	}{
		{"fifo", "/rw", 1000, pipe(nfs3xdr.NF3FIFO), nfs3xdr.NFS3_OK},
		{"socket", "/rw", 1000, pipe(nfs3xdr.NF3SOCK), nfs3xdr.NFS3_OK},
		{"char device by root", "/rw", 0, dev(nfs3xdr.NF3CHR, 4, 64), nfs3xdr.NFS3_OK},
		{"block device by root", "/rw", 0, dev(nfs3xdr.NF3BLK, 8, 1), nfs3xdr.NFS3_OK},
		{"char device by user", "/rw", 1000, dev(nfs3xdr.NF3CHR, 1, 3), nfs3xdr.NFS3ERR_PERM},
		{"char device by squashed root", "/squash", 0, dev(nfs3xdr.NF3CHR, 1, 3), nfs3xdr.NFS3ERR_PERM},
		{"regular", "/rw", 1000, nfs3xdr.Mknoddata3{Type: nfs3xdr.NF3REG}, nfs3xdr.NFS3ERR_BADTYPE},
		{"directory", "/rw", 1000, nfs3xdr.Mknoddata3{Type: nfs3xdr.NF3DIR}, nfs3xdr.NFS3ERR_BADTYPE},
		{"symlink", "/rw", 1000, nfs3xdr.Mknoddata3{Type: nfs3xdr.NF3LNK}, nfs3xdr.NFS3ERR_BADTYPE},
		{"read-only export", "/ro", 0, pipe(nfs3xdr.NF3FIFO), nfs3xdr.NFS3ERR_ROFS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.as(tt.uid, tt.uid)
			dir := e.root[tt.export]
			before := c.getattr(dir)
			var res nfs3xdr.MKNOD3res
			c.call(nfs3xdr.NFSPROC3_MKNOD, &nfs3xdr.MKNOD3args{Where: diropargs(dir, "n"), What: tt.what}, &res)
			must(t, "MKNOD", res.Status, tt.want)
			after := c.getattr(dir)
			if res.Status != nfs3xdr.NFS3_OK {
				checkDirWcc(t, "MKNOD", res.Resfail.DirWcc, before, after)
				if r, _ := c.lookup(dir, "n"); r.Status != nfs3xdr.NFS3ERR_NOENT {
					t.Errorf("a failed MKNOD left a node: %v", r.Status)
				}
				return
			}
			checkDirWcc(t, "MKNOD", res.Resok.DirWcc, before, after)
			a := c.getattr(res.Resok.Obj.Handle)
			if a.Type != tt.what.Type {
				t.Errorf("type %v, want %v", a.Type, tt.what.Type)
			}
			if tt.what.Type == nfs3xdr.NF3CHR || tt.what.Type == nfs3xdr.NF3BLK {
				if a.Rdev != tt.what.Device.Spec || a.Mode != 0o600 {
					t.Errorf("device %+v mode %o, want %+v mode 600", a.Rdev, a.Mode, tt.what.Device.Spec)
				}
			} else if a.Mode != 0o640 || a.Rdev != (nfs3xdr.Specdata3{}) {
				t.Errorf("mode %o rdev %+v, want 640 and no device", a.Mode, a.Rdev)
			}
		})
	}
}
