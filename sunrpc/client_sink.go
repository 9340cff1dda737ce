package sunrpc

import (
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// A Sink lets the bulk data of a reply (the data of an NFS READ) go from
// the connection straight into the caller's buffer, instead of into the
// record and then, by a copy, to the caller.
//
// The client's reading goroutine reads the first bytes of the reply (up
// to 512, see headLen) and, if the reply is a SUCCESS, gives Locate the
// part of them after the reply header: the start of the results. Locate
// says where in those bytes a variable-length opaque starts (off, the
// index of its first data byte, just past its four-byte length) and how
// long it is (n), or ok false if it cannot tell from these bytes (an error
// status, a layout it does not know, too few bytes). The reader checks the
// answer (the length word before off must equal n, n must fit Buf, off
// must lie within the bytes given), reads the n bytes into Buf[:n] and
// then the rest of the record. The results the caller decodes are the
// reply with that opaque emptied: its length reads zero and its bytes and
// padding are gone, so a decoder built for the full results decodes them
// unchanged and finds an empty opaque there.
//
// When Locate says no, or its answer fails the checks (n larger than Buf,
// say), the reply is received whole as without a Sink and the data stays
// in the results. A record that ends inside the opaque it announced fails
// the call with ErrBadReply; the connection lives on.
//
// Locate runs on the reading goroutine, which serves every call on the
// connection: it must be quick, must not block or panic, and must not keep
// its argument.
//
// Buf belongs to the client from the call's start until it returns; after
// that nothing is written to it, even if the call ended early (ctx, a
// failed connection). A call that gives up while the reader is writing
// into Buf waits for that one read from the socket, which it cuts short
// with a read deadline if the server is slow to send (the reader then
// clears the deadline and discards the rest of the data), so giving up
// never waits for the server. Detach does the same for a call that goes
// on. A Sink must not be copied once used.
type Sink struct {
	Buf    []byte
	Locate func(results []byte) (off, n int, ok bool)

	detached atomic.Bool
	cur      atomic.Pointer[sinkState] // of the latest call made with it
}

// Detach takes Buf back from the calls made with s while they go on:
// when it returns nothing more is written to Buf, by any call made with s
// before or after. A call the Sink was detached from reports its data as
// sunk all the same, but Buf holds any part of it; a later call with s
// gets its data in the results. Detach lets a caller that must see a
// call through (an NFSv4.1 slot learns its sequence from the reply,
// RFC 8881 §2.10.6.1) return to its own caller early.
func (s *Sink) Detach() {
	s.detached.Store(true)
	if st := s.cur.Load(); st != nil {
		st.abandon()
	}
}

// sinkState is one call's use of a Sink, shared by the caller and the
// reading goroutine. mu is held by the reader while it writes into buf;
// whoever ends the use sets gone and then takes mu, after which the
// reader writes nothing more there.
type sinkState struct {
	buf    []byte
	locate func(results []byte) (off, n int, ok bool)
	nc     net.Conn
	mu     sync.Mutex
	gone   atomic.Bool
}

// newSinkState starts a call's use of s over nc, or returns nil if s is
// nil or detached. Storing cur before loading detached, while Detach
// stores detached before loading cur, makes sure one of them sees the
// other.
func newSinkState(s *Sink, nc net.Conn) *sinkState {
	if s == nil || s.Locate == nil {
		return nil
	}
	st := &sinkState{buf: s.Buf, locate: s.Locate, nc: nc}
	s.cur.Store(st)
	if s.detached.Load() {
		return nil
	}
	return st
}

// abandon ends the use of the sink and returns once the reader is done
// with buf, poking it out of a read it is blocked in.
func (st *sinkState) abandon() {
	st.gone.Store(true)
	st.nc.SetReadDeadline(time.Now())
	// Taking mu waits out a write into buf under way; with gone set, the
	// reader starts no other.
	st.mu.Lock()
	//lint:ignore SA2001 the empty critical section is the wait
	st.mu.Unlock()
}

// pendingCall is a call waiting for its reply. The reader takes it out of
// Client.pending when a reply with its xid starts, and sends the reply on
// ch.
type pendingCall struct {
	ch        chan reply // room for one
	sink      *sinkState // nil without a sink
	transient bool       // the caller releases the reply's buffer
}

// reply is a received reply: the record (with the sunk opaque emptied),
// its pooled buffer if the call is transient, how many data bytes went to
// the sink (-1: none, the reply was received whole), or the error that
// made it unusable.
type reply struct {
	rec  recBuf
	sunk int
	err  error
}

// pendingPool recycles pendingCalls whose caller got its reply: the reader
// is done with them then, unlike with an abandoned one.
var pendingPool = sync.Pool{New: func() any { return &pendingCall{ch: make(chan reply, 1)} }}

func getPending(sink *sinkState, transient bool) *pendingCall {
	pc := pendingPool.Get().(*pendingCall)
	pc.sink, pc.transient = sink, transient
	return pc
}

func putPending(pc *pendingCall) {
	pc.sink = nil
	pendingPool.Put(pc)
}

// abandon tells the reader that the caller of pc no longer waits, and
// returns once the reader is done with pc's sink.
func (pc *pendingCall) abandon() {
	if pc.sink != nil {
		pc.sink.abandon()
	}
}

// receiveSunk receives the reply whose head has been read into the sink
// of pc if its Locate finds the data. ok false means it did not, and
// nothing beyond head has been read; a non-nil error is the stream's.
func receiveSunk(s *recvStream, pc *pendingCall, head []byte) (r reply, ok bool, err error) {
	results, perr := parseReply(head)
	if perr != nil {
		return reply{}, false, nil
	}
	st := pc.sink
	off, n, found := st.locate(results)
	if !found || off < 4 || off > len(results) || n < 0 || n > len(st.buf) ||
		binary.BigEndian.Uint32(results[off-4:]) != uint32(n) {
		return reply{}, false, nil
	}
	hdr := len(head) - len(results)

	// The data: what the head holds, then straight from the stream.
	have := min(n, len(results)-off)
	st.mu.Lock()
	if !st.gone.Load() {
		copy(st.buf, results[off:off+have])
	}
	st.mu.Unlock()
	short := false
	for have < n && !short {
		var k int
		st.mu.Lock()
		if st.gone.Load() {
			st.mu.Unlock()
			k, err = s.skip(n - have)
			short = err == nil && k < n-have
		} else {
			k, err = s.readSink(st.buf[have:n])
			st.mu.Unlock()
			if err == errEndOfRecord {
				short, err = true, nil
			}
		}
		have += k
		if err != nil {
			return reply{}, true, err
		}
	}
	// The padding, and whatever follows the data inside the head.
	end := off + n + xdrPad(n)
	var after []byte
	if end <= len(results) {
		after = results[end:]
	} else if !short {
		pos := max(len(results), off+n)
		k, err := s.skip(end - pos)
		if err != nil {
			return reply{}, true, err
		}
		short = k < end-pos
	}
	if short {
		return reply{sunk: -1, err: fmt.Errorf("%w: the record ends inside an opaque of %d bytes", ErrBadReply, n)}, true, nil
	}

	rec := newRecBuf(hdr+off+len(after)+s.left, pc.transient)
	rec.b = append(rec.b, head[:hdr+off]...)
	binary.BigEndian.PutUint32(rec.b[hdr+off-4:], 0)
	rec.b = append(rec.b, after...)
	if err := s.readRest(&rec); err != nil {
		rec.release()
		return reply{}, true, err
	}
	return reply{rec: rec, sunk: n}, true, nil
}

// xdrPad returns the number of zero bytes that follow n bytes of opaque
// data (RFC 4506 §4.10).
func xdrPad(n int) int { return (4 - n&3) & 3 }
