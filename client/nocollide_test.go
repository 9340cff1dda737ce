package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/gonfs/gonfs/internal/wirecheck"
	"github.com/gonfs/gonfs/trace"
)

// TestTwoClientsNeverCollide: two library clients on one machine (one
// hostname, the default client owner) work at once, and a capture of
// their traffic, judged by our own analyzer, holds no NFS4ERR_BADSESSION,
// NFS4ERR_STALE_CLIENTID or client-owner collision: the owner is unique
// per process instance by default, never the hostname alone. It runs
// against gonfs always, and against nfs-ganesha when GONFS_GANESHA_URL
// names one (as TestGanesha does).
func TestTwoClientsNeverCollide(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("capturing needs root")
	}
	ts := startServer(t)
	port := ts.srv.Addr().Port()
	checkNoCollision(t, fmt.Sprintf("nfs://%s/?version=4.2", ts.addr), int(port))
	if u := os.Getenv("GONFS_GANESHA_URL"); u != "" {
		t.Run("ganesha", func(t *testing.T) {
			pu, err := ParseURL(u)
			if err != nil {
				t.Fatal(err)
			}
			p := pu.Port
			if p == 0 {
				p = 2049
			}
			checkNoCollision(t, u, p)
		})
	}
}

func checkNoCollision(t *testing.T, url string, port int) {
	ctx := testCtx(t)
	c, err := wirecheck.Start(ctx, "lo", port, t.TempDir())
	if errors.Is(err, wirecheck.ErrUnavailable) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	var clients []*Client
	for range 2 {
		cl, err := Dial(ctx, url, Options{Auth: testAuth})
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, cl)
	}
	if bytes.Equal(clients[0].NFS4().Owner(), clients[1].NFS4().Owner()) {
		t.Fatalf("both clients present the owner %q", clients[0].NFS4().Owner())
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for i, cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- work(ctx, cl, fmt.Sprintf("nocollide-%d-%d", os.Getpid(), i))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for _, cl := range clients {
		cl.Close()
	}
	rep, err := c.Stop()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(c.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := trace.Analyze(f, trace.Options{Ports: []uint16{uint16(port)}})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Calls == 0 {
		t.Fatalf("the capture holds no calls (wire check: %s)", rep)
	}
	for _, e := range tr.Errors {
		if strings.Contains(e.Status, "BADSESSION") || strings.Contains(e.Status, "STALE_CLIENTID") {
			t.Errorf("%d × %s on %s in the capture", e.Count, e.Status, e.Op)
		}
	}
	for _, fd := range tr.Findings {
		if fd.Kind == "client-owner-collision" || fd.Kind == "client-restarts" {
			t.Errorf("finding: %s", fd.Summary)
		}
	}
	t.Logf("%d calls, %d replies in the capture; no collision", tr.Calls, tr.Replies)
}

// work creates, writes, reads back and removes a few files.
func work(ctx context.Context, cl *Client, dir string) error {
	if err := cl.Mkdir(ctx, dir, 0o755); err != nil {
		return err
	}
	for i := range 20 {
		name := fmt.Sprintf("%s/f%d", dir, i)
		f, err := cl.Create(ctx, name)
		if err != nil {
			return err
		}
		if _, err := f.Write([]byte(name)); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		if _, err := cl.Stat(name); err != nil {
			return err
		}
	}
	return cl.RemoveAll(ctx, dir)
}
