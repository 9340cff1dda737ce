package vfstest

import (
	"syscall"

	"github.com/gonfs/gonfs/vfs"
)

var permTests = []test{
	{"Access", testAccess},
	{"PermCreate", testPermCreate},
	{"PermReadWrite", testPermReadWrite},
	{"PermLookupReadDir", testPermLookupReadDir},
	{"PermSupplementaryGroups", testPermSupplementaryGroups},
	{"PermChownChmod", testPermChownChmod},
	{"PermSticky", testPermSticky},
	{"RootOverridesDAC", testRootOverridesDAC},
}

const (
	fileBits = vfs.AccessRead | vfs.AccessModify | vfs.AccessExtend | vfs.AccessExecute
	dirBits  = vfs.AccessRead | vfs.AccessLookup | vfs.AccessModify | vfs.AccessExtend | vfs.AccessDelete
	rw       = vfs.AccessRead | vfs.AccessModify | vfs.AccessExtend
)

// owned makes a node as root and gives it to uid:gid with mode m.
func (e *env) owned(h vfs.Handle, uid, gid, m uint32) vfs.Handle {
	e.t.Helper()
	e.setattr(h, vfs.SetAttr{UID: &uid, GID: &gid, Mode: &m})
	return h
}

// openRoot lets everyone look up names in the root.
func (e *env) openRoot() {
	e.t.Helper()
	e.setattr(e.root, mode(0o755))
}

// testAccess checks ACCESS as knfsd maps it onto permission checks
// (RFC 1813 §3.3.4). On regular files READ needs r, MODIFY and EXTEND w,
// EXECUTE x (LOOKUP and DELETE are not asked of files here). On directories
// READ needs r, LOOKUP x, and MODIFY, EXTEND and DELETE w and x (changing
// entries searches the directory too).
func testAccess(e *env) {
	e.needPrivilege()
	e.openRoot()
	f := e.create(e.root, "f")
	d := e.mkdir(e.root, "d")
	owner := &vfs.Cred{UID: 1000, GID: 1000}
	group := &vfs.Cred{UID: 3000, GID: 2000}
	supp := &vfs.Cred{UID: 3000, GID: 3000, Groups: []uint32{5, 2000}}
	other := &vfs.Cred{UID: 4000, GID: 4000}
	ownerInGroup := &vfs.Cred{UID: 1000, GID: 2000}
	cases := []struct {
		dir  bool
		mode uint32
		c    *vfs.Cred
		who  string
		want uint32
	}{
		{false, 0o640, owner, "owner", rw},
		{false, 0o640, group, "group", vfs.AccessRead},
		{false, 0o640, supp, "supplementary group", vfs.AccessRead},
		{false, 0o640, other, "other", 0},
		{false, 0o640, root(), "root", rw},
		{false, 0o751, owner, "owner", fileBits},
		{false, 0o751, group, "group", vfs.AccessRead | vfs.AccessExecute},
		{false, 0o751, other, "other", vfs.AccessExecute},
		{false, 0o751, root(), "root", fileBits},
		{false, 0o000, root(), "root", rw},
		{false, 0o001, root(), "root", fileBits},
		{false, 0o010, root(), "root", fileBits},
		// The owner class is chosen first and does not fall through.
		{false, 0o077, ownerInGroup, "owner in group", 0},
		{false, 0o707, group, "group", 0},
		{false, 0o222, other, "other", vfs.AccessModify | vfs.AccessExtend},
		{true, 0o750, owner, "owner", dirBits},
		{true, 0o750, group, "group", vfs.AccessRead | vfs.AccessLookup},
		{true, 0o750, supp, "supplementary group", vfs.AccessRead | vfs.AccessLookup},
		{true, 0o750, other, "other", 0},
		{true, 0o750, root(), "root", dirBits},
		{true, 0o000, root(), "root", dirBits},
		{true, 0o300, owner, "owner", dirBits &^ vfs.AccessRead},
		{true, 0o600, owner, "owner", vfs.AccessRead},
		{true, 0o1777, other, "other", dirBits},
	}
	for _, c := range cases {
		h, bits, kind := f, fileBits, "file"
		if c.dir {
			h, bits, kind = d, dirBits, "dir"
		}
		e.owned(h, 1000, 2000, c.mode)
		got, err := e.fs.Access(e.ctx, c.c, h, bits)
		if err != nil {
			e.t.Fatalf("Access: %v", err)
		}
		if got != c.want {
			e.t.Errorf("%s mode %04o, %s: Access = %#x, want %#x", kind, c.mode, c.who, got, c.want)
		}
		// Asking for a subset returns the subset of the answer.
		if got, _ := e.fs.Access(e.ctx, c.c, h, vfs.AccessRead); got != c.want&vfs.AccessRead {
			e.t.Errorf("%s mode %04o, %s: Access(READ) = %#x", kind, c.mode, c.who, got)
		}
	}
}

func testPermCreate(e *env) {
	e.needPrivilege()
	e.openRoot()
	sys := e.mkdir(e.root, "sys") // root-owned 0755
	e.create(sys, "rootfile")
	u := user()
	_, _, _, err := e.fs.Create(e.ctx, u, sys, "x", mode(0o644), true)
	wantErr(e.t, err, syscall.EACCES, "Create by uid 1000 in a 0755 root dir")
	_, _, err = e.fs.Mkdir(e.ctx, u, sys, "x", mode(0o755))
	wantErr(e.t, err, syscall.EACCES, "Mkdir by uid 1000 in a 0755 root dir")
	_, _, err = e.fs.Symlink(e.ctx, u, sys, "x", "t", vfs.SetAttr{})
	wantErr(e.t, err, syscall.EACCES, "Symlink by uid 1000 in a 0755 root dir")
	wantErr(e.t, e.fs.Remove(e.ctx, u, sys, "rootfile"), syscall.EACCES, "Remove by uid 1000 in a 0755 root dir")
	wantErr(e.t, e.fs.Rename(e.ctx, u, sys, "rootfile", sys, "y"), syscall.EACCES, "Rename by uid 1000 in a 0755 root dir")
	// Existence is reported before the missing write permission, as Linux
	// looks the name up first.
	_, _, _, err = e.fs.Create(e.ctx, u, sys, "rootfile", mode(0o644), true)
	wantErr(e.t, err, syscall.EEXIST, "exclusive Create of an existing name in a 0755 root dir")
	_, _, err = e.fs.Mkdir(e.ctx, u, sys, "rootfile", mode(0o755))
	wantErr(e.t, err, syscall.EEXIST, "Mkdir of an existing name in a 0755 root dir")
	wantErr(e.t, e.fs.Remove(e.ctx, u, sys, "nope"), syscall.ENOENT, "Remove of a missing name in a 0755 root dir")

	home := e.owned(e.mkdir(e.root, "home"), 1000, 1000, 0o755)
	h, a, created, err := e.fs.Create(e.ctx, u, home, "mine", mode(0o600), true)
	if err != nil || !created {
		e.t.Fatalf("Create by uid 1000 in its own dir: %v", err)
	}
	if a.UID != 1000 || a.GID != 1000 {
		e.t.Errorf("file created by 1000:1000 is owned by %d:%d", a.UID, a.GID)
	}
	if g := e.attr(h); g.UID != 1000 || g.GID != 1000 {
		e.t.Errorf("GetAttr: owned by %d:%d", g.UID, g.GID)
	}
	_, da, err := e.fs.Mkdir(e.ctx, u, home, "sub", mode(0o755))
	if err != nil || da.UID != 1000 || da.GID != 1000 {
		e.t.Errorf("Mkdir by uid 1000: owner %d:%d err %v", da.UID, da.GID, err)
	}
	_, sa, err := e.fs.Symlink(e.ctx, u, home, "ln", "mine", vfs.SetAttr{})
	if err != nil || sa.UID != 1000 || sa.GID != 1000 {
		e.t.Errorf("Symlink by uid 1000: owner %d:%d err %v", sa.UID, sa.GID, err)
	}
	if err := e.fs.Remove(e.ctx, u, home, "ln"); err != nil {
		e.t.Errorf("Remove by owner of dir: %v", err)
	}
	// Moving one's own file into a directory one cannot write is refused.
	wantErr(e.t, e.fs.Rename(e.ctx, u, home, "mine", sys, "mine"), syscall.EACCES, "Rename into a 0755 root dir")
	wantErr(e.t, e.fs.Link(e.ctx, u, h, sys, "mine"), syscall.EACCES, "Link into a 0755 root dir")
	_, _, err = e.fs.Mknod(e.ctx, u, sys, "fifo", vfs.TypeFIFO, mode(0o644), 0, 0)
	wantErr(e.t, err, syscall.EACCES, "Mknod by uid 1000 in a 0755 root dir")
}

func testPermReadWrite(e *env) {
	e.needPrivilege()
	e.openRoot()
	f := e.create(e.root, "f") // root 0644
	e.write(f, 0, []byte("root's"))
	u := user()
	_, _, err := e.fs.Write(e.ctx, u, f, 0, []byte("x"), vfs.FileSync)
	wantErr(e.t, err, syscall.EACCES, "Write by uid 1000 to root's 0644 file")
	_, err = e.fs.SetAttr(e.ctx, u, f, vfs.SetAttr{Size: u64(0)})
	wantErr(e.t, err, syscall.EACCES, "truncate by uid 1000 of root's 0644 file")
	buf := make([]byte, 16)
	n, _, err := e.fs.Read(e.ctx, u, f, 0, buf)
	if err != nil || string(buf[:n]) != "root's" {
		e.t.Errorf("Read by uid 1000 of a 0644 file: %q, %v", buf[:n], err)
	}
	e.setattr(f, mode(0o600))
	_, _, err = e.fs.Read(e.ctx, u, f, 0, buf)
	wantErr(e.t, err, syscall.EACCES, "Read by uid 1000 of root's 0600 file")
	// The owner may write, and truncate, its own file.
	e.owned(f, 1000, 1000, 0o644)
	if _, _, err := e.fs.Write(e.ctx, u, f, 0, []byte("mine"), vfs.FileSync); err != nil {
		e.t.Errorf("Write by owner: %v", err)
	}
	if _, err := e.fs.SetAttr(e.ctx, u, f, vfs.SetAttr{Size: u64(2)}); err != nil {
		e.t.Errorf("truncate by owner: %v", err)
	}
	e.wantContent(f, []byte("mi"))

	// Owner override (vfs.FS.Read): the owner reads and writes its own
	// 0444 file, as a process that created it so still does through its
	// descriptor; another user may read but not write it.
	e.owned(f, 1000, 1000, 0o444)
	if _, _, err := e.fs.Write(e.ctx, u, f, 0, []byte("ov"), vfs.FileSync); err != nil {
		e.t.Errorf("Write by the owner of a 0444 file: %v", err)
	}
	e.owned(f, 1000, 1000, 0o000)
	if _, _, err := e.fs.Read(e.ctx, u, f, 0, buf); err != nil {
		e.t.Errorf("Read by the owner of a 0000 file: %v", err)
	}
	e.owned(f, 1000, 1000, 0o444)
	other := &vfs.Cred{UID: 1001, GID: 1001}
	_, _, err = e.fs.Write(e.ctx, other, f, 0, []byte("x"), vfs.FileSync)
	wantErr(e.t, err, syscall.EACCES, "Write by another user to a 0444 file")
}

func testPermLookupReadDir(e *env) {
	e.needPrivilege()
	e.openRoot()
	u := user()
	d := e.mkdir(e.root, "d")
	e.create(d, "f")
	e.setattr(d, mode(0o700))
	_, _, err := e.fs.Lookup(e.ctx, u, d, "f")
	wantErr(e.t, err, syscall.EACCES, "Lookup by uid 1000 in a 0700 root dir")
	e.setattr(d, mode(0o711))
	if _, _, err := e.fs.Lookup(e.ctx, u, d, "f"); err != nil {
		e.t.Errorf("Lookup by uid 1000 in a 0711 dir: %v", err)
	}
	err = e.fs.ReadDir(e.ctx, u, d, 0, false, func(*vfs.DirEntry) bool { return true })
	wantErr(e.t, err, syscall.EACCES, "ReadDir by uid 1000 of a 0711 root dir")
	e.setattr(d, mode(0o755))
	if err := e.fs.ReadDir(e.ctx, u, d, 0, false, func(*vfs.DirEntry) bool { return true }); err != nil {
		e.t.Errorf("ReadDir by uid 1000 of a 0755 dir: %v", err)
	}
}

func testPermSupplementaryGroups(e *env) {
	e.needPrivilege()
	e.openRoot()
	f := e.owned(e.create(e.root, "f"), 0, 2000, 0o660)
	member := &vfs.Cred{UID: 1000, GID: 1000, Groups: []uint32{7, 2000}}
	if _, _, err := e.fs.Write(e.ctx, member, f, 0, []byte("ok"), vfs.FileSync); err != nil {
		e.t.Errorf("Write by a supplementary member of the file's group: %v", err)
	}
	_, _, err := e.fs.Write(e.ctx, user(), f, 0, []byte("no"), vfs.FileSync)
	wantErr(e.t, err, syscall.EACCES, "Write by a non-member")
	d := e.owned(e.mkdir(e.root, "d"), 0, 2000, 0o770)
	if _, _, _, err := e.fs.Create(e.ctx, member, d, "x", mode(0o644), true); err != nil {
		e.t.Errorf("Create by a supplementary member in a group-writable dir: %v", err)
	}
}

// testPermChownChmod checks chown(2) and chmod(2) rules for non-root: only
// root changes the owner, the owner may change the group to one it is in,
// only the owner changes the mode, and setting explicit times needs
// ownership while setting them to now needs only write permission (utimensat(2)).
func testPermChownChmod(e *env) {
	e.needPrivilege()
	e.openRoot()
	u := &vfs.Cred{UID: 1000, GID: 1000, Groups: []uint32{2000}}
	f := e.owned(e.create(e.root, "f"), 1000, 1000, 0o644)
	_, err := e.fs.SetAttr(e.ctx, u, f, vfs.SetAttr{UID: u32(2000)})
	wantErr(e.t, err, syscall.EPERM, "chown by non-root")
	_, err = e.fs.SetAttr(e.ctx, u, f, vfs.SetAttr{GID: u32(3000)})
	wantErr(e.t, err, syscall.EPERM, "chgrp to a group the owner is not in")
	if a, err := e.fs.SetAttr(e.ctx, u, f, vfs.SetAttr{GID: u32(2000)}); err != nil || a.GID != 2000 {
		e.t.Errorf("chgrp by owner to its supplementary group: gid %d, %v", a.GID, err)
	}
	if _, err := e.fs.SetAttr(e.ctx, u, f, vfs.SetAttr{UID: u32(1000)}); err != nil {
		e.t.Errorf("chown to the current owner by the owner: %v", err)
	}
	if a, err := e.fs.SetAttr(e.ctx, u, f, mode(0o600)); err != nil || a.Mode != 0o600 {
		e.t.Errorf("chmod by owner: mode %o, %v", a.Mode, err)
	}
	stranger := &vfs.Cred{UID: 4000, GID: 4000}
	e.owned(f, 1000, 1000, 0o666)
	_, err = e.fs.SetAttr(e.ctx, stranger, f, mode(0o777))
	wantErr(e.t, err, syscall.EPERM, "chmod by non-owner")
	_, err = e.fs.SetAttr(e.ctx, stranger, f, vfs.SetAttr{Mtime: vfs.TimeClient, MtimeTime: old})
	wantErr(e.t, err, syscall.EPERM, "setting explicit times by non-owner")
	if _, err := e.fs.SetAttr(e.ctx, stranger, f, vfs.SetAttr{Atime: vfs.TimeServer, Mtime: vfs.TimeServer}); err != nil {
		e.t.Errorf("setting times to now by a writer: %v", err)
	}
	e.setattr(f, mode(0o644))
	_, err = e.fs.SetAttr(e.ctx, stranger, f, vfs.SetAttr{Mtime: vfs.TimeServer})
	wantErr(e.t, err, syscall.EACCES, "setting times to now by a non-writer")
	if a := e.attr(f); a.UID != 1000 || a.Mode != 0o644 {
		e.t.Errorf("after refused changes: uid %d mode %o", a.UID, a.Mode)
	}
}

// testPermSticky: in a sticky directory only the owner of an entry, the
// owner of the directory or root may remove or rename it; Linux says EPERM.
func testPermSticky(e *env) {
	e.needPrivilege()
	e.openRoot()
	tmp := e.mkdir(e.root, "tmp")
	e.setattr(tmp, mode(0o1777))
	e.owned(e.create(tmp, "theirs"), 2000, 2000, 0o666)
	u := user()
	wantErr(e.t, e.fs.Remove(e.ctx, u, tmp, "theirs"), syscall.EPERM, "Remove of another's file in a sticky dir")
	wantErr(e.t, e.fs.Rename(e.ctx, u, tmp, "theirs", tmp, "mine"), syscall.EPERM, "Rename of another's file in a sticky dir")
	if _, _, _, err := e.fs.Create(e.ctx, u, tmp, "mine", mode(0o644), true); err != nil {
		e.t.Fatalf("Create in a sticky 1777 dir: %v", err)
	}
	if err := e.fs.Remove(e.ctx, u, tmp, "mine"); err != nil {
		e.t.Errorf("Remove of own file in a sticky dir: %v", err)
	}
	if err := e.fs.Remove(e.ctx, root(), tmp, "theirs"); err != nil {
		e.t.Errorf("Remove by root in a sticky dir: %v", err)
	}
}

// testRootOverridesDAC: root reads and writes regardless of mode bits and
// searches any directory (CAP_DAC_OVERRIDE), but executes a file only when
// some x bit is set.
func testRootOverridesDAC(e *env) {
	e.needPrivilege()
	f := e.owned(e.create(e.root, "f"), 1000, 1000, 0o000)
	if _, _, err := e.fs.Write(e.ctx, root(), f, 0, []byte("root"), vfs.FileSync); err != nil {
		e.t.Errorf("Write by root to a 0000 file: %v", err)
	}
	e.wantContent(f, []byte("root"))
	d := e.owned(e.mkdir(e.root, "d"), 1000, 1000, 0o000)
	e.create(d, "inside")
	e.lookup(d, "inside")
	if got := e.names(d); len(got) != 1 {
		e.t.Errorf("root lists %v in a 0000 dir", got)
	}
}
