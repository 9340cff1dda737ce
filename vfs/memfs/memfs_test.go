package memfs_test

import (
	"bytes"
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/gonfs/gonfs/internal/fuzzcorpus"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/vfs/memfs"
	"github.com/gonfs/gonfs/vfs/vfstest"
)

func TestConformance(t *testing.T) {
	vfstest.Run(t, func(t *testing.T) vfs.FS {
		return memfs.New(memfs.Options{})
	}, vfstest.Options{SparseUsed: true})
}

// TestConformanceFrozenClock runs the suite with a clock that never moves:
// Change must advance on its own counter, not on time.
func TestConformanceFrozenClock(t *testing.T) {
	frozen := func() time.Time { return time.Date(2020, 5, 6, 7, 8, 9, 0, time.UTC) }
	vfstest.Run(t, func(t *testing.T) vfs.FS {
		return memfs.New(memfs.Options{Now: frozen})
	}, vfstest.Options{SparseUsed: true, Now: frozen, BigDir: 500})
}

var root = &vfs.Cred{}

func mode(m uint32) vfs.SetAttr { return vfs.SetAttr{Mode: &m} }

func mustCreate(t *testing.T, fs *memfs.FS, dir vfs.Handle, name string) vfs.Handle {
	t.Helper()
	h, _, _, err := fs.Create(context.Background(), root, dir, name, mode(0o644), true)
	if err != nil {
		t.Fatalf("Create %s: %v", name, err)
	}
	return h
}

func TestCapacity(t *testing.T) {
	ctx := context.Background()
	fs := memfs.New(memfs.Options{Capacity: 1 << 20})
	f := mustCreate(t, fs, fs.Root(), "f")
	if _, _, err := fs.Write(ctx, root, f, 0, make([]byte, 1<<20), vfs.FileSync); err != nil {
		t.Fatalf("Write of the whole capacity: %v", err)
	}
	st, err := fs.StatFS(ctx, f)
	if err != nil || st.TotalBytes != 1<<20 || st.FreeBytes != 0 || st.AvailBytes != 0 {
		t.Fatalf("StatFS when full = %+v, %v", st, err)
	}
	// Overwriting allocated bytes needs no space; one byte more does.
	if _, _, err := fs.Write(ctx, root, f, 100, []byte("over"), vfs.FileSync); err != nil {
		t.Errorf("overwrite when full: %v", err)
	}
	g := mustCreate(t, fs, fs.Root(), "g")
	if _, _, err := fs.Write(ctx, root, g, 0, []byte("x"), vfs.FileSync); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Write past capacity: err = %v, want ENOSPC", err)
	}
	if a, _ := fs.GetAttr(ctx, g); a.Size != 0 {
		t.Errorf("failed write changed size to %d", a.Size)
	}
	// A hole costs nothing, even at 1 TiB.
	sz := uint64(1 << 40)
	if _, err := fs.SetAttr(ctx, root, g, vfs.SetAttr{Size: &sz}); err != nil {
		t.Errorf("extending to 1 TiB when full: %v", err)
	}
	// Space comes back when data goes.
	zero := uint64(1000)
	if _, err := fs.SetAttr(ctx, root, f, vfs.SetAttr{Size: &zero}); err != nil {
		t.Fatal(err)
	}
	if st, _ := fs.StatFS(ctx, f); st.FreeBytes != 1<<20-1000 {
		t.Errorf("FreeBytes after truncating to 1000 = %d, want %d", st.FreeBytes, 1<<20-1000)
	}
	if err := fs.Remove(ctx, root, fs.Root(), "f"); err != nil {
		t.Fatal(err)
	}
	if st, _ := fs.StatFS(ctx, g); st.FreeBytes != 1<<20 {
		t.Errorf("FreeBytes after removing = %d, want all", st.FreeBytes)
	}
}

func TestSparseUsed(t *testing.T) {
	ctx := context.Background()
	fs := memfs.New(memfs.Options{})
	f := mustCreate(t, fs, fs.Root(), "f")
	if _, _, err := fs.Write(ctx, root, f, 1<<40, []byte("end"), vfs.Unstable); err != nil {
		t.Fatal(err)
	}
	a, _ := fs.GetAttr(ctx, f)
	if a.Size != 1<<40+3 || a.Used > 64<<10 {
		t.Errorf("after a 3-byte write at 1 TiB: Size %d Used %d, want Used within one block", a.Size, a.Used)
	}
}

func TestMaxFiles(t *testing.T) {
	ctx := context.Background()
	fs := memfs.New(memfs.Options{MaxFiles: 3}) // the root and two more
	mustCreate(t, fs, fs.Root(), "a")
	mustCreate(t, fs, fs.Root(), "b")
	_, _, _, err := fs.Create(ctx, root, fs.Root(), "c", mode(0o644), true)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Create beyond MaxFiles: err = %v, want ENOSPC", err)
	}
	if st, _ := fs.StatFS(ctx, fs.Root()); st.FreeFiles != 0 || st.TotalFiles != 3 {
		t.Errorf("StatFS files = %+v", st)
	}
	// A hard link needs no inode.
	h, _, _ := fs.Lookup(ctx, root, fs.Root(), "a")
	if err := fs.Link(ctx, root, h, fs.Root(), "a2"); err != nil {
		t.Errorf("Link when out of inodes: %v", err)
	}
}

// TestInodeReuse: a removed inode number is reused with a new generation,
// so the old handle is stale while the FileID repeats.
func TestInodeReuse(t *testing.T) {
	ctx := context.Background()
	fs := memfs.New(memfs.Options{})
	old := mustCreate(t, fs, fs.Root(), "f")
	oa, _ := fs.GetAttr(ctx, old)
	if len(old) != 12 {
		t.Errorf("handle is %d bytes, want 12", len(old))
	}
	if err := fs.Remove(ctx, root, fs.Root(), "f"); err != nil {
		t.Fatal(err)
	}
	nh := mustCreate(t, fs, fs.Root(), "g")
	na, _ := fs.GetAttr(ctx, nh)
	if na.FileID != oa.FileID {
		t.Fatalf("inode %d not reused (got %d); the test needs reuse", oa.FileID, na.FileID)
	}
	if bytes.Equal(old, nh) {
		t.Fatalf("reused inode has the same handle")
	}
	if _, err := fs.GetAttr(ctx, old); !errors.Is(err, syscall.ESTALE) {
		t.Errorf("old handle: err = %v, want ESTALE", err)
	}
}

func TestNilCredIsNobody(t *testing.T) {
	ctx := context.Background()
	fs := memfs.New(memfs.Options{})
	_, _, _, err := fs.Create(ctx, nil, fs.Root(), "f", mode(0o644), true)
	if !errors.Is(err, syscall.EACCES) {
		t.Errorf("Create with nil Cred in a 0755 root dir: err = %v, want EACCES", err)
	}
}

func TestCookies(t *testing.T) {
	ctx := context.Background()
	fs := memfs.New(memfs.Options{})
	for _, n := range []string{"a", "b", "c"} {
		mustCreate(t, fs, fs.Root(), n)
	}
	if err := fs.Remove(ctx, root, fs.Root(), "b"); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, fs, fs.Root(), "b")
	var got []string
	var cookies []uint64
	err := fs.ReadDir(ctx, root, fs.Root(), 0, false, func(d *vfs.DirEntry) bool {
		got = append(got, d.Name)
		cookies = append(cookies, d.Cookie)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	// Insertion order; a re-created name goes last; cookie = sequence + 3.
	wantNames, wantCookies := []string{"a", "c", "b"}, []uint64{3, 5, 6}
	for i := range wantNames {
		if i >= len(got) || got[i] != wantNames[i] || cookies[i] != wantCookies[i] {
			t.Fatalf("ReadDir = %v %v, want %v %v", got, cookies, wantNames, wantCookies)
		}
	}
}

// TestModeRules covers Linux behaviours beyond the conformance suite:
// setgid directories, and the setuid bit dropped by writes and chown.
func TestModeRules(t *testing.T) {
	ctx := context.Background()
	fs := memfs.New(memfs.Options{RootMode: 0o777})
	u := &vfs.Cred{UID: 1000, GID: 1000}
	gid := uint32(2000)
	m := uint32(0o2777)
	sg, _, err := fs.Mkdir(ctx, root, fs.Root(), "sg", vfs.SetAttr{Mode: &m, GID: &gid})
	if err != nil {
		t.Fatal(err)
	}
	_, fa, _, err := fs.Create(ctx, u, sg, "f", mode(0o644), true)
	if err != nil || fa.GID != 2000 || fa.UID != 1000 {
		t.Errorf("file in setgid dir: %d:%d, %v; want 1000:2000", fa.UID, fa.GID, err)
	}
	_, da, err := fs.Mkdir(ctx, u, sg, "d", mode(0o755))
	if err != nil || da.GID != 2000 || da.Mode != 0o2755 {
		t.Errorf("dir in setgid dir: gid %d mode %o, %v; want 2000 and 02755", da.GID, da.Mode, err)
	}

	f, _, _, err := fs.Create(ctx, u, fs.Root(), "suid", mode(0o6755), true)
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := fs.GetAttr(ctx, f); a.Mode != 0o6755 {
		t.Errorf("new file mode %o, want 06755", a.Mode)
	}
	// In a group it is not in, the creator cannot make a file setgid.
	if _, a, _, err := fs.Create(ctx, u, sg, "nosgid", mode(0o2755), true); err != nil || a.Mode != 0o755 {
		t.Errorf("setgid file in another group: mode %o, %v; want 0755", a.Mode, err)
	}
	if _, _, err := fs.Write(ctx, u, f, 0, []byte("x"), vfs.FileSync); err != nil {
		t.Fatal(err)
	}
	if a, _ := fs.GetAttr(ctx, f); a.Mode != 0o755 {
		t.Errorf("write by owner left mode %o, want 0755 (setuid and setgid dropped)", a.Mode)
	}
	m = 0o4755
	if _, err := fs.SetAttr(ctx, root, f, vfs.SetAttr{Mode: &m}); err != nil {
		t.Fatal(err)
	}
	uid := uint32(7)
	if a, err := fs.SetAttr(ctx, root, f, vfs.SetAttr{UID: &uid}); err != nil || a.Mode != 0o755 {
		t.Errorf("chown left mode %o (%v), want 0755", a.Mode, err)
	}
}

func TestSymlinkTargets(t *testing.T) {
	ctx := context.Background()
	fs := memfs.New(memfs.Options{})
	cases := []struct {
		target string
		want   error
	}{
		{"", syscall.ENOENT},
		{"a\x00b", syscall.EINVAL},
		{string(make([]byte, 5000)), syscall.ENAMETOOLONG},
		{"ok", nil},
	}
	for _, c := range cases {
		_, _, err := fs.Symlink(ctx, root, fs.Root(), "ln", c.target, vfs.SetAttr{})
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("Symlink to %q: err = %v, want %v", c.target[:min(len(c.target), 10)], err, c.want)
		}
	}
}

func FuzzHandle(f *testing.F) {
	fs := memfs.New(memfs.Options{})
	good, _, _, _ := fs.Create(context.Background(), root, fs.Root(), "f", mode(0o644), true)
	fuzzcorpus.Add(f, []byte(good))
	fuzzcorpus.Add(f, []byte(fs.Root()))
	fuzzcorpus.Add(f, []byte{})
	f.Fuzz(func(t *testing.T, h []byte) {
		_, err := fs.GetAttr(context.Background(), h)
		valid := bytes.Equal(h, good) || bytes.Equal(h, fs.Root())
		if valid != (err == nil) || (!valid && !errors.Is(err, syscall.ESTALE)) {
			t.Fatalf("GetAttr(%x) = %v", h, err)
		}
	})
}

func BenchmarkWrite4K(b *testing.B) {
	ctx := context.Background()
	fs := memfs.New(memfs.Options{})
	h, _, _, _ := fs.Create(ctx, root, fs.Root(), "f", mode(0o644), true)
	buf := make([]byte, 4096)
	b.SetBytes(4096)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		off := uint64(i%4096) * 4096 // cycle over 16 MiB
		if _, _, err := fs.Write(ctx, root, h, off, buf, vfs.Unstable); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead4K(b *testing.B) {
	ctx := context.Background()
	fs := memfs.New(memfs.Options{})
	h, _, _, _ := fs.Create(ctx, root, fs.Root(), "f", mode(0o644), true)
	if _, _, err := fs.Write(ctx, root, h, 0, make([]byte, 16<<20), vfs.Unstable); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 4096)
	b.SetBytes(4096)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, _, err := fs.Read(ctx, root, h, uint64(i%4096)*4096, buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	ctx := context.Background()
	fs := memfs.New(memfs.Options{})
	for i := range 1000 {
		name := "f" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		fs.Create(ctx, root, fs.Root(), name, mode(0o644), true)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := fs.Lookup(ctx, root, fs.Root(), "fmb"); err != nil {
			b.Fatal(err)
		}
	}
}
