package localfs

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gonfs/gonfs/vfs"
)

// TestMountPointNotCrossed runs itself again in a private mount namespace
// (unshare -m), mounts a tmpfs inside the export there, and checks that
// the FS does not descend into it. The namespace dies with the child, so
// no mount outlives the test even if it crashes.
func TestMountPointNotCrossed(t *testing.T) {
	needRoot(t)
	if dir := os.Getenv("LOCALFS_MOUNT_CHILD"); dir != "" {
		mountChild(t, dir)
		return
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("unshare(1) not installed")
	}
	dir := t.TempDir()
	cmd := exec.Command(unshare, "--mount", "--propagation", "private",
		os.Args[0], "-test.run=^TestMountPointNotCrossed$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "LOCALFS_MOUNT_CHILD="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("child:\n%s", out)
}

func mountChild(t *testing.T, dir string) {
	mnt := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	defer unix.Unmount(mnt, 0)
	if err := os.WriteFile(filepath.Join(mnt, "inner"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A bind mount of a directory outside the export, on the export's
	// own filesystem: same device, another mount.
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	bind := filepath.Join(dir, "bind")
	if err := os.Mkdir(bind, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(outside, bind, "", unix.MS_BIND, ""); err != nil {
		t.Skipf("bind mount: %v", err)
	}
	defer unix.Unmount(bind, 0)
	for _, m := range []struct {
		name string
		opts Options
	}{{"kernel", Options{}}, {"index", Options{ForceIndex: true}}} {
		t.Run(m.name, func(t *testing.T) {
			fs := newTestFS(t, dir, m.opts)
			for _, name := range []string{"mnt", "bind"} {
				// Twice: the first Lookup may open, the second find by inode.
				for range 2 {
					_, _, err := fs.Lookup(t.Context(), rootCred, fs.Root(), name)
					wantErrno(t, err, syscall.EACCES, "Lookup of mount point "+name)
				}
			}
			seen := map[string]vfs.DirEntry{}
			if err := fs.ReadDir(t.Context(), rootCred, fs.Root(), 0, true, func(e *vfs.DirEntry) bool {
				seen[e.Name] = *e
				return true
			}); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"mnt", "bind"} {
				if e, ok := seen[name]; !ok || e.Handle != nil || e.Attr.Type != vfs.TypeDirectory {
					t.Fatalf("ReadDir plus entry for mount point %s: %+v", name, e)
				}
			}
			// The covered directory's inode, not the tmpfs root's.
			var st unix.Stat_t
			if err := unix.Stat(mnt, &st); err != nil {
				t.Fatal(err)
			}
			if seen["mnt"].FileID == st.Ino {
				t.Errorf("mount point listed with the mounted root's inode %d", st.Ino)
			}
		})
	}
}

// TestScan finds a file by inode below the root within the budget, and
// not beyond it.
func TestScan(t *testing.T) {
	dir := t.TempDir()
	deep := filepath.Join(dir, "a", "b", "c")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"x", "y", "z"} {
		if err := os.WriteFile(filepath.Join(dir, "a", n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	target := filepath.Join(deep, "target")
	if err := os.WriteFile(target, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(target, &st); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		limit int
		found bool
	}{{0, true}, {100, true}, {2, false}, {-1, false}} {
		fs := newTestFS(t, dir, Options{ForceIndex: true, NoIdentity: true, RescanLimit: c.limit})
		n, path := fs.scan(st.Ino)
		if (n != nil) != c.found {
			t.Fatalf("limit %d: found %v, want %v", c.limit, n != nil, c.found)
		}
		if n == nil {
			continue
		}
		n.closeFDs()
		// The path leads from the root to the target: c/target, b/c, a/b, root/a.
		want := []string{"target", "c", "b", "a"}
		if len(path) != len(want) {
			t.Fatalf("path %+v", path)
		}
		for i, s := range path {
			if s.name != want[i] {
				t.Errorf("path[%d] = %q, want %q", i, s.name, want[i])
			}
		}
		if path[0].ino != st.Ino || path[len(path)-1].parent != fs.root.ino {
			t.Errorf("path ends %+v / %+v", path[0], path[len(path)-1])
		}
	}
}
