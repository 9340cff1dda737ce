package sunrpc

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/xdr"
)

// ErrClientClosed is returned by calls on a closed Client.
var ErrClientClosed = errors.New("sunrpc: client closed")

// ErrTimeout is returned by a UDP call that got no reply after all its
// attempts.
var ErrTimeout = errors.New("sunrpc: no reply")

// ErrBadReply wraps a reply that does not decode.
var ErrBadReply = errors.New("sunrpc: malformed reply")

// AcceptError is a reply accepted with a status other than SUCCESS
// (RFC 5531 §9). Low and High are set for PROG_MISMATCH.
type AcceptError struct {
	Stat      rpcxdr.AcceptStat
	Low, High uint32
}

func (e *AcceptError) Error() string {
	if e.Stat == rpcxdr.PROG_MISMATCH {
		return fmt.Sprintf("sunrpc: PROG_MISMATCH (versions %d to %d)", e.Low, e.High)
	}
	return "sunrpc: " + e.Stat.String()
}

// RejectError is a reply of MSG_DENIED (RFC 5531 §9): RPC_MISMATCH with the
// supported range in Low and High, or AUTH_ERROR with the reason in Auth.
type RejectError struct {
	Stat      rpcxdr.RejectStat
	Low, High uint32
	Auth      rpcxdr.AuthStat
}

func (e *RejectError) Error() string {
	if e.Stat == rpcxdr.RPC_MISMATCH {
		return fmt.Sprintf("sunrpc: RPC_MISMATCH (versions %d to %d)", e.Low, e.High)
	}
	return "sunrpc: AUTH_ERROR " + e.Auth.String()
}

// ClientOptions configure a Client. The zero value gives the defaults.
type ClientOptions struct {
	// Auth, if set, makes calls carry this AUTH_SYS credential; otherwise
	// they carry AUTH_NONE. SetAuth changes it later.
	Auth *rpcxdr.AuthsysParms
	// LocalAddr binds the client's end of the connection, e.g. to a port
	// below 1024 for servers that demand one (needs privilege).
	LocalAddr netip.AddrPort
	// MaxRecordSize bounds a reply (default DefaultMaxRecordSize).
	MaxRecordSize int
	// RetryInterval is how long a UDP call waits before its first
	// retransmission; each further wait doubles (default 1s).
	RetryInterval time.Duration
	// MaxAttempts bounds the transmissions of one UDP call (default 5).
	MaxAttempts int
}

// Client makes ONC RPC calls over one TCP connection or UDP socket. Calls
// from many goroutines are multiplexed by xid and may complete in any order.
// A broken TCP connection fails every pending and later call; the Client
// does not reconnect. Calls from the server on the same connection are
// ignored today.
type Client struct {
	nc     net.Conn
	stream bool
	opts   ClientOptions
	xid    atomic.Uint32

	credMu sync.RWMutex
	cred   rpcxdr.OpaqueAuth

	wmu sync.Mutex // TCP: one record written at a time

	mu      sync.Mutex
	pending map[uint32]chan []byte
	err     error         // why the client stopped; set once
	done    chan struct{} // closed when err is set
	reader  chan struct{} // closed when the reading goroutine ends
}

// msgPool holds call message buffers; a buffer is free again once the
// call has returned (its last transmission has been written).
var msgPool = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// Dial connects to addr over network ("tcp", "tcp4", "tcp6", "udp",
// "udp4", "udp6") and returns a Client.
func Dial(ctx context.Context, network, addr string, opts ClientOptions) (*Client, error) {
	var d net.Dialer
	if opts.LocalAddr.IsValid() {
		if strings.HasPrefix(network, "udp") {
			d.LocalAddr = net.UDPAddrFromAddrPort(opts.LocalAddr)
		} else {
			d.LocalAddr = net.TCPAddrFromAddrPort(opts.LocalAddr)
		}
	}
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return NewClient(nc, opts), nil
}

// NewClient returns a Client over an established connection. A
// net.PacketConn (a connected UDP socket) carries one message per datagram;
// anything else is a stream with record marking.
func NewClient(nc net.Conn, opts ClientOptions) *Client {
	if opts.MaxRecordSize <= 0 {
		opts.MaxRecordSize = DefaultMaxRecordSize
	}
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = time.Second
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 5
	}
	_, datagram := nc.(net.PacketConn)
	c := &Client{
		nc:      nc,
		stream:  !datagram,
		opts:    opts,
		pending: make(map[uint32]chan []byte),
		done:    make(chan struct{}),
		reader:  make(chan struct{}),
	}
	// A random first xid keeps a restarted client from meeting its
	// predecessor's entries in the server's duplicate request cache.
	c.xid.Store(rand.Uint32())
	if opts.Auth != nil {
		c.SetAuth(opts.Auth)
	}
	go c.read()
	return c
}

// SetAuth makes later calls carry the AUTH_SYS credential a, or AUTH_NONE
// if a is nil.
func (c *Client) SetAuth(a *rpcxdr.AuthsysParms) {
	cred := rpcxdr.OpaqueAuth{Flavor: rpcxdr.AUTH_NONE}
	if a != nil {
		cred = rpcxdr.OpaqueAuth{Flavor: rpcxdr.AUTH_SYS, Body: xdr.Marshal(nil, a)}
	}
	c.credMu.Lock()
	c.cred = cred
	c.credMu.Unlock()
}

// Call calls procedure proc of version vers of program prog with args (nil
// for void) and decodes the results into res (nil to ignore them). A reply
// other than SUCCESS is an *AcceptError or a *RejectError. If ctx ends
// first Call returns ctx.Err(); a reply arriving later is discarded.
func (c *Client) Call(ctx context.Context, prog, vers, proc uint32, args xdr.Marshaler, res xdr.Unmarshaler) error {
	body, err := c.call(ctx, CallHeader{Prog: prog, Vers: vers, Proc: proc}, args, nil)
	if err != nil {
		return err
	}
	if res != nil {
		var r xdr.Reader
		r.Reset(body)
		res.Decode(&r)
		if err := r.Err(); err != nil {
			return fmt.Errorf("%w: results: %w", ErrBadReply, err)
		}
	}
	return nil
}

// CallHeader holds the call header fields CallRaw sends. Zero RPCVers means
// 2; nil Cred means the client's credential, nil Verf AUTH_NONE.
type CallHeader struct {
	RPCVers          uint32
	Prog, Vers, Proc uint32
	Cred, Verf       *rpcxdr.OpaqueAuth
}

// CallRaw sends a call with the header h and the already encoded
// arguments body, and returns the encoded results of a SUCCESS reply. It
// lets tests and tools send what Call cannot: another RPC version, odd
// credentials, garbage arguments.
func (c *Client) CallRaw(ctx context.Context, h CallHeader, body []byte) ([]byte, error) {
	return c.call(ctx, h, nil, body)
}

func (c *Client) call(ctx context.Context, h CallHeader, args xdr.Marshaler, raw []byte) ([]byte, error) {
	xid := c.xid.Add(1)
	ch := make(chan []byte, 1)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return nil, c.err
	}
	c.pending[xid] = ch
	c.mu.Unlock()

	bp := msgPool.Get().(*[]byte)
	defer msgPool.Put(bp)
	w := xdr.Writer{Buf: (*bp)[:0]}
	if c.stream {
		w.Reserve(markLen)
	}
	if h.RPCVers == 0 {
		h.RPCVers = rpcVersion
	}
	var cred, verf rpcxdr.OpaqueAuth
	if h.Cred != nil {
		cred = *h.Cred
	} else {
		c.credMu.RLock()
		cred = c.cred
		c.credMu.RUnlock()
	}
	if h.Verf != nil {
		verf = *h.Verf
	}
	appendCall(&w, xid, h.RPCVers, h.Prog, h.Vers, h.Proc, cred, verf)
	if args != nil {
		args.Encode(&w)
	}
	w.Buf = append(w.Buf, raw...)
	if cap(w.Buf) <= maxPooledBuf {
		*bp = w.Buf
	}

	rec, err := c.exchange(ctx, xid, ch, w.Buf)
	if err != nil {
		c.mu.Lock()
		delete(c.pending, xid)
		c.mu.Unlock()
		return nil, err
	}
	return parseReply(rec)
}

// exchange sends msg and waits for the reply to xid, retransmitting on UDP.
func (c *Client) exchange(ctx context.Context, xid uint32, ch chan []byte, msg []byte) ([]byte, error) {
	if c.stream {
		setMark(msg)
		c.wmu.Lock()
		_, err := c.nc.Write(msg)
		c.wmu.Unlock()
		if err != nil {
			c.fail(err)
			return nil, err
		}
		select {
		case rec := <-ch:
			return rec, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.done:
			return nil, c.err
		}
	}
	// UDP: retransmit the same bytes, same xid, so that the server's
	// duplicate request cache recognizes them.
	wait := c.opts.RetryInterval
	t := time.NewTimer(wait)
	defer t.Stop()
	for attempt := 1; ; attempt++ {
		if _, err := c.nc.Write(msg); err != nil {
			return nil, err
		}
		select {
		case rec := <-ch:
			return rec, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.done:
			return nil, c.err
		case <-t.C:
		}
		if attempt == c.opts.MaxAttempts {
			return nil, ErrTimeout
		}
		wait *= 2
		t.Reset(wait)
	}
}

// parseReply decodes a reply message (RFC 5531 §9 reply_body) and returns
// the results of a SUCCESS.
func parseReply(rec []byte) ([]byte, error) {
	var r xdr.Reader
	r.Reset(rec)
	r.Uint32() // xid, already matched
	if rpcxdr.MsgType(r.Uint32()) != rpcxdr.REPLY {
		return nil, ErrBadReply
	}
	switch rpcxdr.ReplyStat(r.Uint32()) {
	case rpcxdr.MSG_ACCEPTED:
		r.Uint32()             // verifier flavor
		r.Opaque(maxAuthBytes) // verifier body
		st := rpcxdr.AcceptStat(r.Uint32())
		switch st {
		case rpcxdr.SUCCESS:
			if r.Err() != nil {
				break
			}
			return r.Rest(), nil
		case rpcxdr.PROG_MISMATCH:
			e := &AcceptError{Stat: st, Low: r.Uint32(), High: r.Uint32()}
			if r.Err() == nil {
				return nil, e
			}
		default:
			if r.Err() == nil {
				return nil, &AcceptError{Stat: st}
			}
		}
	case rpcxdr.MSG_DENIED:
		switch st := rpcxdr.RejectStat(r.Uint32()); st {
		case rpcxdr.RPC_MISMATCH:
			e := &RejectError{Stat: st, Low: r.Uint32(), High: r.Uint32()}
			if r.Err() == nil {
				return nil, e
			}
		case rpcxdr.AUTH_ERROR:
			e := &RejectError{Stat: st, Auth: rpcxdr.AuthStat(r.Uint32())}
			if r.Err() == nil {
				return nil, e
			}
		}
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadReply, err)
	}
	return nil, ErrBadReply
}

// read delivers replies to their callers until the connection fails.
func (c *Client) read() {
	defer close(c.reader)
	var next func() ([]byte, error)
	if c.stream {
		br := bufio.NewReaderSize(c.nc, 32<<10)
		next = func() ([]byte, error) {
			rec, _, err := readRecord(br, nil, c.opts.MaxRecordSize)
			return rec, err
		}
	} else {
		buf := make([]byte, maxDatagram)
		next = func() ([]byte, error) {
			n, err := c.nc.Read(buf)
			if err != nil {
				return nil, err
			}
			return append([]byte(nil), buf[:n]...), nil
		}
	}
	for {
		rec, err := next()
		if err != nil {
			if !c.stream && errors.Is(err, syscall.ECONNREFUSED) {
				// ICMP errors (port unreachable) surface on a
				// connected UDP socket; retransmission handles them.
				continue
			}
			c.fail(err)
			return
		}
		if len(rec) < 8 || rpcxdr.MsgType(binary.BigEndian.Uint32(rec[4:])) != rpcxdr.REPLY {
			continue // a call from the server: no backchannel yet
		}
		xid := binary.BigEndian.Uint32(rec)
		c.mu.Lock()
		ch := c.pending[xid]
		delete(c.pending, xid)
		c.mu.Unlock()
		if ch != nil {
			ch <- rec
		}
	}
}

// fail stops the client with err, waking every pending call.
func (c *Client) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.err = fmt.Errorf("sunrpc: connection failed: %w", err)
	close(c.done)
	c.nc.Close()
}

// Close closes the connection; pending calls fail with ErrClientClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.err == nil {
		c.err = ErrClientClosed
		close(c.done)
	}
	c.mu.Unlock()
	err := c.nc.Close()
	<-c.reader
	return err
}
