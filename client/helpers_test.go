package client

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/gonfs/gonfs/exports"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/server"
)

// testAuth is the credential of the tests: a plain user, since the
// default export squashes root.
var testAuth = &rpcxdr.AuthsysParms{Machinename: "client-test", Uid: 1000, Gid: 1000}

// versions are the protocol versions every round-trip test runs over.
var versions = []string{"3", "4.1", "4.2"}

type testServer struct {
	t     *testing.T
	srv   *server.Server
	dir   string
	state string
	addr  string
}

// startServer runs an embedded gonfs on 127.0.0.1 serving a fresh
// directory owned by uid 1000, with the portmapper off.
func startServer(t *testing.T) *testServer {
	t.Helper()
	ts := &testServer{t: t, dir: t.TempDir(), state: t.TempDir()}
	if os.Getuid() == 0 {
		if err := os.Chown(ts.dir, 1000, 1000); err != nil {
			t.Fatal(err)
		}
	}
	ts.start("127.0.0.1:0")
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) start(listen string) {
	ts.t.Helper()
	srv, err := server.New(server.Options{Exports: exports.Default(ts.dir), Listen: listen, StateDir: ts.state, Portmap: "off", GracePeriod: 10 * time.Second})
	if err != nil {
		ts.t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		ts.t.Fatal(err)
	}
	ts.srv, ts.addr = srv, srv.Addr().String()
}

func (ts *testServer) stop() {
	if ts.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ts.srv.Shutdown(ctx)
	ts.srv = nil
}

// url returns the server's URL for version v.
func (ts *testServer) url(v string) string {
	return fmt.Sprintf("nfs://%s/?version=%s", ts.addr, v)
}

func dialVersion(t *testing.T, ts *testServer, v string) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := Dial(ctx, ts.url(v), Options{Auth: testAuth})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if c.Version() != v {
		t.Fatalf("version %s, want %s", c.Version(), v)
	}
	return c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
