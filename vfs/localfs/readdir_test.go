package localfs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gonfs/gonfs/vfs"
)

// listPlus returns the entries of dir by name, with handles and attributes.
func listPlus(t *testing.T, fs *FS, dir vfs.Handle) map[string]vfs.DirEntry {
	t.Helper()
	got := make(map[string]vfs.DirEntry)
	if err := fs.ReadDir(t.Context(), rootCred, dir, 0, true, func(e *vfs.DirEntry) bool {
		got[e.Name] = *e
		return true
	}); err != nil {
		t.Fatalf("ReadDir: %v", err)
	}
	return got
}

// sameFile compares what a listing and a lookup say about one file.
func sameFile(t *testing.T, what string, e vfs.DirEntry, h vfs.Handle, a vfs.Attr) {
	t.Helper()
	if !bytes.Equal(e.Handle, h) {
		t.Errorf("%s: listing handle %x, Lookup handle %x", what, e.Handle, h)
	}
	if e.FileID != a.FileID || e.Attr.FileID != a.FileID || e.Attr.Type != a.Type || e.Attr.Mode != a.Mode ||
		e.Attr.UID != a.UID || e.Attr.Nlink != a.Nlink || e.Attr.Size != a.Size || e.Attr.FSID != a.FSID {
		t.Errorf("%s: listing attributes %+v (fileid %d), Lookup attributes %+v", what, e.Attr, e.FileID, a)
	}
}

// TestListingHandlesMatchLookup: the handle ReadDir with plus gives an
// entry is byte for byte the one Lookup gives for the same file, whichever
// runs first and whatever is cached, for every kind of file.
func TestListingHandlesMatchLookup(t *testing.T) {
	for _, m := range handleModes(t) {
		t.Run(m.name, func(t *testing.T) {
			opts := m.opts(t)
			dir := t.TempDir()
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(os.Mkdir(filepath.Join(dir, "d"), 0o755))
			must(os.WriteFile(filepath.Join(dir, "d", "file"), []byte("abc"), 0o640))
			must(os.Mkdir(filepath.Join(dir, "d", "sub"), 0o700))
			must(os.Symlink("../../../etc/passwd", filepath.Join(dir, "d", "link")))
			must(unix.Mkfifo(filepath.Join(dir, "d", "fifo"), 0o600))
			must(os.Link(filepath.Join(dir, "d", "file"), filepath.Join(dir, "d", "hard")))
			names := []string{"file", "sub", "link", "fifo", "hard"}

			for _, order := range []string{"listing-first", "lookup-first", "tiny-cache", "no-handle-layout"} {
				t.Run(order, func(t *testing.T) {
					o := opts
					if order == "tiny-cache" {
						o.CacheSize = 1
					}
					fs, err := New(dir, o)
					if err != nil {
						t.Fatal(err)
					}
					defer fs.Close()
					if order == "no-handle-layout" {
						// Entries are opened, as on a filesystem whose
						// handles handleIno cannot read.
						fs.handleFS = 0
					}
					ctx := t.Context()
					d, _, err := fs.Lookup(ctx, rootCred, fs.Root(), "d")
					if err != nil {
						t.Fatal(err)
					}
					lookup := func(name string) (vfs.Handle, vfs.Attr) {
						t.Helper()
						h, a, err := fs.Lookup(ctx, rootCred, d, name)
						if err != nil {
							t.Fatalf("Lookup %s: %v", name, err)
						}
						return h, a
					}
					if order == "lookup-first" {
						for _, name := range names {
							lookup(name)
						}
					}
					ents := listPlus(t, fs, d)
					if len(ents) != len(names) {
						t.Fatalf("listed %d entries, want %d", len(ents), len(names))
					}
					// Twice: the first Lookup may open and cache the file,
					// the second finds it by inode.
					for round := range 2 {
						for _, name := range names {
							h, a := lookup(name)
							sameFile(t, fmt.Sprintf("%s round %d", name, round), ents[name], h, a)
							if got, err := fs.GetAttr(ctx, ents[name].Handle); err != nil || got.FileID != a.FileID {
								t.Errorf("GetAttr of the listed handle of %s: %+v, %v", name, got, err)
							}
						}
					}
					if !bytes.Equal(ents["file"].Handle, ents["hard"].Handle) {
						t.Errorf("two links of one file listed with handles %x and %x", ents["file"].Handle, ents["hard"].Handle)
					}
					// "." of d is d; of the root, the root.
					if h, _, err := fs.Lookup(ctx, rootCred, d, "."); err != nil || !bytes.Equal(h, d) {
						t.Errorf("Lookup . = %x, %v; want %x", h, err, d)
					}
					if h, _, err := fs.Lookup(ctx, rootCred, d, ".."); err != nil || !bytes.Equal(h, fs.Root()) {
						t.Errorf("Lookup .. = %x, %v; want the root %x", h, err, fs.Root())
					}
				})
			}
		})
	}
}

// TestListingDoesNotCache: a listing leaves the node cache as it was, so
// that listing a large directory does not evict (and close) what the
// other operations use.
func TestListingDoesNotCache(t *testing.T) {
	for _, m := range handleModes(t) {
		t.Run(m.name, func(t *testing.T) {
			dir := t.TempDir()
			for i := range 50 {
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprint("f", i)), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			fs := newTestFS(t, dir, m.opts(t))
			fds := countFDs(t)
			ents := listPlus(t, fs, fs.Root())
			for name, e := range ents {
				if e.Handle == nil {
					t.Fatalf("%s listed without a handle", name)
				}
			}
			fs.cache.mu.Lock()
			cached := len(fs.cache.m)
			fs.cache.mu.Unlock()
			if cached != 0 {
				t.Errorf("listing cached %d nodes", cached)
			}
			if got := countFDs(t); got > fds+1 {
				t.Errorf("descriptors grew from %d to %d", fds, got)
			}
		})
	}
}

// TestPlusEntryReplaced: an entry whose name points at another file than
// the one getdents reported (it was replaced in between) gets the handle
// and attributes of one file, the one there now; an entry gone meanwhile
// keeps its name and type.
func TestPlusEntryReplaced(t *testing.T) {
	for _, m := range handleModes(t) {
		t.Run(m.name, func(t *testing.T) {
			fs := newTestFS(t, t.TempDir(), m.opts(t))
			h, a, _, err := fs.Create(t.Context(), rootCred, fs.Root(), "x", vfs.SetAttr{}, true)
			if err != nil {
				t.Fatal(err)
			}
			fs.cache.closeAll() // nothing cached helps
			fd, err := unix.Open(procPath(fs.root.fd), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fd)

			e := vfs.DirEntry{Name: "x", FileID: a.FileID + 1000, Attr: vfs.Attr{Type: vfs.TypeRegular}}
			fs.plusEntry(fd, fs.root, &e)
			if !bytes.Equal(e.Handle, h) || e.FileID != a.FileID || e.Attr.FileID != a.FileID {
				t.Errorf("replaced entry: handle %x fileid %d/%d; want %x and %d", e.Handle, e.FileID, e.Attr.FileID, h, a.FileID)
			}

			gone := vfs.DirEntry{Name: "gone", FileID: 77, Attr: vfs.Attr{Type: vfs.TypeFIFO}}
			fs.plusEntry(fd, fs.root, &gone)
			if gone.Handle != nil || gone.FileID != 77 || gone.Attr != (vfs.Attr{Type: vfs.TypeFIFO}) {
				t.Errorf("vanished entry: %+v", gone)
			}
		})
	}
}

// TestListingRaceWithRename lists a directory while another goroutine
// keeps exchanging two names: every entry that gets a handle must get
// the attributes of the file that handle names.
func TestListingRaceWithRename(t *testing.T) {
	for _, m := range handleModes(t) {
		t.Run(m.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, n := range []string{"p", "q", "r"} {
				if err := os.WriteFile(filepath.Join(dir, n), []byte(n), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			fs := newTestFS(t, dir, m.opts(t))
			dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(dfd)
			var stop atomic.Bool
			var wg sync.WaitGroup
			var swaps atomic.Int64
			wg.Go(func() {
				for !stop.Load() {
					if err := unix.Renameat2(dfd, "p", dfd, "q", unix.RENAME_EXCHANGE); err != nil {
						// No RENAME_EXCHANGE: swap through a third name.
						_ = unix.Renameat(dfd, "p", dfd, "t")
						_ = unix.Renameat(dfd, "q", dfd, "p")
						_ = unix.Renameat(dfd, "t", dfd, "q")
					}
					swaps.Add(1)
				}
			})
			defer func() {
				stop.Store(true)
				wg.Wait()
			}()
			checked := 0
			for range 300 {
				ents := listPlus(t, fs, fs.Root())
				for name, e := range ents {
					if e.Handle == nil {
						continue
					}
					a, err := fs.GetAttr(t.Context(), e.Handle)
					if errors.Is(err, syscall.ESTALE) && !fs.kernel {
						// An index handle is found by walking the index and
						// then scanning: a file being moved behind our back
						// can be missed by both, and the client retries.
						continue
					}
					if err != nil {
						t.Fatalf("GetAttr of listed %s: %v", name, err)
					}
					if a.FileID != e.Attr.FileID || a.FileID != e.FileID {
						t.Fatalf("listed %s: handle names inode %d, attributes say %d (fileid %d)", name, a.FileID, e.Attr.FileID, e.FileID)
					}
					checked++
				}
			}
			t.Logf("%d entries checked during %d swaps", checked, swaps.Load())
		})
	}
}

// TestListingTeachesIndex: in index mode a listing records where each
// entry is, as Lookup does, so its handle resolves by walking the index.
func TestListingTeachesIndex(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a", "b", "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	fs := newTestFS(t, dir, Options{ForceIndex: true, NoIdentity: true, RescanLimit: -1})
	a := listPlus(t, fs, fs.Root())["a"]
	b := listPlus(t, fs, a.Handle)["b"]
	f := listPlus(t, fs, b.Handle)["f"]
	for _, c := range []struct {
		e      vfs.DirEntry
		parent uint64
		name   string
	}{{a, fs.root.ino, "a"}, {b, a.FileID, "b"}, {f, b.FileID, "f"}} {
		parent, name, ok := fs.idx.get(c.e.FileID)
		if !ok || parent != c.parent || name != c.name {
			t.Errorf("index of %s: %d %q %v; want %d %q", c.name, parent, name, ok, c.parent, c.name)
		}
	}
	// With scans off, only the index can resolve f from a cold cache.
	fs.cache.closeAll()
	if got, err := fs.GetAttr(t.Context(), f.Handle); err != nil || got.FileID != f.FileID {
		t.Errorf("GetAttr of listed f: %+v, %v", got, err)
	}
}

// TestListingWithoutSearch: without search permission on the directory a
// caller gets names and types but no handles, from both kinds of FS.
func TestListingWithoutSearch(t *testing.T) {
	needRoot(t)
	for _, opts := range []Options{{}, {ForceIndex: true}} {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, "d"), 0o744); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "d", "f"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		fs := newTestFS(t, dir, opts)
		d, _, err := fs.Lookup(t.Context(), rootCred, fs.Root(), "d")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		err = fs.ReadDir(t.Context(), userCred, d, 0, true, func(e *vfs.DirEntry) bool {
			n++
			if e.Handle != nil || e.Attr.Type != vfs.TypeRegular {
				t.Errorf("entry without search permission: %+v", e)
			}
			return true
		})
		if err != nil || n != 1 {
			t.Errorf("ReadDir: %d entries, %v", n, err)
		}
		_, _, err = fs.Lookup(t.Context(), userCred, d, "f")
		wantErrno(t, err, syscall.EACCES, "Lookup without search permission")
	}
}

// TestHandleIno: the inode numbers read from kernel handles are the
// files' on the filesystems the tests run on (the temporary directory's,
// and tmpfs).
func TestHandleIno(t *testing.T) {
	dirs := handleFSDirs(t)
	for name, dir := range dirs {
		t.Run(name, func(t *testing.T) {
			if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "f"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("f", filepath.Join(dir, "l")); err != nil {
				t.Fatal(err)
			}
			fs := newTestFS(t, dir, Options{})
			if fs.handleFS == 0 {
				t.Skip("handle layout of this filesystem unknown: listings open entries")
			}
			for _, n := range []string{"d", "f", "l"} {
				h, _, err := fs.kernelHandleAt(fs.root.fd, n)
				if err != nil {
					t.Fatal(err)
				}
				var stx unix.Statx_t
				if err := statxAt(fs.root.fd, n, 0, &stx); err != nil {
					t.Fatal(err)
				}
				if ino, ok := fs.handleIno(h); !ok || ino != stx.Ino {
					t.Errorf("%s: handle %x reads as inode %d (%v), want %d", n, h, ino, ok, stx.Ino)
				}
			}
			if _, ok := fs.handleIno(vfs.Handle{kindKernel, 0x33, 1, 2, 3, 4, 5, 6, 7, 8}); ok {
				t.Errorf("an unknown handle type was read")
			}
		})
	}
}

// TestSeenSet: the set of listed handles keeps the newest and forgets
// beyond two generations.
func TestSeenSet(t *testing.T) {
	s := newSeenSet(2)
	h := func(i int) vfs.Handle { return vfs.Handle{kindKernel, 1, byte(i)} }
	for i := range 5 {
		s.add(h(i))
	}
	// Generations: {0,1} dropped when {2,3} filled; now cur {4}, old {2,3}.
	for i, want := range []bool{false, false, true, true, true, false} {
		if got := s.has(string(h(i))); got != want {
			t.Errorf("has(%d) = %v, want %v", i, got, want)
		}
	}
}

// TestCacheByIno: nodes of one inode are found and evicted together, and
// eviction by LRU keeps the inode chains right.
func TestCacheByIno(t *testing.T) {
	c := newCache(3)
	mk := func(key string, ino uint64) *node { return &node{key: key, ino: ino, fd: -1, ioFD: -1} }
	for _, n := range []*node{mk("a", 1), mk("b", 1), mk("c", 2)} {
		c.release(c.add(n))
	}
	if n := c.getIno(1); n == nil || n.ino != 1 {
		t.Fatalf("getIno(1) = %v", n)
	} else {
		c.release(n)
	}
	// getIno found "b" (the newest of inode 1) and made it the most
	// recent, so "a" is now the least recent and goes.
	c.release(c.add(mk("d", 3)))
	if n := c.get("a"); n != nil {
		t.Fatalf("node a still cached after eviction")
	}
	count := func(ino uint64) int {
		k := 0
		for n := c.byIno[ino]; n != nil; n = n.sameIno {
			k++
		}
		return k
	}
	total := 0
	for ino := range c.byIno {
		total += count(ino)
	}
	if total != len(c.m) || len(c.m) != 3 {
		t.Fatalf("byIno holds %d nodes, map %d; want 3", total, len(c.m))
	}
	c.evictIno(1)
	if c.getIno(1) != nil || count(1) != 0 {
		t.Errorf("inode 1 still cached after evictIno")
	}
	for _, k := range []string{"a", "b"} {
		if c.get(k) != nil {
			t.Errorf("node %s still cached", k)
		}
	}
	if n := c.getIno(3); n == nil {
		t.Errorf("inode 3 lost")
	} else {
		c.release(n)
	}
}
