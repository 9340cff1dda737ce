package sunrpc

import (
	"bytes"
	"context"
	"crypto/rand"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gonfs/gonfs/xdr"
)

const spanProg = 0x20000098

// Modes of spanHandler, sent as its argument.
const (
	spanSend      = iota // head, the span as an opaque, trailer
	spanFail             // attach, then fail with SYSTEM_ERR
	spanDetach           // attach, detach, send an empty opaque
	spanTooLong          // attach more than the file holds
	spanCan              // answer CanAttach
	spanTapBusy          // attach, then switch the test's tap on
	spanTwoAttach        // a second AttachFile must be refused
	spanInline           // head, the file's first bytes copied into the reply, trailer
)

const (
	spanHead    = 0x48454144
	spanTrailer = 0xfeedface
)

// spanHandler replies with a span of its file (see the modes above) and
// counts the spans released, each of which closes its own descriptor.
type spanHandler struct {
	path     string
	off, n   int
	released atomic.Int32
	tap      *switchTap
}

func (h *spanHandler) span(t int) FileSpan {
	fd, err := unix.Open(h.path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		panic(err)
	}
	return FileSpan{FD: fd, Off: int64(h.off), Len: t, Release: func() {
		unix.Close(fd)
		h.released.Add(1)
	}}
}

func (h *spanHandler) ServeRPC(ctx context.Context, c *Call, w *xdr.Writer) Status {
	r := xdr.NewReader(c.Args)
	mode := r.Uint32()
	if mode == spanCan {
		w.Bool(c.CanAttach(1 << 20))
		return Success
	}
	w.Uint32(spanHead)
	if mode == spanInline {
		b := make([]byte, 1000+int(c.XID%512))
		f, err := os.Open(h.path)
		if err != nil {
			panic(err)
		}
		defer f.Close()
		f.ReadAt(b, int64(h.off))
		w.Opaque(b)
		w.Uint32(spanTrailer)
		return Success
	}
	n := h.n
	if mode == spanTooLong {
		n += 1 << 20
	}
	w.Uint32(uint32(n))
	if !c.AttachFile(w, h.span(n)) {
		panic("AttachFile refused")
	}
	if c.Attached() != n || c.CanAttach(MinAttach) {
		panic("Attached/CanAttach disagree with the attachment")
	}
	switch mode {
	case spanFail:
		return SystemErr
	case spanDetach:
		c.DetachFile()
		w.Buf = w.Buf[:len(w.Buf)-4]
		w.Uint32(0)
		w.Uint32(spanTrailer)
		return Success
	case spanTapBusy:
		h.tap.idle.Store(false)
	case spanTwoAttach:
		sp := FileSpan{FD: -1, Len: MinAttach, Release: func() { panic("released a refused span") }}
		if c.AttachFile(w, sp) {
			panic("a second span was accepted")
		}
	}
	var pad [3]byte
	w.Buf = append(w.Buf, pad[:(4-n&3)&3]...)
	w.Uint32(spanTrailer)
	return Success
}

// switchTap is an IdleTap the test turns on and off.
type switchTap struct {
	idle atomic.Bool
	mu   sync.Mutex
	out  [][]byte // outbound records seen while busy
}

func (s *switchTap) Idle() bool { return s.idle.Load() }

func (s *switchTap) Record(_, _ netip.AddrPort, _ string, inbound bool, data []byte) {
	if s.idle.Load() || inbound {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.out = append(s.out, bytes.Clone(data))
}

// spanFixture serves spanHandler over a file of 3 MiB and 3 bytes, whose
// span starts at byte 5 (neither the length nor the offset is aligned).
func spanFixture(t *testing.T, opts Options) (*testServer, *spanHandler, []byte) {
	t.Helper()
	data := make([]byte, 3<<20+3)
	rand.Read(data)
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	h := &spanHandler{path: path, off: 5, n: len(data) - 5}
	if tap, ok := opts.Tap.(*switchTap); ok {
		h.tap = tap
	}
	if opts.Sendfile == SendfileRemote {
		opts.Sendfile = SendfileAlways // the test is on loopback
	}
	ts := startServer(t, opts, func(s *Server) { s.Register(spanProg, 1, h) })
	return ts, h, data[5:]
}

type spanReply struct {
	head, trailer uint32
	data          []byte
}

func (r *spanReply) Decode(d *xdr.Reader) {
	r.head = d.Uint32()
	r.data = d.Opaque(xdr.Unbounded)
	r.trailer = d.Uint32()
}

func callSpan(c *Client, mode uint32, res xdr.Unmarshaler) error {
	return c.Call(context.Background(), spanProg, 1, 0, xdrUint32(mode), res)
}

// TestAttachFile: a span attached to a reply reaches the client between
// the bytes before and after it, exactly, with one record mark covering
// all; calls in flight on one connection do not mix their bytes; every
// span is released once.
func TestAttachFile(t *testing.T) {
	ts, h, want := spanFixture(t, Options{})
	c := dialT(t, "tcp", ts.tcp, ClientOptions{})
	const calls = 8
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for range calls {
		wg.Go(func() {
			var res spanReply
			if err := callSpan(c, spanSend, &res); err != nil {
				errs <- err
				return
			}
			if res.head != spanHead || res.trailer != spanTrailer || !bytes.Equal(res.data, want) {
				t.Errorf("reply: head %#x trailer %#x, %d data bytes (equal: %v)", res.head, res.trailer, len(res.data), bytes.Equal(res.data, want))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	ts.stop(t)
	if got := h.released.Load(); got != calls {
		t.Fatalf("%d spans released, want %d", got, calls)
	}
}

// TestRepliesInterleaved: replies with spans and plain ones, written in
// batches by whichever handler finds the connection free, reach their
// callers whole and in their own records.
func TestRepliesInterleaved(t *testing.T) {
	ts, h, want := spanFixture(t, Options{})
	c := dialT(t, "tcp", ts.tcp, ClientOptions{})
	const calls = 64
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			mode := uint32(spanInline)
			if i%8 == 0 {
				mode = spanSend
			}
			var res spanReply
			if err := callSpan(c, mode, &res); err != nil {
				t.Error(err)
				return
			}
			ok := res.head == spanHead && res.trailer == spanTrailer
			if mode == spanSend {
				ok = ok && bytes.Equal(res.data, want)
			} else {
				ok = ok && len(res.data) >= 1000 && bytes.Equal(res.data, want[:len(res.data)])
			}
			if !ok {
				t.Errorf("call %d (mode %d): head %#x trailer %#x, %d bytes", i, mode, res.head, res.trailer, len(res.data))
			}
		})
	}
	wg.Wait()
	ts.stop(t)
	if got := h.released.Load(); got != calls/8 {
		t.Fatalf("%d spans released, want %d", got, calls/8)
	}
}

// TestAttachFileDropped: a span whose reply is not a Success, or that the
// handler detached, is released and never sent.
func TestAttachFileDropped(t *testing.T) {
	ts, h, _ := spanFixture(t, Options{})
	c := dialT(t, "tcp", ts.tcp, ClientOptions{})
	if err := callSpan(c, spanFail, nil); !sameRPCError(err, &AcceptError{Stat: 5}) {
		t.Fatalf("failing handler: %v, want SYSTEM_ERR", err)
	}
	var res spanReply
	if err := callSpan(c, spanDetach, &res); err != nil {
		t.Fatal(err)
	}
	if res.head != spanHead || len(res.data) != 0 || res.trailer != spanTrailer {
		t.Fatalf("detached reply %+v: want head, empty data, trailer", res)
	}
	if err := callSpan(c, spanTwoAttach, &res); err != nil || len(res.data) != h.n {
		t.Fatalf("second attachment: %v, %d bytes", err, len(res.data))
	}
	ts.stop(t)
	if got := h.released.Load(); got != 3 {
		t.Fatalf("%d spans released, want 3", got)
	}
}

// TestAttachFileShort: a span the file no longer holds cannot be
// completed; the server closes the connection rather than send a record
// that is short or padded with bytes that were never in the file.
func TestAttachFileShort(t *testing.T) {
	ts, h, _ := spanFixture(t, Options{})
	c := dialT(t, "tcp", ts.tcp, ClientOptions{})
	var res spanReply
	err := callSpan(c, spanTooLong, &res)
	if err == nil {
		t.Fatalf("got a reply of %d bytes for a span past the end of the file", len(res.data))
	}
	ts.stop(t)
	if got := h.released.Load(); got != 1 {
		t.Fatalf("%d spans released, want 1", got)
	}
}

// TestCanAttach: only TCP calls take spans, and only while no Tap needs
// the reply's bytes.
func TestCanAttach(t *testing.T) {
	tests := []struct {
		name    string
		network string
		tap     Tap
		want    bool
	}{
		{"tcp", "tcp", nil, true},
		{"udp", "udp", nil, false},
		{"tcp with a tap", "tcp", &recordingTap{}, false},
		{"tcp with an idle tap", "tcp", idleSwitch(true), true},
		{"tcp with a busy tap", "tcp", idleSwitch(false), false},
	}
	modes := []struct {
		name string
		mode SendfileMode
		want bool
	}{
		{"remote only, from loopback", SendfileRemote, false},
		{"never", SendfileNever, false},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			h := &spanHandler{}
			ts := startServer(t, Options{Sendfile: m.mode}, func(s *Server) { s.Register(spanProg, 1, h) })
			c := dialT(t, "tcp", ts.tcp, ClientOptions{})
			var got xdrBool
			if err := callSpan(c, spanCan, &got); err != nil {
				t.Fatal(err)
			}
			if bool(got) != m.want {
				t.Fatalf("CanAttach = %v, want %v", got, m.want)
			}
		})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, _, _ := spanFixture(t, Options{Tap: tt.tap})
			addr := ts.tcp
			if tt.network == "udp" {
				addr = ts.udp
			}
			c := dialT(t, tt.network, addr, ClientOptions{})
			var got xdrBool
			if err := callSpan(c, spanCan, &got); err != nil {
				t.Fatal(err)
			}
			if bool(got) != tt.want {
				t.Fatalf("CanAttach = %v, want %v", got, tt.want)
			}
		})
	}
}

func idleSwitch(idle bool) *switchTap {
	s := &switchTap{}
	s.idle.Store(idle)
	return s
}

type xdrBool bool

func (b *xdrBool) Decode(r *xdr.Reader) { *b = xdrBool(r.Bool()) }

// TestAttachFileTapTurnsBusy: a capture that starts while a reply with a
// span is on its way sees the whole reply, the span's bytes included.
func TestAttachFileTapTurnsBusy(t *testing.T) {
	tap := idleSwitch(true)
	ts, _, want := spanFixture(t, Options{Tap: tap})
	c := dialT(t, "tcp", ts.tcp, ClientOptions{})
	var res spanReply
	if err := callSpan(c, spanTapBusy, &res); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.data, want) {
		t.Fatal("the client got other bytes than the file's")
	}
	ts.stop(t)
	tap.mu.Lock()
	defer tap.mu.Unlock()
	if len(tap.out) != 1 {
		t.Fatalf("tap saw %d replies, want 1", len(tap.out))
	}
	body, err := parseReply(tap.out[0])
	if err != nil {
		t.Fatal(err)
	}
	var got spanReply
	if err := decodeResults(body, &got); err != nil || !bytes.Equal(got.data, want) || got.trailer != spanTrailer {
		t.Fatalf("tap's copy of the reply: %v, data equal %v, trailer %#x", err, bytes.Equal(got.data, want), got.trailer)
	}
}

// TestCopySpan: the fallback for files that cannot be spliced sends the
// same bytes through a buffer.
func TestCopySpan(t *testing.T) {
	data := make([]byte, 200<<10+1)
	rand.Read(data)
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, b := socketPair(t)
	got := make(chan []byte)
	go func() {
		buf := make([]byte, len(data)-7)
		n, _ := readFull(b, buf)
		got <- buf[:n]
	}()
	rc, err := a.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	if err := copySpan(rc, int(f.Fd()), 7, len(data)-7, false); err != nil {
		t.Fatal(err)
	}
	if g := <-got; !bytes.Equal(g, data[7:]) {
		t.Fatal("copySpan sent other bytes")
	}
	if err := copySpan(rc, int(f.Fd()), int64(len(data)-3), 10, false); err != errShortFile {
		t.Fatalf("copySpan past the end: %v, want errShortFile", err)
	}
}

func socketPair(t *testing.T) (*net.UnixConn, *net.UnixConn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "sock")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c.(*net.UnixConn)
	}
	return conn(fds[0]), conn(fds[1])
}

func readFull(c net.Conn, buf []byte) (int, error) {
	got := 0
	for got < len(buf) {
		n, err := c.Read(buf[got:])
		got += n
		if err != nil {
			return got, err
		}
	}
	return got, nil
}
