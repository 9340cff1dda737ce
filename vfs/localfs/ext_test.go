package localfs

import (
	"context"
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/vfs/vfstest"
)

// TestConformanceExt runs the suite of the optional interfaces (vfs/ext.go)
// as a root server runs (kernel handles, identity switching), and as an
// unprivileged one. Clone is skipped where the filesystem of the test
// directory has no reflinks (ext4, tmpfs): FICLONERANGE answers
// EOPNOTSUPP there, which TestCloneUnsupported checks.
func TestConformanceExt(t *testing.T) {
	t.Run("privileged", func(t *testing.T) {
		needRoot(t)
		vfstest.RunExt(t, func(t *testing.T) vfs.FS {
			return newTestFS(t, t.TempDir(), Options{StateDir: t.TempDir()})
		}, vfstest.Options{SparseUsed: true})
	})
	t.Run("unprivileged", func(t *testing.T) {
		vfstest.RunExt(t, func(t *testing.T) vfs.FS {
			return newTestFS(t, t.TempDir(), Options{StateDir: t.TempDir(), ForceIndex: true, NoIdentity: true})
		}, vfstest.Options{Unprivileged: true, NoDevices: os.Geteuid() != 0, SparseUsed: true})
	})
}

// TestCloneUnsupported checks the answer of a filesystem without reflinks:
// FICLONERANGE fails with EOPNOTSUPP on ext4 and tmpfs, which the NFS
// layer turns into NFS4ERR_NOTSUPP (RFC 7862 §15.13).
func TestCloneUnsupported(t *testing.T) {
	dir := t.TempDir()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if st.Type != unix.EXT4_SUPER_MAGIC && st.Type != unix.TMPFS_MAGIC {
		t.Skipf("the test directory's filesystem (magic %#x) may support reflinks", st.Type)
	}
	fs := newTestFS(t, dir, Options{StateDir: t.TempDir(), ForceIndex: true, NoIdentity: true})
	ctx := t.Context()
	c := vfs.RootCred()
	src, _, _, err := fs.Create(ctx, c, fs.Root(), "src", vfs.SetAttr{}, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := fs.Write(ctx, c, src, 0, make([]byte, 8192), vfs.Unstable); err != nil {
		t.Fatal(err)
	}
	dst, _, _, err := fs.Create(ctx, c, fs.Root(), "dst", vfs.SetAttr{}, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.Clone(ctx, c, src, 0, dst, 0, 0); !errors.Is(err, unix.EOPNOTSUPP) {
		t.Fatalf("Clone on magic %#x: err = %v, want EOPNOTSUPP", st.Type, err)
	}
}

// TestCopyRangeCancelled checks that a copy stops when its context ends
// (OFFLOAD_CANCEL, RFC 7862 §15.8) and says why.
func TestCopyRangeCancelled(t *testing.T) {
	fs := newTestFS(t, t.TempDir(), Options{StateDir: t.TempDir(), ForceIndex: true, NoIdentity: true})
	c := vfs.RootCred()
	src, _, _, err := fs.Create(t.Context(), c, fs.Root(), "src", vfs.SetAttr{}, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := fs.Write(t.Context(), c, src, 0, []byte("data"), vfs.Unstable); err != nil {
		t.Fatal(err)
	}
	dst, _, _, err := fs.Create(t.Context(), c, fs.Root(), "dst", vfs.SetAttr{}, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	n, err := fs.CopyRange(ctx, c, src, 0, dst, 0, 0)
	if n != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("CopyRange with a cancelled context = %d, %v; want 0, context.Canceled", n, err)
	}
}
