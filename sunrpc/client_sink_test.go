package sunrpc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/xdr"
)

// sentinel fills the bytes of a buffer that nothing may write.
const sentinel = 0xA5

func filled(n int) []byte { return bytes.Repeat([]byte{sentinel}, n) }

// checkUntouched fails if b holds anything but sentinel bytes.
func checkUntouched(t *testing.T, what string, b []byte) {
	t.Helper()
	for i, v := range b {
		if v == sentinel {
			continue
		}
		t.Errorf("%s: byte %d of %d written: %x", what, i, len(b), b[i:min(len(b), i+8)])
		return
	}
}

// TestSinkPlacement reads through the real server with and without a
// Sink, transient or not, for data lengths around the head's size and the
// XDR padding, and checks where every byte lands.
func TestSinkPlacement(t *testing.T) {
	data := bulkData(1 << 20)
	addr := startBulkServer(t, data)
	c := dialT(t, "tcp", addr, ClientOptions{})
	ctx := context.Background()
	for _, n := range []int{0, 1, 3, 4, 5, 100, 400, 401, 463, 467, 470, 1000, 32<<10 + 1, 64<<10 + 3, 1 << 20} {
		for _, mode := range []string{"plain", "transient", "sink", "sink+transient", "sink, large buffer"} {
			t.Run(fmt.Sprintf("%d/%s", n, mode), func(t *testing.T) {
				off := uint32(len(data) - n)
				if n < len(data) {
					off = uint32(rand.IntN(len(data) - n))
				}
				p := filled(n + 8)
				var o CallOptions
				switch mode {
				case "transient":
					o.Transient = true
				case "sink+transient":
					o.Transient = true
					fallthrough
				case "sink":
					o.Sink = &Sink{Buf: p[:n], Locate: locateBulk}
				case "sink, large buffer":
					o.Sink = &Sink{Buf: p, Locate: locateBulk}
				}
				res := readRes{p: p[:n]}
				sunk, err := c.CallWith(ctx, bulkProg, bulkVers, bulkRead, readArgs{off: off, count: uint32(n)}, &res, &o)
				if err != nil {
					t.Fatal(err)
				}
				got := res.n
				if o.Sink != nil {
					if sunk != n || res.data != 0 {
						t.Fatalf("sunk %d with %d bytes left in the results, want %d and 0", sunk, res.data, n)
					}
					got = sunk
				} else if sunk != -1 {
					t.Fatalf("sunk %d without a sink", sunk)
				}
				if got != n || !bytes.Equal(p[:n], data[off:int(off)+n]) {
					t.Fatalf("got %d bytes, wrong or misplaced", got)
				}
				checkUntouched(t, "beyond the data", p[n:])
				if res.eof != (int(off)+n == len(data)) {
					t.Errorf("eof %v decoded wrong", res.eof)
				}
			})
		}
	}
}

// fakeServer is a peer that reads calls and answers with records the
// test builds byte by byte.
type fakeServer struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

// dialFake returns a client connected to a fakeServer.
func dialFake(t *testing.T, opts ClientOptions) (*Client, *fakeServer) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c := dialT(t, "tcp", l.Addr().String(), opts)
	nc, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(30 * time.Second)) // a guard only
	return c, &fakeServer{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// call reads the next call and returns its xid and arguments.
func (f *fakeServer) call() (uint32, []byte) {
	f.t.Helper()
	rec, _, err := readRecord(f.br, nil, 1<<24)
	if err != nil {
		f.t.Fatalf("fake server: %v", err)
	}
	var h callHeaderProbe
	r := xdr.NewReader(rec)
	h.decode(r)
	if r.Err() != nil {
		f.t.Fatalf("fake server: call header: %v", r.Err())
	}
	return h.xid, r.Rest()
}

// callHeaderProbe decodes the call header of a message (RFC 5531 §9).
type callHeaderProbe struct{ xid, prog, vers, proc uint32 }

func (h *callHeaderProbe) decode(r *xdr.Reader) {
	h.xid = r.Uint32()
	r.Uint32() // CALL
	r.Uint32() // rpcvers
	h.prog, h.vers, h.proc = r.Uint32(), r.Uint32(), r.Uint32()
	for range 2 { // credential and verifier
		r.Uint32()
		r.Opaque(maxAuthBytes)
	}
}

// send writes msg as a record in fragments of the given sizes (the last
// one repeated as needed; none: one fragment).
func (f *fakeServer) send(msg []byte, sizes ...int) {
	f.t.Helper()
	if _, err := f.nc.Write(fragments(msg, sizes...)); err != nil {
		f.t.Fatalf("fake server: %v", err)
	}
}

// fragments frames msg as a record in fragments of the given sizes.
func fragments(msg []byte, sizes ...int) []byte {
	if len(sizes) == 0 {
		sizes = []int{max(len(msg), 1)}
	}
	var out []byte
	for i := 0; ; i++ {
		k := min(sizes[min(i, len(sizes)-1)], len(msg))
		mark := uint32(k)
		if k == len(msg) {
			mark |= lastFragment
		}
		out = binary.BigEndian.AppendUint32(out, mark)
		out = append(out, msg[:k]...)
		msg = msg[k:]
		if mark&lastFragment != 0 {
			return out
		}
	}
}

// successReply is a SUCCESS reply to xid carrying results.
func successReply(xid uint32, results []byte) []byte {
	var w xdr.Writer
	appendAccepted(&w, xid, rpcxdr.SUCCESS)
	return append(w.Buf, results...)
}

// framedResults are results of the shape status, opaque, trailer, which
// locateFramed finds; trailer shows that what follows the data survives.
func framedResults(status uint32, data []byte, trailer uint32) []byte {
	w := xdr.Writer{}
	w.Uint32(status)
	w.Opaque(data)
	w.Uint32(trailer)
	return w.Buf
}

func locateFramed(results []byte) (off, n int, ok bool) {
	r := xdr.NewReader(results)
	if r.Uint32() != 0 {
		return 0, 0, false
	}
	n = int(r.Uint32())
	return r.Offset(), n, r.Err() == nil
}

// framedRes decodes framedResults, behind an opaque tag if tagged.
type framedRes struct {
	tagged          bool
	status, trailer uint32
	data            []byte
}

func (f *framedRes) Decode(r *xdr.Reader) {
	if f.tagged {
		r.Opaque(xdr.Unbounded)
	}
	f.status = r.Uint32()
	f.data = bytes.Clone(r.Opaque(xdr.Unbounded))
	f.trailer = r.Uint32()
}

// TestSinkFragments checks the sink and the pooled path on records split
// into fragments everywhere: inside the header, the data, the padding and
// what follows.
func TestSinkFragments(t *testing.T) {
	c, f := dialFake(t, ClientOptions{})
	ctx := context.Background()
	for _, n := range []int{0, 5, 1000, 70001} {
		data := bulkData(n + 3)[:n]
		for _, sizes := range [][]int{nil, {1}, {3}, {7}, {27}, {28}, {29}, {30, 1}, {100}, {4096}, {28 + n + 1, 1}, {36 + n, 1}} {
			for _, mode := range []string{"sink", "sink+transient", "transient", "plain"} {
				if len(sizes) > 0 && (n+40)/sizes[0] >= maxFragments {
					continue
				}
				t.Run(fmt.Sprintf("%d/%v/%s", n, sizes, mode), func(t *testing.T) {
					p := filled(n + 4)
					o := CallOptions{Transient: mode != "sink" && mode != "plain"}
					if mode == "sink" || mode == "sink+transient" {
						o.Sink = &Sink{Buf: p[:n], Locate: locateFramed}
					}
					type result struct {
						sunk int
						res  framedRes
						err  error
					}
					done := make(chan result, 1)
					go func() {
						var r result
						r.sunk, r.err = c.CallWith(ctx, bulkProg, bulkVers, bulkRead, nil, &r.res, &o)
						done <- r
					}()
					xid, _ := f.call()
					f.send(successReply(xid, framedResults(0, data, 0xDEADBEEF)), sizes...)
					r := <-done
					if r.err != nil {
						t.Fatal(r.err)
					}
					if r.res.trailer != 0xDEADBEEF {
						t.Fatalf("trailer %#x", r.res.trailer)
					}
					got := r.res.data
					if o.Sink != nil {
						if r.sunk != n || len(r.res.data) != 0 {
							t.Fatalf("sunk %d, %d bytes in the results", r.sunk, len(r.res.data))
						}
						got = p[:n]
					}
					if !bytes.Equal(got, data) {
						t.Fatal("data differs")
					}
					checkUntouched(t, "beyond the data", p[n:])
				})
			}
		}
	}
}

// TestSinkBadReplies sends replies that the sink must not trust and checks
// that each gives an error or falls back to reading the reply whole, and
// that the connection still serves the next call.
func TestSinkBadReplies(t *testing.T) {
	data := bulkData(2000)
	results := func(pre []byte, length uint32, body []byte) []byte {
		b := append(bytes.Clone(pre), binary.BigEndian.AppendUint32(nil, length)...)
		return append(b, body...)
	}
	ok0 := []byte{0, 0, 0, 0}
	tests := []struct {
		name    string
		tagged  bool
		reply   func(xid uint32) []byte
		buf     int
		locate  func([]byte) (int, int, bool)
		wantErr error
		// Without an error: what the results must hold.
		wantSunk    int
		wantInRes   int
		wantTrailer uint32
	}{
		{
			name: "opaque longer than the record",
			reply: func(xid uint32) []byte {
				return successReply(xid, results(ok0, 1000, data[:10]))
			},
			buf: 1000, locate: locateFramed, wantErr: ErrBadReply,
		},
		{
			name: "record ends inside the padding",
			reply: func(xid uint32) []byte {
				return successReply(xid, results(ok0, 5, data[:6]))
			},
			buf: 5, locate: locateFramed, wantErr: ErrBadReply,
		},
		{
			name: "record ends inside the padding beyond the head",
			reply: func(xid uint32) []byte {
				return successReply(xid, results(ok0, 1001, data[:1002]))
			},
			buf: 1001, locate: locateFramed, wantErr: ErrBadReply,
		},
		{
			name: "more data than the buffer",
			reply: func(xid uint32) []byte {
				return successReply(xid, framedResults(0, data[:2000], 7))
			},
			buf: 1000, locate: locateFramed, wantSunk: -1, wantInRes: 2000, wantTrailer: 7,
		},
		{
			name: "error status",
			reply: func(xid uint32) []byte {
				return successReply(xid, framedResults(5, data[:100], 7))
			},
			buf: 1000, locate: locateFramed, wantSunk: -1, wantInRes: 100, wantTrailer: 7,
		},
		{
			name: "locate points at no length word",
			reply: func(xid uint32) []byte {
				return successReply(xid, framedResults(0, data[:100], 7))
			},
			buf: 1000, wantSunk: -1, wantInRes: 100, wantTrailer: 7,
			locate: func(b []byte) (int, int, bool) {
				off, n, ok := locateFramed(b)
				return off + 4, n, ok
			},
		},
		{
			name: "locate points beyond the head",
			reply: func(xid uint32) []byte {
				return successReply(xid, framedResults(0, data[:100], 7))
			},
			buf: 1000, wantSunk: -1, wantInRes: 100, wantTrailer: 7,
			locate: func(b []byte) (int, int, bool) { return 1 << 30, 100, true },
		},
		{
			name: "locate points before the results",
			reply: func(xid uint32) []byte {
				return successReply(xid, framedResults(0, data[:100], 7))
			},
			buf: 1000, wantSunk: -1, wantInRes: 100, wantTrailer: 7,
			locate: func(b []byte) (int, int, bool) { return 0, 0, true },
		},
		{
			name: "negative length",
			reply: func(xid uint32) []byte {
				return successReply(xid, framedResults(0, data[:100], 7))
			},
			buf: 1000, wantSunk: -1, wantInRes: 100, wantTrailer: 7,
			locate: func(b []byte) (int, int, bool) { return 8, -1, true },
		},
		{
			name: "data starts beyond the head", tagged: true,
			reply: func(xid uint32) []byte {
				// A 600-byte tag before the status: the head ends
				// inside it, so Locate cannot see the data.
				var w xdr.Writer
				w.Opaque(data[:600])
				w.Buf = append(w.Buf, framedResults(0, data[:100], 7)...)
				return successReply(xid, w.Buf)
			},
			buf: 1000, wantSunk: -1, wantInRes: 100, wantTrailer: 7,
			locate: func(b []byte) (int, int, bool) {
				r := xdr.NewReader(b)
				r.Opaque(xdr.Unbounded)
				off, n, ok := locateFramed(r.Rest())
				return r.Offset() + off, n, ok && r.Err() == nil
			},
		},
		{
			name: "not a SUCCESS",
			reply: func(xid uint32) []byte {
				var w xdr.Writer
				appendAccepted(&w, xid, rpcxdr.PROC_UNAVAIL)
				return w.Buf
			},
			buf: 1000, locate: locateFramed, wantErr: &AcceptError{Stat: rpcxdr.PROC_UNAVAIL},
		},
		{
			name: "reply header cut short",
			reply: func(xid uint32) []byte {
				var w xdr.Writer
				appendAccepted(&w, xid, rpcxdr.SUCCESS)
				return w.Buf[:14]
			},
			buf: 1000, locate: locateFramed, wantErr: ErrBadReply,
		},
	}
	c, f := dialFake(t, ClientOptions{})
	ctx := context.Background()
	for _, tt := range tests {
		for _, sizes := range [][]int{nil, {3}} {
			for _, transient := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%v/transient=%v", tt.name, sizes, transient), func(t *testing.T) {
					p := filled(tt.buf)
					o := CallOptions{Transient: transient, Sink: &Sink{Buf: p, Locate: tt.locate}}
					res := framedRes{tagged: tt.tagged}
					var sunk int
					var err error
					done := make(chan struct{})
					go func() {
						defer close(done)
						sunk, err = c.CallWith(ctx, bulkProg, bulkVers, bulkRead, nil, &res, &o)
					}()
					xid, _ := f.call()
					f.send(tt.reply(xid), sizes...)
					<-done
					switch {
					case tt.wantErr != nil:
						if !errors.Is(err, tt.wantErr) && !sameRPCError(err, tt.wantErr) {
							t.Fatalf("got %v, want %v", err, tt.wantErr)
						}
					case err != nil:
						t.Fatal(err)
					default:
						if sunk != tt.wantSunk || len(res.data) != tt.wantInRes || res.trailer != tt.wantTrailer {
							t.Fatalf("sunk %d, %d bytes in the results, trailer %d; want %d, %d, %d",
								sunk, len(res.data), res.trailer, tt.wantSunk, tt.wantInRes, tt.wantTrailer)
						}
						checkUntouched(t, "buffer", p)
					}
					// The stream is still in step.
					done2 := make(chan error, 1)
					go func() { done2 <- c.Call(ctx, bulkProg, bulkVers, 0, nil, nil) }()
					xid, _ = f.call()
					f.send(successReply(xid, nil))
					if err := <-done2; err != nil {
						t.Fatalf("next call: %v", err)
					}
				})
			}
		}
	}
}

// TestSinkRecordTooLarge checks that a reply larger than MaxRecordSize
// fails the client before anything is read into the sink.
func TestSinkRecordTooLarge(t *testing.T) {
	c, f := dialFake(t, ClientOptions{MaxRecordSize: 4096})
	p := filled(8192)
	done := make(chan error, 1)
	go func() {
		_, err := c.CallWith(context.Background(), bulkProg, bulkVers, bulkRead, nil, nil,
			&CallOptions{Sink: &Sink{Buf: p, Locate: locateFramed}})
		done <- err
	}()
	xid, _ := f.call()
	f.send(successReply(xid, framedResults(0, bulkData(5000), 7)))
	if err := <-done; !errors.Is(err, ErrRecordTooLarge) {
		t.Fatalf("got %v, want ErrRecordTooLarge", err)
	}
	checkUntouched(t, "buffer", p)
}

// TestSinkAbandoned checks that nothing is written to a sink once its call
// has returned early, whether the reader has started on the data or not,
// and although the server stalls inside it: the abandoned call must not
// wait for the server.
func TestSinkAbandoned(t *testing.T) {
	const n = 200 << 10
	data := bulkData(n)
	c, f := dialFake(t, ClientOptions{})
	for i := range 20 {
		p := make([]byte, n)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := c.CallWith(ctx, bulkProg, bulkVers, bulkRead, nil, nil,
				&CallOptions{Transient: i%2 == 0, Sink: &Sink{Buf: p, Locate: locateFramed}})
			done <- err
		}()
		xid, _ := f.call()
		rec := fragments(successReply(xid, framedResults(0, data, 7)))
		cut := 100 + i*5000 // inside the head, then further into the data
		if _, err := f.nc.Write(rec[:cut]); err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
		// The buffer is the caller's again: the race detector and the
		// check below see any later write.
		for j := range p {
			p[j] = sentinel
		}
		if _, err := f.nc.Write(rec[cut:]); err != nil {
			t.Fatal(err)
		}
		// A call after it proves the reader got past the record.
		next := make(chan error, 1)
		go func() { next <- c.Call(context.Background(), bulkProg, bulkVers, 0, nil, nil) }()
		xid, _ = f.call()
		f.send(successReply(xid, nil))
		if err := <-next; err != nil {
			t.Fatalf("next call: %v", err)
		}
		checkUntouched(t, fmt.Sprintf("round %d: abandoned sink", i), p)
	}
}

// TestManyInFlight runs many calls at once on one connection, with and
// without sinks, each reading a different piece, and checks every byte:
// replies come back in any order and none may land in another call's
// buffer.
func TestManyInFlight(t *testing.T) {
	data := bulkData(4 << 20)
	addr := startBulkServer(t, data)
	c := dialT(t, "tcp", addr, ClientOptions{})
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for i := range 25 {
				n := rng.IntN(300 << 10)
				off := rng.IntN(len(data) - n)
				p := filled(n + 4)
				o := CallOptions{Transient: rng.IntN(2) == 0}
				if i%3 != 0 {
					o.Sink = &Sink{Buf: p[:n], Locate: locateBulk}
				}
				res := readRes{p: p[:n]}
				sunk, err := c.CallWith(context.Background(), bulkProg, bulkVers, bulkRead, readArgs{off: uint32(off), count: uint32(n)}, &res, &o)
				if err != nil {
					t.Error(err)
					return
				}
				if sunk >= 0 {
					res.n = sunk
				}
				if res.n != n || !bytes.Equal(p[:n], data[off:off+n]) {
					t.Errorf("goroutine %d call %d: %d bytes at %d wrong", g, i, n, off)
					return
				}
				checkUntouched(t, "beyond the data", p[n:])
			}
		})
	}
	wg.Wait()
}

// TestCallTail checks that a Tail reaches the server as the opaque the
// arguments end with, over TCP (vectored) and UDP (copied), and that
// arguments not ending with an empty opaque are refused.
func TestCallTail(t *testing.T) {
	tcp, udp := startBulkServerUDP(t, nil, true)
	data := bulkData(1<<20 + 8)
	for _, network := range []string{"tcp", "udp"} {
		c := dialT(t, network, map[string]string{"tcp": tcp, "udp": udp}[network], ClientOptions{})
		for _, n := range []int{0, 1, 2, 3, 4, 5, 1000, 1 << 20} {
			if network == "udp" && n > 60000 {
				continue
			}
			t.Run(fmt.Sprintf("%s/%d", network, n), func(t *testing.T) {
				var res writeRes
				_, err := c.CallWith(context.Background(), bulkProg, bulkVers, bulkWrite, &writeArgs{off: 9}, &res,
					&CallOptions{Tail: data[1 : 1+n]})
				if err != nil {
					t.Fatal(err)
				}
				if res.count != uint32(n) || res.crc != crc32.ChecksumIEEE(data[1:1+n]) {
					t.Fatalf("server got %d bytes, crc %#x", res.count, res.crc)
				}
			})
		}
		for _, bad := range []struct {
			name string
			args xdr.Marshaler
		}{
			{"no arguments", nil},
			{"a length not zero", &writeArgs{data: data[4:8]}},
		} {
			t.Run(network+"/"+bad.name, func(t *testing.T) {
				_, err := c.CallWith(context.Background(), bulkProg, bulkVers, bulkWrite, bad.args, nil, &CallOptions{Tail: data[:8]})
				if !errors.Is(err, errBadTail) {
					t.Fatalf("got %v, want errBadTail", err)
				}
			})
		}
		// The client still works after refusing.
		var res writeRes
		if _, err := c.CallWith(context.Background(), bulkProg, bulkVers, bulkWrite, &writeArgs{}, &res, &CallOptions{Tail: data[:8]}); err != nil || res.count != 8 {
			t.Fatalf("after refusals: %v, count %d", err, res.count)
		}
	}
}

// writeRes decodes bulkWrite results.
type writeRes struct{ count, crc uint32 }

func (w *writeRes) Decode(r *xdr.Reader) {
	w.count = r.Uint32()
	w.crc = r.Uint32()
}

// TestSinkUDP checks that a sink is ignored over UDP: the data comes in
// the results.
func TestSinkUDP(t *testing.T) {
	data := bulkData(1000)
	_, udp := startBulkServerUDP(t, data, true)
	c := dialT(t, "udp", udp, ClientOptions{})
	p := filled(1000)
	res := readRes{p: make([]byte, 1000)}
	sunk, err := c.CallWith(context.Background(), bulkProg, bulkVers, bulkRead, readArgs{count: 1000}, &res,
		&CallOptions{Transient: true, Sink: &Sink{Buf: p, Locate: locateBulk}})
	if err != nil {
		t.Fatal(err)
	}
	if sunk != -1 || res.n != 1000 || !bytes.Equal(res.p, data) {
		t.Fatalf("sunk %d, %d bytes in the results", sunk, res.n)
	}
	checkUntouched(t, "sink", p)
}

// TestRecBuf checks the size classes and that growing keeps the bytes.
func TestRecBuf(t *testing.T) {
	for _, tt := range []struct{ n, class int }{
		{0, 0}, {1, 0}, {1024, 0}, {1025, 1}, {2048, 1}, {1<<20 + 130, 11}, {8 << 20, 13}, {8<<20 + 1, -1},
	} {
		if got := recClass(tt.n); got != tt.class {
			t.Errorf("recClass(%d) = %d, want %d", tt.n, got, tt.class)
		}
	}
	for _, pooled := range []bool{false, true} {
		b := newRecBuf(10, pooled)
		b.b = append(b.b, "0123456789"...)
		b.reserve(5000)
		if string(b.b) != "0123456789" || cap(b.b)-len(b.b) < 5000 {
			t.Errorf("pooled=%v: after reserve %q, room %d", pooled, b.b, cap(b.b)-len(b.b))
		}
		if (b.box != nil) != pooled {
			t.Errorf("pooled=%v: box %v", pooled, b.box != nil)
		}
		b.release()
	}
}

// TestSinkDetach checks that Detach takes the buffer back from a call
// that goes on, although the server stalls inside the data, and that a
// call made with a detached Sink gets its data in the results.
func TestSinkDetach(t *testing.T) {
	const n = 200 << 10
	data := bulkData(n)
	c, f := dialFake(t, ClientOptions{})
	p := make([]byte, n)
	sink := &Sink{Buf: p, Locate: locateFramed}
	type result struct {
		sunk int
		res  framedRes
		err  error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		r.sunk, r.err = c.CallWith(context.Background(), bulkProg, bulkVers, bulkRead, nil, &r.res, &CallOptions{Sink: sink})
		done <- r
	}()
	xid, _ := f.call()
	rec := fragments(successReply(xid, framedResults(0, data, 7)))
	if _, err := f.nc.Write(rec[:n/2]); err != nil {
		t.Fatal(err)
	}
	sink.Detach()
	for j := range p {
		p[j] = sentinel
	}
	if _, err := f.nc.Write(rec[n/2:]); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.sunk != n || r.res.trailer != 7 {
		t.Fatalf("detached call: sunk %d, trailer %d, %v", r.sunk, r.res.trailer, r.err)
	}
	checkUntouched(t, "detached sink", p)

	// Detached for good: the next call's data stays in its results.
	go func() {
		var r result
		r.sunk, r.err = c.CallWith(context.Background(), bulkProg, bulkVers, bulkRead, nil, &r.res, &CallOptions{Sink: sink})
		done <- r
	}()
	xid, _ = f.call()
	f.send(successReply(xid, framedResults(0, data[:100], 7)))
	r = <-done
	if r.err != nil || r.sunk != -1 || !bytes.Equal(r.res.data, data[:100]) {
		t.Fatalf("call with a detached sink: sunk %d, %d bytes in the results, %v", r.sunk, len(r.res.data), r.err)
	}
	checkUntouched(t, "detached sink", p)
}
