package localfs

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gonfs/gonfs/vfs"
)

// handleFSDirs returns directories on the filesystems these tests can
// reach whose kernel handles the handle cache serves: the temporary
// directory's, and tmpfs.
func handleFSDirs(t *testing.T) map[string]string {
	t.Helper()
	needRoot(t)
	dirs := map[string]string{"tempdir": t.TempDir()}
	var st unix.Statfs_t
	if unix.Statfs("/dev/shm", &st) == nil && st.Type == unix.TMPFS_MAGIC {
		d, err := os.MkdirTemp("/dev/shm", "localfs-test-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		dirs["tmpfs"] = d
	}
	return dirs
}

// cachingFS is a kernel-mode FS on dir that caches handles, or skips.
func cachingFS(t *testing.T, dir string) *FS {
	t.Helper()
	fs := newTestFS(t, dir, Options{StateDir: t.TempDir()})
	if !fs.handleCacheOn() {
		t.Skip("no handle cache on this filesystem (handle layout unknown)")
	}
	var stx unix.Statx_t
	if err := statx(fs.root.fd, &stx); err != nil || stx.Mask&unix.STATX_BTIME == 0 {
		t.Skip("no birth times on this filesystem: nothing is cached")
	}
	return fs
}

// TestListingReusesHandles: a second listing of the same files asks the
// kernel for no handle, and gives every entry the handle the first one
// and Lookup give; so does Lookup of a file a listing saw.
func TestListingReusesHandles(t *testing.T) {
	for name, dir := range handleFSDirs(t) {
		t.Run(name, func(t *testing.T) {
			const n = 40
			for i := range n {
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprint("f", i)), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			fs := cachingFS(t, dir)
			calls := fs.handleCalls.Load()
			first := listPlus(t, fs, fs.Root())
			if got := fs.handleCalls.Load() - calls; got < n {
				t.Fatalf("first listing made %d name_to_handle_at calls for %d files", got, n+1)
			}
			calls = fs.handleCalls.Load()
			second := listPlus(t, fs, fs.Root())
			if got := fs.handleCalls.Load() - calls; got != 0 {
				t.Errorf("second listing made %d name_to_handle_at calls, want 0", got)
			}
			if len(second) != n+1 {
				t.Fatalf("second listing has %d entries, want %d", len(second), n+1)
			}
			for name, e := range second {
				if e.Handle == nil || !bytes.Equal(e.Handle, first[name].Handle) {
					t.Errorf("%s: second listing handle %x, first %x", name, e.Handle, first[name].Handle)
				}
			}
			// Lookup opens and caches the file, but its handle too comes
			// from the cache; it must be the listed one.
			calls = fs.handleCalls.Load()
			for name, e := range second {
				h, a, err := fs.Lookup(t.Context(), rootCred, fs.Root(), name)
				if err != nil {
					t.Fatal(err)
				}
				sameFile(t, name, e, h, a)
			}
			if got := fs.handleCalls.Load() - calls; got != 0 {
				t.Errorf("Lookup of listed files made %d name_to_handle_at calls, want 0", got)
			}
			// A handle given out by the cache resolves from a cold node
			// cache, as any listed handle does, and the cache shows it is
			// the canonical one without asking the kernel again.
			fs.cache.closeAll()
			calls = fs.handleCalls.Load()
			if a, err := fs.GetAttr(t.Context(), second["f7"].Handle); err != nil || a.FileID != second["f7"].FileID {
				t.Errorf("GetAttr of a cached handle: %+v, %v", a, err)
			}
			if got := fs.handleCalls.Load() - calls; got != 0 {
				t.Errorf("resolving a cached handle made %d name_to_handle_at calls, want 0", got)
			}
			// Bytes the kernel would also open the file with (it ignores
			// what its decoder does not need) are still not our handle.
			fs.cache.closeAll()
			variant := append(bytes.Clone(second["f8"].Handle), 0, 0, 0, 0)
			_, err := fs.GetAttr(t.Context(), variant)
			wantErrno(t, err, syscall.ESTALE, "GetAttr of a handle with trailing bytes")
		})
	}
}

// TestListingHandleOfReplacedFile: a file removed and replaced behind our
// back by another that got the same inode number (ext4 reuses a freed
// number at once) is a new file, with a new birth time: the listing must
// give it its own handle, not the cached one of the file before it.
func TestListingHandleOfReplacedFile(t *testing.T) {
	for name, dir := range handleFSDirs(t) {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, "x")
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			fs := cachingFS(t, dir)
			old := listPlus(t, fs, fs.Root())["x"]
			var oldStx unix.Statx_t
			if err := statxAt(fs.root.fd, "x", 0, &oldStx); err != nil {
				t.Fatal(err)
			}

			// Replace x until the new file has the old inode number and
			// another birth time (a later clock tick): ext4 does this at
			// once; filesystems that never reuse numbers get a simulated
			// replacement below instead.
			reused := false
			for range 2000 {
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				var stx unix.Statx_t
				if err := statxAt(fs.root.fd, "x", 0, &stx); err != nil {
					t.Fatal(err)
				}
				if stx.Ino == oldStx.Ino && tagOf(&stx) != tagOf(&oldStx) {
					reused = true
					break
				}
			}
			if !reused {
				t.Logf("inode number %d not reused; simulating with a cached entry", oldStx.Ino)
				var stx unix.Statx_t
				if err := statxAt(fs.root.fd, "x", 0, &stx); err != nil {
					t.Fatal(err)
				}
				// The old handle cached under the new file's inode number
				// with another birth time, as a reuse would leave it.
				fs.handles.put(stx.Ino, tagOf(&stx)+1, old.Handle)
			}
			calls := fs.handleCalls.Load()
			now := listPlus(t, fs, fs.Root())["x"]
			if fs.handleCalls.Load() == calls {
				t.Error("the replacement was listed without asking the kernel for its handle")
			}
			if bytes.Equal(now.Handle, old.Handle) {
				t.Fatalf("replacement listed with the old file's handle %x", old.Handle)
			}
			h, a, err := fs.Lookup(t.Context(), rootCred, fs.Root(), "x")
			if err != nil {
				t.Fatal(err)
			}
			sameFile(t, "replacement", now, h, a)
			if _, err := fs.GetAttr(t.Context(), old.Handle); err == nil {
				t.Error("the old file's handle still resolves")
			}
		})
	}
}

// TestListingHandleSameTick: when a file is replaced by one with the same
// inode number and the same (coarse) birth time, the cache takes the new
// file for the old one, as doc.go says: the listing gives the old handle,
// which is stale rather than another file's. Its first use fails with
// ESTALE and drops it, so the next listing asks the kernel again. The
// collision is made by hand: the old file's handle is cached under the
// new file's identity.
func TestListingHandleSameTick(t *testing.T) {
	for name, dir := range handleFSDirs(t) {
		t.Run(name, func(t *testing.T) {
			fs := cachingFS(t, dir)
			if err := os.WriteFile(filepath.Join(dir, "old"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			stale, _, err := fs.kernelHandleAt(fs.root.fd, "old")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(filepath.Join(dir, "old")); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			var stx unix.Statx_t
			if err := statxAt(fs.root.fd, "x", 0, &stx); err != nil {
				t.Fatal(err)
			}
			if ino, ok := fs.handleIno(stale); !ok {
				t.Fatalf("handleIno(%x) failed", stale)
			} else if ino != stx.Ino {
				// Make the stale handle claim x's number as a reuse would:
				// rewrite the inode field the layout puts first (ext4,
				// xfs, btrfs) or after the generation (tmpfs).
				off := 2
				if fs.handleFS == unix.TMPFS_MAGIC {
					off = 6
				}
				binary.NativeEndian.PutUint32(stale[off:], uint32(stx.Ino))
				if got, _ := fs.handleIno(stale); got != stx.Ino {
					t.Skipf("cannot forge a colliding handle on this layout (%d)", got)
				}
			}
			fs.handles.put(stx.Ino, tagOf(&stx), stale)

			got := listPlus(t, fs, fs.Root())["x"]
			if !bytes.Equal(got.Handle, stale) {
				t.Fatalf("listing gave %x, want the cached (stale) handle %x", got.Handle, stale)
			}
			_, err = fs.GetAttr(t.Context(), got.Handle)
			wantErrno(t, err, syscall.ESTALE, "GetAttr of the colliding handle")
			again := listPlus(t, fs, fs.Root())["x"]
			h, a, err := fs.Lookup(t.Context(), rootCred, fs.Root(), "x")
			if err != nil {
				t.Fatal(err)
			}
			sameFile(t, "after ESTALE", again, h, a)
			if bytes.Equal(again.Handle, stale) {
				t.Errorf("the stale handle is still given out")
			}
		})
	}
}

// TestRemoveDropsCachedHandle: removing a file's last link through the FS
// forgets its cached handle, so a file created at once with its number
// (and perhaps its birth time) is never taken for it.
func TestRemoveDropsCachedHandle(t *testing.T) {
	for name, dir := range handleFSDirs(t) {
		t.Run(name, func(t *testing.T) {
			fs := cachingFS(t, dir)
			mustCreate(t, fs, fs.Root(), "x", "")
			mustCreate(t, fs, fs.Root(), "y", "")
			ents := listPlus(t, fs, fs.Root())
			if _, _, ok := fs.handles.lookup(ents["x"].FileID); !ok {
				t.Fatal("x's handle not cached")
			}
			if err := fs.Remove(t.Context(), rootCred, fs.Root(), "x"); err != nil {
				t.Fatal(err)
			}
			if _, _, ok := fs.handles.lookup(ents["x"].FileID); ok {
				t.Error("x's handle still cached after its last link was removed")
			}
			if err := fs.Rename(t.Context(), rootCred, fs.Root(), "y", fs.Root(), "z"); err != nil {
				t.Fatal(err)
			}
			if _, _, ok := fs.handles.lookup(ents["y"].FileID); !ok {
				t.Error("a rename dropped the handle of a file still linked")
			}
		})
	}
}

// TestHandleCache exercises the cache alone: copies in and out, one
// entry per inode number, birth time in the key, drop, and the bound.
func TestHandleCache(t *testing.T) {
	c := newHandleCache(2) // 4 sets of 4 ways
	hOf := func(ino, bt uint64) vfs.Handle {
		return vfs.Handle(fmt.Sprintf("\x01\x01%d/%d", ino, bt))
	}
	in := hOf(7, 70)
	c.put(7, 70, in)
	in[2] = 'X' // the caller's buffer is its own
	got := c.get(7, 70)
	if !bytes.Equal(got, hOf(7, 70)) {
		t.Fatalf("get = %q, want %q", got, hOf(7, 70))
	}
	got[2] = 'Y' // and so is what it gets
	if again := c.get(7, 70); !bytes.Equal(again, hOf(7, 70)) {
		t.Fatalf("the cache lent out its memory: %q", again)
	}
	for _, tc := range []struct {
		ino, bt uint64
		want    bool
	}{{7, 70, true}, {7, 71, false}, {8, 70, false}} {
		if got := c.get(tc.ino, tc.bt) != nil; got != tc.want {
			t.Errorf("get(%d, %d) found = %v, want %v", tc.ino, tc.bt, got, tc.want)
		}
	}
	// A new birth time replaces the entry of the number.
	c.put(7, 71, hOf(7, 71))
	if c.get(7, 70) != nil || !bytes.Equal(c.get(7, 71), hOf(7, 71)) {
		t.Errorf("entry of inode 7 not replaced")
	}
	// No birth time, no entry; nor for empty or oversized handles.
	c.put(9, 0, hOf(9, 0))
	c.put(10, 1, nil)
	c.put(11, 1, make(vfs.Handle, vfs.MaxHandle+1))
	for _, ino := range []uint64{9, 10, 11} {
		if _, _, ok := c.lookup(ino); ok {
			t.Errorf("inode %d cached", ino)
		}
	}
	// drop with a handle drops only a match.
	c.drop(7, hOf(7, 70))
	if c.get(7, 71) == nil {
		t.Error("drop of another handle removed the entry")
	}
	c.drop(7, hOf(7, 71))
	if c.get(7, 71) != nil {
		t.Error("drop of the entry's handle left it")
	}
	c.put(7, 71, hOf(7, 71))
	c.drop(7, nil)
	if _, _, ok := c.lookup(7); ok {
		t.Error("drop(ino, nil) left the entry")
	}

	// Bounded: any number of puts leaves at most 16 entries, the last
	// ones put in each set (FIFO).
	for ino := range uint64(1000) {
		c.put(ino*3+100, ino+1, hOf(ino, ino+1))
	}
	n := 0
	for i := range c.sets {
		for _, e := range c.sets[i].e {
			if e.n != 0 {
				n++
			}
		}
	}
	if n != 16 {
		t.Errorf("cache of 16 ways holds %d entries", n)
	}
	if c.get(999*3+100, 1000) == nil {
		t.Error("the last entry put is not cached")
	}
}

// TestHandleCacheConsecutive: a run of consecutive inode numbers as long
// as three quarters of the cache, starting anywhere, is all kept: every
// aligned block of numbers fills each set once.
func TestHandleCacheConsecutive(t *testing.T) {
	const bits = 8
	for _, start := range []uint64{0, 1, 12345, 1<<32 - 100, 1<<40 + 77} {
		c := newHandleCache(bits)
		n := uint64(3 << bits)
		for ino := start; ino < start+n; ino++ {
			c.put(ino, 1, vfs.Handle{1, byte(ino)})
		}
		for ino := start; ino < start+n; ino++ {
			if c.get(ino, 1) == nil {
				t.Errorf("start %d: inode %d evicted", start, ino)
				break
			}
		}
	}
}

// TestHandleCacheConcurrent puts, gets and drops overlapping entries from
// several goroutines (run with -race): a get returns the handle put for
// that very (inode, birth time), or nothing.
func TestHandleCacheConcurrent(t *testing.T) {
	c := newHandleCache(1)
	hOf := func(ino, bt uint64) vfs.Handle {
		return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(vfs.Handle{1, 1}, ino), bt)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			for k := range 3000 {
				ino, bt := uint64((k*7+g)%24), uint64(1+k%3)
				switch k % 5 {
				case 0:
					c.drop(ino, nil)
				case 1, 2:
					c.put(ino, bt, hOf(ino, bt))
				default:
					if h := c.get(ino, bt); h != nil && !bytes.Equal(h, hOf(ino, bt)) {
						errs <- fmt.Errorf("get(%d, %d) = %x", ino, bt, h)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
