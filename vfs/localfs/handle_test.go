package localfs

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gonfs/gonfs/vfs"
)

var rootCred = &vfs.Cred{}

// handleModes are the handle kinds a test runs under, skipping those the
// process cannot use.
func handleModes(t *testing.T) []struct {
	name string
	opts func(t *testing.T) Options
} {
	return []struct {
		name string
		opts func(t *testing.T) Options
	}{
		{"kernel", func(t *testing.T) Options {
			needRoot(t)
			return Options{StateDir: t.TempDir()}
		}},
		{"index", func(t *testing.T) Options { return Options{StateDir: t.TempDir(), ForceIndex: true, NoIdentity: true} }},
		{"index-no-statedir", func(t *testing.T) Options { return Options{ForceIndex: true, NoIdentity: true} }},
	}
}

func mustCreate(t *testing.T, fs *FS, dir vfs.Handle, name string, data string) vfs.Handle {
	t.Helper()
	h, _, _, err := fs.Create(t.Context(), rootCred, dir, name, vfs.SetAttr{}, true)
	if err != nil {
		t.Fatalf("Create %s: %v", name, err)
	}
	if data != "" {
		if _, _, err := fs.Write(t.Context(), rootCred, h, 0, []byte(data), vfs.FileSync); err != nil {
			t.Fatalf("Write %s: %v", name, err)
		}
	}
	return h
}

func mustMkdir(t *testing.T, fs *FS, dir vfs.Handle, name string) vfs.Handle {
	t.Helper()
	h, _, err := fs.Mkdir(t.Context(), rootCred, dir, name, vfs.SetAttr{})
	if err != nil {
		t.Fatalf("Mkdir %s: %v", name, err)
	}
	return h
}

func content(t *testing.T, fs *FS, h vfs.Handle) string {
	t.Helper()
	buf := make([]byte, 4096)
	n, _, err := fs.Read(t.Context(), rootCred, h, 0, buf)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return string(buf[:n])
}

func wantErrno(t *testing.T, err error, want syscall.Errno, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

// TestHandlesSurviveRestartAndRename: handles issued before a rename and a
// restart (a new FS on the same directory) still name the same files,
// including after moves done behind the server's back while it was down.
func TestHandlesSurviveRestartAndRename(t *testing.T) {
	for _, m := range handleModes(t) {
		t.Run(m.name, func(t *testing.T) {
			opts := m.opts(t)
			dir := t.TempDir()
			fs1, err := New(dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			root := fs1.Root()
			a := mustMkdir(t, fs1, root, "a")
			b := mustMkdir(t, fs1, a, "b")
			f := mustCreate(t, fs1, b, "f", "hello")
			g := mustCreate(t, fs1, root, "g", "outer")
			// Our own rename: f moves up, a is renamed.
			if err := fs1.Rename(ctx, rootCred, b, "f", root, "f2"); err != nil {
				t.Fatal(err)
			}
			if err := fs1.Rename(ctx, rootCred, root, "a", root, "z"); err != nil {
				t.Fatal(err)
			}
			if got := content(t, fs1, f); got != "hello" {
				t.Fatalf("after rename: %q", got)
			}
			if err := fs1.Close(); err != nil {
				t.Fatal(err)
			}
			// Behind our back: g moves two levels down.
			if err := os.Rename(filepath.Join(dir, "g"), filepath.Join(dir, "z", "b", "g")); err != nil {
				t.Fatal(err)
			}
			fs2 := newTestFS(t, dir, opts)
			if !bytes.Equal(fs2.Root(), root) {
				t.Fatalf("root handle changed across restart: %x → %x", root, fs2.Root())
			}
			for _, c := range []struct {
				h    vfs.Handle
				want string
			}{{f, "hello"}, {g, "outer"}} {
				if got := content(t, fs2, c.h); got != c.want {
					t.Errorf("after restart: content %q, want %q", got, c.want)
				}
			}
			for _, h := range []vfs.Handle{a, b} {
				if at, err := fs2.GetAttr(ctx, h); err != nil || at.Type != vfs.TypeDirectory {
					t.Errorf("directory handle after restart: %+v, %v", at, err)
				}
			}
			// The handle Lookup gives now is the one issued before.
			if h, _, err := fs2.Lookup(ctx, rootCred, root, "f2"); err != nil || !bytes.Equal(h, f) {
				t.Errorf("Lookup f2 = %x, %v; want %x", h, err, f)
			}
			// A file removed while we were down is stale. (Two FS on one
			// index cannot be open at once: bbolt locks the file.)
			if err := fs2.Close(); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(filepath.Join(dir, "f2")); err != nil {
				t.Fatal(err)
			}
			fs3 := newTestFS(t, dir, opts)
			_, err = fs3.GetAttr(ctx, f)
			wantErrno(t, err, syscall.ESTALE, "GetAttr of a file removed behind our back")
		})
	}
}

// TestCacheEvictionIsSafe: with a tiny cache every handle is resolved again
// and again; results stay right and descriptors do not leak.
func TestCacheEvictionIsSafe(t *testing.T) {
	for _, m := range handleModes(t) {
		t.Run(m.name, func(t *testing.T) {
			opts := m.opts(t)
			opts.CacheSize = 2
			fs := newTestFS(t, t.TempDir(), opts)
			root := fs.Root()
			var hs []vfs.Handle
			d := root
			for i := range 8 {
				d = mustMkdir(t, fs, d, "d")
				hs = append(hs, mustCreate(t, fs, d, "f", string(rune('a'+i))))
			}
			before := countFDs(t)
			for round := range 3 {
				for i, h := range hs {
					if got := content(t, fs, h); got != string(rune('a'+i)) {
						t.Fatalf("round %d file %d: %q", round, i, got)
					}
				}
			}
			if after := countFDs(t); after > before+4 {
				t.Errorf("open descriptors grew from %d to %d with a cache of 2", before, after)
			}
		})
	}
}

func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestSymlinkNeverFollowed: a symlink to /etc inside the export is a
// symlink to every operation, never a way out.
func TestSymlinkNeverFollowed(t *testing.T) {
	for _, m := range handleModes(t) {
		t.Run(m.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Symlink("/etc", filepath.Join(dir, "etc")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("../../../../../../etc/passwd", filepath.Join(dir, "pw")); err != nil {
				t.Fatal(err)
			}
			fs := newTestFS(t, dir, m.opts(t))
			ctx := t.Context()
			root := fs.Root()
			etc, a, err := fs.Lookup(ctx, rootCred, root, "etc")
			if err != nil || a.Type != vfs.TypeSymlink {
				t.Fatalf("Lookup etc: %+v, %v", a, err)
			}
			_, _, err = fs.Lookup(ctx, rootCred, etc, "passwd")
			wantErrno(t, err, syscall.ENOTDIR, "Lookup through symlink")
			err = fs.ReadDir(ctx, rootCred, etc, 0, true, func(*vfs.DirEntry) bool { return true })
			wantErrno(t, err, syscall.ENOTDIR, "ReadDir of symlink")
			_, _, _, err = fs.Create(ctx, rootCred, etc, "x", vfs.SetAttr{}, false)
			wantErrno(t, err, syscall.ENOTDIR, "Create through symlink")
			pw, _, err := fs.Lookup(ctx, rootCred, root, "pw")
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = fs.Read(ctx, rootCred, pw, 0, make([]byte, 10))
			wantErrno(t, err, syscall.EINVAL, "Read of symlink")
			_, _, err = fs.Write(ctx, rootCred, pw, 0, []byte("x"), vfs.FileSync)
			wantErrno(t, err, syscall.EINVAL, "Write of symlink")
			// SetAttr on the link must not reach /etc/passwd.
			before, _ := os.Stat("/etc/passwd")
			mode := uint32(0o600)
			if _, err := fs.SetAttr(ctx, rootCred, pw, vfs.SetAttr{Mode: &mode, Mtime: vfs.TimeServer}); err != nil {
				t.Fatalf("SetAttr on symlink: %v", err)
			}
			if after, _ := os.Stat("/etc/passwd"); after.Mode() != before.Mode() || !after.ModTime().Equal(before.ModTime()) {
				t.Fatalf("/etc/passwd changed through a symlink")
			}
			// Link and Rename act on the link itself.
			if err := fs.Link(ctx, rootCred, pw, root, "pw2"); err != nil {
				t.Fatal(err)
			}
			if fi, err := os.Lstat(filepath.Join(dir, "pw2")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Fatalf("Link of a symlink made %v, %v", fi, err)
			}
			// ".." of the root is the root.
			up, _, err := fs.Lookup(ctx, rootCred, root, "..")
			if err != nil || !bytes.Equal(up, root) {
				t.Fatalf("Lookup .. of root = %x, %v; want root %x", up, err, root)
			}
		})
	}
}

// TestForgedKernelHandleOutside: a well-formed kernel handle of a file or
// directory outside the export (on the same filesystem) is stale.
func TestForgedKernelHandleOutside(t *testing.T) {
	needRoot(t)
	parent := t.TempDir()
	export := filepath.Join(parent, "export")
	outsideDir := filepath.Join(parent, "outside")
	for _, d := range []string{export, outsideDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	outsideFile := filepath.Join(outsideDir, "secret")
	if err := os.WriteFile(outsideFile, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	insideFile := filepath.Join(export, "ok")
	if err := os.WriteFile(insideFile, []byte("ok"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A file with names inside and outside is in the export, whichever
	// name the kernel reports for it.
	linkedOutside := filepath.Join(outsideDir, "linked")
	if err := os.WriteFile(linkedOutside, []byte("both"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(linkedOutside, filepath.Join(export, "linked")); err != nil {
		t.Fatal(err)
	}
	fs := newTestFS(t, export, Options{})
	if !fs.KernelHandles() {
		t.Skip("kernel handles unavailable on this filesystem")
	}
	if fs.rootIsFSRoot {
		t.Skip("export is a filesystem root: nothing on the device is outside")
	}
	forge := func(path string) vfs.Handle {
		fh, _, err := unix.NameToHandleAt(unix.AT_FDCWD, path, 0)
		if err != nil {
			t.Fatal(err)
		}
		return append(vfs.Handle{kindKernel, byte(fh.Type())}, fh.Bytes()...)
	}
	for _, c := range []struct {
		path  string
		stale bool
	}{
		{outsideFile, true},
		{outsideDir, true},
		{parent, true},
		{"/etc", true},
		{"/etc/passwd", true},
		{insideFile, false},
		{linkedOutside, false},
		{export, false},
	} {
		// A fresh FS each time, so that no cached verification helps.
		fs := newTestFS(t, export, Options{})
		_, err := fs.GetAttr(t.Context(), forge(c.path))
		if c.stale {
			wantErrno(t, err, syscall.ESTALE, "GetAttr of forged handle for "+c.path)
			_, _, err = fs.Read(t.Context(), rootCred, forge(c.path), 0, make([]byte, 8))
			wantErrno(t, err, syscall.ESTALE, "Read of forged handle for "+c.path)
		} else if err != nil {
			t.Errorf("GetAttr of %s: %v", c.path, err)
		}
	}
}

// TestStaleAfterRemove: a handle whose file was removed through us is
// stale even while its descriptor is cached.
func TestStaleAfterRemove(t *testing.T) {
	for _, m := range handleModes(t) {
		t.Run(m.name, func(t *testing.T) {
			fs := newTestFS(t, t.TempDir(), m.opts(t))
			ctx := context.Background()
			f := mustCreate(t, fs, fs.Root(), "f", "x")
			content(t, fs, f) // cache the I/O descriptor too
			if err := fs.Remove(ctx, rootCred, fs.Root(), "f"); err != nil {
				t.Fatal(err)
			}
			_, err := fs.GetAttr(ctx, f)
			wantErrno(t, err, syscall.ESTALE, "GetAttr after Remove")
			_, _, err = fs.Read(ctx, rootCred, f, 0, make([]byte, 1))
			wantErrno(t, err, syscall.ESTALE, "Read after Remove")
		})
	}
}

// TestDotDotOfDirMovedOut: a cached directory moved out of the export
// behind our back must not lead out through "..".
func TestDotDotOfDirMovedOut(t *testing.T) {
	for _, m := range handleModes(t) {
		t.Run(m.name, func(t *testing.T) {
			parent := t.TempDir()
			export := filepath.Join(parent, "export")
			if err := os.MkdirAll(filepath.Join(export, "d"), 0o755); err != nil {
				t.Fatal(err)
			}
			fs := newTestFS(t, export, m.opts(t))
			d, _, err := fs.Lookup(t.Context(), rootCred, fs.Root(), "d")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(filepath.Join(export, "d"), filepath.Join(parent, "d")); err != nil {
				t.Fatal(err)
			}
			h, _, err := fs.Lookup(t.Context(), rootCred, d, "..")
			if err == nil && !bytes.Equal(h, fs.Root()) {
				t.Fatalf("Lookup .. of a directory moved out returned %x (root %x)", h, fs.Root())
			}
		})
	}
}
