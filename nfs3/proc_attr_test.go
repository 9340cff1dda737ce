package nfs3

import (
	"context"
	"testing"

	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/vfs"
)

// TestGetattr: GETATTR reports the backend's attributes of every file type,
// with the export's fsid (RFC 1813 §3.3.1).
func TestGetattr(t *testing.T) {
	e := newEnv(t)
	u, root := e.user(), e.rootUser()
	dir := e.root["/rw"]
	file := u.create(dir, "f", 0o640)
	u.write(file, 0, []byte("hello, world"))
	sub := u.mkdir(dir, "d", 0o750)
	var sl nfs3xdr.SYMLINK3res
	u.call(nfs3xdr.NFSPROC3_SYMLINK, &nfs3xdr.SYMLINK3args{Where: diropargs(dir, "l"),
		Symlink: nfs3xdr.Symlinkdata3{SymlinkData: "f"}}, &sl)
	must(t, "SYMLINK", sl.Status, nfs3xdr.NFS3_OK)
	var mk nfs3xdr.MKNOD3res
	root.call(nfs3xdr.NFSPROC3_MKNOD, &nfs3xdr.MKNOD3args{Where: diropargs(dir, "c"), What: nfs3xdr.Mknoddata3{
		Type: nfs3xdr.NF3CHR, Device: nfs3xdr.Devicedata3{Spec: nfs3xdr.Specdata3{Specdata1: 1, Specdata2: 3}}}}, &mk)
	must(t, "MKNOD", mk.Status, nfs3xdr.NFS3_OK)

	tests := []struct {
		name  string
		fh    nfs3xdr.NfsFh3
		ftype nfs3xdr.Ftype3
	}{
		{"root", dir, nfs3xdr.NF3DIR},
		{"file", file, nfs3xdr.NF3REG},
		{"dir", sub, nfs3xdr.NF3DIR},
		{"symlink", sl.Resok.Obj.Handle, nfs3xdr.NF3LNK},
		{"chardev", mk.Resok.Obj.Handle, nfs3xdr.NF3CHR},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := u.getattr(tt.fh)
			a, err := e.backendAttr(tt.fh)
			if err != nil {
				t.Fatal(err)
			}
			want := nfs3xdr.Fattr3{
				Type: tt.ftype, Mode: nfs3xdr.Mode3(a.Mode), Nlink: a.Nlink,
				Uid: nfs3xdr.Uid3(a.UID), Gid: nfs3xdr.Gid3(a.GID),
				Size: nfs3xdr.Size3(a.Size), Used: nfs3xdr.Size3(a.Used),
				Rdev: nfs3xdr.Specdata3{Specdata1: a.Major, Specdata2: a.Minor},
				Fsid: 1, Fileid: nfs3xdr.Fileid3(a.FileID),
				Atime: nfstime(a.Atime), Mtime: nfstime(a.Mtime), Ctime: nfstime(a.Ctime),
			}
			if got != want {
				t.Errorf("GETATTR\n got %+v\nwant %+v", got, want)
			}
		})
	}
	if got := u.getattr(file); got.Size != 12 || got.Mode != 0o640 || got.Uid != 1000 || got.Gid != 1000 {
		t.Errorf("file attributes %+v, want size 12 mode 0640 owner 1000:1000", got)
	}
	if got := u.getattr(mk.Resok.Obj.Handle); got.Rdev != (nfs3xdr.Specdata3{Specdata1: 1, Specdata2: 3}) {
		t.Errorf("device numbers %+v, want 1,3", got.Rdev)
	}
	// Each export is its own filesystem to the client.
	if got := u.getattr(e.root["/other"]); got.Fsid != 4 {
		t.Errorf("fsid of /other = %d, want 4", got.Fsid)
	}
}

func sattrTime(t nfs3xdr.Nfstime3) (nfs3xdr.SetAtime, nfs3xdr.SetMtime) {
	return nfs3xdr.SetAtime{SetIt: nfs3xdr.SET_TO_CLIENT_TIME, Atime: t},
		nfs3xdr.SetMtime{SetIt: nfs3xdr.SET_TO_CLIENT_TIME, Mtime: t}
}

// TestSetattr covers each settable attribute, who may set it, the ctime
// guard (RFC 1813 §3.3.2) and read-only exports.
func TestSetattr(t *testing.T) {
	when := nfs3xdr.Nfstime3{Seconds: 1_600_000_000, Nseconds: 42}
	at, mt := sattrTime(when)
	const (
		guardNone = iota
		guardMatch
		guardMismatch
	)
	tests := []struct {
		name   string
		export string
		uid    uint32 // caller; the file belongs to 1000:1000, mode 0644, 5 bytes
		set    nfs3xdr.Sattr3
		guard  int
		want   nfs3xdr.Nfsstat3
		check  func(t *testing.T, a nfs3xdr.Fattr3)
	}{
		{"mode by owner", "/rw", 1000, modeAttr(0o600), guardNone, nfs3xdr.NFS3_OK,
			func(t *testing.T, a nfs3xdr.Fattr3) { wantEq(t, "mode", a.Mode, 0o600) }},
		{"mode setuid kept", "/rw", 1000, modeAttr(0o4755), guardNone, nfs3xdr.NFS3_OK,
			func(t *testing.T, a nfs3xdr.Fattr3) { wantEq(t, "mode", a.Mode, 0o4755) }},
		{"mode type bits ignored", "/rw", 1000, modeAttr(0o100600), guardNone, nfs3xdr.NFS3_OK,
			func(t *testing.T, a nfs3xdr.Fattr3) { wantEq(t, "mode", a.Mode, 0o600) }},
		{"mode by other", "/rw", 2000, modeAttr(0o600), guardNone, nfs3xdr.NFS3ERR_PERM, nil},
		{"uid by root", "/rw", 0, nfs3xdr.Sattr3{Uid: nfs3xdr.SetUid3{SetIt: true, Uid: 3000}}, guardNone, nfs3xdr.NFS3_OK,
			func(t *testing.T, a nfs3xdr.Fattr3) { wantEq(t, "uid", a.Uid, 3000) }},
		{"uid by owner", "/rw", 1000, nfs3xdr.Sattr3{Uid: nfs3xdr.SetUid3{SetIt: true, Uid: 3000}}, guardNone, nfs3xdr.NFS3ERR_PERM, nil},
		{"gid by root", "/rw", 0, nfs3xdr.Sattr3{Gid: nfs3xdr.SetGid3{SetIt: true, Gid: 77}}, guardNone, nfs3xdr.NFS3_OK,
			func(t *testing.T, a nfs3xdr.Fattr3) { wantEq(t, "gid", a.Gid, 77) }},
		{"gid by squashed root", "/squash", 0, nfs3xdr.Sattr3{Gid: nfs3xdr.SetGid3{SetIt: true, Gid: 77}}, guardNone, nfs3xdr.NFS3ERR_PERM, nil},
		{"grow", "/rw", 1000, nfs3xdr.Sattr3{Size: nfs3xdr.SetSize3{SetIt: true, Size: 100}}, guardNone, nfs3xdr.NFS3_OK,
			func(t *testing.T, a nfs3xdr.Fattr3) { wantEq(t, "size", a.Size, 100) }},
		{"truncate", "/rw", 1000, nfs3xdr.Sattr3{Size: nfs3xdr.SetSize3{SetIt: true, Size: 0}}, guardNone, nfs3xdr.NFS3_OK,
			func(t *testing.T, a nfs3xdr.Fattr3) { wantEq(t, "size", a.Size, 0) }},
		{"truncate by other", "/rw", 2000, nfs3xdr.Sattr3{Size: nfs3xdr.SetSize3{SetIt: true, Size: 0}}, guardNone, nfs3xdr.NFS3ERR_ACCES, nil},
		{"client times", "/rw", 1000, nfs3xdr.Sattr3{Atime: at, Mtime: mt}, guardNone, nfs3xdr.NFS3_OK,
			func(t *testing.T, a nfs3xdr.Fattr3) {
				wantEq(t, "atime", a.Atime, when)
				wantEq(t, "mtime", a.Mtime, when)
			}},
		{"client times by other", "/rw", 2000, nfs3xdr.Sattr3{Atime: at, Mtime: mt}, guardNone, nfs3xdr.NFS3ERR_PERM, nil},
		{"server mtime", "/rw", 1000, nfs3xdr.Sattr3{Mtime: nfs3xdr.SetMtime{SetIt: nfs3xdr.SET_TO_SERVER_TIME}}, guardNone, nfs3xdr.NFS3_OK,
			func(t *testing.T, a nfs3xdr.Fattr3) {
				if a.Mtime.Seconds < 1_710_000_000 {
					t.Errorf("mtime %v not set to the server's time", a.Mtime)
				}
			}},
		{"nothing", "/rw", 2000, nfs3xdr.Sattr3{}, guardNone, nfs3xdr.NFS3_OK, nil},
		{"guard match", "/rw", 1000, modeAttr(0o600), guardMatch, nfs3xdr.NFS3_OK,
			func(t *testing.T, a nfs3xdr.Fattr3) { wantEq(t, "mode", a.Mode, 0o600) }},
		{"guard mismatch", "/rw", 1000, modeAttr(0o600), guardMismatch, nfs3xdr.NFS3ERR_NOT_SYNC, nil},
		{"guard mismatch size", "/rw", 1000, nfs3xdr.Sattr3{Size: nfs3xdr.SetSize3{SetIt: true, Size: 0}}, guardMismatch, nfs3xdr.NFS3ERR_NOT_SYNC, nil},
		{"read-only export", "/ro", 0, modeAttr(0o600), guardNone, nfs3xdr.NFS3ERR_ROFS, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			fh := e.makeFile(tt.export, "f", 1000, 1000, 0o644, []byte("12345"))
			c := e.as(tt.uid, tt.uid)
			before := c.getattr(fh)
			args := nfs3xdr.SETATTR3args{Object: fh, NewAttributes: tt.set}
			switch tt.guard {
			case guardMatch:
				args.Guard = nfs3xdr.Sattrguard3{Check: true, ObjCtime: before.Ctime}
			case guardMismatch:
				args.Guard = nfs3xdr.Sattrguard3{Check: true, ObjCtime: nfs3xdr.Nfstime3{Seconds: before.Ctime.Seconds - 1}}
			}
			var res nfs3xdr.SETATTR3res
			c.call(nfs3xdr.NFSPROC3_SETATTR, &args, &res)
			must(t, "SETATTR", res.Status, tt.want)
			after := c.getattr(fh)
			wcc := res.Resok.ObjWcc
			if res.Status != nfs3xdr.NFS3_OK {
				wcc = res.Resfail.ObjWcc
			}
			if !wcc.Before.AttributesFollow || wcc.Before.Attributes != wccOf(before) {
				t.Errorf("pre-op attributes %+v, want %+v", wcc.Before, wccOf(before))
			}
			if !wcc.After.AttributesFollow || wcc.After.Attributes != after {
				t.Errorf("post-op attributes %+v, want %+v", wcc.After, after)
			}
			if tt.want != nfs3xdr.NFS3_OK || tt.set == (nfs3xdr.Sattr3{}) {
				if after != before {
					t.Errorf("a refused SETATTR changed the file:\nbefore %+v\n after %+v", before, after)
				}
				return
			}
			if after.Ctime == before.Ctime {
				t.Errorf("ctime did not change")
			}
			if tt.check != nil {
				tt.check(t, after)
			}
		})
	}
}

func wantEq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// makeFile creates a file directly in the backend of export, owned by
// uid:gid, for exports the test cannot write through NFS.
func (e *env) makeFile(export, name string, uid, gid, mode uint32, data []byte) nfs3xdr.NfsFh3 {
	e.t.Helper()
	x, ok := e.ns.Find(export)
	if !ok {
		e.t.Fatalf("no export %s", export)
	}
	ctx := context.Background()
	m := mode
	h, _, _, err := x.FS.Create(ctx, vfs.RootCred(), x.Root, name, vfs.SetAttr{Mode: &m, UID: &uid, GID: &gid}, true)
	if err != nil {
		e.t.Fatalf("backend create %s: %v", name, err)
	}
	if len(data) > 0 {
		if _, _, err := x.FS.Write(ctx, vfs.RootCred(), h, 0, data, vfs.FileSync); err != nil {
			e.t.Fatal(err)
		}
	}
	return nfs3xdr.NfsFh3{Data: e.ns.Handle(nil, x, h)}
}

// makeDir is makeFile for a directory.
func (e *env) makeDir(export, name string, uid, gid, mode uint32) nfs3xdr.NfsFh3 {
	e.t.Helper()
	x, _ := e.ns.Find(export)
	m := mode
	h, _, err := x.FS.Mkdir(context.Background(), vfs.RootCred(), x.Root, name, vfs.SetAttr{Mode: &m, UID: &uid, GID: &gid})
	if err != nil {
		e.t.Fatalf("backend mkdir %s: %v", name, err)
	}
	return nfs3xdr.NfsFh3{Data: e.ns.Handle(nil, x, h)}
}

const (
	accAll  = nfs3xdr.ACCESS3_READ | nfs3xdr.ACCESS3_LOOKUP | nfs3xdr.ACCESS3_MODIFY | nfs3xdr.ACCESS3_EXTEND | nfs3xdr.ACCESS3_DELETE | nfs3xdr.ACCESS3_EXECUTE
	accRW   = nfs3xdr.ACCESS3_READ | nfs3xdr.ACCESS3_MODIFY | nfs3xdr.ACCESS3_EXTEND
	accDir  = nfs3xdr.ACCESS3_READ | nfs3xdr.ACCESS3_LOOKUP | nfs3xdr.ACCESS3_MODIFY | nfs3xdr.ACCESS3_EXTEND | nfs3xdr.ACCESS3_DELETE
	accRDir = nfs3xdr.ACCESS3_READ | nfs3xdr.ACCESS3_LOOKUP
)

// TestAccess: ACCESS answers for the caller's squashed identity from the
// mode bits, never grants more than asked, and takes away the rights to
// change anything on a read-only export (RFC 1813 §3.3.4).
func TestAccess(t *testing.T) {
	tests := []struct {
		name   string
		export string
		dir    bool
		mode   uint32 // of an object owned by 1000:1000
		uid    uint32
		gid    uint32
		ask    uint32
		want   uint32
	}{
		{"owner rw file", "/rw", false, 0o640, 1000, 1000, accAll, accRW},
		{"group file", "/rw", false, 0o640, 2000, 1000, accAll, nfs3xdr.ACCESS3_READ},
		{"other file", "/rw", false, 0o640, 2000, 2000, accAll, 0},
		{"other exec file", "/rw", false, 0o755, 2000, 2000, accAll, nfs3xdr.ACCESS3_READ | nfs3xdr.ACCESS3_EXECUTE},
		{"only what is asked", "/rw", false, 0o755, 1000, 1000, nfs3xdr.ACCESS3_READ, nfs3xdr.ACCESS3_READ},
		{"owner dir", "/rw", true, 0o750, 1000, 1000, accAll, accDir},
		{"group dir", "/rw", true, 0o750, 2000, 1000, accAll, accRDir},
		{"other dir", "/rw", true, 0o750, 2000, 2000, accAll, 0},
		{"root unsquashed", "/rw", false, 0o600, 0, 0, accAll, accRW},
		{"root squashed", "/squash", false, 0o600, 0, 0, accAll, 0},
		{"root squashed world file", "/squash", false, 0o606, 0, 0, accAll, accRW},
		{"read-only export file", "/ro", false, 0o666, 1000, 1000, accAll, nfs3xdr.ACCESS3_READ},
		{"read-only export dir", "/ro", true, 0o777, 1000, 1000, accAll, accRDir},
		{"read-only export root", "/ro", false, 0o600, 0, 0, accAll, nfs3xdr.ACCESS3_READ},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			var fh nfs3xdr.NfsFh3
			if tt.dir {
				fh = e.makeDir(tt.export, "x", 1000, 1000, tt.mode)
			} else {
				fh = e.makeFile(tt.export, "x", 1000, 1000, tt.mode, nil)
			}
			c := e.as(tt.uid, tt.gid)
			var res nfs3xdr.ACCESS3res
			c.call(nfs3xdr.NFSPROC3_ACCESS, &nfs3xdr.ACCESS3args{Object: fh, Access: tt.ask}, &res)
			must(t, "ACCESS", res.Status, nfs3xdr.NFS3_OK)
			if res.Resok.Access != tt.want {
				t.Errorf("ACCESS %#x, want %#x", res.Resok.Access, tt.want)
			}
			if !res.Resok.ObjAttributes.AttributesFollow || res.Resok.ObjAttributes.Attributes.Mode != nfs3xdr.Mode3(tt.mode) {
				t.Errorf("post-op attributes %+v", res.Resok.ObjAttributes)
			}
		})
	}
}

// TestRootSquash: files root creates on a root_squash export belong to the
// anonymous user (exports(5)).
func TestRootSquash(t *testing.T) {
	e := newEnv(t)
	r := e.rootUser()
	fh := r.create(e.root["/squash"], "f", 0o644)
	if a := r.getattr(fh); a.Uid != 65534 || a.Gid != 65534 {
		t.Errorf("owner %d:%d, want 65534:65534", a.Uid, a.Gid)
	}
	fh = r.create(e.root["/rw"], "f", 0o644)
	if a := r.getattr(fh); a.Uid != 0 || a.Gid != 0 {
		t.Errorf("owner on no_root_squash %d:%d, want 0:0", a.Uid, a.Gid)
	}
}
