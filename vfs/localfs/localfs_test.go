package localfs

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/vfs/vfstest"
)

// newTestFS serves a fresh temporary directory and closes the FS when the
// test ends.
func newTestFS(t testing.TB, dir string, opts Options) *FS {
	t.Helper()
	fs, err := New(dir, opts)
	if err != nil {
		t.Fatalf("New(%s): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := fs.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return fs
}

func needRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: identity switching and kernel file handles (CAP_DAC_READ_SEARCH)")
	}
}

// TestConformancePrivileged runs the suite with kernel handles and
// identity switching, as the server runs when started as root.
func TestConformancePrivileged(t *testing.T) {
	needRoot(t)
	vfstest.Run(t, func(t *testing.T) vfs.FS {
		fs := newTestFS(t, t.TempDir(), Options{StateDir: t.TempDir()})
		if !fs.KernelHandles() || !fs.SwitchesIdentity() {
			t.Fatalf("root FS: kernel handles %v, identity %v; want both", fs.KernelHandles(), fs.SwitchesIdentity())
		}
		return fs
	}, vfstest.Options{})
}

// TestConformanceIndex runs the suite on index handles with identity
// switching, the path of a root server on a filesystem without exportable
// handles.
func TestConformanceIndex(t *testing.T) {
	needRoot(t)
	vfstest.Run(t, func(t *testing.T) vfs.FS {
		return newTestFS(t, t.TempDir(), Options{StateDir: t.TempDir(), ForceIndex: true})
	}, vfstest.Options{})
}

// TestConformanceUnprivileged runs the suite the way an unprivileged
// server works: index handles, every operation as the process.
func TestConformanceUnprivileged(t *testing.T) {
	vfstest.Run(t, func(t *testing.T) vfs.FS {
		fs := newTestFS(t, t.TempDir(), Options{StateDir: t.TempDir(), ForceIndex: true, NoIdentity: true})
		if fs.KernelHandles() || fs.SwitchesIdentity() {
			t.Fatalf("forced index FS: kernel handles %v, identity %v; want neither", fs.KernelHandles(), fs.SwitchesIdentity())
		}
		return fs
	}, vfstest.Options{Unprivileged: true, NoDevices: os.Geteuid() != 0})
}

// TestConformanceTmpfs runs the suite on tmpfs, whose d_off cookies and
// handles differ from ext4's (stable offsets since Linux 6.6).
func TestConformanceTmpfs(t *testing.T) {
	needRoot(t)
	var st unix.Statfs_t
	if err := unix.Statfs("/dev/shm", &st); err != nil || st.Type != unix.TMPFS_MAGIC {
		t.Skip("/dev/shm is not a tmpfs")
	}
	for _, m := range []struct {
		name string
		opts Options
	}{{"kernel", Options{}}, {"index", Options{ForceIndex: true}}} {
		t.Run(m.name, func(t *testing.T) {
			vfstest.Run(t, func(t *testing.T) vfs.FS {
				dir, err := os.MkdirTemp("/dev/shm", "localfs-test-")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.RemoveAll(dir) })
				return newTestFS(t, dir, m.opts)
				// tmpfs gives a directory the ctime of the unlinked child
				// (shmem_unlink), which can equal the directory's previous
				// ctime: Change does not always advance on Remove/Rmdir.
			}, vfstest.Options{CoarseChange: true})
		})
	}
}
