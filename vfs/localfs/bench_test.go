package localfs

import (
	"fmt"
	"os"
	"testing"

	"github.com/gonfs/gonfs/vfs"
)

var userCred = &vfs.Cred{UID: 1000, GID: 1000}

type benchMode struct {
	name string
	opts Options
	root bool // needs root
}

var benchModes = []benchMode{
	{"kernel", Options{}, true},
	{"index", Options{ForceIndex: true}, false},
}

// benchFS returns an FS for mode m on a fresh directory whose root everyone
// may write, with one 1 MiB file "f" owned by uid 1000, gid 1000 and mode
// 0664.
func benchFS(b *testing.B, m benchMode) (*FS, vfs.Handle) {
	b.Helper()
	if m.root && os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	opts := m.opts
	opts.StateDir = b.TempDir()
	dir := b.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		b.Fatal(err)
	}
	fs := newTestFS(b, dir, opts)
	h, _, _, err := fs.Create(b.Context(), rootCred, fs.Root(), "f", vfs.SetAttr{}, true)
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := fs.Write(b.Context(), rootCred, h, 0, make([]byte, 1<<20), vfs.Unstable); err != nil {
		b.Fatal(err)
	}
	uid, gid, mode := uint32(1000), uint32(1000), uint32(0o664)
	if os.Geteuid() == 0 {
		if _, err := fs.SetAttr(b.Context(), rootCred, h, vfs.SetAttr{UID: &uid, GID: &gid}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := fs.SetAttr(b.Context(), rootCred, h, vfs.SetAttr{Mode: &mode}); err != nil {
		b.Fatal(err)
	}
	return fs, h
}

// creds are the identities benchmarks run as: root takes no permission
// check; user owns "f" (knfsd's owner override); group is another member
// of f's group, whose permission is decided from the mode bits (perm.go).
var creds = []struct {
	name string
	c    *vfs.Cred
}{{"root", rootCred}, {"user", userCred}, {"group", &vfs.Cred{UID: 1001, GID: 1000}}}

func BenchmarkGetAttr(b *testing.B) {
	for _, m := range benchModes {
		b.Run(m.name, func(b *testing.B) {
			fs, h := benchFS(b, m)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := fs.GetAttr(b.Context(), h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGetAttrUncached resolves the handle from scratch every time
// (cache of 1, two handles alternating): open_by_handle_at plus the
// confinement check, or the index walk.
func BenchmarkGetAttrUncached(b *testing.B) {
	for _, m := range benchModes {
		b.Run(m.name, func(b *testing.B) {
			m.opts.CacheSize = 1
			fs, h := benchFS(b, m)
			d, _, err := fs.Mkdir(b.Context(), rootCred, fs.Root(), "d", vfs.SetAttr{})
			if err != nil {
				b.Fatal(err)
			}
			g, _, _, err := fs.Create(b.Context(), rootCred, d, "g", vfs.SetAttr{}, true)
			if err != nil {
				b.Fatal(err)
			}
			hs := []vfs.Handle{h, g}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := fs.GetAttr(b.Context(), hs[i%2]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkRead4K(b *testing.B)  { benchIO(b, false) }
func BenchmarkWrite4K(b *testing.B) { benchIO(b, true) }

// benchIO reads or writes (unstable) 4 KiB blocks across a 1 MiB file.
func benchIO(b *testing.B, write bool) {
	for _, m := range benchModes {
		for _, c := range creds {
			b.Run(m.name+"/"+c.name, func(b *testing.B) {
				fs, h := benchFS(b, m)
				buf := make([]byte, 4096)
				b.SetBytes(4096)
				b.ReportAllocs()
				off := uint64(0)
				for b.Loop() {
					var err error
					if write {
						_, _, err = fs.Write(b.Context(), c.c, h, off, buf, vfs.Unstable)
					} else {
						_, _, err = fs.Read(b.Context(), c.c, h, off, buf)
					}
					if err != nil {
						b.Fatal(err)
					}
					off = (off + 4096) % (1 << 20)
				}
			})
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	for _, m := range benchModes {
		for _, c := range creds {
			b.Run(m.name+"/"+c.name, func(b *testing.B) {
				fs, _ := benchFS(b, m)
				root := fs.Root()
				b.ReportAllocs()
				for b.Loop() {
					if _, _, err := fs.Lookup(b.Context(), c.c, root, "f"); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkIdentitySwitch is the bare cost of running an empty operation
// as another user: lock the thread, setgroups/setfsgid/setfsuid with
// checks, and back.
func BenchmarkIdentitySwitch(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	fs := newTestFS(b, b.TempDir(), Options{})
	for _, c := range []struct {
		name string
		c    *vfs.Cred
	}{{"nogroups", userCred}, {"groups", &vfs.Cred{UID: 1000, GID: 1000, Groups: []uint32{1, 2, 3, 4}}}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := fs.as(c.c, func() error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// bigDir makes directory "big" in the root of fs with n empty files.
func bigDir(b *testing.B, fs *FS, n int) vfs.Handle {
	b.Helper()
	d, _, err := fs.Mkdir(b.Context(), rootCred, fs.Root(), "big", vfs.SetAttr{})
	if err != nil {
		b.Fatal(err)
	}
	p, err := readlink(procPath(fs.rootFD))
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if err := os.WriteFile(fmt.Sprintf("%s/big/f%05d", p, i), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return d
}

// BenchmarkReadDirPlus lists a directory of 10,000 empty files with
// handles and attributes (READDIRPLUS, NFSv4 READDIR with attributes),
// as root and as a user who may search the directory.
func BenchmarkReadDirPlus(b *testing.B) {
	const entries = 10000
	for _, m := range benchModes {
		for _, c := range creds {
			b.Run(m.name+"/"+c.name, func(b *testing.B) {
				fs, _ := benchFS(b, m)
				d := bigDir(b, fs, entries)
				b.ReportAllocs()
				for b.Loop() {
					got := 0
					err := fs.ReadDir(b.Context(), c.c, d, 0, true, func(e *vfs.DirEntry) bool {
						if e.Handle == nil {
							b.Fatalf("entry %s without handle", e.Name)
						}
						got++
						return true
					})
					if err != nil {
						b.Fatal(err)
					}
					if got != entries {
						b.Fatalf("listed %d entries, want %d", got, entries)
					}
				}
			})
		}
	}
}

// BenchmarkReadDirPlusFirst is BenchmarkReadDirPlus (kernel handles, as
// root) with the handle cache emptied before every listing: the cost of
// listing files never seen, which the cache adds to rather than saves.
func BenchmarkReadDirPlusFirst(b *testing.B) {
	const entries = 10000
	fs, _ := benchFS(b, benchModes[0])
	d := bigDir(b, fs, entries)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		if fs.handles != nil {
			clear(fs.handles.sets)
		}
		b.StartTimer()
		if err := fs.ReadDir(b.Context(), rootCred, d, 0, true, func(e *vfs.DirEntry) bool { return true }); err != nil {
			b.Fatal(err)
		}
	}
}
