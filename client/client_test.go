package client

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"testing/fstest"
)

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed+1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestCopyInAndOut writes a file through the client and reads it back,
// and checks the server's copy on disk has identical bytes.
func TestCopyInAndOut(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			ts := startServer(t)
			c := dialVersion(t, ts, v)
			ctx := testCtx(t)
			data := randomBytes(8<<20+12345, 1)
			f, err := c.OpenFile(ctx, "big", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := f.Write(data); err != nil || n != len(data) {
				t.Fatalf("Write: %d, %v", n, err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			disk, err := os.ReadFile(filepath.Join(ts.dir, "big"))
			if err != nil || !bytes.Equal(disk, data) {
				t.Fatalf("server copy differs (%d bytes, %v)", len(disk), err)
			}
			got, err := fs.ReadFile(c, "big")
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("read back %d bytes, %v", len(got), err)
			}
			fi, err := c.StatContext(ctx, "big")
			if err != nil || fi.Size() != int64(len(data)) || fi.Mode().Perm() != 0o640 || fi.Attr().Uid != 1000 {
				t.Fatalf("stat: %v %v %v %v", fi.Size(), fi.Mode(), fi.Attr().Uid, err)
			}
			// Reading at the end is io.EOF; a short read at the end too.
			buf := make([]byte, 100)
			rf, err := c.OpenFile(ctx, "big", os.O_RDONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer rf.Close()
			if n, err := rf.ReadAt(buf, int64(len(data)-10)); n != 10 || err != io.EOF {
				t.Errorf("ReadAt at the end: %d, %v", n, err)
			}
			if _, err := c.OpenFile(ctx, "big", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640); !errors.Is(err, fs.ErrExist) {
				t.Errorf("exclusive create of an existing file: %v", err)
			}
			// Create truncates an existing file.
			w, err := c.Create(ctx, "big")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write([]byte("short")); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if disk, _ := os.ReadFile(filepath.Join(ts.dir, "big")); string(disk) != "short" {
				t.Errorf("after Create over it, the file has %d bytes", len(disk))
			}
		})
	}
}

// TestBigCopy is the 256 MiB round trip; it runs without -short.
func TestBigCopy(t *testing.T) {
	if testing.Short() {
		t.Skip("256 MiB copy skipped with -short")
	}
	ts := startServer(t)
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			c := dialVersion(t, ts, v)
			ctx := testCtx(t)
			data := randomBytes(256<<20, 2)
			name := "big-" + v
			f, err := c.Create(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteAt(data, 0); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			got, err := fs.ReadFile(c, name)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("read back %d bytes, %v", len(got), err)
			}
			c.Remove(ctx, name)
		})
	}
}

// TestBigDirectory lists a directory of 10,000 entries, which takes many
// READDIR(PLUS) replies and so exercises the cookies.
func TestBigDirectory(t *testing.T) {
	ts := startServer(t)
	const n = 10000
	dir := filepath.Join(ts.dir, "many")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%05d", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			c := dialVersion(t, ts, v)
			ents, err := c.ReadDirContext(testCtx(t), "many")
			if err != nil {
				t.Fatal(err)
			}
			if len(ents) != n {
				t.Fatalf("%d entries, want %d", len(ents), n)
			}
			for i, e := range ents {
				if want := fmt.Sprintf("f%05d", i); e.Name() != want || !e.Type().IsRegular() {
					t.Fatalf("entry %d = %s %v, want regular %s", i, e.Name(), e.Type(), want)
				}
			}
		})
	}
}

// TestNamespaceOps: mkdir, rename, symlink, readlink, link, chmod,
// truncate, remove, and the errors of each on a missing name.
func TestNamespaceOps(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			ts := startServer(t)
			c := dialVersion(t, ts, v)
			ctx := testCtx(t)
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(c.MkdirAll(ctx, "a/b/c", 0o755))
			must(c.MkdirAll(ctx, "a/b/c", 0o755))
			f, err := c.Create(ctx, "a/b/file")
			must(err)
			_, err = f.Write([]byte("0123456789"))
			must(err)
			must(f.Truncate(ctx, 4))
			must(f.Close())
			must(c.Rename(ctx, "a/b/file", "a/moved"))
			if _, err := c.StatContext(ctx, "a/b/file"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("old name after rename: %v", err)
			}
			got, err := fs.ReadFile(c, "a/moved")
			if err != nil || string(got) != "0123" {
				t.Errorf("renamed file: %q %v", got, err)
			}
			must(c.Symlink(ctx, "moved", "a/link"))
			if target, err := c.Readlink(ctx, "a/link"); err != nil || target != "moved" {
				t.Errorf("readlink: %q %v", target, err)
			}
			if fi, err := c.LstatContext(ctx, "a/link"); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
				t.Errorf("lstat of a symlink: %v %v", fi, err)
			}
			must(c.Link(ctx, "a/moved", "a/hard"))
			if fi, err := c.StatContext(ctx, "a/hard"); err != nil || fi.Attr().Nlink != 2 {
				t.Errorf("hard link: %v %v", fi, err)
			}
			must(c.Chmod(ctx, "a/moved", 0o600))
			if fi, err := os.Stat(filepath.Join(ts.dir, "a/moved")); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("chmod on the server: %v %v", fi, err)
			}
			if err := c.Remove(ctx, "a"); !errors.Is(err, syscall.ENOTEMPTY) && !errors.Is(err, syscall.EEXIST) {
				t.Errorf("remove of a non-empty directory: %v", err)
			}
			if err := c.Remove(ctx, "nope"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("remove of a missing file: %v", err)
			}
			must(c.RemoveAll(ctx, "a"))
			if ents, err := c.ReadDirContext(ctx, "."); err != nil || len(ents) != 0 {
				t.Errorf("root after RemoveAll: %v %v", ents, err)
			}
		})
	}
}

// TestFS runs the standard io/fs conformance checks over both versions.
func TestFS(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			ts := startServer(t)
			os.MkdirAll(filepath.Join(ts.dir, "d/e"), 0o755)
			os.WriteFile(filepath.Join(ts.dir, "d/x.txt"), []byte("hello"), 0o644)
			// Small: fstest reads it in every pattern, byte by byte too.
			os.WriteFile(filepath.Join(ts.dir, "d/e/y"), randomBytes(3000, 3), 0o644)
			c := dialVersion(t, ts, v)
			if err := fstest.TestFS(c, "d/x.txt", "d/e/y"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestLockConflict: two clients, one file; an exclusive lock of one
// refuses the other's until it is released. Over NFSv3 this is NLM.
func TestLockConflict(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			ts := startServer(t)
			a, b := dialVersion(t, ts, v), dialVersion(t, ts, v)
			ctx := testCtx(t)
			fa, err := a.OpenFile(ctx, "lk", os.O_RDWR|os.O_CREATE, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			defer fa.Close()
			fb, err := b.OpenFile(ctx, "lk", os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer fb.Close()
			if err := fa.Lock(ctx, true, 0, 100); err != nil {
				t.Fatal(err)
			}
			if err := fb.Lock(ctx, true, 50, 10); !errors.Is(err, syscall.EAGAIN) {
				t.Fatalf("conflicting lock: %v, want EAGAIN", err)
			}
			if err := fb.Lock(ctx, true, 100, 10); err != nil {
				t.Fatalf("lock of a range next to the other: %v", err)
			}
			if err := fa.Unlock(ctx, 0, 100); err != nil {
				t.Fatal(err)
			}
			if err := fb.Lock(ctx, false, 50, 10); err != nil {
				t.Fatalf("lock after unlock: %v", err)
			}
		})
	}
}

// TestNegotiation: without a version Dial picks 4.2 from gonfs.
func TestNegotiation(t *testing.T) {
	ts := startServer(t)
	c, err := Dial(testCtx(t), "nfs://"+ts.addr+"/", Options{Auth: testAuth})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Version() != "4.2" {
		t.Errorf("negotiated %s, want 4.2", c.Version())
	}
}
