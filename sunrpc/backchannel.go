package sunrpc

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/xdr"
)

// ErrConnClosed is returned by Conn.Call when the connection is closed
// before the reply arrives, or was closed already. A failed write also
// closes the connection and returns an error that wraps ErrConnClosed.
var ErrConnClosed = errors.New("sunrpc: connection closed")

// DefaultMaxCallsPerConn is the default of Options.MaxCallsPerConn.
const DefaultMaxCallsPerConn = 64

// backchannel is the state of the calls a server makes to the client at the
// other end of a Conn (RFC 8881 §2.10.3.1). Replies arrive on the Conn's
// reading goroutine, which hands each to its waiting call and never waits
// itself: every pending call has a channel with room for its one reply.
type backchannel struct {
	xid   atomic.Uint32
	slots chan struct{} // semaphore of Options.MaxCallsPerConn

	mu      sync.Mutex
	pending map[uint32]chan []byte
	closed  bool
	done    chan struct{} // closed with closed

	unmatched atomic.Uint64 // replies no pending call wanted
}

func (b *backchannel) init(max int) {
	b.slots = make(chan struct{}, max)
	b.pending = make(map[uint32]chan []byte)
	b.done = make(chan struct{})
	// The xids of this direction are a space of their own: a REPLY is told
	// from a CALL by msg_type, so they may collide with the client's xids
	// harmlessly. A random start only makes traces easier to read.
	b.xid.Store(rand.Uint32())
}

// register adds a pending call with a fresh xid. It fails once the
// connection is closed.
func (b *backchannel) register(ch chan []byte) (uint32, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, false
	}
	for {
		// Skipping an xid still pending matters only after 2^32 calls
		// with one left unanswered, but costs one map lookup.
		xid := b.xid.Add(1)
		if _, dup := b.pending[xid]; !dup {
			b.pending[xid] = ch
			return xid, true
		}
	}
}

func (b *backchannel) forget(xid uint32) {
	b.mu.Lock()
	delete(b.pending, xid)
	b.mu.Unlock()
}

// deliver hands a REPLY to the call waiting for its xid, or drops and counts
// it. It never blocks: the call's channel has room for its one reply, and the
// entry is removed before the send so that no second reply finds it.
func (b *backchannel) deliver(rec []byte) bool {
	xid := binary.BigEndian.Uint32(rec)
	b.mu.Lock()
	ch := b.pending[xid]
	delete(b.pending, xid)
	b.mu.Unlock()
	if ch == nil {
		b.unmatched.Add(1)
		return false
	}
	ch <- bytes.Clone(rec) // rec is the reader's pooled buffer
	return true
}

// close releases every waiting call at once and refuses new ones. It is
// called when the connection's reading stops: no reply can arrive after it.
func (b *backchannel) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		b.pending = nil
		close(b.done)
	}
}

// ID returns a number that identifies the connection among all connections
// its Server has accepted, never 0 and never reused: a key for per-connection
// bookkeeping such as the connections bound to an NFSv4.1 session (RFC 8881
// §18.34 BIND_CONN_TO_SESSION).
func (c *Conn) ID() uint64 { return c.id }

// UnmatchedReplies returns how many REPLY messages arrived on the connection
// for no pending Call (unknown xids, or calls that had given up). They are
// dropped; the connection stays open.
func (c *Conn) UnmatchedReplies() uint64 { return c.back.unmatched.Load() }

// Call calls procedure proc of version vers of program prog on the client
// at the other end of the connection, the way Client.Call calls a server:
// args (nil for void) are encoded after the call header, and the results of
// a SUCCESS reply are decoded into res (nil to ignore them). This is the
// NFSv4.1 backchannel (RFC 8881 §2.10.3.1): CB_COMPOUND to the program the
// client named in CREATE_SESSION or BACKCHANNEL_CTL (RFC 8881 §18.36,
// §18.33), sent over the client's own connection.
//
// cred is the credential to send; nil sends AUTH_NONE. AuthSysCred builds an
// AUTH_SYS one. The verifier is always AUTH_NONE.
//
// The call gets an xid from the connection's own space for this direction.
// Client and server xids are independent: the connection carries CALLs and
// REPLYs both ways, and each end routes a record by its msg_type (RFC 5531
// §9), CALLs to its dispatcher and REPLYs to its pending calls.
//
// A reply other than SUCCESS is an *AcceptError or a *RejectError, one that
// does not decode wraps ErrBadReply. If ctx ends first Call returns
// ctx.Err(); a reply arriving later is dropped and counted in
// UnmatchedReplies. When the connection closes every waiting Call returns
// ErrConnClosed at once. The message is written whole under the
// connection's write lock, bounded by Options.WriteTimeout (not by ctx); a
// failed write closes the connection.
//
// At most Options.MaxCallsPerConn calls wait for replies on one connection;
// a further Call waits for one of them to finish, for ctx, or for the
// connection to close. Call is safe for concurrent use, also from handlers
// running on the same connection, but see the package documentation (Calls
// in both directions) for why such a handler should not wait without a
// deadline.
func (c *Conn) Call(ctx context.Context, prog, vers, proc uint32, cred *rpcxdr.OpaqueAuth, args xdr.Marshaler, res xdr.Unmarshaler) error {
	b := &c.back
	select {
	case b.slots <- struct{}{}:
	default:
		select {
		case b.slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		case <-b.done:
			return ErrConnClosed
		}
	}
	defer func() { <-b.slots }()

	ch := make(chan []byte, 1)
	xid, ok := b.register(ch)
	if !ok {
		return ErrConnClosed
	}
	var cr rpcxdr.OpaqueAuth
	if cred != nil {
		cr = *cred
	}
	bp := msgPool.Get().(*[]byte)
	msg := appendCallMsg(*bp, true, xid, rpcVersion, prog, vers, proc, cr, rpcxdr.OpaqueAuth{}, args, nil)
	err := c.send(msg)
	if cap(msg) <= maxPooledBuf {
		*bp = msg
	}
	msgPool.Put(bp)
	if err != nil {
		b.forget(xid)
		c.nc.Close() // a partial record leaves the stream unusable; the reader ends the connection
		return fmt.Errorf("%w: %w", ErrConnClosed, err)
	}

	select {
	case rec := <-ch:
		return decodeReply(rec, res)
	case <-ctx.Done():
		b.forget(xid)
		return ctx.Err()
	case <-b.done:
		// A reply delivered just before the close still counts.
		select {
		case rec := <-ch:
			return decodeReply(rec, res)
		default:
			return ErrConnClosed
		}
	}
}

// AuthSysCred returns the AUTH_SYS credential (RFC 5531 Appendix A) for p,
// for Conn.Call.
func AuthSysCred(p *rpcxdr.AuthsysParms) *rpcxdr.OpaqueAuth {
	return &rpcxdr.OpaqueAuth{Flavor: rpcxdr.AUTH_SYS, Body: xdr.Marshal(nil, p)}
}
