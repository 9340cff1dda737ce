package trace

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Limits of the reassembler. A fragment longer than maxFragment is taken
// for garbage (real servers cap records at a few MiB: Linux at 1 MiB of
// payload plus headers). Out-of-order data beyond maxPending is given up
// on: the hole before it is skipped, as a lost segment would be.
const (
	maxFragment   = 16 << 20
	maxRecord     = 64 << 20
	maxPending    = 8 << 20
	maxPendingSeg = 1024
	// probeLen is how many bytes a record mark plus the start of an RPC
	// header take: mark, xid, msg_type, rpcvers, prog, vers.
	probeLen = 24
	// giveUpAfter is how much data of a connection on an unknown port is
	// scanned for an RPC header before it is taken for something else.
	giveUpAfter = 1 << 20
)

// connKey names a TCP connection by its two ends in a fixed order.
type connKey struct{ a, b netip.AddrPort }

func keyOf(x, y netip.AddrPort) connKey {
	if x.Compare(y) > 0 {
		x, y = y, x
	}
	return connKey{x, y}
}

// tcpConn is one TCP connection: two directions and whether it is known to
// carry RPC.
type tcpConn struct {
	half   [2]*half
	rpc    bool // a well-formed RPC message has been seen, or a known port
	closed bool // FIN or RST seen
}

// segment is out-of-order data waiting for the hole before it.
type segment struct {
	seq  uint32
	data []byte
}

// half is one direction of a TCP connection: reassembly state, then
// record-marking state (RFC 5531 §11).
type half struct {
	c        *tcpConn
	src, dst netip.AddrPort

	started bool
	next    uint32 // next expected sequence number
	ooo     []segment
	oooLen  int

	buf      []byte // bytes not yet framed
	bufFrame int    // frame that carried buf[0]
	frag     []byte // the fragments of the current record so far
	recFrame int    // frame where the current record began
	sync     bool   // buf starts at a record mark
	scanned  int    // bytes skipped while not in sync
	dead     bool   // not RPC: ignore the rest
}

func (a *analyzer) tcp(src, dst netip.AddrPort, t *layers.TCP, cut bool, frame int, ts time.Time) {
	k := keyOf(src, dst)
	c := a.conns[k]
	if c == nil {
		c = &tcpConn{rpc: a.knownPort(src.Port()) || a.knownPort(dst.Port())}
		c.half[0] = &half{c: c, src: k.a, dst: k.b}
		c.half[1] = &half{c: c, src: k.b, dst: k.a}
		a.conns[k] = c
	}
	h := c.half[0]
	if src != k.a {
		h = c.half[1]
	}
	if t.SYN {
		if h.started && t.Seq+1 != h.next {
			h.reset() // the four-tuple was reused for a new connection
			c.closed = false
		}
		h.started, h.next = true, t.Seq+1
		// On a port known to carry RPC the stream starts at a record
		// mark; elsewhere the first call header must be found.
		h.sync = c.rpc && len(h.buf) == 0 && len(h.frag) == 0
	}
	if t.RST || t.FIN {
		c.closed = true
	}
	payload := t.Payload
	if len(payload) == 0 || h.dead {
		return
	}
	if cut {
		// Data missing from the frame: leave a hole, skipped later like a
		// lost segment.
		return
	}
	if !h.started {
		// The capture began after the handshake: start here, out of sync.
		h.started, h.next = true, t.Seq
	}
	h.segment(a, t.Seq, payload, frame, ts)
}

func (h *half) reset() {
	*h = half{c: h.c, src: h.src, dst: h.dst}
}

// segment places one TCP segment in sequence order.
func (h *half) segment(a *analyzer, seq uint32, data []byte, frame int, ts time.Time) {
	// Sequence numbers compare modulo 2^32 (RFC 9293 §3.4); widened so
	// that negating the distance cannot overflow.
	if d := int64(int32(seq - h.next)); d < 0 {
		if -d >= int64(len(data)) {
			return // retransmission of data already delivered
		}
		data, seq = data[-d:], h.next
	}
	if seq != h.next {
		if len(h.ooo) >= maxPendingSeg || h.oooLen+len(data) > maxPending {
			h.skipGap(a, frame, ts)
			if h.dead {
				return
			}
			h.segment(a, seq, data, frame, ts)
			return
		}
		h.ooo = append(h.ooo, segment{seq, slices.Clone(data)})
		h.oooLen += len(data)
		return
	}
	h.deliver(a, data, frame, ts)
	h.drain(a, frame, ts)
}

// drain delivers the waiting segments that the stream has reached.
func (h *half) drain(a *analyzer, frame int, ts time.Time) {
	for progress := true; progress && len(h.ooo) > 0 && !h.dead; {
		progress = false
		for i := 0; i < len(h.ooo); i++ {
			s := h.ooo[i]
			d := int64(int32(s.seq - h.next))
			if d > 0 {
				continue
			}
			h.ooo = slices.Delete(h.ooo, i, i+1)
			h.oooLen -= len(s.data)
			i--
			if -d < int64(len(s.data)) {
				h.deliver(a, s.data[-d:], frame, ts)
				progress = true
			}
		}
	}
}

// skipGap gives up on the hole before the earliest waiting segment: the
// stream continues there, out of sync until the next plausible record mark.
func (h *half) skipGap(a *analyzer, frame int, ts time.Time) {
	if len(h.ooo) == 0 {
		return
	}
	first := h.ooo[0].seq
	for _, s := range h.ooo[1:] {
		if int32(s.seq-first) < 0 {
			first = s.seq
		}
	}
	lost := first - h.next
	if h.c.rpc && (h.sync || len(h.frag) > 0) {
		a.note(fmt.Sprintf("%s → %s: %d bytes missing before frame %d; resynchronised at the next record mark", h.src, h.dst, lost, frame))
	}
	h.next = first
	h.buf, h.frag, h.sync = nil, nil, false
	h.drain(a, frame, ts)
}

// deliver appends in-order stream data and frames records out of it.
func (h *half) deliver(a *analyzer, data []byte, frame int, ts time.Time) {
	h.next += uint32(len(data))
	if len(h.buf) == 0 {
		h.bufFrame = frame
	}
	h.buf = append(h.buf, data...)
	for !h.dead {
		if !h.sync && !h.resync(a, frame) {
			break
		}
		if len(h.buf) < 4 {
			break
		}
		mark := binary.BigEndian.Uint32(h.buf)
		n, last := int(mark&0x7fffffff), mark&0x80000000 != 0
		if n > maxFragment || len(h.frag)+n > maxRecord {
			h.lostSync(a, fmt.Sprintf("implausible record mark (fragment of %d bytes)", n), frame)
			continue
		}
		if len(h.frag) == 0 {
			h.recFrame = h.bufFrame
		}
		if len(h.buf) < 4+n {
			break
		}
		h.frag = append(h.frag, h.buf[4:4+n]...)
		h.buf = h.buf[4+n:]
		h.bufFrame = frame
		if !last {
			continue
		}
		rec := h.frag
		h.frag = nil
		if !a.record(flow{proto: "tcp", src: h.src, dst: h.dst, conn: h.c}, rec, frame, ts) {
			h.lostSync(a, "a record that is not an RPC message", frame)
		}
	}
	if len(h.buf) == 0 {
		h.buf = nil // let a large consumed buffer go
	}
}

// lostSync drops framing after garbage; the stream resynchronises at the
// next plausible record mark.
func (h *half) lostSync(a *analyzer, why string, frame int) {
	if h.c.rpc {
		a.note(fmt.Sprintf("%s → %s: %s at frame %d; resynchronised at the next record mark", h.src, h.dst, why, frame))
	}
	h.sync, h.frag = false, nil
	if len(h.buf) > 0 {
		h.buf = h.buf[1:]
	}
}

// resync looks for a plausible record mark in buf and reports whether buf
// now starts with one. Bytes before it are dropped.
func (h *half) resync(a *analyzer, frame int) bool {
	for i := 0; i+probeLen <= len(h.buf); i++ {
		if a.plausible(h, h.buf[i:]) {
			h.buf = h.buf[i:]
			h.bufFrame = frame
			h.scanned += i
			h.sync = true
			return true
		}
	}
	if keep := probeLen - 1; len(h.buf) > keep {
		h.scanned += len(h.buf) - keep
		h.buf = h.buf[len(h.buf)-keep:]
	}
	if !h.c.rpc && h.scanned > giveUpAfter {
		h.dead, h.buf, h.ooo, h.oooLen = true, nil, nil, 0
	}
	return false
}

// plausible reports whether b starts with a record mark followed by the
// header of an RPC call this analyzer can name, or of a reply to a call
// outstanding on this connection.
func (a *analyzer) plausible(h *half, b []byte) bool {
	mark := binary.BigEndian.Uint32(b)
	n := mark & 0x7fffffff
	if n < 16 || n > maxFragment {
		return false
	}
	xid := binary.BigEndian.Uint32(b[4:])
	switch binary.BigEndian.Uint32(b[8:]) {
	case 0: // CALL: rpcvers 2 and a program and version we know
		if mark&0x80000000 != 0 && n < 40 {
			return false
		}
		return binary.BigEndian.Uint32(b[12:]) == 2 &&
			a.knownProg(binary.BigEndian.Uint32(b[16:]), binary.BigEndian.Uint32(b[20:]))
	case 1: // REPLY: MSG_ACCEPTED or MSG_DENIED to a call we hold
		rs := binary.BigEndian.Uint32(b[12:])
		_, ok := a.pending[pendKey{"tcp", h.dst, h.src, xid}]
		return rs <= 1 && ok
	}
	return false
}

// flushStreams, at the end of the capture, skips the holes that were never
// filled and reports records the capture cut short.
func (a *analyzer) flushStreams() {
	keys := make([]connKey, 0, len(a.conns))
	for k := range a.conns {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y connKey) int {
		if c := x.a.Compare(y.a); c != 0 {
			return c
		}
		return x.b.Compare(y.b)
	})
	for _, k := range keys {
		c := a.conns[k]
		for _, h := range c.half {
			for len(h.ooo) > 0 && !h.dead {
				h.skipGap(a, a.rep.Frames, a.rep.End)
			}
			if !c.rpc || h.dead || !h.sync {
				continue
			}
			switch {
			case len(h.frag) > 0:
				a.cutShort = append(a.cutShort, cutRecord{h.src, h.dst, h.recFrame, len(h.frag), -1})
			case len(h.buf) >= 4:
				n := int(binary.BigEndian.Uint32(h.buf) & 0x7fffffff)
				a.cutShort = append(a.cutShort, cutRecord{h.src, h.dst, h.bufFrame, len(h.buf) - 4, n})
			case len(h.buf) > 0:
				a.cutShort = append(a.cutShort, cutRecord{h.src, h.dst, h.bufFrame, len(h.buf), -1})
			}
		}
	}
}

// cutRecord is a record the capture ends inside of.
type cutRecord struct {
	src, dst  netip.AddrPort
	frame     int
	have, len int // len is -1 when not known
}

// udp takes one datagram: an RPC call or reply when it looks like one.
func (a *analyzer) udp(src, dst netip.AddrPort, payload []byte, frame int, ts time.Time) {
	if len(payload) < 16 {
		return
	}
	xid := binary.BigEndian.Uint32(payload)
	switch binary.BigEndian.Uint32(payload[4:]) {
	case 0:
		if len(payload) < 36 || binary.BigEndian.Uint32(payload[8:]) != 2 ||
			!a.knownProg(binary.BigEndian.Uint32(payload[12:]), binary.BigEndian.Uint32(payload[16:])) {
			return
		}
	case 1:
		if _, ok := a.pending[pendKey{"udp", dst, src, xid}]; !ok {
			return
		}
	default:
		return
	}
	a.record(flow{proto: "udp", src: src, dst: dst}, payload, frame, ts)
}
