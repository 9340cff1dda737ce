package sunrpc

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/xdr"
)

func authSysBody(a rpcxdr.AuthsysParms) []byte { return xdr.Marshal(nil, &a) }

// TestReplyStatuses covers every reply of RFC 5531 §9 the server sends, over
// both transports.
func TestReplyStatuses(t *testing.T) {
	ts := startServer(t, Options{}, nil)
	sys := &rpcxdr.OpaqueAuth{Flavor: rpcxdr.AUTH_SYS, Body: authSysBody(rpcxdr.AuthsysParms{Machinename: "m", Uid: 1, Gid: 2})}
	seventeen := rpcxdr.AuthsysParms{Machinename: "m", Gids: make([]uint32, 17)}
	tests := []struct {
		name string
		h    CallHeader
		args []byte
		want []byte // results of a SUCCESS
		err  error  // *AcceptError or *RejectError
	}{
		{name: "null", h: CallHeader{Prog: testProg, Vers: testLow, Proc: procNull}, want: []byte{}},
		{name: "echo", h: CallHeader{Prog: testProg, Vers: testHigh, Proc: procEcho}, args: []byte{1, 2, 3, 4}, want: []byte{1, 2, 3, 4}},
		{name: "auth_sys", h: CallHeader{Prog: testProg, Vers: testLow, Proc: procNull, Cred: sys}, want: []byte{}},
		{name: "prog unavail", h: CallHeader{Prog: 12345, Vers: 1, Proc: procNull}, err: &AcceptError{Stat: rpcxdr.PROG_UNAVAIL}},
		{name: "prog mismatch low", h: CallHeader{Prog: testProg, Vers: 2, Proc: procNull}, err: &AcceptError{Stat: rpcxdr.PROG_MISMATCH, Low: testLow, High: testHigh}},
		{name: "prog mismatch high", h: CallHeader{Prog: testProg, Vers: 5, Proc: procNull}, err: &AcceptError{Stat: rpcxdr.PROG_MISMATCH, Low: testLow, High: testHigh}},
		{name: "proc unavail", h: CallHeader{Prog: testProg, Vers: testLow, Proc: 999}, err: &AcceptError{Stat: rpcxdr.PROC_UNAVAIL}},
		{name: "garbage args", h: CallHeader{Prog: testProg, Vers: testLow, Proc: procGarbage}, err: &AcceptError{Stat: rpcxdr.GARBAGE_ARGS}},
		{name: "system err", h: CallHeader{Prog: testProg, Vers: testLow, Proc: procSysErr}, err: &AcceptError{Stat: rpcxdr.SYSTEM_ERR}},
		{name: "panic", h: CallHeader{Prog: testProg, Vers: testLow, Proc: procPanic}, err: &AcceptError{Stat: rpcxdr.SYSTEM_ERR}},
		{name: "after panic", h: CallHeader{Prog: testProg, Vers: testLow, Proc: procEcho}, args: []byte{9, 9, 9, 9}, want: []byte{9, 9, 9, 9}},
		{name: "invalid status", h: CallHeader{Prog: testProg, Vers: testLow, Proc: procBadStatus}, err: &AcceptError{Stat: rpcxdr.SYSTEM_ERR}},
		{name: "too weak", h: CallHeader{Prog: testProg, Vers: testLow, Proc: procTooWeak}, err: &RejectError{Stat: rpcxdr.AUTH_ERROR, Auth: rpcxdr.AUTH_TOOWEAK}},
		{name: "rpcvers 3", h: CallHeader{RPCVers: 3, Prog: testProg, Vers: testLow, Proc: procNull}, err: &RejectError{Stat: rpcxdr.RPC_MISMATCH, Low: 2, High: 2}},
		{name: "rpcvers 1", h: CallHeader{RPCVers: 1, Prog: 12345, Vers: testLow, Proc: procNull}, err: &RejectError{Stat: rpcxdr.RPC_MISMATCH, Low: 2, High: 2}},
		{name: "unknown flavor", h: CallHeader{Prog: testProg, Vers: testLow, Proc: procNull, Cred: &rpcxdr.OpaqueAuth{Flavor: 99}}, err: &RejectError{Stat: rpcxdr.AUTH_ERROR, Auth: rpcxdr.AUTH_BADCRED}},
		{name: "rpcsec_gss", h: CallHeader{Prog: testProg, Vers: testLow, Proc: procNull, Cred: &rpcxdr.OpaqueAuth{Flavor: rpcxdr.RPCSEC_GSS, Body: []byte{0, 0, 0, 1}}}, err: &RejectError{Stat: rpcxdr.AUTH_ERROR, Auth: rpcxdr.AUTH_BADCRED}},
		{name: "auth_none with body", h: CallHeader{Prog: testProg, Vers: testLow, Proc: procNull, Cred: &rpcxdr.OpaqueAuth{Flavor: rpcxdr.AUTH_NONE, Body: []byte{1, 2, 3, 4}}}, err: &RejectError{Stat: rpcxdr.AUTH_ERROR, Auth: rpcxdr.AUTH_BADCRED}},
		{name: "auth_sys truncated", h: CallHeader{Prog: testProg, Vers: testLow, Proc: procNull, Cred: &rpcxdr.OpaqueAuth{Flavor: rpcxdr.AUTH_SYS, Body: sys.Body[:12]}}, err: &RejectError{Stat: rpcxdr.AUTH_ERROR, Auth: rpcxdr.AUTH_BADCRED}},
		{name: "auth_sys trailing", h: CallHeader{Prog: testProg, Vers: testLow, Proc: procNull, Cred: &rpcxdr.OpaqueAuth{Flavor: rpcxdr.AUTH_SYS, Body: append(bytes.Clone(sys.Body), 0, 0, 0, 0)}}, err: &RejectError{Stat: rpcxdr.AUTH_ERROR, Auth: rpcxdr.AUTH_BADCRED}},
		{name: "auth_sys 17 gids", h: CallHeader{Prog: testProg, Vers: testLow, Proc: procNull, Cred: &rpcxdr.OpaqueAuth{Flavor: rpcxdr.AUTH_SYS, Body: authSysBody(seventeen)}}, err: &RejectError{Stat: rpcxdr.AUTH_ERROR, Auth: rpcxdr.AUTH_BADCRED}},
		{name: "auth_sys long name", h: CallHeader{Prog: testProg, Vers: testLow, Proc: procNull, Cred: &rpcxdr.OpaqueAuth{Flavor: rpcxdr.AUTH_SYS, Body: authSysBody(rpcxdr.AuthsysParms{Machinename: strings.Repeat("x", 256)})}}, err: &RejectError{Stat: rpcxdr.AUTH_ERROR, Auth: rpcxdr.AUTH_BADCRED}},
		{name: "cred over 400 bytes", h: CallHeader{Prog: testProg, Vers: testLow, Proc: procNull, Cred: &rpcxdr.OpaqueAuth{Flavor: rpcxdr.AUTH_SYS, Body: make([]byte, 404)}}, err: &RejectError{Stat: rpcxdr.AUTH_ERROR, Auth: rpcxdr.AUTH_BADCRED}},
		{name: "verifier flavor", h: CallHeader{Prog: testProg, Vers: testLow, Proc: procNull, Verf: &rpcxdr.OpaqueAuth{Flavor: rpcxdr.AUTH_SYS}}, err: &RejectError{Stat: rpcxdr.AUTH_ERROR, Auth: rpcxdr.AUTH_BADVERF}},
		{name: "verifier over 400 bytes", h: CallHeader{Prog: testProg, Vers: testLow, Proc: procNull, Verf: &rpcxdr.OpaqueAuth{Body: make([]byte, 404)}}, err: &RejectError{Stat: rpcxdr.AUTH_ERROR, Auth: rpcxdr.AUTH_BADVERF}},
	}
	for _, network := range []string{"tcp", "udp"} {
		addr := ts.tcp
		if network == "udp" {
			addr = ts.udp
		}
		c := dialT(t, network, addr, ClientOptions{})
		for _, tt := range tests {
			t.Run(network+"/"+tt.name, func(t *testing.T) {
				got, err := c.CallRaw(context.Background(), tt.h, tt.args)
				if tt.err != nil {
					if !sameRPCError(err, tt.err) {
						t.Fatalf("error %v (%#v), want %v", err, err, tt.err)
					}
					return
				}
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if !bytes.Equal(got, tt.want) {
					t.Fatalf("results %x, want %x", got, tt.want)
				}
			})
		}
	}
	if log := ts.log.String(); !strings.Contains(log, "handler panic") || !strings.Contains(log, "goroutine") {
		t.Errorf("log lacks the panic and its stack:\n%s", log)
	}
}

func sameRPCError(got, want error) bool {
	switch w := want.(type) {
	case *AcceptError:
		var g *AcceptError
		return errors.As(got, &g) && *g == *w
	case *RejectError:
		var g *RejectError
		return errors.As(got, &g) && *g == *w
	}
	return false
}

// TestAuthSysReachesHandler checks the decoded credential and transport
// facts a handler sees.
func TestAuthSysReachesHandler(t *testing.T) {
	ts := startServer(t, Options{}, nil)
	a := rpcxdr.AuthsysParms{Stamp: 77, Machinename: "client.example", Uid: 1000, Gid: 100, Gids: []uint32{4, 24, 27}}
	for _, network := range []string{"tcp", "udp"} {
		t.Run(network, func(t *testing.T) {
			addr := ts.tcp
			if network == "udp" {
				addr = ts.udp
			}
			c := dialT(t, network, addr, ClientOptions{Auth: &a})
			for range 2 { // the second call uses the interned name
				got, err := c.CallRaw(context.Background(), CallHeader{Prog: testProg, Vers: testLow, Proc: procWhoAmI}, nil)
				if err != nil {
					t.Fatal(err)
				}
				var w xdr.Writer
				w.Uint32(uint32(rpcxdr.AUTH_SYS))
				a.Encode(&w)
				w.String(network)
				w.String("127.0.0.1")
				w.Bool(network == "tcp")
				if !bytes.Equal(got, w.Buf) {
					t.Fatalf("handler saw %x, want %x", got, w.Buf)
				}
			}
		})
	}
}

// TestRawHeaders sends hand-made messages that no client would.
func TestRawHeaders(t *testing.T) {
	ts := startServer(t, Options{}, nil)
	short := binary.BigEndian.AppendUint32(nil, 0x1234)
	short = binary.BigEndian.AppendUint32(short, uint32(rpcxdr.CALL))
	short = binary.BigEndian.AppendUint32(short, 2)
	short = binary.BigEndian.AppendUint32(short, testProg)
	var garbageReply xdr.Writer
	appendAccepted(&garbageReply, 0x1234, rpcxdr.GARBAGE_ARGS)
	tests := []struct {
		name  string
		send  []byte
		reply []byte // nil: the connection must close
	}{
		{name: "xid only", send: frame([]byte{0, 0, 0, 1})},
		{name: "empty record", send: frame(nil)},
		{name: "msg_type 7", send: frame([]byte{0, 0, 0, 1, 0, 0, 0, 7})},
		{name: "header ends after prog", send: frame(short), reply: garbageReply.Buf},
		{name: "reply is ignored", send: append(frame([]byte{0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0}), frame(nullCall(6))...), reply: nullReply(6)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := dialRaw(t, ts.tcp)
			rc.write(tt.send)
			if tt.reply == nil {
				rc.closed()
			} else if got := rc.reply(); !bytes.Equal(got, tt.reply) {
				t.Fatalf("reply %x, want %x", got, tt.reply)
			}
			checkServes(t, ts)
		})
	}
}

func nullReply(xid uint32) []byte {
	var w xdr.Writer
	appendAccepted(&w, xid, rpcxdr.SUCCESS)
	return w.Buf
}

// TestMultiFragment sends one call split into fragments of odd sizes
// (RFC 5531 §11 puts no alignment on fragment boundaries).
func TestMultiFragment(t *testing.T) {
	ts := startServer(t, Options{}, nil)
	args := bytes.Repeat([]byte{0xab}, 100)
	msg := encodeCall(42, 2, testProg, testLow, procEcho, rpcxdr.OpaqueAuth{}, rpcxdr.OpaqueAuth{}, args)
	for _, cuts := range [][]int{{1}, {5, 12}, {3, 40, 41, 90}} {
		var rec []byte
		prev := 0
		for _, c := range append(cuts, len(msg)) {
			mark := uint32(c - prev)
			if c == len(msg) {
				mark |= lastFragment
			}
			rec = binary.BigEndian.AppendUint32(rec, mark)
			rec = append(rec, msg[prev:c]...)
			prev = c
		}
		rc := dialRaw(t, ts.tcp)
		rc.write(rec)
		want := append(nullReply(42), args...)
		if got := rc.reply(); !bytes.Equal(got, want) {
			t.Fatalf("cuts %v: reply %x, want %x", cuts, got, want)
		}
	}
}

// TestHostileRecords checks that records a peer cannot legally send close
// the connection without costing the server their claimed size, and that
// the server goes on serving others.
func TestHostileRecords(t *testing.T) {
	const limit = 64 << 10
	ts := startServer(t, Options{MaxRecordSize: limit}, nil)
	chunk := make([]byte, 4096)
	nonFinal := binary.BigEndian.AppendUint32(nil, uint32(len(chunk)))
	nonFinal = append(nonFinal, chunk...)
	tests := []struct {
		name string
		send []byte
	}{
		{name: "claim 0x7fffffff final", send: []byte{0xff, 0xff, 0xff, 0xff}},
		{name: "claim 0x7fffffff non-final", send: []byte{0x7f, 0xff, 0xff, 0xff}},
		{name: "claim limit+1", send: binary.BigEndian.AppendUint32(nil, lastFragment|(limit+1))},
		{name: "non-final fragments past the limit", send: bytes.Repeat(nonFinal, limit/len(chunk)+1)},
		{name: "endless empty fragments", send: bytes.Repeat([]byte{0, 0, 0, 0}, maxFragments+1)},
		{name: "truncated body", send: append(binary.BigEndian.AppendUint32(nil, lastFragment|100), make([]byte, 50)...)},
		{name: "truncated mark", send: []byte{0x80, 0}},
		{name: "truncated after non-final", send: append(binary.BigEndian.AppendUint32(nil, 8), nullCall(1)[:8]...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			rc := dialRaw(t, ts.tcp)
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				rc.nc.Write(tt.send) // may fail once the server closes
				if tcp, ok := rc.nc.(interface{ CloseWrite() error }); ok {
					tcp.CloseWrite()
				}
			}()
			rc.closed()
			wg.Wait()
			runtime.ReadMemStats(&after)
			// The claims above are up to 2 GiB; the server may use its
			// limit and buffers, never the claim.
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 32<<20 {
				t.Errorf("allocated %d bytes for a hostile record", grew)
			}
			checkServes(t, ts)
		})
	}
}

// TestOutOfOrder checks that a slow call does not hold up a later one on
// the same connection.
func TestOutOfOrder(t *testing.T) {
	ts := startServer(t, Options{}, nil)
	c := dialT(t, "tcp", ts.tcp, ClientOptions{})
	ctx := context.Background()
	slow := make(chan error, 1)
	go func() {
		slow <- c.Call(ctx, testProg, testLow, procBlock, nil, nil)
	}()
	<-ts.h.entered
	got, err := c.CallRaw(ctx, CallHeader{Prog: testProg, Vers: testLow, Proc: procEcho}, []byte{1, 2, 3, 4})
	if err != nil || !bytes.Equal(got, []byte{1, 2, 3, 4}) {
		t.Fatalf("fast call: %x, %v", got, err)
	}
	select {
	case err := <-slow:
		t.Fatalf("slow call returned before release: %v", err)
	default:
	}
	close(ts.h.release)
	if err := <-slow; err != nil {
		t.Fatalf("slow call: %v", err)
	}
}

// TestInFlightBound checks both limits on running calls: the reader stops
// once they are reached and resumes when a call ends.
func TestInFlightBound(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		clients int
	}{
		{name: "per connection", opts: Options{MaxInFlightPerConn: 2}, clients: 1},
		{name: "total", opts: Options{MaxInFlight: 2}, clients: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			waiting := make(chan struct{}, 16)
			ts := startServer(t, tt.opts, func(s *Server) {
				s.testHookWaitSlot = func() {
					select {
					case waiting <- struct{}{}:
					default:
					}
				}
			})
			clients := make([]*Client, tt.clients)
			for i := range clients {
				clients[i] = dialT(t, "tcp", ts.tcp, ClientOptions{})
			}
			const calls = 3
			errs := make(chan error, calls)
			for i := range calls {
				c := clients[i%len(clients)]
				go func() { errs <- c.Call(context.Background(), testProg, testLow, procBlock, nil, nil) }()
			}
			<-ts.h.entered
			<-ts.h.entered
			<-waiting // the third call is held back, not started
			if n := ts.h.active.Load(); n != 2 {
				t.Fatalf("%d calls running, want 2", n)
			}
			close(ts.h.release)
			for range calls {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			if m := ts.h.maxSeen.Load(); m != 2 {
				t.Fatalf("at most %d calls ran at once, want 2", m)
			}
		})
	}
}

// TestShutdownWaits checks that Shutdown lets a running call send its reply
// before it closes the connection, and refuses new connections meanwhile.
func TestShutdownWaits(t *testing.T) {
	ts := startServer(t, Options{}, nil)
	c := dialT(t, "tcp", ts.tcp, ClientOptions{})
	res := make(chan error, 1)
	go func() {
		var x xdrUint32
		err := c.Call(context.Background(), testProg, testLow, procBlock, nil, &x)
		res <- err
	}()
	<-ts.h.entered
	done := make(chan error, 1)
	go func() { done <- ts.srv.Shutdown(context.Background()) }()
	for !ts.srv.shuttingDown() {
		runtime.Gosched()
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v with a call running", err)
	default:
	}
	close(ts.h.release)
	if err := <-res; err != nil {
		t.Fatalf("running call: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	ts.stopped = true
	for range 2 {
		if err := <-ts.errc; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	}
	if _, err := Dial(context.Background(), "tcp", ts.tcp, ClientOptions{}); err == nil {
		t.Errorf("dial after Shutdown succeeded")
	}
}

// TestShutdownDeadline checks that a Shutdown whose context ends closes
// everything and cancels running handlers.
func TestShutdownDeadline(t *testing.T) {
	ts := startServer(t, Options{}, nil)
	c := dialT(t, "tcp", ts.tcp, ClientOptions{})
	res := make(chan error, 1)
	go func() { res <- c.Call(context.Background(), testProg, testLow, procWaitCtx, nil, nil) }()
	<-ts.h.entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ts.srv.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown: %v, want context.Canceled", err)
	}
	if err := <-ts.h.ctxErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("handler context: %v", err)
	}
	if err := <-res; err == nil {
		t.Fatalf("call succeeded across a forced close")
	}
	ts.stopped = true
	for range 2 {
		<-ts.errc
	}
}

// TestIdleTimeout checks that a silent connection is closed.
func TestIdleTimeout(t *testing.T) {
	ts := startServer(t, Options{IdleTimeout: 20 * time.Millisecond}, nil)
	rc := dialRaw(t, ts.tcp)
	rc.write(frame(nullCall(1)))
	if got := rc.reply(); !bytes.Equal(got, nullReply(1)) {
		t.Fatalf("reply %x", got)
	}
	rc.closed()
}

// TestNoReply checks that NoReply sends nothing: the next reply on the
// connection is the next call's.
func TestNoReply(t *testing.T) {
	ts := startServer(t, Options{}, nil)
	rc := dialRaw(t, ts.tcp)
	rc.write(frame(encodeCall(1, 2, testProg, testLow, procNoReply, rpcxdr.OpaqueAuth{}, rpcxdr.OpaqueAuth{}, nil)))
	rc.write(frame(nullCall(2)))
	if got := rc.reply(); replyXID(got) != 2 {
		t.Fatalf("first reply is for xid %d, want 2", replyXID(got))
	}
	// Calls on one connection run concurrently: the NULL reply may
	// overtake the NoReply handler, so wait for it to have run.
	deadline := time.Now().Add(10 * time.Second)
	for ts.h.counts[procNoReply].Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := ts.h.counts[procNoReply].Load(); n != 1 {
		t.Fatalf("NoReply procedure ran %d times", n)
	}
}

// TestRegisterReplaces checks that registrations can change while serving.
func TestRegisterReplaces(t *testing.T) {
	ts := startServer(t, Options{}, nil)
	c := dialT(t, "tcp", ts.tcp, ClientOptions{})
	ctx := context.Background()
	ts.srv.Register(testProg, 7, HandlerFunc(func(ctx context.Context, call *Call, w *xdr.Writer) Status {
		w.Uint32(0x77)
		return Success
	}))
	var x xdrUint32
	if err := c.Call(ctx, testProg, 7, 0, nil, &x); err != nil || x != 0x77 {
		t.Fatalf("new version: %v %x", err, x)
	}
	err := c.Call(ctx, testProg, 9, 0, nil, nil)
	if !sameRPCError(err, &AcceptError{Stat: rpcxdr.PROG_MISMATCH, Low: testLow, High: 7}) {
		t.Fatalf("mismatch after register: %v", err)
	}
}

type xdrUint32 uint32

func (x *xdrUint32) Decode(r *xdr.Reader) { *x = xdrUint32(r.Uint32()) }
func (x xdrUint32) Encode(w *xdr.Writer)  { w.Uint32(uint32(x)) }

// TestWriteTimeout checks that a client that sends calls but never reads
// the replies loses its connection instead of holding handlers for ever.
func TestWriteTimeout(t *testing.T) {
	ts := startServer(t, Options{WriteTimeout: 20 * time.Millisecond}, nil)
	rc := dialRaw(t, ts.tcp)
	const calls, size = 64, 256 << 10 // 16 MiB of replies, more than loopback buffers hold
	args := make([]byte, size)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range calls {
			if _, err := rc.nc.Write(frame(encodeCall(uint32(i), 2, testProg, testLow, procEcho, rpcxdr.OpaqueAuth{}, rpcxdr.OpaqueAuth{}, args))); err != nil {
				return
			}
		}
	}()
	wg.Wait()
	n := 0
	for {
		if _, _, err := readRecord(rc.br, nil, 1<<20); err != nil {
			break
		}
		n++
	}
	if n == calls {
		t.Fatalf("all %d replies arrived: the connection was not closed", n)
	}
	checkServes(t, ts)
}

// countingObserver records what an Observer is told.
type countingObserver struct {
	mu     sync.Mutex
	starts int
	done   map[Status]int
}

func (o *countingObserver) Start(*Call) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.starts++
}

func (o *countingObserver) Done(_ *Call, st Status, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.done[st]++
}

func TestObserver(t *testing.T) {
	obs := &countingObserver{done: map[Status]int{}}
	ts := startServer(t, Options{Observer: obs}, nil)
	c := dialT(t, "tcp", ts.tcp, ClientOptions{})
	ctx := context.Background()
	c.Call(ctx, testProg, testLow, procNull, nil, nil)
	c.Call(ctx, testProg, testLow, procGarbage, nil, nil)
	c.Call(ctx, testProg, testLow, procTooWeak, nil, nil)
	c.Call(ctx, testProg, 9, procNull, nil, nil) // not dispatched
	obs.mu.Lock()
	defer obs.mu.Unlock()
	want := map[Status]int{Success: 1, GarbageArgs: 1, AuthError(rpcxdr.AUTH_TOOWEAK): 1}
	if obs.starts != 3 || len(obs.done) != len(want) {
		t.Fatalf("starts %d, done %v; want 3, %v", obs.starts, obs.done, want)
	}
	for st, n := range want {
		if obs.done[st] != n {
			t.Fatalf("done %v, want %v", obs.done, want)
		}
	}
}

func TestStatusString(t *testing.T) {
	tests := []struct {
		st   Status
		want string
	}{
		{Success, "SUCCESS"},
		{ProcUnavail, "PROC_UNAVAIL"},
		{AuthError(rpcxdr.AUTH_TOOWEAK), "AUTH_ERROR(AUTH_TOOWEAK)"},
		{NoReply, "NoReply"},
		{Status(77), "Status(0x4d)"},
	}
	for _, tt := range tests {
		if got := tt.st.String(); got != tt.want {
			t.Errorf("%d: %q, want %q", uint64(tt.st), got, tt.want)
		}
	}
}
