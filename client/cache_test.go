package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonfs/gonfs/client/nfs4"
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
)

// fakeClock is the caches' clock in tests: it moves only when told.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func dialOpts(t *testing.T, ts *testServer, v string, opts Options) *Client {
	t.Helper()
	opts.Auth = testAuth
	c, err := Dial(testCtx(t), ts.url(v), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func writeFile(t *testing.T, c *Client, name string, data []byte) {
	t.Helper()
	f, err := c.Create(testCtx(t), name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, c *Client, name string) []byte {
	t.Helper()
	f, err := c.OpenFile(testCtx(t), name, os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCloseToOpen: client B caches a file's data; client A rewrites it
// (same size) and closes; B's next open revalidates the change attribute
// and reads A's bytes, not its cache (RFC 8881 §10.3.1; for NFSv3 the
// ctime/mtime/size proxy). A read within the same open is served from the
// cache.
func TestCloseToOpen(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			ts := startServer(t)
			a, b := dialVersion(t, ts, v), dialVersion(t, ts, v)
			writeFile(t, a, "f", []byte("first version"))
			if got := readFile(t, b, "f"); string(got) != "first version" {
				t.Fatalf("B read %q", got)
			}
			before := b.CacheStats()
			if got := readFile(t, b, "f"); string(got) != "first version" {
				t.Fatalf("B read %q", got)
			}
			if st := b.CacheStats(); st.DataHits == before.DataHits {
				t.Errorf("second read of an unchanged file missed the data cache: %+v", st)
			}
			// The ctime/mtime proxy of NFSv3 needs a visible time step.
			time.Sleep(10 * time.Millisecond)
			writeFile(t, a, "f", []byte("SECOND VERSION"[:13]))
			if got := readFile(t, b, "f"); string(got) != "SECOND VERSIO" {
				t.Fatalf("B read %q after A's close: close-to-open broken", got)
			}
			if st := b.CacheStats(); st.Invalidations == 0 {
				t.Errorf("no invalidation counted: %+v", st)
			}
		})
	}
}

// TestAttrCache: a second Stat within acregmin is a cache hit (no
// GETATTR); a change by another client stays unseen until the attributes
// expire (acregmax at the latest), then the next Stat asks again and sees
// it. A name that does not exist is cached as such.
func TestAttrCache(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			ts := startServer(t)
			clk := newFakeClock()
			a := dialOpts(t, ts, v, Options{AcRegMin: time.Second, AcRegMax: 4 * time.Second})
			a.cache.now = clk.now
			other := dialVersion(t, ts, v)
			writeFile(t, other, "f", []byte("12345"))
			ctx := testCtx(t)
			stat := func() *FileInfo {
				t.Helper()
				fi, err := a.StatContext(ctx, "f")
				if err != nil {
					t.Fatal(err)
				}
				return fi
			}
			stat()
			if st := a.CacheStats(); st.Getattrs != 1 || st.AttrHits != 0 {
				t.Fatalf("after one Stat: %+v", st)
			}
			stat()
			if st := a.CacheStats(); st.Getattrs != 1 || st.AttrHits != 1 {
				t.Fatalf("second Stat within acregmin asked the server: %+v", st)
			}
			writeFile(t, other, "f", []byte("1234567890"))
			if fi := stat(); fi.Size() != 5 {
				t.Errorf("size %d within the timeout; want the cached 5", fi.Size())
			}
			clk.advance(4*time.Second + time.Millisecond)
			if fi := stat(); fi.Size() != 10 {
				t.Errorf("size %d after acregmax; want 10", fi.Size())
			}
			if st := a.CacheStats(); st.Getattrs != 2 {
				t.Errorf("GETATTRs %d, want 2", st.Getattrs)
			}
			for range 2 {
				if _, err := a.StatContext(ctx, "missing"); !errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("missing: %v", err)
				}
			}
			if st := a.CacheStats(); st.NegativeHits != 1 {
				t.Errorf("negative hits %d, want 1", st.NegativeHits)
			}
			// Our own create drops the negative entry.
			writeFile(t, a, "missing", []byte("x"))
			if _, err := a.StatContext(ctx, "missing"); err != nil {
				t.Errorf("after create: %v", err)
			}
		})
	}
}

// TestNoCache: with Options.NoCache every Stat goes to the server and a
// change by another client shows at once.
func TestNoCache(t *testing.T) {
	ts := startServer(t)
	a := dialOpts(t, ts, "4.2", Options{NoCache: true})
	other := dialVersion(t, ts, "4.2")
	writeFile(t, other, "f", []byte("12345"))
	ctx := testCtx(t)
	if fi, err := a.StatContext(ctx, "f"); err != nil || fi.Size() != 5 {
		t.Fatal(fi, err)
	}
	writeFile(t, other, "f", []byte("1234567"))
	if fi, err := a.StatContext(ctx, "f"); err != nil || fi.Size() != 7 {
		t.Fatalf("size %v, %v; want 7 at once", fi.Size(), err)
	}
	if st := a.CacheStats(); st != (CacheStats{}) {
		t.Errorf("stats %+v with NoCache", st)
	}
}

// TestWriteDelegationRecall: A opens a file for writing and gets a write
// delegation, so its writes stay in its cache (the server's copy is still
// empty). B opening the file for writing makes the server recall the
// delegation (RFC 8881 §10.4.1, §20.2); A writes its dirty data back and
// COMMITs before DELEGRETURN, so when B's OPEN completes, B reads A's
// bytes. A CB_GETATTR meanwhile is answered from A's state.
func TestWriteDelegationRecall(t *testing.T) {
	ts := startServer(t)
	a, b := dialVersion(t, ts, "4.2"), dialVersion(t, ts, "4.2")
	ctx := testCtx(t)
	fa, err := a.OpenFile(ctx, "d", os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer fa.Close()
	if d := a.NFS4().Delegation(x.NfsFh4(fa.key)); d != nfs4.DelegWrite {
		t.Fatalf("A holds delegation %v; the server grants write delegations to a lone writer", d)
	}
	data := randomBytes(3<<20+17, 7)
	if _, err := fa.Write(data); err != nil {
		t.Fatal(err)
	}
	if fi, err := fa.Stat(); err != nil || fi.Size() != int64(len(data)) {
		t.Fatalf("A's own Stat: %v, %v", fi.Size(), err)
	}
	if disk, _ := os.ReadFile(filepath.Join(ts.dir, "d")); len(disk) != 0 {
		t.Fatalf("the server holds %d bytes: writes under a write delegation were not cached", len(disk))
	}
	// B's GETATTR makes the server ask A (CB_GETATTR, §10.4.3): the
	// size is A's.
	if fi, err := b.StatContext(ctx, "d"); err != nil || fi.Size() != int64(len(data)) {
		t.Errorf("B's Stat while A holds dirty data: size %v, %v; want %d", fi.Size(), err, len(data))
	}
	fb, err := b.OpenFile(ctx, "d", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Close()
	got, err := io.ReadAll(fb)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("B read %d bytes (%v); want A's %d", len(got), err, len(data))
	}
	if d := a.NFS4().Delegation(x.NfsFh4(fa.key)); d != nfs4.DelegNone {
		t.Errorf("A still holds delegation %v after the recall", d)
	}
	// A's further writes go straight to the server.
	if _, err := fa.WriteAt([]byte("tail"), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if err := fa.Sync(); err != nil {
		t.Fatal(err)
	}
	if disk, _ := os.ReadFile(filepath.Join(ts.dir, "d")); !bytes.HasSuffix(disk, []byte("tail")) {
		t.Errorf("the server's copy does not end with A's later write")
	}
}

// TestDataCacheOwnWrites: a file written and read back by the same client
// without a delegation keeps its cache coherent with its own writes, and a
// truncate is seen by the next read.
func TestDataCacheOwnWrites(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			ts := startServer(t)
			c := dialOpts(t, ts, v, Options{NoDelegations: true})
			ctx := context.Background()
			f, err := c.OpenFile(ctx, "g", os.O_RDWR|os.O_CREATE, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			data := randomBytes(2<<20+5, 3)
			if _, err := f.WriteAt(data, 0); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, len(data))
			if _, err := f.ReadAt(buf, 0); err != nil || !bytes.Equal(buf, data) {
				t.Fatalf("read back: %v", err)
			}
			if _, err := f.WriteAt([]byte("patch"), 1000); err != nil {
				t.Fatal(err)
			}
			copy(data[1000:], "patch")
			if _, err := f.ReadAt(buf, 0); err != nil || !bytes.Equal(buf, data) {
				t.Fatalf("read after an overwrite differs: %v", err)
			}
			if err := f.Truncate(ctx, 10); err != nil {
				t.Fatal(err)
			}
			n, err := f.ReadAt(buf, 0)
			if n != 10 || err != io.EOF || !bytes.Equal(buf[:10], data[:10]) {
				t.Fatalf("after truncate: %d, %v", n, err)
			}
		})
	}
}
