package nfs4

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gonfs/gonfs/exports"
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/server"
)

var testCred = &rpcxdr.AuthsysParms{Machinename: "nfs4-client-test", Uid: 1000, Gid: 1000}

type testServer struct {
	srv   *server.Server
	dir   string
	state string
	addr  string
	lease time.Duration
}

// startServer runs an embedded gonfs on loopback over a directory that
// uid 1000 may write.
func startServer(t *testing.T) *testServer {
	return startServerLease(t, 0)
}

func startServerLease(t *testing.T, lease time.Duration) *testServer {
	t.Helper()
	ts := &testServer{dir: t.TempDir(), state: t.TempDir(), lease: lease}
	if err := os.Chown(ts.dir, 1000, 1000); err != nil && os.Getuid() == 0 {
		t.Fatal(err)
	}
	ts.start(t, "127.0.0.1:0")
	return ts
}

func (ts *testServer) start(t *testing.T, listen string) {
	t.Helper()
	srv, err := server.New(server.Options{Exports: exports.Default(ts.dir), Listen: listen, StateDir: ts.state, Portmap: "off", GracePeriod: 5 * time.Second, Lease: ts.lease})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts.srv = srv
	ts.addr = srv.Addr().String()
	t.Cleanup(func() { ts.stop() })
}

func (ts *testServer) stop() {
	if ts.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ts.srv.Shutdown(ctx)
		ts.srv = nil
	}
}

func dial(t *testing.T, ts *testServer, minor uint32) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Dial(ctx, ts.addr, Options{Auth: testCred, Minor: minor})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestOpenWriteReadClose(t *testing.T) {
	for _, minor := range []uint32{1, 2} {
		t.Run(string(rune('0'+minor)), func(t *testing.T) {
			ts := startServer(t)
			c := dial(t, ts, minor)
			ctx := context.Background()
			o, _, err := c.OpenFile(ctx, "f", AccessBoth, Exclusive, 0o644, false)
			if err != nil {
				t.Fatal(err)
			}
			data := []byte("hello, nfs4")
			if _, _, _, err := o.WriteAt(ctx, data, 0, x.UNSTABLE4); err != nil {
				t.Fatal(err)
			}
			if _, err := o.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 100)
			n, eof, err := o.ReadAt(ctx, buf, 0)
			if err != nil || !eof || !bytes.Equal(buf[:n], data) {
				t.Fatalf("read %q eof %v err %v", buf[:n], eof, err)
			}
			if err := o.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(filepath.Join(ts.dir, "f")); !bytes.Equal(got, data) {
				t.Fatalf("server file %q", got)
			}
			if _, _, err := c.OpenFile(ctx, "f", AccessBoth, Exclusive, 0o644, false); !errors.Is(err, syscall.EEXIST) {
				t.Fatalf("exclusive create of an existing file: %v", err)
			}
		})
	}
}
