package vfstest

import (
	"bytes"
	"errors"
	"strings"
	"syscall"

	"github.com/gonfs/gonfs/vfs"
)

var nameTests = []test{
	{"BadNames", testBadNames},
	{"NameLength", testNameLength},
	{"DotAndDotDot", testDotAndDotDot},
	{"DotNamesRejected", testDotNamesRejected},
	{"SymlinkEscapeNotFollowed", testSymlinkEscapeNotFollowed},
}

// nameOps runs every name-taking operation with name in dir and returns
// their errors, labelled. Renames use name on each side in turn.
func (e *env) nameOps(dir vfs.Handle, name string) map[string]error {
	f, _ := e.lookup(e.root, "existing")
	errs := map[string]error{}
	_, _, errs["Lookup"] = e.fs.Lookup(e.ctx, root(), dir, name)
	_, _, _, errs["Create"] = e.fs.Create(e.ctx, root(), dir, name, mode(0o644), false)
	_, _, _, errs["Create exclusive"] = e.fs.Create(e.ctx, root(), dir, name, mode(0o644), true)
	_, _, errs["Mkdir"] = e.fs.Mkdir(e.ctx, root(), dir, name, mode(0o755))
	_, _, errs["Symlink"] = e.fs.Symlink(e.ctx, root(), dir, name, "x", vfs.SetAttr{})
	_, _, errs["Mknod"] = e.fs.Mknod(e.ctx, root(), dir, name, vfs.TypeFIFO, mode(0o644), 0, 0)
	errs["Link"] = e.fs.Link(e.ctx, root(), f, dir, name)
	errs["Remove"] = e.fs.Remove(e.ctx, root(), dir, name)
	errs["Rmdir"] = e.fs.Rmdir(e.ctx, root(), dir, name)
	errs["Rename from"] = e.fs.Rename(e.ctx, root(), dir, name, e.root, "other")
	errs["Rename to"] = e.fs.Rename(e.ctx, root(), e.root, "existing", dir, name)
	return errs
}

func testBadNames(e *env) {
	e.create(e.root, "existing")
	cases := []struct{ what, name string }{
		{"empty name", ""},
		{"name with slash", "a/b"},
		{"name of a slash", "/"},
		{"trailing slash", "existing/"},
		{"path escape", "../x"},
		{"name with NUL", "a\x00b"},
	}
	for _, c := range cases {
		for op, err := range e.nameOps(e.root, c.name) {
			if !errors.Is(err, syscall.EINVAL) {
				e.t.Errorf("%s with %s: err = %v, want EINVAL", op, c.what, err)
			}
		}
	}
	if got := e.names(e.root); len(got) != 1 || got[0] != "existing" {
		e.t.Errorf("root lists %q after bad-name operations, want [existing]", got)
	}
}

func testNameLength(e *env) {
	e.create(e.root, "existing")
	n := e.opts.maxName()
	long := strings.Repeat("n", n)
	h := e.create(e.root, long)
	if hh, _ := e.lookup(e.root, long); !bytes.Equal(h, hh) {
		e.t.Errorf("Lookup of a %d-byte name gave another handle", n)
	}
	if got := e.names(e.root); len(got) != 2 {
		e.t.Errorf("root lists %d names, want 2", len(got))
	}
	if err := e.fs.Remove(e.ctx, root(), e.root, long); err != nil {
		e.t.Fatalf("Remove of %d-byte name: %v", n, err)
	}
	for op, err := range e.nameOps(e.root, long+"x") {
		if !errors.Is(err, syscall.ENAMETOOLONG) {
			e.t.Errorf("%s with a %d-byte name: err = %v, want ENAMETOOLONG", op, n+1, err)
		}
	}
}

func testDotAndDotDot(e *env) {
	d := e.mkdir(e.root, "d")
	sub := e.mkdir(d, "sub")
	rootID := e.attr(e.root).FileID
	cases := []struct {
		what    string
		dir     vfs.Handle
		name    string
		want    vfs.Handle
		wantDir string
	}{
		{"root/.", e.root, ".", e.root, "root"},
		{"root/..", e.root, "..", e.root, "root"},
		{"d/.", d, ".", d, "d"},
		{"d/..", d, "..", e.root, "root"},
		{"d/sub/..", sub, "..", d, "d"},
	}
	for _, c := range cases {
		h, a := e.lookup(c.dir, c.name)
		want := e.attr(c.want)
		if a.FileID != want.FileID || a.Type != vfs.TypeDirectory {
			e.t.Errorf("Lookup %s = FileID %d, want %s (%d)", c.what, a.FileID, c.wantDir, want.FileID)
		}
		if !bytes.Equal(h, c.want) {
			e.t.Errorf("Lookup %s gave handle %x, want %s's %x", c.what, h, c.wantDir, c.want)
		}
	}
	// ".." of the root never leaves the tree, however often it is taken.
	h := e.root
	for range 5 {
		h, _ = e.lookup(h, "..")
	}
	if e.attr(h).FileID != rootID {
		e.t.Errorf("repeated \"..\" from root left the root")
	}
	f := e.create(e.root, "f")
	for _, name := range []string{".", ".."} {
		_, _, err := e.fs.Lookup(e.ctx, root(), f, name)
		wantErr(e.t, err, syscall.ENOTDIR, "Lookup "+name+" in a file")
	}
}

// testDotNamesRejected: "." and ".." are given only to Lookup (vfs.FS);
// every other operation refuses them and changes nothing.
func testDotNamesRejected(e *env) {
	e.create(e.root, "existing")
	d := e.mkdir(e.root, "d")
	for _, name := range []string{".", ".."} {
		for op, err := range e.nameOps(d, name) {
			if op == "Lookup" {
				continue
			}
			if err == nil {
				e.t.Errorf("%s with %q succeeded", op, name)
			}
		}
	}
	e.lookup(e.root, "d")
	e.lookup(e.root, "existing")
	if got := e.names(d); len(got) != 0 {
		e.t.Errorf("d lists %v", got)
	}
}

// testSymlinkEscapeNotFollowed: a symlink pointing outside the tree is
// data, not a path. No operation given its handle or its name may act on
// what it points to.
func testSymlinkEscapeNotFollowed(e *env) {
	for _, target := range []string{"../../etc", "/etc", "../../../../../../../../tmp"} {
		name := "esc"
		ln := e.symlink(e.root, name, target)
		_, _, err := e.fs.Lookup(e.ctx, root(), ln, "passwd")
		wantErr(e.t, err, syscall.ENOTDIR, "Lookup through escaping symlink "+target)
		_, _, err = e.fs.Lookup(e.ctx, root(), ln, "..")
		wantErr(e.t, err, syscall.ENOTDIR, "Lookup .. of symlink "+target)
		_, _, _, err = e.fs.Create(e.ctx, root(), ln, "x", mode(0o644), false)
		wantErr(e.t, err, syscall.ENOTDIR, "Create through escaping symlink")
		_, _, err = e.fs.Mkdir(e.ctx, root(), ln, "x", mode(0o755))
		wantErr(e.t, err, syscall.ENOTDIR, "Mkdir through escaping symlink")
		err = e.fs.ReadDir(e.ctx, root(), ln, 0, true, func(*vfs.DirEntry) bool { return true })
		wantErr(e.t, err, syscall.ENOTDIR, "ReadDir of escaping symlink")
		err = e.fs.Rename(e.ctx, root(), ln, "passwd", e.root, "stolen")
		wantErr(e.t, err, syscall.ENOTDIR, "Rename out of escaping symlink")
		err = e.fs.Remove(e.ctx, root(), ln, "passwd")
		wantErr(e.t, err, syscall.ENOTDIR, "Remove through escaping symlink")
		if _, _, _, err = e.fs.Create(e.ctx, root(), e.root, name, vfs.SetAttr{Size: u64(0)}, false); err == nil {
			e.t.Errorf("unchecked Create over escaping symlink succeeded")
		}
		if _, _, err := e.fs.Write(e.ctx, root(), ln, 0, []byte("x"), vfs.FileSync); err == nil {
			e.t.Errorf("Write to escaping symlink succeeded")
		}
		_, _ = e.fs.SetAttr(e.ctx, root(), ln, mode(0o777))
		_, a := e.lookup(e.root, name)
		if a.Type != vfs.TypeSymlink || a.Size != uint64(len(target)) {
			e.t.Errorf("escaping symlink now %v size %d", a.Type, a.Size)
		}
		if got, err := e.fs.Readlink(e.ctx, root(), ln); err != nil || got != target {
			e.t.Errorf("Readlink = %q, %v; want %q", got, err, target)
		}
		// Renaming and removing act on the link itself.
		if err := e.fs.Rename(e.ctx, root(), e.root, name, e.root, "esc2"); err != nil {
			e.t.Fatalf("Rename of symlink: %v", err)
		}
		if err := e.fs.Remove(e.ctx, root(), e.root, "esc2"); err != nil {
			e.t.Fatalf("Remove of symlink: %v", err)
		}
		if got := e.names(e.root); len(got) != 0 {
			e.t.Fatalf("root lists %v", got)
		}
	}
}
