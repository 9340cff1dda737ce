package vfstest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"syscall"

	"github.com/gonfs/gonfs/vfs"
)

var handleTests = []test{
	{"HandleStable", testHandleStable},
	{"HandleSurvivesRename", testHandleSurvivesRename},
	{"HandleStaleAfterRemove", testHandleStaleAfterRemove},
	{"HandleGarbage", testHandleGarbage},
}

func testHandleStable(e *env) {
	d := e.mkdir(e.root, "d")
	f := e.create(d, "f")
	for range 3 {
		h, _ := e.lookup(d, "f")
		if !bytes.Equal(h, f) {
			e.t.Fatalf("Lookup gave handle %x, earlier %x", h, f)
		}
		hd, _ := e.lookup(e.root, "d")
		if !bytes.Equal(hd, d) {
			e.t.Fatalf("Lookup of dir gave handle %x, earlier %x", hd, d)
		}
	}
	if r := e.fs.Root(); !bytes.Equal(r, e.root) {
		e.t.Errorf("Root changed from %x to %x", e.root, r)
	}
	for _, ent := range e.list(d, true) {
		if !bytes.Equal(ent.Handle, f) {
			e.t.Errorf("ReadDir plus handle %x, Lookup's %x", ent.Handle, f)
		}
	}
}

func testHandleSurvivesRename(e *env) {
	d1 := e.mkdir(e.root, "d1")
	d2 := e.mkdir(e.root, "d2")
	f := e.create(d1, "f")
	e.write(f, 0, []byte("moved"))
	if err := e.fs.Rename(e.ctx, root(), d1, "f", d2, "g"); err != nil {
		e.t.Fatal(err)
	}
	e.wantContent(f, []byte("moved"))
	if h, _ := e.lookup(d2, "g"); !bytes.Equal(h, f) {
		e.t.Errorf("handle after rename %x, before %x", h, f)
	}
	// A renamed directory keeps its handle and its children theirs.
	if err := e.fs.Rename(e.ctx, root(), e.root, "d2", d1, "d2moved"); err != nil {
		e.t.Fatal(err)
	}
	if h, _ := e.lookup(d1, "d2moved"); !bytes.Equal(h, d2) {
		e.t.Errorf("dir handle after rename %x, before %x", h, d2)
	}
	if h, _ := e.lookup(d2, "g"); !bytes.Equal(h, f) {
		e.t.Errorf("child handle after parent rename %x, before %x", h, f)
	}
}

func testHandleStaleAfterRemove(e *env) {
	f := e.create(e.root, "f")
	if err := e.fs.Remove(e.ctx, root(), e.root, "f"); err != nil {
		e.t.Fatal(err)
	}
	// A new file, possibly reusing the inode, must not answer to the old
	// handle.
	g := e.create(e.root, "f")
	if bytes.Equal(f, g) {
		e.t.Fatalf("new file got the removed file's handle %x", f)
	}
	e.allStale(f, "removed file")
	d := e.mkdir(e.root, "d")
	if err := e.fs.Rmdir(e.ctx, root(), e.root, "d"); err != nil {
		e.t.Fatal(err)
	}
	e.allStale(d, "removed directory")
}

// allStale checks that every handle-taking method rejects h with ESTALE
// and does not panic.
func (e *env) allStale(h vfs.Handle, what string) {
	e.t.Helper()
	f, _ := e.lookup(e.root, "f")
	ops := []struct {
		name string
		do   func() error
	}{
		{"GetAttr", func() error { _, err := e.fs.GetAttr(e.ctx, h); return err }},
		{"SetAttr", func() error { _, err := e.fs.SetAttr(e.ctx, root(), h, mode(0o600)); return err }},
		{"Lookup", func() error { _, _, err := e.fs.Lookup(e.ctx, root(), h, "x"); return err }},
		{"Lookup ..", func() error { _, _, err := e.fs.Lookup(e.ctx, root(), h, ".."); return err }},
		{"Access", func() error { _, err := e.fs.Access(e.ctx, root(), h, vfs.AccessRead); return err }},
		{"Readlink", func() error { _, err := e.fs.Readlink(e.ctx, root(), h); return err }},
		{"Read", func() error { _, _, err := e.fs.Read(e.ctx, root(), h, 0, make([]byte, 8)); return err }},
		{"Write", func() error { _, _, err := e.fs.Write(e.ctx, root(), h, 0, []byte("x"), vfs.FileSync); return err }},
		{"Commit", func() error { return e.fs.Commit(e.ctx, h) }},
		{"Create", func() error { _, _, _, err := e.fs.Create(e.ctx, root(), h, "x", mode(0o644), true); return err }},
		{"Mkdir", func() error { _, _, err := e.fs.Mkdir(e.ctx, root(), h, "x", mode(0o755)); return err }},
		{"Symlink", func() error { _, _, err := e.fs.Symlink(e.ctx, root(), h, "x", "t", vfs.SetAttr{}); return err }},
		{"Mknod", func() error {
			_, _, err := e.fs.Mknod(e.ctx, root(), h, "x", vfs.TypeFIFO, mode(0o644), 0, 0)
			return err
		}},
		{"Link source", func() error { return e.fs.Link(e.ctx, root(), h, e.root, "x") }},
		{"Link dir", func() error { return e.fs.Link(e.ctx, root(), f, h, "x") }},
		{"Remove", func() error { return e.fs.Remove(e.ctx, root(), h, "x") }},
		{"Rmdir", func() error { return e.fs.Rmdir(e.ctx, root(), h, "x") }},
		{"Rename from", func() error { return e.fs.Rename(e.ctx, root(), h, "x", e.root, "y") }},
		{"Rename to", func() error { return e.fs.Rename(e.ctx, root(), e.root, "f", h, "y") }},
		{"ReadDir", func() error {
			return e.fs.ReadDir(e.ctx, root(), h, 0, true, func(*vfs.DirEntry) bool { return true })
		}},
		{"StatFS", func() error { _, err := e.fs.StatFS(e.ctx, h); return err }},
	}
	for _, op := range ops {
		err := func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("panic: %v", r)
				}
			}()
			return op.do()
		}()
		if !errorsIsStale(err) {
			e.t.Errorf("%s with handle of %s (%x): err = %v, want ESTALE", op.name, what, []byte(h), err)
		}
	}
	// The operations above must not have created anything.
	for _, n := range []string{"x", "y"} {
		if _, _, err := e.fs.Lookup(e.ctx, root(), e.root, n); err == nil {
			e.t.Errorf("an operation on a stale handle created %q", n)
		}
	}
}

func errorsIsStale(err error) bool {
	return err != nil && isErrno(err, syscall.ESTALE)
}

func testHandleGarbage(e *env) {
	e.create(e.root, "f")
	r := rand.New(rand.NewPCG(7, 11))
	var hs []vfs.Handle
	hs = append(hs, nil, vfs.Handle{}, vfs.Handle{0}, make(vfs.Handle, vfs.MaxHandle), make(vfs.Handle, 1000))
	for _, n := range []int{1, 4, 8, 12, 16, 20, 28, 32, 39, 40, 41, 64, 200} {
		for range 4 {
			h := make(vfs.Handle, n)
			for i := range h {
				h[i] = byte(r.Uint32())
			}
			hs = append(hs, h)
		}
	}
	// Real handles with a byte cut off or added.
	f, _ := e.lookup(e.root, "f")
	hs = append(hs, f[:len(f)-1], append(bytes.Clone(f), 0), e.root[:len(e.root)-1])
	for _, h := range hs {
		e.allStale(h, fmt.Sprintf("garbage of %d bytes", len(h)))
	}
}
