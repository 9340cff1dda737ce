package sunrpc

import (
	"github.com/gonfs/gonfs/proto/rpcxdr"

	"bytes"
	"context"
	"io"
	"net"
	"net/netip"
	"testing"
)

// BenchmarkNullCallTCP measures a NULL round trip over loopback TCP,
// client and server together.
func BenchmarkNullCallTCP(b *testing.B) {
	ts := startServerB(b)
	c, err := Dial(context.Background(), "tcp", ts, ClientOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Call(ctx, testProg, testLow, procNull, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNullCallTCPParallel is the same with concurrent callers sharing
// one connection.
func BenchmarkNullCallTCPParallel(b *testing.B) {
	ts := startServerB(b)
	c, err := Dial(context.Background(), "tcp", ts, ClientOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := c.Call(ctx, testProg, testLow, procNull, nil, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func startServerB(b *testing.B) string {
	s := NewServer(Options{})
	s.Register(testProg, testLow, newTestHandler())
	l, err := netListen()
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.ServeTCP(l); close(done) }()
	b.Cleanup(func() {
		s.Shutdown(context.Background())
		<-done
	})
	return l.Addr().String()
}

// BenchmarkServerDispatch measures the server's work on one AUTH_SYS NULL
// call without the network: header decode, authentication, dispatch, reply
// header. It should not allocate.
func BenchmarkServerDispatch(b *testing.B) {
	s := NewServer(Options{})
	s.Register(testProg, testLow, newTestHandler())
	sys := authSysBody(rpcxdr.AuthsysParms{Stamp: 1, Machinename: "client.example", Uid: 1000, Gid: 100, Gids: []uint32{4, 24, 27}})
	msg := encodeCall(1, 2, testProg, testLow, procNull, rpcxdr.OpaqueAuth{Flavor: rpcxdr.AUTH_SYS, Body: sys}, rpcxdr.OpaqueAuth{}, nil)
	remote := netip.MustParseAddrPort("127.0.0.1:900")
	var in interner
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		req := getRequest()
		req.rec = append(req.rec[:0], msg...)
		req.call.Transport = "tcp"
		req.call.Remote = remote
		if s.admit(req, &in) != vDispatch {
			b.Fatal("not dispatched")
		}
		if !s.run(ctx, req) {
			b.Fatal("no reply")
		}
		putRequest(req)
	}
}

func netListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

// BenchmarkServerNullTCP measures the server's side of a NULL round trip
// over loopback TCP: the client here is a fixed byte string and a fixed
// read, so the allocations reported are the server's.
func BenchmarkServerNullTCP(b *testing.B) {
	addr := startServerB(b)
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	req := frame(nullCall(1))
	want := frame(nullReply(1))
	got := make([]byte, len(want))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := nc.Write(req); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(nc, got); err != nil {
			b.Fatal(err)
		}
	}
	if !bytes.Equal(got, want) {
		b.Fatalf("reply %x, want %x", got, want)
	}
}

// BenchmarkCallbackTCP measures one server-to-client NULL round trip over
// the client's own connection (the NFSv4.1 backchannel path): Conn.Call,
// the client's dispatch, its reply and the server's routing of it.
func BenchmarkCallbackTCP(b *testing.B) {
	keep, conns := keepConns()
	s := NewServer(Options{})
	s.Register(keepProg, 1, keep)
	l, err := netListen()
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.ServeTCP(l); close(done) }()
	defer func() {
		s.Shutdown(context.Background())
		<-done
	}()
	ctx := context.Background()
	c, err := Dial(ctx, "tcp", l.Addr().String(), ClientOptions{Handler: cbMux(newCBHandler())})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Call(ctx, keepProg, 1, 0, nil, nil); err != nil {
		b.Fatal(err)
	}
	conn := <-conns
	b.ReportAllocs()
	for b.Loop() {
		if err := conn.Call(ctx, cbProg, cbVers, cbNull, nil, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
}
