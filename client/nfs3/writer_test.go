package nfs3

import (
	"bytes"
	"context"
	"net"
	"sync"
	"testing"
	"time"

	x "github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// fakeNFS serves WRITE and COMMIT of one file in memory and can lose its
// unstable data, as a server that restarts does, changing its verifier.
type fakeNFS struct {
	mu       sync.Mutex
	verf     x.Writeverf3
	stable   []byte // survives a "restart"
	unstable []byte
	writes   []x.StableHow

	// READ serves unstable; these change its replies (see read_test.go).
	readAttrs  bool       // send post-op attributes
	readExtra  int        // bytes of data beyond the count asked
	readStatus x.Nfsstat3 // a status other than NFS3_OK
}

func (f *fakeNFS) restart() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unstable = bytes.Clone(f.stable)
	f.verf[0]++
}

func put(b []byte, off int, p []byte) []byte {
	if need := off + len(p); need > len(b) {
		b = append(b, make([]byte, need-len(b))...)
	}
	copy(b[off:], p)
	return b
}

func (f *fakeNFS) ServeRPC(ctx context.Context, call *sunrpc.Call, w *xdr.Writer) sunrpc.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch call.Proc {
	case x.NFSPROC3_NULL:
	case x.NFSPROC3_WRITE:
		var a x.WRITE3args
		if xdr.Unmarshal(call.Args, &a) != nil {
			return sunrpc.GarbageArgs
		}
		f.writes = append(f.writes, a.Stable)
		f.unstable = put(f.unstable, int(a.Offset), a.Data)
		if a.Stable != x.UNSTABLE {
			f.stable = put(f.stable, int(a.Offset), a.Data)
		}
		res := x.WRITE3res{Status: x.NFS3_OK, Resok: x.WRITE3resok{Count: x.Count3(len(a.Data)), Committed: a.Stable, Verf: f.verf}}
		res.Encode(w)
	case x.NFSPROC3_READ:
		var a x.READ3args
		if xdr.Unmarshal(call.Args, &a) != nil {
			return sunrpc.GarbageArgs
		}
		off := min(int(a.Offset), len(f.unstable))
		end := min(off+int(a.Count)+f.readExtra, len(f.unstable))
		res := x.READ3res{Status: f.readStatus}
		attr := x.PostOpAttr{AttributesFollow: f.readAttrs, Attributes: x.Fattr3{Type: x.NF3REG, Size: x.Size3(len(f.unstable)), Fileid: 7}}
		if f.readStatus == x.NFS3_OK {
			res.Resok = x.READ3resok{FileAttributes: attr, Count: x.Count3(end - off), Eof: end == len(f.unstable), Data: f.unstable[off:end]}
		} else {
			res.Resfail = x.READ3resfail{FileAttributes: attr}
		}
		res.Encode(w)
	case x.NFSPROC3_COMMIT:
		f.stable = bytes.Clone(f.unstable)
		res := x.COMMIT3res{Status: x.NFS3_OK, Resok: x.COMMIT3resok{Verf: f.verf}}
		res.Encode(w)
	default:
		return sunrpc.ProcUnavail
	}
	return sunrpc.Success
}

func startFake(t *testing.T) (*fakeNFS, *Client) {
	t.Helper()
	f := &fakeNFS{}
	srv := sunrpc.NewServer(sunrpc.Options{})
	srv.Register(x.NFS_PROGRAM, x.NFS_V3, f)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.ServeTCP(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	c, err := Dial(context.Background(), "127.0.0.1", Options{Port: l.Addr().(*net.TCPAddr).Port})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return f, c
}

// TestWriterResendsAfterRestart: RFC 1813 §3.3.21 — the server restarts
// between the UNSTABLE writes and the COMMIT, losing them; COMMIT's new
// verifier makes the Writer send them again, FILE_SYNC, and the data is
// whole afterwards.
func TestWriterResendsAfterRestart(t *testing.T) {
	for _, tc := range []struct {
		name       string
		restart    bool
		wantResent int
	}{
		{"no restart", false, 0},
		{"restart before commit", true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, c := startFake(t)
			ctx := context.Background()
			w := c.NewWriter(Fh{1})
			if _, err := w.WriteAt(ctx, []byte("hello "), 0); err != nil {
				t.Fatal(err)
			}
			if _, err := w.WriteAt(ctx, []byte("world"), 6); err != nil {
				t.Fatal(err)
			}
			if w.Uncommitted() != 11 {
				t.Errorf("uncommitted %d", w.Uncommitted())
			}
			if tc.restart {
				f.restart()
			}
			if err := w.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if string(f.stable) != "hello world" {
				t.Errorf("stable data %q", f.stable)
			}
			resent := 0
			for _, s := range f.writes {
				if s == x.FILE_SYNC {
					resent++
				}
			}
			if resent != tc.wantResent {
				t.Errorf("%d FILE_SYNC resends, want %d", resent, tc.wantResent)
			}
			if w.Uncommitted() != 0 {
				t.Errorf("uncommitted after commit: %d", w.Uncommitted())
			}
		})
	}
}
