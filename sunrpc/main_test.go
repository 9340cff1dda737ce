package sunrpc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/xdr"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	testProg = 0x20000099
	testLow  = 3
	testHigh = 4
)

// Procedures of the test program.
const (
	procNull = iota
	procEcho
	procGarbage
	procSysErr
	procTooWeak
	procPanic
	procBlock // waits for the test: see testHandler.block
	procWhoAmI
	procNoReply
	procBadStatus
	procCountOnce  // non-idempotent counter
	procCountTwice // idempotent counter
	procBlockOnce  // non-idempotent, waits for the test
	procWaitCtx    // waits for its context to end
)

// testHandler serves the test program. Its counters and channels let tests
// see and steer what the server does.
type testHandler struct {
	entered chan uint32   // receives the xid of each blocking call that starts
	release chan struct{} // closing it lets blocking calls return
	active  atomic.Int32
	maxSeen atomic.Int32
	counts  [16]atomic.Int32
	ctxErr  chan error
}

func newTestHandler() *testHandler {
	return &testHandler{
		entered: make(chan uint32, 64),
		release: make(chan struct{}),
		ctxErr:  make(chan error, 1),
	}
}

func (h *testHandler) Idempotent(proc uint32) bool {
	return proc != procCountOnce && proc != procBlockOnce
}

func (h *testHandler) ServeRPC(ctx context.Context, c *Call, w *xdr.Writer) Status {
	if c.Proc < uint32(len(h.counts)) {
		h.counts[c.Proc].Add(1)
	}
	switch c.Proc {
	case procNull:
		return Success
	case procEcho:
		w.Buf = append(w.Buf, c.Args...)
		return Success
	case procGarbage:
		w.Uint32(7) // must be discarded
		return GarbageArgs
	case procSysErr:
		return SystemErr
	case procTooWeak:
		return AuthError(rpcxdr.AUTH_TOOWEAK)
	case procPanic:
		panic("test panic")
	case procBlock, procBlockOnce:
		n := h.active.Add(1)
		for {
			m := h.maxSeen.Load()
			if n <= m || h.maxSeen.CompareAndSwap(m, n) {
				break
			}
		}
		h.entered <- c.XID
		<-h.release
		h.active.Add(-1)
		w.Uint32(c.XID)
		return Success
	case procWhoAmI:
		w.Uint32(uint32(c.Cred.Flavor))
		w.Uint32(c.Cred.Sys.Stamp)
		w.String(c.Cred.Sys.Machinename)
		w.Uint32(c.Cred.Sys.Uid)
		w.Uint32(c.Cred.Sys.Gid)
		w.Uint32(uint32(len(c.Cred.Sys.Gids)))
		for _, g := range c.Cred.Sys.Gids {
			w.Uint32(g)
		}
		w.String(c.Transport)
		w.String(c.Remote.Addr().String())
		w.Bool(c.Conn != nil)
		return Success
	case procNoReply:
		return NoReply
	case procBadStatus:
		return Status(77)
	case procCountOnce, procCountTwice:
		w.Uint32(uint32(h.counts[c.Proc].Load()))
		return Success
	case procWaitCtx:
		h.entered <- c.XID
		<-ctx.Done()
		h.ctxErr <- ctx.Err()
		return SystemErr
	}
	return ProcUnavail
}

// lockedBuffer is a log sink safe for concurrent handlers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type testServer struct {
	srv     *Server
	h       *testHandler
	tcp     string
	udp     string
	log     *lockedBuffer
	stopped bool
	errc    chan error
}

// startServer serves the test program (versions 3 and 4) on ephemeral
// loopback ports; the server is shut down when the test ends. prepare, if
// set, runs before serving starts.
func startServer(t *testing.T, opts Options, prepare func(*Server)) *testServer {
	t.Helper()
	ts := &testServer{h: newTestHandler(), log: &lockedBuffer{}, errc: make(chan error, 2)}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(ts.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ts.srv = NewServer(opts)
	ts.srv.Register(testProg, testLow, ts.h)
	ts.srv.Register(testProg, testHigh, ts.h)
	if prepare != nil {
		prepare(ts.srv)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.tcp, ts.udp = l.Addr().String(), pc.LocalAddr().String()
	go func() { ts.errc <- ts.srv.ServeTCP(l) }()
	go func() { ts.errc <- ts.srv.ServeUDP(pc) }()
	t.Cleanup(func() { ts.stop(t) })
	return ts
}

func (ts *testServer) stop(t *testing.T) {
	t.Helper()
	if ts.stopped {
		return
	}
	ts.stopped = true
	select {
	case <-ts.h.release:
	default:
		close(ts.h.release)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	for range 2 {
		if err := <-ts.errc; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	}
}

func dialT(t *testing.T, network, addr string, opts ClientOptions) *Client {
	t.Helper()
	c, err := Dial(context.Background(), network, addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// encodeCall builds a call message (no record mark).
func encodeCall(xid, rpcvers, prog, vers, proc uint32, cred, verf rpcxdr.OpaqueAuth, args []byte) []byte {
	var w xdr.Writer
	appendCall(&w, xid, rpcvers, prog, vers, proc, cred, verf)
	w.Buf = append(w.Buf, args...)
	return w.Buf
}

func nullCall(xid uint32) []byte {
	return encodeCall(xid, 2, testProg, testLow, procNull, rpcxdr.OpaqueAuth{}, rpcxdr.OpaqueAuth{}, nil)
}

// frame wraps msg in one final fragment.
func frame(msg []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, lastFragment|uint32(len(msg)))
	return append(b, msg...)
}

// rawConn is a TCP connection to the server that speaks bytes.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	// A guard against hanging forever if the server misbehaves; no
	// assertion depends on it.
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	return &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (r *rawConn) write(b []byte) {
	r.t.Helper()
	if _, err := r.nc.Write(b); err != nil {
		r.t.Fatal(err)
	}
}

// reply reads one reply record.
func (r *rawConn) reply() []byte {
	r.t.Helper()
	rec, _, err := readRecord(r.br, nil, 1<<20)
	if err != nil {
		r.t.Fatalf("reading reply: %v", err)
	}
	return rec
}

// closed checks that the server closed the connection without replying.
func (r *rawConn) closed() {
	r.t.Helper()
	rec, _, err := readRecord(r.br, nil, 1<<20)
	if err == nil {
		r.t.Fatalf("got reply %x, want the connection closed", rec)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		r.t.Fatalf("connection still open: %v", err)
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !isReset(err) {
		r.t.Fatalf("read: %v, want end of stream", err)
	}
}

func isReset(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe)
}

func replyXID(rec []byte) uint32 { return binary.BigEndian.Uint32(rec) }

// checkServes checks the server still answers a fresh client.
func checkServes(t *testing.T, ts *testServer) {
	t.Helper()
	c := dialT(t, "tcp", ts.tcp, ClientOptions{})
	if err := c.Call(context.Background(), testProg, testLow, procNull, nil, nil); err != nil {
		t.Fatalf("NULL on a fresh connection: %v", err)
	}
}
