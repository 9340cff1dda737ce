package sunrpc

import (
	"bytes"
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/xdr"
)

// TestUDPRetransmit checks that a UDP call is sent again, byte for byte
// with the same xid, when no reply comes, and that a reply to the
// retransmission completes it.
func TestUDPRetransmit(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	pc.SetDeadline(time.Now().Add(30 * time.Second)) // guard only
	c := dialT(t, "udp", pc.LocalAddr().String(), ClientOptions{RetryInterval: 10 * time.Millisecond, MaxAttempts: 10})
	res := make(chan error, 1)
	var got xdrUint32
	go func() { res <- c.Call(context.Background(), testProg, testLow, procEcho, xdrUint32(5), &got) }()

	buf := make([]byte, 1500)
	n, _, err := pc.ReadFrom(buf) // dropped
	if err != nil {
		t.Fatal(err)
	}
	first := bytes.Clone(buf[:n])
	n, from, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, buf[:n]) {
		t.Fatalf("retransmission %x differs from %x", buf[:n], first)
	}
	var w xdr.Writer
	appendAccepted(&w, replyXID(first), rpcxdr.SUCCESS)
	w.Uint32(6)
	if _, err := pc.WriteTo(w.Buf, from); err != nil {
		t.Fatal(err)
	}
	if err := <-res; err != nil || got != 6 {
		t.Fatalf("call: %v, result %d", err, got)
	}
}

// TestUDPTimeout checks that a UDP call gives up after MaxAttempts.
func TestUDPTimeout(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	c := dialT(t, "udp", pc.LocalAddr().String(), ClientOptions{RetryInterval: time.Millisecond, MaxAttempts: 3})
	if err := c.Call(context.Background(), testProg, testLow, procNull, nil, nil); !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
	pc.SetDeadline(time.Now().Add(30 * time.Second)) // guard only
	buf := make([]byte, 1500)
	for i := range 3 {
		if _, _, err := pc.ReadFrom(buf); err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
	}
}

// TestUDPDuplicateRequestCache checks a UDP retransmission of a
// non-idempotent call against the real server.
func TestUDPDuplicateRequestCache(t *testing.T) {
	ts := startServer(t, Options{}, nil)
	nc, err := net.Dial("udp", ts.udp)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(30 * time.Second)) // guard only
	msg := encodeCall(9, 2, testProg, testLow, procCountOnce, rpcxdr.OpaqueAuth{}, rpcxdr.OpaqueAuth{}, nil)
	buf := make([]byte, 1500)
	var replies [][]byte
	for range 2 {
		if _, err := nc.Write(msg); err != nil {
			t.Fatal(err)
		}
		n, err := nc.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		replies = append(replies, bytes.Clone(buf[:n]))
	}
	if !bytes.Equal(replies[0], replies[1]) {
		t.Fatalf("replies differ: %x, %x", replies[0], replies[1])
	}
	if n := ts.h.counts[procCountOnce].Load(); n != 1 {
		t.Fatalf("ran %d times, want 1", n)
	}
	// A garbage datagram is dropped and the socket keeps serving.
	nc.Write([]byte{1, 2, 3})
	nc.Write(nullCall(10))
	n, err := nc.Read(buf)
	if err != nil || !bytes.Equal(buf[:n], nullReply(10)) {
		t.Fatalf("after garbage: %x, %v", buf[:n], err)
	}
}

// TestClientCancel checks that a cancelled call returns at once, that its
// late reply is discarded, and that the client keeps working.
func TestClientCancel(t *testing.T) {
	ts := startServer(t, Options{}, nil)
	c := dialT(t, "tcp", ts.tcp, ClientOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	go func() { res <- c.Call(ctx, testProg, testLow, procBlock, nil, nil) }()
	<-ts.h.entered
	cancel()
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	close(ts.h.release)
	var x xdrUint32
	if err := c.Call(context.Background(), testProg, testLow, procEcho, xdrUint32(3), &x); err != nil || x != 3 {
		t.Fatalf("after cancel: %v %d", err, x)
	}
}

// TestClientClose checks that Close fails pending and later calls.
func TestClientClose(t *testing.T) {
	ts := startServer(t, Options{}, nil)
	c := dialT(t, "tcp", ts.tcp, ClientOptions{})
	res := make(chan error, 1)
	go func() { res <- c.Call(context.Background(), testProg, testLow, procBlock, nil, nil) }()
	<-ts.h.entered
	c.Close()
	if err := <-res; !errors.Is(err, ErrClientClosed) {
		t.Fatalf("pending call: %v", err)
	}
	if err := c.Call(context.Background(), testProg, testLow, procNull, nil, nil); !errors.Is(err, ErrClientClosed) {
		t.Fatalf("later call: %v", err)
	}
}

// TestClientServerGone checks that pending calls fail when the connection
// breaks.
func TestClientServerGone(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c := dialT(t, "tcp", l.Addr().String(), ClientOptions{})
	sc, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	res := make(chan error, 1)
	go func() { res <- c.Call(context.Background(), 1, 1, 0, nil, nil) }()
	buf := make([]byte, 4)
	sc.Read(buf) // the call has been sent
	sc.Close()
	if err := <-res; err == nil || errors.Is(err, ErrClientClosed) {
		t.Fatalf("got %v, want a connection error", err)
	}
}

// TestParseReply covers reply decoding, including malformed replies.
func TestParseReply(t *testing.T) {
	msg := func(words ...uint32) []byte {
		var w xdr.Writer
		for _, x := range words {
			w.Uint32(x)
		}
		return w.Buf
	}
	tests := []struct {
		name string
		rec  []byte
		body []byte
		err  error
	}{
		{name: "success", rec: msg(1, 1, 0, 0, 0, 0, 42), body: msg(42)},
		{name: "success with verifier", rec: msg(1, 1, 0, 1, 4, 7, 0, 42), body: msg(42)},
		{name: "prog unavail", rec: msg(1, 1, 0, 0, 0, 1), err: &AcceptError{Stat: rpcxdr.PROG_UNAVAIL}},
		{name: "prog mismatch", rec: msg(1, 1, 0, 0, 0, 2, 2, 3), err: &AcceptError{Stat: rpcxdr.PROG_MISMATCH, Low: 2, High: 3}},
		{name: "proc unavail", rec: msg(1, 1, 0, 0, 0, 3), err: &AcceptError{Stat: rpcxdr.PROC_UNAVAIL}},
		{name: "garbage args", rec: msg(1, 1, 0, 0, 0, 4), err: &AcceptError{Stat: rpcxdr.GARBAGE_ARGS}},
		{name: "system err", rec: msg(1, 1, 0, 0, 0, 5), err: &AcceptError{Stat: rpcxdr.SYSTEM_ERR}},
		{name: "rpc mismatch", rec: msg(1, 1, 1, 0, 2, 2), err: &RejectError{Stat: rpcxdr.RPC_MISMATCH, Low: 2, High: 2}},
		{name: "auth error", rec: msg(1, 1, 1, 1, 5), err: &RejectError{Stat: rpcxdr.AUTH_ERROR, Auth: rpcxdr.AUTH_TOOWEAK}},
		{name: "call not reply", rec: msg(1, 0, 0), err: ErrBadReply},
		{name: "short", rec: msg(1, 1, 0, 0), err: ErrBadReply},
		{name: "short mismatch", rec: msg(1, 1, 0, 0, 0, 2, 2), err: ErrBadReply},
		{name: "bad reply_stat", rec: msg(1, 1, 2), err: ErrBadReply},
		{name: "bad reject_stat", rec: msg(1, 1, 1, 9), err: ErrBadReply},
		{name: "short auth error", rec: msg(1, 1, 1, 1), err: ErrBadReply},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := parseReply(tt.rec)
			switch {
			case tt.err == ErrBadReply:
				if !errors.Is(err, ErrBadReply) {
					t.Fatalf("got %v, want ErrBadReply", err)
				}
			case tt.err != nil:
				if !sameRPCError(err, tt.err) {
					t.Fatalf("got %v, want %v", err, tt.err)
				}
			default:
				if err != nil || !bytes.Equal(body, tt.body) {
					t.Fatalf("got %x, %v; want %x", body, err, tt.body)
				}
			}
		})
	}
}
