package sunrpc

import (
	"context"
	"testing"

	"github.com/gonfs/gonfs/xdr"
)

// locateBulk finds the data in bulkRead results, as nfs3 finds READ3resok
// data (with no attributes: the bulk handler sends none).
func locateBulk(results []byte) (off, n int, ok bool) {
	r := xdr.NewReader(results)
	if r.Uint32() != 0 || r.Bool() {
		return 0, 0, false
	}
	r.Uint32()
	r.Bool()
	n = int(r.Uint32())
	return r.Offset(), n, r.Err() == nil
}

// BenchmarkCallRead1MiB measures a call whose reply carries 1 MiB, the
// shape of a sequential NFS READ, over loopback TCP: client and server
// together, so allocations are both sides'. The results are decoded by a
// copy into the caller's buffer, as Call requires.
func BenchmarkCallRead1MiB(b *testing.B) { benchRead(b, func([]byte) *CallOptions { return nil }) }

// BenchmarkCallRead1MiBTransient is BenchmarkCallRead1MiB with the reply
// in a pooled buffer, given back once decoded.
func BenchmarkCallRead1MiBTransient(b *testing.B) {
	benchRead(b, func([]byte) *CallOptions { return &CallOptions{Transient: true} })
}

// BenchmarkCallRead1MiBSink is BenchmarkCallRead1MiB with the data read
// straight into the caller's buffer, as nfs3 and nfs4 READs do.
func BenchmarkCallRead1MiBSink(b *testing.B) {
	benchRead(b, func(p []byte) *CallOptions {
		return &CallOptions{Transient: true, Sink: &Sink{Buf: p, Locate: locateBulk}}
	})
}

func benchRead(b *testing.B, opts func(p []byte) *CallOptions) {
	const size = 1 << 20
	addr := startBulkServer(b, bulkData(size))
	c, err := Dial(context.Background(), "tcp", addr, ClientOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	p := make([]byte, size)
	o := opts(p)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		res := readRes{p: p}
		sunk, err := c.CallWith(ctx, bulkProg, bulkVers, bulkRead, readArgs{count: size}, &res, o)
		if err != nil {
			b.Fatal(err)
		}
		if sunk >= 0 {
			res.n = sunk
		}
		if res.n != size {
			b.Fatalf("read %d bytes", res.n)
		}
	}
}

// BenchmarkCallWrite1MiB measures a call whose arguments carry 1 MiB, the
// shape of an NFS WRITE, encoded into the message.
func BenchmarkCallWrite1MiB(b *testing.B) { benchWrite(b, false) }

// BenchmarkCallWrite1MiBTail is BenchmarkCallWrite1MiB with the data sent
// as a Tail, not copied into the message, as nfs3 and nfs4 WRITEs do.
func BenchmarkCallWrite1MiBTail(b *testing.B) { benchWrite(b, true) }

func benchWrite(b *testing.B, tail bool) {
	const size = 1 << 20
	addr := startBulkServer(b, nil)
	c, err := Dial(context.Background(), "tcp", addr, ClientOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	data := bulkData(size)
	args := writeArgs{data: data}
	var o *CallOptions
	if tail {
		args.data = nil
		o = &CallOptions{Tail: data}
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		var n xdrUint32
		if _, err := c.CallWith(ctx, bulkProg, bulkVers, bulkWrite, &args, &n, o); err != nil {
			b.Fatal(err)
		}
		if n != size {
			b.Fatalf("wrote %d bytes", n)
		}
	}
}
