package nfs4

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/xdr"
)

// cutProxy forwards TCP connections to a server. Until cut is armed it
// passes everything; once armed, the next reply bytes from the server are
// swallowed and both sides closed, so the calls in flight were executed
// but their replies lost. Later connections pass normally, except that
// with delayAfterCut the first call carrying a SEQUENCE after the cut is
// answered by the proxy itself with SEQUENCE NFS4ERR_DELAY, as a server
// answers a retry whose original still runs (RFC 8881 §2.10.6.2).
type cutProxy struct {
	l             net.Listener
	target        string
	armed         atomic.Bool
	cuts          atomic.Int32
	delayAfterCut atomic.Bool
	delayNext     atomic.Bool
	wg            sync.WaitGroup

	mu   sync.Mutex
	seqs []seqID // slot and sequence ID of each call with a SEQUENCE after the cut
}

// seqID is where a request sits in the session: its slot and sequence ID.
type seqID struct{ slot, seq uint32 }

func newCutProxy(t *testing.T, target string) *cutProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{l: l, target: target}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() { l.Close(); p.wg.Wait() })
	return p
}

func (p *cutProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.wg.Add(2)
		var wmu sync.Mutex // c is written by both directions
		go func() { defer p.wg.Done(); p.forward(c, s, &wmu); s.Close() }()
		go func() {
			defer p.wg.Done()
			buf := make([]byte, 64<<10)
			for {
				n, err := s.Read(buf)
				if n > 0 && p.armed.CompareAndSwap(true, false) {
					p.cuts.Add(1)
					p.delayNext.Store(p.delayAfterCut.Load())
					break // the reply is lost
				}
				if n > 0 {
					wmu.Lock()
					_, werr := c.Write(buf[:n])
					wmu.Unlock()
					if werr != nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			c.Close()
			s.Close()
		}()
	}
}

// forward copies RPC records from the client c to the server s. After a
// cut it notes the slot and sequence ID of each call with a SEQUENCE and,
// if delayNext, answers the first one with NFS4ERR_DELAY instead of
// passing it on. The injected reply is written whole under wmu; the tests
// that use it have no other reply in flight then, so it cannot land inside
// another record.
func (p *cutProxy) forward(c, s net.Conn, wmu *sync.Mutex) {
	inRecord := false // a fragment of a record is already passed
	for {
		var mark [4]byte
		if _, err := io.ReadFull(c, mark[:]); err != nil {
			return
		}
		frag := make([]byte, binary.BigEndian.Uint32(mark[:])&0x7fffffff)
		if _, err := io.ReadFull(c, frag); err != nil {
			return
		}
		last := mark[0]&0x80 != 0
		if !inRecord && last && p.cuts.Load() > 0 {
			if id, ok := sequenceOf(frag); ok {
				p.mu.Lock()
				p.seqs = append(p.seqs, id)
				p.mu.Unlock()
				if p.delayNext.CompareAndSwap(true, false) {
					wmu.Lock()
					_, err := c.Write(delayReply(frag[:4]))
					wmu.Unlock()
					if err != nil {
						return
					}
					continue
				}
			}
		}
		inRecord = !last
		if _, err := s.Write(append(mark[:], frag...)); err != nil {
			return
		}
	}
}

// sequenceOf returns the slot and sequence ID of an NFSv4 COMPOUND call
// that starts with SEQUENCE (RFC 5531 §9 call header, RFC 8881 §16.2.1
// COMPOUND4args, §18.46.1 SEQUENCE4args).
func sequenceOf(call []byte) (seqID, bool) {
	r := xdr.NewReader(call)
	r.Uint32() // xid
	if r.Uint32() != 0 || r.Uint32() != 2 || r.Uint32() != x.NFS4_PROGRAM || r.Uint32() != x.NFS_V4 || r.Uint32() != x.NFSPROC4_COMPOUND {
		return seqID{}, false
	}
	for range 2 { // credential, verifier
		r.Uint32()
		r.Opaque(400) // RFC 5531 §8.2: at most 400 bytes
	}
	r.Opaque(1 << 16) // tag
	r.Uint32()        // minorversion
	if r.Uint32() == 0 || x.NfsOpnum4(r.Uint32()) != x.OP_SEQUENCE {
		return seqID{}, false
	}
	r.FixedOpaque(x.NFS4_SESSIONID_SIZE)
	seq, slot := r.Uint32(), r.Uint32()
	return seqID{slot: slot, seq: seq}, r.Err() == nil
}

// delayReply is a whole RPC record answering the call with xid with a
// COMPOUND whose SEQUENCE failed with NFS4ERR_DELAY.
func delayReply(xid []byte) []byte {
	w := xdr.NewWriter(nil)
	w.Uint32(0) // record mark, below
	w.FixedOpaque(xid)
	for _, v := range []uint32{1, 0, 0, 0, 0} { // REPLY, MSG_ACCEPTED, AUTH_NONE verifier, SUCCESS
		w.Uint32(v)
	}
	res := x.COMPOUND4res{Status: x.NFS4ERR_DELAY, Resarray: []x.NfsResop4{{
		Resop: x.OP_SEQUENCE, Opsequence: &x.SEQUENCE4res{SrStatus: x.NFS4ERR_DELAY},
	}}}
	res.Encode(w)
	w.PutUint32At(0, 1<<31|uint32(w.Len()-4))
	return w.Bytes()
}

// TestReplayAfterLostReply: a REMOVE runs on the server but its reply is
// lost with the connection. The client reconnects, binds the new
// connection to the session and sends the same request on the same slot
// and sequence id; the server answers from its reply cache (RFC 8881
// §2.10.6.2). Were the REMOVE executed again, it would fail with
// NFS4ERR_NOENT.
func TestReplayAfterLostReply(t *testing.T) {
	ts := startServer(t)
	proxy := newCutProxy(t, ts.addr)
	c, err := Dial(testCtx(t), proxy.l.Addr().String(), Options{Auth: testCred})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := testCtx(t)
	for i := range 3 {
		name := fmt.Sprintf("f%d", i)
		o, _, err := c.OpenFile(ctx, name, AccessWrite, Unchecked, 0o644, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Close(ctx); err != nil {
			t.Fatal(err)
		}
		proxy.armed.Store(true)
		if err := c.Remove(ctx, name); err != nil {
			t.Fatalf("REMOVE replayed after a lost reply: %v", err)
		}
	}
	if n := proxy.cuts.Load(); n != 3 {
		t.Fatalf("%d replies cut, want 3", n)
	}
	if _, _, err := c.Stat(ctx, "f0"); !IsStatus(err, 2) {
		t.Errorf("removed file: %v", err)
	}
}

// TestReplayConcurrent: several REMOVEs are in flight when the connection
// drops; each is replayed on the new connection on its own slot and each
// succeeds exactly once.
func TestReplayConcurrent(t *testing.T) {
	ts := startServer(t)
	proxy := newCutProxy(t, ts.addr)
	c, err := Dial(testCtx(t), proxy.l.Addr().String(), Options{Auth: testCred})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := testCtx(t)
	const n = 8
	for i := range n {
		o, _, err := c.OpenFile(ctx, fmt.Sprintf("g%d", i), AccessWrite, Unchecked, 0o644, false)
		if err != nil {
			t.Fatal(err)
		}
		o.Close(ctx)
	}
	proxy.armed.Store(true)
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- c.Remove(ctx, fmt.Sprintf("g%d", i)) }()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("REMOVE: %v", err)
		}
	}
	if proxy.cuts.Load() != 1 {
		t.Fatalf("%d cuts, want 1", proxy.cuts.Load())
	}
}

// TestReplayDelayedRetry: a REMOVE's reply is lost with the connection
// and its retry is answered NFS4ERR_DELAY, as while the original still
// runs (RFC 8881 §2.10.6.2). The client must send it again with the same
// slot and sequence ID (§15.1.1.3), not as a new request: that would run
// the REMOVE a second time (NFS4ERR_NOENT), and leave the sequence ID in
// use on the slot for an unrelated request to be answered the REMOVE's
// cached reply.
func TestReplayDelayedRetry(t *testing.T) {
	ts := startServer(t)
	proxy := newCutProxy(t, ts.addr)
	c, err := Dial(testCtx(t), proxy.l.Addr().String(), Options{Auth: testCred})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := testCtx(t)
	o, _, err := c.OpenFile(ctx, "h", AccessWrite, Unchecked, 0o644, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Close(ctx); err != nil {
		t.Fatal(err)
	}
	proxy.delayAfterCut.Store(true)
	proxy.armed.Store(true)
	if err := c.Remove(ctx, "h"); err != nil {
		t.Fatalf("REMOVE after a delayed retry: %v", err)
	}
	proxy.mu.Lock()
	seqs := proxy.seqs
	proxy.mu.Unlock()
	if len(seqs) != 2 || seqs[0] != seqs[1] {
		t.Fatalf("calls after the cut (slot, seqid) = %v, want the delayed one sent again once", seqs)
	}
	if _, _, err := c.Stat(ctx, "h"); !IsStatus(err, 2) {
		t.Errorf("removed file: %v", err)
	}
}
