package sunrpc

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/xdr"
)

// The program a test client serves for the server (an NFSv4.1 client picks
// its callback program number itself; 0x40000000 is what Linux uses), and
// the server program whose calls hand their Conn to the test.
const (
	cbProg   = 0x40000000
	cbVers   = 1
	keepProg = 0x20000098
)

// Procedures of the callback program.
const (
	cbNull = iota
	cbDouble
	cbBlock // waits for release or its context
	cbPanic
	cbWhoAmI
	cbCallServer // makes a call to the server from inside the callback
)

// cbHandler is the test client's callback service.
type cbHandler struct {
	client  atomic.Pointer[Client] // for cbCallServer
	entered chan uint32
	release chan struct{}
	ctxErr  chan error
	served  atomic.Int32
}

func newCBHandler() *cbHandler {
	return &cbHandler{entered: make(chan uint32, 64), release: make(chan struct{}), ctxErr: make(chan error, 64)}
}

func (h *cbHandler) ServeRPC(ctx context.Context, c *Call, w *xdr.Writer) Status {
	h.served.Add(1)
	var r xdr.Reader
	r.Reset(c.Args)
	switch c.Proc {
	case cbNull:
		return Success
	case cbDouble:
		n := r.Uint32()
		if r.Done() != nil {
			return GarbageArgs
		}
		w.Uint32(2 * n)
		return Success
	case cbBlock:
		h.entered <- c.XID
		select {
		case <-h.release:
			return Success
		case <-ctx.Done():
			h.ctxErr <- ctx.Err()
			return SystemErr
		}
	case cbPanic:
		panic("callback panic")
	case cbWhoAmI:
		w.Uint32(uint32(c.Cred.Flavor))
		w.Uint32(c.Cred.Sys.Uid)
		w.String(c.Transport)
		w.Bool(c.Conn != nil)
		return Success
	case cbCallServer:
		n := r.Uint32()
		var got xdrUint32
		if err := h.client.Load().Call(ctx, testProg, testLow, procEcho, xdrUint32(n+1), &got); err != nil {
			return SystemErr
		}
		w.Uint32(uint32(got))
		return Success
	}
	return ProcUnavail
}

// keepConns returns a Handler for keepProg that sends the Conn of each call
// it serves on the channel.
func keepConns() (Handler, chan *Conn) {
	ch := make(chan *Conn, 16)
	return HandlerFunc(func(ctx context.Context, c *Call, w *xdr.Writer) Status {
		ch <- c.Conn
		return Success
	}), ch
}

// backchannelPair starts a server and a client over TCP and returns the
// server's Conn for the client's connection.
func backchannelPair(t *testing.T, sopts Options, copts ClientOptions) (*testServer, *Client, *Conn) {
	t.Helper()
	keep, conns := keepConns()
	ts := startServer(t, sopts, func(s *Server) { s.Register(keepProg, 1, keep) })
	c := dialT(t, "tcp", ts.tcp, copts)
	if err := c.Call(context.Background(), keepProg, 1, 0, nil, nil); err != nil {
		t.Fatal(err)
	}
	return ts, c, <-conns
}

func cbMux(h Handler) *Mux {
	m := new(Mux)
	m.Register(cbProg, cbVers, h)
	return m
}

// TestBackchannelInterleaved has the server call the client back over the
// client's connection many times while the client calls the server over the
// same connection, so that CALL and REPLY records interleave in both
// directions; some callbacks themselves call the server.
func TestBackchannelInterleaved(t *testing.T) {
	cb := newCBHandler()
	_, c, conn := backchannelPair(t, Options{}, ClientOptions{Handler: cbMux(cb)})
	cb.client.Store(c)
	ctx := context.Background()
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := range uint32(n) {
		wg.Add(3)
		go func() { // server → client
			defer wg.Done()
			var got xdrUint32
			if err := conn.Call(ctx, cbProg, cbVers, cbDouble, nil, xdrUint32(i), &got); err != nil || uint32(got) != 2*i {
				errs <- fmt.Errorf("callback %d: %d, %v", i, got, err)
			}
		}()
		go func() { // client → server
			defer wg.Done()
			var got xdrUint32
			if err := c.Call(ctx, testProg, testLow, procEcho, xdrUint32(i), &got); err != nil || uint32(got) != i {
				errs <- fmt.Errorf("call %d: %d, %v", i, got, err)
			}
		}()
		go func() { // server → client → server
			defer wg.Done()
			var got xdrUint32
			if err := conn.Call(ctx, cbProg, cbVers, cbCallServer, nil, xdrUint32(i), &got); err != nil || uint32(got) != i+1 {
				errs <- fmt.Errorf("nested callback %d: %d, %v", i, got, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := cb.served.Load(); got != 2*n {
		t.Errorf("client served %d callbacks, want %d", got, 2*n)
	}
	if u := conn.UnmatchedReplies(); u != 0 {
		t.Errorf("%d unmatched replies", u)
	}
}

// TestBackchannelStatuses checks every answer a client gives to the
// server's calls, through the dispatch code the server uses too.
func TestBackchannelStatuses(t *testing.T) {
	cb := newCBHandler()
	var plainSeen atomic.Uint64
	plain := HandlerFunc(func(ctx context.Context, c *Call, w *xdr.Writer) Status {
		plainSeen.Store(progKey(c.Prog, c.Vers))
		return Success
	})
	sys := &rpcxdr.AuthsysParms{Machinename: "server", Uid: 42, Gid: 7}
	tests := []struct {
		name    string
		handler Handler
		prog    uint32
		vers    uint32
		proc    uint32
		cred    *rpcxdr.OpaqueAuth
		args    xdr.Marshaler
		want    []byte // results of a SUCCESS
		err     error
	}{
		{name: "no handler", prog: cbProg, vers: cbVers, err: &AcceptError{Stat: rpcxdr.PROG_UNAVAIL}},
		{name: "null", handler: cbMux(cb), prog: cbProg, vers: cbVers, want: []byte{}},
		{name: "double", handler: cbMux(cb), prog: cbProg, vers: cbVers, proc: cbDouble, args: xdrUint32(21), want: []byte{0, 0, 0, 42}},
		{name: "garbage args", handler: cbMux(cb), prog: cbProg, vers: cbVers, proc: cbDouble, err: &AcceptError{Stat: rpcxdr.GARBAGE_ARGS}},
		{name: "unknown program", handler: cbMux(cb), prog: cbProg + 1, vers: cbVers, err: &AcceptError{Stat: rpcxdr.PROG_UNAVAIL}},
		{name: "unknown version", handler: cbMux(cb), prog: cbProg, vers: 4, err: &AcceptError{Stat: rpcxdr.PROG_MISMATCH, Low: cbVers, High: cbVers}},
		{name: "unknown procedure", handler: cbMux(cb), prog: cbProg, vers: cbVers, proc: 99, err: &AcceptError{Stat: rpcxdr.PROC_UNAVAIL}},
		{name: "panic", handler: cbMux(cb), prog: cbProg, vers: cbVers, proc: cbPanic, err: &AcceptError{Stat: rpcxdr.SYSTEM_ERR}},
		{name: "auth_none", handler: cbMux(cb), prog: cbProg, vers: cbVers, proc: cbWhoAmI,
			want: xdr.Marshal(nil, whoAmI{flavor: rpcxdr.AUTH_NONE, transport: "tcp"})},
		{name: "auth_sys", handler: cbMux(cb), prog: cbProg, vers: cbVers, proc: cbWhoAmI, cred: AuthSysCred(sys),
			want: xdr.Marshal(nil, whoAmI{flavor: rpcxdr.AUTH_SYS, uid: 42, transport: "tcp"})},
		{name: "bad flavor", handler: cbMux(cb), prog: cbProg, vers: cbVers, cred: &rpcxdr.OpaqueAuth{Flavor: rpcxdr.RPCSEC_GSS},
			err: &RejectError{Stat: rpcxdr.AUTH_ERROR, Auth: rpcxdr.AUTH_BADCRED}},
		{name: "plain handler takes any program", handler: plain, prog: 7, vers: 9, want: []byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := &lockedBuffer{}
			_, _, conn := backchannelPair(t, Options{}, ClientOptions{
				Handler: tt.handler,
				Logger:  slog.New(slog.NewTextHandler(log, nil)),
			})
			var got rawResults
			err := conn.Call(context.Background(), tt.prog, tt.vers, tt.proc, tt.cred, tt.args, &got)
			if tt.err != nil {
				if !sameRPCError(err, tt.err) {
					t.Fatalf("got %v, want %v", err, tt.err)
				}
			} else if err != nil || string(got) != string(tt.want) {
				t.Fatalf("got %x, %v; want %x", []byte(got), err, tt.want)
			}
			if tt.proc == cbPanic && !strings.Contains(log.String(), "callback panic") {
				t.Errorf("panic not logged:\n%s", log)
			}
		})
	}
	if plainSeen.Load() != progKey(7, 9) {
		t.Errorf("plain handler saw %#x", plainSeen.Load())
	}
}

type whoAmI struct {
	flavor    rpcxdr.AuthFlavor
	uid       uint32
	transport string
}

func (x whoAmI) Encode(w *xdr.Writer) {
	w.Uint32(uint32(x.flavor))
	w.Uint32(x.uid)
	w.String(x.transport)
	w.Bool(false) // Call.Conn is nil on a client
}

// rawResults keeps the encoded results.
type rawResults []byte

func (r *rawResults) Decode(d *xdr.Reader) { *r = append(rawResults{}, d.Rest()...) }

// TestBackchannelTimeout checks a callback the client never answers: the
// caller's ctx ends it, the client's handler stays unaffected, and the
// connection keeps working both ways.
func TestBackchannelTimeout(t *testing.T) {
	cb := newCBHandler()
	_, c, conn := backchannelPair(t, Options{}, ClientOptions{Handler: cbMux(cb)})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond) // the handler blocks until released
	defer cancel()
	if err := conn.Call(ctx, cbProg, cbVers, cbBlock, nil, nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
	<-cb.entered
	close(cb.release) // its reply now arrives late and is dropped
	var got xdrUint32
	if err := conn.Call(context.Background(), cbProg, cbVers, cbDouble, nil, xdrUint32(4), &got); err != nil || got != 8 {
		t.Fatalf("callback after timeout: %d, %v", got, err)
	}
	if err := c.Call(context.Background(), testProg, testLow, procNull, nil, nil); err != nil {
		t.Fatalf("call after timeout: %v", err)
	}
}

// rawClient is a client made of bytes, to see and steer the records of a
// connection one by one.
type rawClient struct {
	*rawConn
	conn *Conn // the server's end
}

func dialRawBackchannel(t *testing.T, sopts Options) (*testServer, *rawClient) {
	t.Helper()
	keep, conns := keepConns()
	ts := startServer(t, sopts, func(s *Server) { s.Register(keepProg, 1, keep) })
	rc := dialRaw(t, ts.tcp)
	rc.write(frame(encodeCall(1, 2, keepProg, 1, 0, rpcxdr.OpaqueAuth{}, rpcxdr.OpaqueAuth{}, nil)))
	if got := rc.reply(); replyXID(got) != 1 {
		t.Fatalf("reply %x", got)
	}
	return ts, &rawClient{rawConn: rc, conn: <-conns}
}

// call reads one CALL record and returns its xid and procedure.
func (r *rawClient) call() (xid, proc uint32) {
	r.t.Helper()
	rec := r.reply()
	var h callHeader
	if st := decodeCallHeader(rec, &h); st != hdrOK {
		r.t.Fatalf("record %x is not a call (%d)", rec, st)
	}
	return h.xid, h.proc
}

// sync sends a NULL call and reads its reply: once it is back, the server's
// reader has processed every record sent before it.
func (r *rawClient) sync(xid uint32) {
	r.t.Helper()
	r.write(frame(nullCall(xid)))
	if got := r.reply(); replyXID(got) != xid {
		r.t.Fatalf("reply %x, want xid %d", got, xid)
	}
}

// TestBackchannelUnmatchedReply checks that REPLY records for no pending
// call (an unknown xid, a call whose ctx ended) are dropped and counted, and
// that the connection stays open.
func TestBackchannelUnmatchedReply(t *testing.T) {
	_, rc := dialRawBackchannel(t, Options{})
	rc.write(frame(nullReply(0xdead)))
	rc.sync(2)
	if u := rc.conn.UnmatchedReplies(); u != 1 {
		t.Fatalf("%d unmatched replies, want 1", u)
	}

	// A late reply to a call that gave up.
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	go func() { res <- rc.conn.Call(ctx, cbProg, cbVers, cbNull, nil, nil, nil) }()
	xid, _ := rc.call()
	cancel()
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	rc.write(frame(nullReply(xid)))
	rc.sync(3)
	if u := rc.conn.UnmatchedReplies(); u != 2 {
		t.Fatalf("%d unmatched replies, want 2", u)
	}

	// And a reply that matches still works.
	go func() { res <- rc.conn.Call(context.Background(), cbProg, cbVers, cbNull, nil, nil, nil) }()
	xid, _ = rc.call()
	rc.write(frame(nullReply(xid)))
	if err := <-res; err != nil {
		t.Fatalf("matched reply: %v", err)
	}
}

// TestBackchannelConnClosed checks that the client closing its connection
// releases every waiting call at once with ErrConnClosed, and that later
// calls fail the same way.
func TestBackchannelConnClosed(t *testing.T) {
	_, rc := dialRawBackchannel(t, Options{})
	const n = 5
	res := make(chan error, n)
	for range n {
		go func() { res <- rc.conn.Call(context.Background(), cbProg, cbVers, cbNull, nil, nil, nil) }()
	}
	for range n {
		rc.call() // all n are sent and waiting
	}
	rc.nc.Close()
	for range n {
		if err := <-res; !errors.Is(err, ErrConnClosed) {
			t.Fatalf("got %v, want ErrConnClosed", err)
		}
	}
	<-rc.conn.Context().Done()
	if err := rc.conn.Call(context.Background(), cbProg, cbVers, cbNull, nil, nil, nil); !errors.Is(err, ErrConnClosed) {
		t.Fatalf("later call: %v", err)
	}
}

// TestBackchannelShutdown checks that Shutdown does not wait for ever on a
// handler that is itself waiting for a callback's reply: the reading stops,
// the callback fails with ErrConnClosed, and the handler can return.
func TestBackchannelShutdown(t *testing.T) {
	callbackErr := make(chan error, 1)
	ts := startServer(t, Options{}, func(s *Server) {
		s.Register(keepProg, 1, HandlerFunc(func(ctx context.Context, c *Call, w *xdr.Writer) Status {
			callbackErr <- c.Conn.Call(ctx, cbProg, cbVers, cbNull, nil, nil, nil)
			return Success
		}))
	})
	rc := &rawClient{rawConn: dialRaw(t, ts.tcp)}
	rc.write(frame(encodeCall(1, 2, keepProg, 1, 0, rpcxdr.OpaqueAuth{}, rpcxdr.OpaqueAuth{}, nil)))
	rc.call() // the callback is waiting; never answered
	ts.stop(t)
	if err := <-callbackErr; !errors.Is(err, ErrConnClosed) {
		t.Fatalf("callback: %v, want ErrConnClosed", err)
	}
	if got := rc.reply(); replyXID(got) != 1 {
		t.Fatalf("reply %x, want the handler's reply to xid 1", got)
	}
}

// TestBackchannelBound checks Options.MaxCallsPerConn: with one call
// waiting, another waits for a slot without being sent (here until its ctx
// ends), and a slot freed by a reply serves the next call.
func TestBackchannelBound(t *testing.T) {
	_, rc := dialRawBackchannel(t, Options{MaxCallsPerConn: 1})
	res := make(chan error, 1)
	go func() { res <- rc.conn.Call(context.Background(), cbProg, cbVers, 1, nil, nil, nil) }()
	xid, proc := rc.call()
	if proc != 1 {
		t.Fatalf("first call has proc %d", proc)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := rc.conn.Call(ctx, cbProg, cbVers, 2, nil, nil, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("second call: %v, want context.Canceled", err)
	}
	rc.write(frame(nullReply(xid)))
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	go func() { res <- rc.conn.Call(context.Background(), cbProg, cbVers, 3, nil, nil, nil) }()
	xid, proc = rc.call()
	if proc != 3 {
		t.Fatalf("next call sent has proc %d, want 3 (2 must never be sent)", proc)
	}
	rc.write(frame(nullReply(xid)))
	if err := <-res; err != nil {
		t.Fatal(err)
	}
}

// TestConnID checks that connections get distinct, non-zero IDs.
func TestConnID(t *testing.T) {
	keep, conns := keepConns()
	ts := startServer(t, Options{}, func(s *Server) { s.Register(keepProg, 1, keep) })
	seen := map[uint64]bool{}
	for range 3 {
		c := dialT(t, "tcp", ts.tcp, ClientOptions{})
		for range 2 { // two calls on one connection: one ID
			if err := c.Call(context.Background(), keepProg, 1, 0, nil, nil); err != nil {
				t.Fatal(err)
			}
		}
		a, b := <-conns, <-conns
		if a != b || a.ID() == 0 || seen[a.ID()] {
			t.Fatalf("IDs %d and %d (seen %v)", a.ID(), b.ID(), seen)
		}
		seen[a.ID()] = true
	}
}

// listenRaw returns a Client connected to a server made of bytes, to
// steer what the Client reads.
func listenRaw(t *testing.T, copts ClientOptions) (*rawConn, *Client) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c := dialT(t, "tcp", l.Addr().String(), copts)
	nc, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(30 * time.Second)) // guard only
	return &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}, c
}

func isCall(rec []byte) bool { return binary.BigEndian.Uint32(rec[4:]) == uint32(rpcxdr.CALL) }

// TestClientCallbackBound checks ClientOptions.MaxCallbacks: a call beyond
// the bound is dropped by the client's reader, which meanwhile keeps
// delivering replies to the client's own calls.
func TestClientCallbackBound(t *testing.T) {
	cb := newCBHandler()
	log := &lockedBuffer{}
	rs, c := listenRaw(t, ClientOptions{Handler: cbMux(cb), MaxCallbacks: 1, Logger: slog.New(slog.NewTextHandler(log, nil))})
	res := make(chan error, 1)
	go func() { res <- c.Call(context.Background(), testProg, testLow, procNull, nil, nil) }()
	ping := rs.reply()
	block := encodeCall(100, 2, cbProg, cbVers, cbBlock, rpcxdr.OpaqueAuth{}, rpcxdr.OpaqueAuth{}, nil)
	extra := encodeCall(101, 2, cbProg, cbVers, cbNull, rpcxdr.OpaqueAuth{}, rpcxdr.OpaqueAuth{}, nil)
	rs.write(append(append(frame(block), frame(extra)...), frame(nullReply(replyXID(ping)))...))
	if err := <-res; err != nil {
		t.Fatal(err) // the reply came through while a callback runs
	}
	if !strings.Contains(log.String(), "dropped a call") {
		t.Fatalf("the second callback was not dropped:\n%s", log)
	}
	<-cb.entered
	close(cb.release)
	go func() { res <- c.Call(context.Background(), testProg, testLow, procNull, nil, nil) }()
	// Next: the callback's reply and the second ping, in either order; no
	// reply to 101.
	var pingXID uint32
	for range 2 {
		rec := rs.reply()
		switch {
		case isCall(rec):
			pingXID = replyXID(rec)
		case replyXID(rec) != 100:
			t.Fatalf("reply to xid %d", replyXID(rec))
		}
	}
	rs.write(frame(nullReply(pingXID)))
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	if n := cb.served.Load(); n != 1 {
		t.Fatalf("served %d callbacks, want 1", n)
	}
}

// TestClientCloseCancelsCallbacks checks that Close cancels running
// callback handlers and waits for them.
func TestClientCloseCancelsCallbacks(t *testing.T) {
	cb := newCBHandler()
	rs, c := listenRaw(t, ClientOptions{Handler: cbMux(cb)})
	rs.write(frame(encodeCall(7, 2, cbProg, cbVers, cbBlock, rpcxdr.OpaqueAuth{}, rpcxdr.OpaqueAuth{}, nil)))
	<-cb.entered
	c.Close()
	select {
	case err := <-cb.ctxErr:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("handler context: %v", err)
		}
	default:
		t.Fatal("Close returned before the handler did")
	}
}
