package vfstest

import (
	"syscall"

	"github.com/gonfs/gonfs/vfs"
)

var removeTests = []test{
	{"RemoveFile", testRemoveFile},
	{"RemoveErrors", testRemoveErrors},
	{"Rmdir", testRmdir},
	{"RmdirErrors", testRmdirErrors},
	{"RemoveSymlinkNotTarget", testRemoveSymlinkNotTarget},
}

func testRemoveFile(e *env) {
	h := e.create(e.root, "f")
	e.write(h, 0, []byte("x"))
	before := e.attr(e.root).Change
	if err := e.fs.Remove(e.ctx, root(), e.root, "f"); err != nil {
		e.t.Fatalf("Remove: %v", err)
	}
	e.changed(e.root, before, "Remove in root")
	e.noEntry(e.root, "f")
	_, err := e.fs.GetAttr(e.ctx, h)
	wantErr(e.t, err, syscall.ESTALE, "GetAttr of removed file")
	_, _, err = e.fs.Read(e.ctx, root(), h, 0, make([]byte, 1))
	wantErr(e.t, err, syscall.ESTALE, "Read of removed file")
	// Other node types are removed the same way.
	e.symlink(e.root, "ln", "f")
	if _, _, err := e.fs.Mknod(e.ctx, root(), e.root, "fifo", vfs.TypeFIFO, mode(0o644), 0, 0); err != nil {
		e.t.Fatalf("Mknod: %v", err)
	}
	for _, name := range []string{"ln", "fifo"} {
		if err := e.fs.Remove(e.ctx, root(), e.root, name); err != nil {
			e.t.Errorf("Remove %s: %v", name, err)
		}
	}
	if got := e.names(e.root); len(got) != 0 {
		e.t.Errorf("root lists %v after removing everything", got)
	}
}

func testRemoveErrors(e *env) {
	d := e.mkdir(e.root, "d")
	f := e.create(e.root, "f")
	// unlink(2) of a directory is EISDIR on Linux.
	wantErr(e.t, e.fs.Remove(e.ctx, root(), e.root, "d"), syscall.EISDIR, "Remove of directory")
	wantErr(e.t, e.fs.Remove(e.ctx, root(), e.root, "nope"), syscall.ENOENT, "Remove of missing name")
	wantErr(e.t, e.fs.Remove(e.ctx, root(), f, "x"), syscall.ENOTDIR, "Remove in a file")
	e.attr(d)
	e.attr(f)
}

func testRmdir(e *env) {
	d := e.mkdir(e.root, "d")
	before := e.attr(e.root)
	if err := e.fs.Rmdir(e.ctx, root(), e.root, "d"); err != nil {
		e.t.Fatalf("Rmdir: %v", err)
	}
	after := e.attr(e.root)
	e.changed(e.root, before.Change, "Rmdir in root")
	if !e.opts.NoDirNlink && after.Nlink != before.Nlink-1 {
		e.t.Errorf("root Nlink after Rmdir = %d, want %d", after.Nlink, before.Nlink-1)
	}
	e.noEntry(e.root, "d")
	_, err := e.fs.GetAttr(e.ctx, d)
	wantErr(e.t, err, syscall.ESTALE, "GetAttr of removed directory")
	_, _, _, err = e.fs.Create(e.ctx, root(), d, "x", mode(0o644), true)
	wantErr(e.t, err, syscall.ESTALE, "Create in removed directory")
}

func testRmdirErrors(e *env) {
	d := e.mkdir(e.root, "d")
	e.create(d, "f")
	e.mkdir(e.root, "e")
	ws := e.mkdir(e.root, "withsub")
	e.mkdir(ws, "sub")
	wantErr(e.t, e.fs.Rmdir(e.ctx, root(), e.root, "d"), syscall.ENOTEMPTY, "Rmdir of non-empty directory")
	wantErr(e.t, e.fs.Rmdir(e.ctx, root(), e.root, "withsub"), syscall.ENOTEMPTY, "Rmdir of directory holding a directory")
	e.create(e.root, "f")
	wantErr(e.t, e.fs.Rmdir(e.ctx, root(), e.root, "f"), syscall.ENOTDIR, "Rmdir of a file")
	e.symlink(e.root, "ln", "e")
	wantErr(e.t, e.fs.Rmdir(e.ctx, root(), e.root, "ln"), syscall.ENOTDIR, "Rmdir of a symlink to a directory")
	wantErr(e.t, e.fs.Rmdir(e.ctx, root(), e.root, "nope"), syscall.ENOENT, "Rmdir of missing name")
	for _, name := range []string{"d", "e", "f", "ln", "withsub"} {
		e.lookup(e.root, name)
	}
}

// testRemoveSymlinkNotTarget: removing a symlink removes the link, never
// what it points to.
func testRemoveSymlinkNotTarget(e *env) {
	t := e.create(e.root, "target")
	e.mkdir(e.root, "dir")
	e.symlink(e.root, "ln", "target")
	e.symlink(e.root, "dl", "dir")
	if err := e.fs.Remove(e.ctx, root(), e.root, "ln"); err != nil {
		e.t.Fatal(err)
	}
	if err := e.fs.Remove(e.ctx, root(), e.root, "dl"); err != nil {
		e.t.Fatal(err)
	}
	e.attr(t)
	e.lookup(e.root, "dir")
}

var renameTests = []test{
	{"RenameFile", testRenameFile},
	{"RenameAcrossDirs", testRenameAcrossDirs},
	{"RenameOverFile", testRenameOverFile},
	{"RenameDirOverEmptyDir", testRenameDirOverEmptyDir},
	{"RenameErrors", testRenameErrors},
	{"RenameSameFile", testRenameSameFile},
}

func testRenameFile(e *env) {
	h := e.create(e.root, "a")
	e.write(h, 0, []byte("content"))
	id := e.attr(h).FileID
	before := e.attr(e.root).Change
	if err := e.fs.Rename(e.ctx, root(), e.root, "a", e.root, "b"); err != nil {
		e.t.Fatalf("Rename: %v", err)
	}
	e.changed(e.root, before, "Rename in root")
	e.noEntry(e.root, "a")
	h2, a := e.lookup(e.root, "b")
	if a.FileID != id {
		e.t.Errorf("renamed file FileID %d, want %d", a.FileID, id)
	}
	e.wantContent(h2, []byte("content"))
	e.wantContent(h, []byte("content"))
}

func testRenameAcrossDirs(e *env) {
	d1 := e.mkdir(e.root, "d1")
	d2 := e.mkdir(e.root, "d2")
	f := e.create(d1, "f")
	sub := e.mkdir(d1, "sub")
	e.create(sub, "inner")
	c1, c2 := e.attr(d1), e.attr(d2)
	if err := e.fs.Rename(e.ctx, root(), d1, "f", d2, "g"); err != nil {
		e.t.Fatalf("Rename file across dirs: %v", err)
	}
	c1.Change = e.changed(d1, c1.Change, "Rename: source dir")
	c2.Change = e.changed(d2, c2.Change, "Rename: target dir")
	if _, a := e.lookup(d2, "g"); a.FileID != e.attr(f).FileID {
		e.t.Errorf("d2/g is not the moved file")
	}
	if err := e.fs.Rename(e.ctx, root(), d1, "sub", d2, "sub2"); err != nil {
		e.t.Fatalf("Rename dir across dirs: %v", err)
	}
	e.changed(d1, c1.Change, "Rename dir: source dir")
	e.changed(d2, c2.Change, "Rename dir: target dir")
	if !e.opts.NoDirNlink {
		if n := e.attr(d1).Nlink; n != 2 {
			e.t.Errorf("source dir Nlink = %d after its subdirectory left, want 2", n)
		}
		if n := e.attr(d2).Nlink; n != 3 {
			e.t.Errorf("target dir Nlink = %d after gaining a subdirectory, want 3", n)
		}
	}
	// ".." of the moved directory is its new parent.
	_, dd := e.lookup(sub, "..")
	if dd.FileID != e.attr(d2).FileID {
		e.t.Errorf("\"..\" of moved directory has FileID %d, want d2's %d", dd.FileID, e.attr(d2).FileID)
	}
	e.lookup(sub, "inner")
	h, _ := e.lookup(d2, "sub2")
	e.lookup(h, "inner")
	e.noEntry(d1, "sub")
}

func testRenameOverFile(e *env) {
	a := e.create(e.root, "a")
	e.write(a, 0, []byte("A"))
	b := e.create(e.root, "b")
	e.write(b, 0, []byte("B"))
	if err := e.fs.Rename(e.ctx, root(), e.root, "a", e.root, "b"); err != nil {
		e.t.Fatalf("Rename over file: %v", err)
	}
	e.noEntry(e.root, "a")
	h, _ := e.lookup(e.root, "b")
	e.wantContent(h, []byte("A"))
	_, err := e.fs.GetAttr(e.ctx, b)
	wantErr(e.t, err, syscall.ESTALE, "GetAttr of file replaced by Rename")
	if got := e.names(e.root); len(got) != 1 {
		e.t.Errorf("root lists %v, want [b]", got)
	}
	// A symlink may replace a file and the other way round.
	e.symlink(e.root, "ln", "b")
	if err := e.fs.Rename(e.ctx, root(), e.root, "ln", e.root, "b"); err != nil {
		e.t.Fatalf("Rename symlink over file: %v", err)
	}
	if _, at := e.lookup(e.root, "b"); at.Type != vfs.TypeSymlink {
		e.t.Errorf("b is %v, want symlink", at.Type)
	}
}

func testRenameDirOverEmptyDir(e *env) {
	d := e.mkdir(e.root, "d")
	e.create(d, "f")
	empty := e.mkdir(e.root, "empty")
	n := e.attr(e.root).Nlink
	if err := e.fs.Rename(e.ctx, root(), e.root, "d", e.root, "empty"); err != nil {
		e.t.Fatalf("Rename dir over empty dir: %v", err)
	}
	h, _ := e.lookup(e.root, "empty")
	e.lookup(h, "f")
	e.noEntry(e.root, "d")
	_, err := e.fs.GetAttr(e.ctx, empty)
	wantErr(e.t, err, syscall.ESTALE, "GetAttr of directory replaced by Rename")
	if !e.opts.NoDirNlink && e.attr(e.root).Nlink != n-1 {
		e.t.Errorf("root Nlink = %d after a directory replaced another, want %d", e.attr(e.root).Nlink, n-1)
	}
}

func testRenameErrors(e *env) {
	e.create(e.root, "f")
	d := e.mkdir(e.root, "d")
	full := e.mkdir(e.root, "full")
	e.create(full, "x")
	sub := e.mkdir(d, "sub")
	cases := []struct {
		what     string
		from     vfs.Handle
		fromName string
		to       vfs.Handle
		toName   string
		want     []syscall.Errno
	}{
		{"missing source", e.root, "nope", e.root, "x", []syscall.Errno{syscall.ENOENT}},
		{"dir over non-empty dir", e.root, "d", e.root, "full", []syscall.Errno{syscall.ENOTEMPTY, syscall.EEXIST}},
		{"dir over file", e.root, "d", e.root, "f", []syscall.Errno{syscall.ENOTDIR}},
		{"file over dir", e.root, "f", e.root, "d", []syscall.Errno{syscall.EISDIR}},
		{"dir into its own subdir", e.root, "d", sub, "x", []syscall.Errno{syscall.EINVAL}},
		{"dir into itself", e.root, "d", d, "x", []syscall.Errno{syscall.EINVAL}},
		{"into a file", e.root, "d", e.attrHandle("f"), "x", []syscall.Errno{syscall.ENOTDIR}},
	}
	for _, c := range cases {
		err := e.fs.Rename(e.ctx, root(), c.from, c.fromName, c.to, c.toName)
		wantOneOf(e.t, err, "Rename "+c.what, c.want...)
	}
	// Nothing moved.
	if got := e.names(e.root); len(got) != 3 {
		e.t.Errorf("root lists %v after failed renames, want [d f full]", got)
	}
	e.lookup(full, "x")
	e.lookup(sub, "..")
}

func (e *env) attrHandle(name string) vfs.Handle {
	e.t.Helper()
	h, _ := e.lookup(e.root, name)
	return h
}

// testRenameSameFile: rename(2) between two names of the same file does
// nothing and succeeds, as does renaming a name onto itself.
func testRenameSameFile(e *env) {
	h := e.create(e.root, "a")
	if err := e.fs.Link(e.ctx, root(), h, e.root, "b"); err != nil {
		e.t.Fatalf("Link: %v", err)
	}
	if err := e.fs.Rename(e.ctx, root(), e.root, "a", e.root, "b"); err != nil {
		e.t.Fatalf("Rename between hard links: %v", err)
	}
	e.lookup(e.root, "a")
	e.lookup(e.root, "b")
	if n := e.attr(h).Nlink; n != 2 {
		e.t.Errorf("Nlink = %d, want 2", n)
	}
	if err := e.fs.Rename(e.ctx, root(), e.root, "a", e.root, "a"); err != nil {
		e.t.Fatalf("Rename onto itself: %v", err)
	}
	e.lookup(e.root, "a")
	d := e.mkdir(e.root, "d")
	if err := e.fs.Rename(e.ctx, root(), e.root, "d", e.root, "d"); err != nil {
		e.t.Fatalf("Rename dir onto itself: %v", err)
	}
	e.attr(d)
}

var linkTests = []test{
	{"HardLink", testHardLink},
	{"LinkErrors", testLinkErrors},
	{"LinkSymlink", testLinkSymlink},
}

func testHardLink(e *env) {
	h := e.create(e.root, "a")
	e.write(h, 0, []byte("shared"))
	d := e.mkdir(e.root, "d")
	ca, cd := e.attr(h).Change, e.attr(d).Change
	if err := e.fs.Link(e.ctx, root(), h, d, "b"); err != nil {
		e.t.Fatalf("Link: %v", err)
	}
	e.changed(h, ca, "Link: the file")
	e.changed(d, cd, "Link: the directory")
	hb, ab := e.lookup(d, "b")
	if ab.FileID != e.attr(h).FileID || ab.Nlink != 2 {
		e.t.Errorf("link attr %+v: want same FileID and Nlink 2", ab)
	}
	if n := e.attr(h).Nlink; n != 2 {
		e.t.Errorf("Nlink = %d, want 2", n)
	}
	e.write(hb, 6, []byte("!"))
	e.wantContent(h, []byte("shared!"))
	if err := e.fs.Remove(e.ctx, root(), e.root, "a"); err != nil {
		e.t.Fatal(err)
	}
	if n := e.attr(hb).Nlink; n != 1 {
		e.t.Errorf("Nlink after removing one name = %d, want 1", n)
	}
	e.wantContent(hb, []byte("shared!"))
	// The original handle still names the file, which still exists.
	e.wantContent(h, []byte("shared!"))
}

func testLinkErrors(e *env) {
	f := e.create(e.root, "f")
	d := e.mkdir(e.root, "d")
	e.create(e.root, "g")
	// link(2) to a directory is EPERM on Linux.
	wantErr(e.t, e.fs.Link(e.ctx, root(), d, e.root, "d2"), syscall.EPERM, "Link of a directory")
	wantErr(e.t, e.fs.Link(e.ctx, root(), f, e.root, "g"), syscall.EEXIST, "Link over existing name")
	wantErr(e.t, e.fs.Link(e.ctx, root(), f, f, "x"), syscall.ENOTDIR, "Link into a file")
	if n := e.attr(f).Nlink; n != 1 {
		e.t.Errorf("Nlink = %d after failed links, want 1", n)
	}
}

// testLinkSymlink: a hard link to a symlink links the symlink itself, as
// linkat(2) without AT_SYMLINK_FOLLOW does.
func testLinkSymlink(e *env) {
	t := e.create(e.root, "target")
	ln := e.symlink(e.root, "ln", "target")
	if err := e.fs.Link(e.ctx, root(), ln, e.root, "ln2"); err != nil {
		e.t.Fatalf("Link of symlink: %v", err)
	}
	_, a := e.lookup(e.root, "ln2")
	if a.Type != vfs.TypeSymlink {
		e.t.Errorf("link of symlink has type %v", a.Type)
	}
	if n := e.attr(t).Nlink; n != 1 {
		e.t.Errorf("target Nlink = %d, want 1", n)
	}
}
