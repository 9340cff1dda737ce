package nfs4

import (
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// cutProxy forwards TCP connections to a server. Until cut is armed it
// passes everything; once armed, the next reply bytes from the server are
// swallowed and both sides closed, so the calls in flight were executed
// but their replies lost. Later connections pass normally.
type cutProxy struct {
	l      net.Listener
	target string
	armed  atomic.Bool
	cuts   atomic.Int32
	wg     sync.WaitGroup
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{l: l, target: target}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() { l.Close(); p.wg.Wait() })
	return p
}

func (p *cutProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.wg.Add(2)
		go func() { defer p.wg.Done(); io.Copy(s, c); s.Close() }()
		go func() {
			defer p.wg.Done()
			buf := make([]byte, 64<<10)
			for {
				n, err := s.Read(buf)
				if n > 0 && p.armed.CompareAndSwap(true, false) {
					p.cuts.Add(1)
					break // the reply is lost
				}
				if n > 0 {
					if _, werr := c.Write(buf[:n]); werr != nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			c.Close()
			s.Close()
		}()
	}
}

// TestReplayAfterLostReply: a REMOVE runs on the server but its reply is
// lost with the connection. The client reconnects, binds the new
// connection to the session and sends the same request on the same slot
// and sequence id; the server answers from its reply cache (RFC 8881
// §2.10.6.2). Were the REMOVE executed again, it would fail with
// NFS4ERR_NOENT.
func TestReplayAfterLostReply(t *testing.T) {
	ts := startServer(t)
	proxy := newCutProxy(t, ts.addr)
	c, err := Dial(testCtx(t), proxy.l.Addr().String(), Options{Auth: testCred})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := testCtx(t)
	for i := range 3 {
		name := fmt.Sprintf("f%d", i)
		o, _, err := c.OpenFile(ctx, name, AccessWrite, Unchecked, 0o644, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Close(ctx); err != nil {
			t.Fatal(err)
		}
		proxy.armed.Store(true)
		if err := c.Remove(ctx, name); err != nil {
			t.Fatalf("REMOVE replayed after a lost reply: %v", err)
		}
	}
	if n := proxy.cuts.Load(); n != 3 {
		t.Fatalf("%d replies cut, want 3", n)
	}
	if _, _, err := c.Stat(ctx, "f0"); !IsStatus(err, 2) {
		t.Errorf("removed file: %v", err)
	}
}

// TestReplayConcurrent: several REMOVEs are in flight when the connection
// drops; each is replayed on the new connection on its own slot and each
// succeeds exactly once.
func TestReplayConcurrent(t *testing.T) {
	ts := startServer(t)
	proxy := newCutProxy(t, ts.addr)
	c, err := Dial(testCtx(t), proxy.l.Addr().String(), Options{Auth: testCred})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := testCtx(t)
	const n = 8
	for i := range n {
		o, _, err := c.OpenFile(ctx, fmt.Sprintf("g%d", i), AccessWrite, Unchecked, 0o644, false)
		if err != nil {
			t.Fatal(err)
		}
		o.Close(ctx)
	}
	proxy.armed.Store(true)
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- c.Remove(ctx, fmt.Sprintf("g%d", i)) }()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("REMOVE: %v", err)
		}
	}
	if proxy.cuts.Load() != 1 {
		t.Fatalf("%d cuts, want 1", proxy.cuts.Load())
	}
}
