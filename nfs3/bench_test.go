package nfs3

import (
	"bytes"
	"context"
	"testing"

	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// benchEnv is a server with one 1 MiB file in /rw.
func benchEnv(b *testing.B) (*env, *client, nfs3xdr.NfsFh3) {
	e := newEnv(b)
	u := e.user()
	fh := u.create(e.root["/rw"], "f", 0o644)
	u.write(fh, 0, bytes.Repeat([]byte("0123456789abcdef"), 1<<16))
	return e, u, fh
}

// runBench runs one procedure b.N times through ServeRPC with a reused
// reply buffer, as sunrpc's pooled requests give it.
func runBench(b *testing.B, e *env, u *client, proc uint32, args xdr.Marshaler, bytesPerOp int64) {
	call := &sunrpc.Call{Prog: nfs3xdr.NFS_PROGRAM, Vers: nfs3xdr.NFS_V3, Proc: proc,
		Cred: u.cred, Remote: u.remote, Transport: "tcp", Args: xdr.Marshal(nil, args)}
	w := xdr.Writer{Buf: make([]byte, 0, 64<<10)}
	ctx := context.Background()
	b.SetBytes(bytesPerOp)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.Buf = w.Buf[:0]
		if st := e.srv.ServeRPC(ctx, call, &w); st != sunrpc.Success {
			b.Fatal(st)
		}
	}
	b.StopTimer()
	if st, err := decodeReply(proc, w.Buf); err != nil || st != nfs3xdr.NFS3_OK {
		b.Fatalf("%v %v", st, err)
	}
}

func BenchmarkGetattr(b *testing.B) {
	e, u, fh := benchEnv(b)
	runBench(b, e, u, nfs3xdr.NFSPROC3_GETATTR, &nfs3xdr.GETATTR3args{Object: fh}, 0)
}

func BenchmarkRead4K(b *testing.B) {
	e, u, fh := benchEnv(b)
	runBench(b, e, u, nfs3xdr.NFSPROC3_READ, &nfs3xdr.READ3args{File: fh, Offset: 8192, Count: 4096}, 4096)
}

func BenchmarkWrite4K(b *testing.B) {
	e, u, fh := benchEnv(b)
	data := bytes.Repeat([]byte("w"), 4096)
	runBench(b, e, u, nfs3xdr.NFSPROC3_WRITE, &nfs3xdr.WRITE3args{File: fh, Offset: 8192, Count: 4096,
		Stable: nfs3xdr.UNSTABLE, Data: data}, 4096)
}
