package vfstest

import (
	"bytes"
	"syscall"

	"github.com/gonfs/gonfs/vfs"
)

var createTests = []test{
	{"RootAttr", testRootAttr},
	{"CreateLookupGetAttr", testCreateLookupGetAttr},
	{"CreateExclusiveExists", testCreateExclusiveExists},
	{"CreateUncheckedExisting", testCreateUncheckedExisting},
	{"CreateUncheckedNonRegular", testCreateUncheckedNonRegular},
	{"Mkdir", testMkdir},
	{"MkdirExists", testMkdirExists},
	{"SymlinkReadlink", testSymlinkReadlink},
	{"ReadlinkNotSymlink", testReadlinkNotSymlink},
	{"MknodFIFOSocket", testMknodFIFOSocket},
	{"MknodCharDevice", testMknodCharDevice},
	{"MknodBadType", testMknodBadType},
	{"CreateInNonDir", testCreateInNonDir},
}

func testRootAttr(e *env) {
	a := e.attr(e.root)
	if a.Type != vfs.TypeDirectory {
		e.t.Fatalf("root type = %v, want directory", a.Type)
	}
	if a.FileID == 0 {
		e.t.Errorf("root FileID is 0")
	}
	if got := e.names(e.root); len(got) != 0 {
		e.t.Fatalf("fresh root lists %v, want empty", got)
	}
}

func testCreateLookupGetAttr(e *env) {
	h, a, created, err := e.fs.Create(e.ctx, root(), e.root, "f", mode(0o640), false)
	if err != nil || !created {
		e.t.Fatalf("Create: created=%v err=%v", created, err)
	}
	e.checkHandle(h, "Create")
	if a.Type != vfs.TypeRegular || a.Mode != 0o640 || a.Size != 0 || a.Nlink != 1 {
		e.t.Fatalf("Create attr = %+v, want regular 0640 size 0 nlink 1", a)
	}
	if !e.opts.Unprivileged && (a.UID != 0 || a.GID != 0) {
		e.t.Errorf("file created by root owned by %d:%d", a.UID, a.GID)
	}
	h2, a2 := e.lookup(e.root, "f")
	if !bytes.Equal(h, h2) {
		e.t.Errorf("Lookup handle %x differs from Create handle %x", h2, h)
	}
	if a2.FileID != a.FileID || a2.Type != vfs.TypeRegular {
		e.t.Errorf("Lookup attr = %+v, want FileID %d regular", a2, a.FileID)
	}
	g := e.attr(h)
	if g.FileID != a.FileID || g.Mode != 0o640 || g.FileID == e.attr(e.root).FileID {
		e.t.Errorf("GetAttr = %+v", g)
	}
	// A second file has a different inode number.
	h3 := e.create(e.root, "g")
	if e.attr(h3).FileID == a.FileID {
		e.t.Errorf("two files share FileID %d", a.FileID)
	}
	e.noEntry(e.root, "nonexistent")
}

func testCreateExclusiveExists(e *env) {
	h := e.create(e.root, "f")
	e.write(h, 0, []byte("data"))
	_, _, _, err := e.fs.Create(e.ctx, root(), e.root, "f", mode(0o600), true)
	wantErr(e.t, err, syscall.EEXIST, "exclusive Create of existing file")
	e.mkdir(e.root, "d")
	_, _, _, err = e.fs.Create(e.ctx, root(), e.root, "d", mode(0o600), true)
	wantErr(e.t, err, syscall.EEXIST, "exclusive Create over a directory")
	e.wantContent(h, []byte("data"))
}

func testCreateUncheckedExisting(e *env) {
	h := e.create(e.root, "f")
	e.write(h, 0, []byte("keep me"))
	// Without Size the file is opened as is; other attributes apply only
	// to new files.
	h2, a, created, err := e.fs.Create(e.ctx, root(), e.root, "f", mode(0o600), false)
	if err != nil || created {
		e.t.Fatalf("unchecked Create of existing: created=%v err=%v", created, err)
	}
	if !bytes.Equal(h, h2) {
		e.t.Errorf("unchecked Create returned handle %x, want %x", h2, h)
	}
	if a.Mode != 0o644 || a.Size != 7 {
		e.t.Errorf("unchecked Create changed attrs: mode %o size %d", a.Mode, a.Size)
	}
	e.wantContent(h, []byte("keep me"))
	// With Size it is truncated.
	s := mode(0o600)
	s.Size = u64(0)
	_, a, created, err = e.fs.Create(e.ctx, root(), e.root, "f", s, false)
	if err != nil || created {
		e.t.Fatalf("unchecked Create with Size: created=%v err=%v", created, err)
	}
	if a.Size != 0 || a.Mode != 0o644 {
		e.t.Errorf("after truncating Create: size %d mode %o, want 0 and 0644", a.Size, a.Mode)
	}
	e.wantContent(h, nil)
}

// testCreateUncheckedNonRegular: an unchecked Create only opens an existing
// regular file. For anything else it fails with EEXIST (what knfsd answers
// for NFSv3 UNCHECKED), and in particular it never follows a symlink.
func testCreateUncheckedNonRegular(e *env) {
	e.mkdir(e.root, "d")
	target := e.create(e.root, "target")
	e.write(target, 0, []byte("precious"))
	e.symlink(e.root, "ln", "target")
	e.symlink(e.root, "dangling", "newfile")
	s := vfs.SetAttr{Size: u64(0)}
	for _, name := range []string{"d", "ln", "dangling"} {
		_, _, _, err := e.fs.Create(e.ctx, root(), e.root, name, s, false)
		wantErr(e.t, err, syscall.EEXIST, "unchecked Create over "+name)
	}
	e.wantContent(target, []byte("precious"))
	e.noEntry(e.root, "newfile")
	_, a := e.lookup(e.root, "ln")
	if a.Type != vfs.TypeSymlink {
		e.t.Errorf("ln is now %v", a.Type)
	}
}

func testMkdir(e *env) {
	before := e.attr(e.root)
	d := e.mkdir(e.root, "d")
	a := e.attr(d)
	if a.Mode != 0o755 || a.Type != vfs.TypeDirectory {
		e.t.Errorf("Mkdir attr: %+v", a)
	}
	if !e.opts.NoDirNlink {
		if a.Nlink != 2 {
			e.t.Errorf("new directory Nlink = %d, want 2", a.Nlink)
		}
		if got := e.attr(e.root).Nlink; got != before.Nlink+1 {
			e.t.Errorf("parent Nlink after Mkdir = %d, want %d", got, before.Nlink+1)
		}
	}
	e.changed(e.root, before.Change, "Mkdir in root")
	sub := e.mkdir(d, "sub")
	e.create(sub, "f")
	if got := e.names(d); len(got) != 1 || got[0] != "sub" {
		e.t.Errorf("d lists %v, want [sub]", got)
	}
}

func testMkdirExists(e *env) {
	e.mkdir(e.root, "d")
	e.create(e.root, "f")
	for _, name := range []string{"d", "f"} {
		_, _, err := e.fs.Mkdir(e.ctx, root(), e.root, name, mode(0o755))
		wantErr(e.t, err, syscall.EEXIST, "Mkdir over existing "+name)
	}
	e.symlink(e.root, "ln", "x")
	_, _, err := e.fs.Symlink(e.ctx, root(), e.root, "f", "x", vfs.SetAttr{})
	wantErr(e.t, err, syscall.EEXIST, "Symlink over existing file")
	_, _, err = e.fs.Mknod(e.ctx, root(), e.root, "ln", vfs.TypeFIFO, mode(0o644), 0, 0)
	wantErr(e.t, err, syscall.EEXIST, "Mknod over existing symlink")
}

func testSymlinkReadlink(e *env) {
	for _, target := range []string{"x", "../../etc/passwd", "/abs/path", "a/b/c/", "with space"} {
		before := e.attr(e.root).Change
		name := "ln" + string(rune('a'+len(target)))
		h := e.symlink(e.root, name, target)
		got, err := e.fs.Readlink(e.ctx, root(), h)
		if err != nil || got != target {
			e.t.Errorf("Readlink = %q, %v; want %q", got, err, target)
		}
		a := e.attr(h)
		if a.Size != uint64(len(target)) {
			e.t.Errorf("symlink %q size %d, want %d", target, a.Size, len(target))
		}
		e.changed(e.root, before, "Symlink in root")
	}
}

func testReadlinkNotSymlink(e *env) {
	f := e.create(e.root, "f")
	d := e.mkdir(e.root, "d")
	for _, h := range []vfs.Handle{f, d, e.root} {
		_, err := e.fs.Readlink(e.ctx, root(), h)
		wantErr(e.t, err, syscall.EINVAL, "Readlink of non-symlink")
	}
}

func testMknodFIFOSocket(e *env) {
	for _, typ := range []vfs.FileType{vfs.TypeFIFO, vfs.TypeSocket} {
		name := typ.String()
		before := e.attr(e.root).Change
		h, a, err := e.fs.Mknod(e.ctx, root(), e.root, name, typ, mode(0o640), 0, 0)
		if err != nil {
			e.t.Fatalf("Mknod %v: %v", typ, err)
		}
		e.checkHandle(h, "Mknod")
		if a.Type != typ || a.Mode != 0o640 {
			e.t.Errorf("Mknod %v attr: type %v mode %o", typ, a.Type, a.Mode)
		}
		if _, la := e.lookup(e.root, name); la.Type != typ || la.FileID != a.FileID {
			e.t.Errorf("Lookup %v: %+v", typ, la)
		}
		e.changed(e.root, before, "Mknod in root")
		_, err = e.fs.SetAttr(e.ctx, root(), h, vfs.SetAttr{Size: u64(0)})
		wantErr(e.t, err, syscall.EINVAL, "SetAttr Size on "+name)
	}
}

func testMknodCharDevice(e *env) {
	if e.opts.NoDevices {
		e.t.Skip("backend cannot make device nodes")
	}
	e.needPrivilege()
	for _, typ := range []vfs.FileType{vfs.TypeCharDevice, vfs.TypeBlockDevice} {
		h, a, err := e.fs.Mknod(e.ctx, root(), e.root, typ.String(), typ, mode(0o600), 1, 3)
		if err != nil {
			e.t.Fatalf("Mknod %v: %v", typ, err)
		}
		if a.Type != typ || a.Major != 1 || a.Minor != 3 {
			e.t.Errorf("Mknod %v attr: type %v dev %d:%d, want 1:3", typ, a.Type, a.Major, a.Minor)
		}
		if g := e.attr(h); g.Major != 1 || g.Minor != 3 {
			e.t.Errorf("GetAttr %v dev %d:%d, want 1:3", typ, g.Major, g.Minor)
		}
	}
}

func testMknodBadType(e *env) {
	for _, typ := range []vfs.FileType{vfs.TypeRegular, vfs.TypeDirectory, vfs.TypeSymlink, 0, 99} {
		_, _, err := e.fs.Mknod(e.ctx, root(), e.root, "x", typ, mode(0o644), 0, 0)
		if err == nil {
			e.t.Errorf("Mknod with type %v succeeded", typ)
		}
	}
	if got := e.names(e.root); len(got) != 0 {
		e.t.Errorf("failed Mknod left %v", got)
	}
}

func testCreateInNonDir(e *env) {
	f := e.create(e.root, "f")
	ln := e.symlink(e.root, "ln", ".")
	for _, dir := range []vfs.Handle{f, ln} {
		_, _, _, err := e.fs.Create(e.ctx, root(), dir, "x", mode(0o644), true)
		wantErr(e.t, err, syscall.ENOTDIR, "Create in non-directory")
		_, _, err = e.fs.Mkdir(e.ctx, root(), dir, "x", mode(0o755))
		wantErr(e.t, err, syscall.ENOTDIR, "Mkdir in non-directory")
		_, _, err = e.fs.Lookup(e.ctx, root(), dir, "x")
		wantErr(e.t, err, syscall.ENOTDIR, "Lookup in non-directory")
		err = e.fs.ReadDir(e.ctx, root(), dir, 0, false, func(*vfs.DirEntry) bool { return true })
		wantErr(e.t, err, syscall.ENOTDIR, "ReadDir of non-directory")
	}
}
