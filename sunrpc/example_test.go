package sunrpc_test

import (
	"context"
	"fmt"
	"net"

	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// uint32Arg is an XDR unsigned int as arguments or results.
type uint32Arg uint32

func (u uint32Arg) Encode(w *xdr.Writer)  { w.Uint32(uint32(u)) }
func (u *uint32Arg) Decode(r *xdr.Reader) { *u = uint32Arg(r.Uint32()) }

// doubler is version 1 of a made-up program: procedure 0 is NULL,
// procedure 1 doubles its argument.
type doubler struct{}

func (doubler) ServeRPC(ctx context.Context, call *sunrpc.Call, w *xdr.Writer) sunrpc.Status {
	switch call.Proc {
	case 0:
		return sunrpc.Success
	case 1:
		var r xdr.Reader
		r.Reset(call.Args)
		n := r.Uint32()
		if r.Done() != nil {
			return sunrpc.GarbageArgs
		}
		w.Uint32(2 * n)
		return sunrpc.Success
	}
	return sunrpc.ProcUnavail
}

// Example embeds a server and calls it with the client.
func Example() {
	const prog, vers = 0x20000123, 1
	srv := sunrpc.NewServer(sunrpc.Options{})
	srv.Register(prog, vers, doubler{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.ServeTCP(l) }()

	ctx := context.Background()
	c, err := sunrpc.Dial(ctx, "tcp", l.Addr().String(), sunrpc.ClientOptions{
		Auth: &rpcxdr.AuthsysParms{Machinename: "example", Uid: 1000, Gid: 1000},
	})
	if err != nil {
		panic(err)
	}
	var res uint32Arg
	err = c.Call(ctx, prog, vers, 1, uint32Arg(21), &res)
	fmt.Println(res, err)

	err = c.Call(ctx, prog, 7, 0, nil, nil)
	fmt.Println(err)

	c.Close()
	srv.Shutdown(ctx)
	fmt.Println(<-served)
	// Output:
	// 42 <nil>
	// sunrpc: PROG_MISMATCH (versions 1 to 1)
	// sunrpc: server closed
}

// Example_backchannel has a server call its client back over the client's
// own connection, as an NFSv4.1 server sends CB_COMPOUND: the server's
// handler keeps Call.Conn, and the client serves the callback program
// through ClientOptions.Handler.
func Example_backchannel() {
	const prog, vers = 0x20000123, 1
	const cbProg, cbVers = 0x40000000, 1 // chosen by the client

	conns := make(chan *sunrpc.Conn, 1)
	srv := sunrpc.NewServer(sunrpc.Options{})
	srv.Register(prog, vers, sunrpc.HandlerFunc(func(ctx context.Context, call *sunrpc.Call, w *xdr.Writer) sunrpc.Status {
		conns <- call.Conn // e.g. CREATE_SESSION binding the backchannel
		return sunrpc.Success
	}))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.ServeTCP(l) }()

	callbacks := new(sunrpc.Mux)
	callbacks.Register(cbProg, cbVers, doubler{})
	ctx := context.Background()
	c, err := sunrpc.Dial(ctx, "tcp", l.Addr().String(), sunrpc.ClientOptions{Handler: callbacks})
	if err != nil {
		panic(err)
	}
	if err := c.Call(ctx, prog, vers, 0, nil, nil); err != nil {
		panic(err)
	}
	conn := <-conns

	var res uint32Arg
	err = conn.Call(ctx, cbProg, cbVers, 1, nil, uint32Arg(21), &res)
	fmt.Println(res, err)
	err = conn.Call(ctx, cbProg, 2, 0, nil, nil, nil)
	fmt.Println(err)

	c.Close()
	srv.Shutdown(ctx)
	<-served
	// Output:
	// 42 <nil>
	// sunrpc: PROG_MISMATCH (versions 1 to 1)
}
