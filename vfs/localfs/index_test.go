package localfs

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/gonfs/gonfs/vfs"
)

// TestIndexPersists: with scans disabled, handles resolve after a restart
// only through the persistent index, which must therefore hold the links
// our own Lookup/Create/Rename recorded; a move behind our back is then
// stale, and found again once scans are allowed.
func TestIndexPersists(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	noScan := Options{StateDir: state, ForceIndex: true, NoIdentity: true, RescanLimit: -1}
	fs1, err := New(dir, noScan)
	if err != nil {
		t.Fatal(err)
	}
	root := fs1.Root()
	a := mustMkdir(t, fs1, root, "a")
	b := mustMkdir(t, fs1, a, "b")
	f := mustCreate(t, fs1, b, "f", "deep")
	g := mustCreate(t, fs1, b, "g", "moved")
	if err := fs1.Rename(t.Context(), rootCred, b, "g", root, "g"); err != nil {
		t.Fatal(err)
	}
	// Files created behind our back and then listed are indexed too.
	if err := os.WriteFile(filepath.Join(dir, "a", "ext"), []byte("ext"), 0o644); err != nil {
		t.Fatal(err)
	}
	var ext vfs.Handle
	if err := fs1.ReadDir(t.Context(), rootCred, a, 0, true, func(e *vfs.DirEntry) bool {
		if e.Name == "ext" {
			ext = e.Handle
		}
		return true
	}); err != nil || ext == nil {
		t.Fatalf("ReadDir plus: ext handle %x, %v", ext, err)
	}
	if err := fs1.Close(); err != nil {
		t.Fatal(err)
	}

	fs2, err := New(dir, noScan)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		h    vfs.Handle
		want string
	}{{f, "deep"}, {g, "moved"}, {ext, "ext"}} {
		if got := content(t, fs2, c.h); got != c.want {
			t.Errorf("from the index: %q, want %q", got, c.want)
		}
	}
	if err := fs2.Close(); err != nil {
		t.Fatal(err)
	}

	if err := os.Rename(filepath.Join(dir, "a", "b", "f"), filepath.Join(dir, "f")); err != nil {
		t.Fatal(err)
	}
	fs3, err := New(dir, noScan)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fs3.GetAttr(t.Context(), f)
	wantErrno(t, err, syscall.ESTALE, "moved behind our back, no scan")
	if err := fs3.Close(); err != nil {
		t.Fatal(err)
	}

	fs4 := newTestFS(t, dir, Options{StateDir: state, ForceIndex: true, NoIdentity: true})
	if got := content(t, fs4, f); got != "deep" {
		t.Errorf("after scan: %q", got)
	}
}

// TestIndexTagRejectsReusedInode: an index handle whose tag does not match
// the file's birth time names an earlier file that had the inode: stale.
func TestIndexTagRejectsReusedInode(t *testing.T) {
	fs := newTestFS(t, t.TempDir(), Options{ForceIndex: true, NoIdentity: true})
	f := mustCreate(t, fs, fs.Root(), "f", "x")
	ino, tag, ok := parseIndex(f)
	if !ok {
		t.Fatalf("not an index handle: %x", f)
	}
	if tag == 0 {
		t.Skip("filesystem has no birth times")
	}
	_, err := fs.GetAttr(t.Context(), indexHandle(ino, tag+1))
	wantErrno(t, err, syscall.ESTALE, "GetAttr with a wrong tag")
	if _, err := fs.GetAttr(t.Context(), f); err != nil {
		t.Fatalf("GetAttr with the right tag: %v", err)
	}
}
