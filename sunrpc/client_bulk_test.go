package sunrpc

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"net"
	"sync"
	"testing"

	"github.com/gonfs/gonfs/xdr"
)

// The bulk test program moves large opaque data both ways, shaped like
// NFSv3 READ and WRITE (RFC 1813 §3.3.6, §3.3.7), so that the client's
// receive and send paths can be measured and checked without nfs3.
const (
	bulkProg = 0x20000098
	bulkVers = 1

	bulkRead  = 1 // args: offset, count; results: like READ3res (see bulkHandler)
	bulkWrite = 2 // args: offset, opaque data; results: count, CRC-32 of the data
)

// bulkHandler serves the bulk program from data.
type bulkHandler struct{ data []byte }

func (h *bulkHandler) Idempotent(uint32) bool { return true }

func (h *bulkHandler) ServeRPC(_ context.Context, c *Call, w *xdr.Writer) Status {
	r := xdr.NewReader(c.Args)
	switch c.Proc {
	case bulkRead:
		// status, post_op_attr (absent), count, eof, data
		off := min(int(r.Uint32()), len(h.data))
		n := min(int(r.Uint32()), len(h.data)-off)
		if r.Err() != nil {
			return GarbageArgs
		}
		w.Uint32(0)
		w.Bool(false)
		w.Uint32(uint32(n))
		w.Bool(off+n == len(h.data))
		w.Opaque(h.data[off : off+n])
		return Success
	case bulkWrite:
		r.Uint64()
		d := r.Opaque(xdr.Unbounded)
		if r.Err() != nil {
			return GarbageArgs
		}
		w.Uint32(uint32(len(d)))
		w.Uint32(crc32.ChecksumIEEE(d))
		return Success
	}
	return ProcUnavail
}

// bulkData returns n bytes of a pattern that shows misplaced bytes.
func bulkData(n int) []byte {
	b := make([]byte, n+3)
	for i := 0; i < n; i += 4 {
		binary.BigEndian.PutUint32(b[i:], uint32(i/4)*2654435761)
	}
	return b[:n:n]
}

// startBulkServer serves the bulk program on loopback TCP until the
// benchmark or test ends.
func startBulkServer(tb testing.TB, data []byte) string {
	tcp, _ := startBulkServerUDP(tb, data, false)
	return tcp
}

// startBulkServerUDP is startBulkServer, also on UDP if udp.
func startBulkServerUDP(tb testing.TB, data []byte, udp bool) (tcpAddr, udpAddr string) {
	s := NewServer(Options{})
	s.Register(bulkProg, bulkVers, &bulkHandler{data: data})
	l, err := netListen()
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { s.ServeTCP(l) })
	if udp {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		udpAddr = pc.LocalAddr().String()
		wg.Go(func() { s.ServeUDP(pc) })
	}
	tb.Cleanup(func() {
		s.Shutdown(context.Background())
		wg.Wait()
	})
	return l.Addr().String(), udpAddr
}

// readArgs are the arguments of bulkRead.
type readArgs struct{ off, count uint32 }

func (a readArgs) Encode(w *xdr.Writer) {
	w.Uint32(a.off)
	w.Uint32(a.count)
}

// readRes decodes bulkRead results, copying the data into p (as
// nfs3.Client.Read does, so that it works for Transient calls too).
type readRes struct {
	p    []byte
	n    int
	data int // the length of the opaque in the results
	eof  bool
}

func (res *readRes) Decode(r *xdr.Reader) {
	r.Uint32()
	r.Bool()
	r.Uint32()
	res.eof = r.Bool()
	d := r.Opaque(xdr.Unbounded)
	res.data = len(d)
	res.n = copy(res.p, d)
}

// writeArgs are the arguments of bulkWrite.
type writeArgs struct {
	off  uint64
	data []byte
}

func (a *writeArgs) Encode(w *xdr.Writer) {
	w.Uint64(a.off)
	w.Opaque(a.data)
}
