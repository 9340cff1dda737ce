package sunrpc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
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

	// Handler serves the calls the server makes to the client over the
	// client's own connection: NFSv4.1 CB_COMPOUND on the backchannel
	// (RFC 8881 §2.10.3.1), to the callback program the client named in
	// CREATE_SESSION. A *Mux serves several programs and answers
	// PROG_UNAVAIL and PROG_MISMATCH itself; any other Handler is given
	// every call whatever its program and version. Nil answers every
	// call PROG_UNAVAIL. The Handler contract holds as on a Server, with
	// these differences: ctx is cancelled when the Client closes or its
	// connection fails, Call.Conn is nil, there is no duplicate request
	// cache (an NFSv4.1 session has its own reply cache) and no Observer.
	Handler Handler
	// MaxCallbacks bounds the calls from the server whose Handler runs at
	// once (default DefaultMaxCallsPerConn, the bound a Server keeps to).
	// A call beyond it is dropped unanswered and logged, as Linux drops a
	// callback when its backchannel slots are all taken: the reading
	// goroutine must never wait, since the replies to the client's own
	// calls arrive on it too, and a Handler waiting for one of those
	// would deadlock. A call's slot is freed before its reply is written,
	// so a server that sends a new call only once it has a reply (an
	// NFSv4.1 server within its back channel slots, RFC 8881 §18.36)
	// never meets the bound it agreed to.
	MaxCallbacks int
	// Logger receives Handler panics and dropped calls (default:
	// discard).
	Logger *slog.Logger
}

// Client makes ONC RPC calls over one TCP connection or UDP socket. Calls
// from many goroutines are multiplexed by xid and may complete in any order.
// A broken TCP connection fails every pending and later call; the Client
// does not reconnect.
//
// Calls from the server arriving on the same connection (a CALL where a
// REPLY is expected, told apart by msg_type, RFC 5531 §9) go to
// ClientOptions.Handler, each on a goroutine of its own; its reply is
// written on the connection under the same lock as the client's calls. The
// xids of the two directions are independent.
type Client struct {
	nc     net.Conn
	stream bool
	opts   ClientOptions
	xid    atomic.Uint32
	log    *slog.Logger

	// Serving calls from the server.
	local, remote netip.AddrPort
	ctx           context.Context // of the Handler; cancelled when the client stops
	cancel        context.CancelFunc
	cbSlots       chan struct{} // semaphore of MaxCallbacks
	cbRunning     sync.WaitGroup
	in            interner // used by the reading goroutine only

	credMu sync.RWMutex
	cred   rpcxdr.OpaqueAuth

	wmu sync.Mutex  // TCP: one record written at a time, calls and replies alike
	iov [3][]byte   // under wmu: a record written with a Tail
	vec net.Buffers // under wmu: iov as WriteTo consumes it

	mu      sync.Mutex
	pending map[uint32]*pendingCall
	err     error         // why the client stopped; set once
	done    chan struct{} // closed when err is set
	reader  chan struct{} // closed when the reading goroutine ends
}

// msgPool holds message buffers of the calls a server makes to its
// client over the backchannel (Conn.Call); a buffer is free again once
// the call has been written.
var msgPool = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// callState is what one call of the Client needs besides its pendingCall:
// the writer of its message and the reader of its results, pooled
// together so that neither is allocated per call (both escape through the
// Marshaler and Unmarshaler interfaces).
type callState struct {
	w xdr.Writer
	r xdr.Reader
}

var callPool = sync.Pool{New: func() any { return &callState{w: xdr.Writer{Buf: make([]byte, 0, 256)}} }}

func getCallState() *callState { return callPool.Get().(*callState) }

func putCallState(cs *callState) {
	if cap(cs.w.Buf) > maxPooledBuf {
		cs.w.Buf = nil
	}
	cs.w.Buf = cs.w.Buf[:0]
	cs.r.Reset(nil)
	callPool.Put(cs)
}

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
	if opts.MaxCallbacks <= 0 {
		opts.MaxCallbacks = DefaultMaxCallsPerConn
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	_, datagram := nc.(net.PacketConn)
	c := &Client{
		nc:      nc,
		stream:  !datagram,
		opts:    opts,
		log:     opts.Logger,
		local:   addrPort(nc.LocalAddr()),
		remote:  addrPort(nc.RemoteAddr()),
		cbSlots: make(chan struct{}, opts.MaxCallbacks),
		pending: make(map[uint32]*pendingCall),
		done:    make(chan struct{}),
		reader:  make(chan struct{}),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
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
		cred = *AuthSysCred(a)
	}
	c.credMu.Lock()
	c.cred = cred
	c.credMu.Unlock()
}

// Call calls procedure proc of version vers of program prog with args (nil
// for void) and decodes the results into res (nil to ignore them). A reply
// other than SUCCESS is an *AcceptError or a *RejectError. If ctx ends
// first Call returns ctx.Err(); a reply arriving later is discarded.
//
// Byte slices that res keeps (opaque data, file handles) alias the reply's
// record, which is the caller's to keep.
func (c *Client) Call(ctx context.Context, prog, vers, proc uint32, args xdr.Marshaler, res xdr.Unmarshaler) error {
	_, err := c.CallWith(ctx, prog, vers, proc, args, res, nil)
	return err
}

// CallOptions are what CallWith can do beyond Call: the bulk data of
// large calls and replies (NFS WRITE and READ) need not be copied on its
// way between the connection and the caller's buffer.
type CallOptions struct {
	// Tail is sent after the encoded args as the data of a
	// variable-length opaque (RFC 4506 §4.10), followed by its padding,
	// without being copied into the message: the record goes out in one
	// vectored write. args must end with that opaque's length, encoded as
	// zero (encode the arguments with the data left empty: the arguments
	// of NFSv3 WRITE, RFC 1813 §3.3.7, and of a COMPOUND ending with
	// WRITE, RFC 8881 §18.32, end with their data); the client puts
	// len(Tail) there. Over UDP, Tail is copied into the datagram.
	Tail []byte
	// Sink, if not nil, may receive the bulk data of the reply (see
	// Sink). Ignored over UDP.
	Sink *Sink
	// Transient says the reply's record may be reused as soon as
	// res.Decode returns, so that it comes from a pool and goes back to
	// it: res must copy whatever it keeps of the bytes it decodes.
	Transient bool
}

// CallWith is Call with the options of o (nil: none). It returns how many
// bytes of reply data went into o.Sink.Buf, or -1 if the reply was
// received whole and its data, if any, is in the results.
func (c *Client) CallWith(ctx context.Context, prog, vers, proc uint32, args xdr.Marshaler, res xdr.Unmarshaler, o *CallOptions) (sunk int, err error) {
	if o == nil {
		o = &CallOptions{}
	}
	cs := getCallState()
	defer putCallState(cs)
	rep, err := c.call(ctx, cs, CallHeader{Prog: prog, Vers: vers, Proc: proc}, args, nil, o)
	if err != nil {
		return -1, err
	}
	body, err := parseReply(rep.rec.b)
	if err == nil {
		err = decodeResultsWith(&cs.r, body, res)
	}
	if o.Transient {
		rep.rec.release()
	}
	if err != nil {
		return -1, err
	}
	return rep.sunk, nil
}

// decodeResults decodes the results of a SUCCESS reply into res (nil:
// ignored).
func decodeResults(body []byte, res xdr.Unmarshaler) error {
	var r xdr.Reader
	return decodeResultsWith(&r, body, res)
}

// decodeResultsWith is decodeResults with the reader r.
func decodeResultsWith(r *xdr.Reader, body []byte, res xdr.Unmarshaler) error {
	if res == nil {
		return nil
	}
	r.Reset(body)
	res.Decode(r)
	if err := r.Err(); err != nil {
		return fmt.Errorf("%w: results: %w", ErrBadReply, err)
	}
	return nil
}

// decodeReply decodes a reply message, its status and results.
func decodeReply(rec []byte, res xdr.Unmarshaler) error {
	body, err := parseReply(rec)
	if err != nil {
		return err
	}
	return decodeResults(body, res)
}

// appendCallMsg encodes a call message into buf[:0], behind room for a
// record mark if framed.
func appendCallMsg(buf []byte, framed bool, xid, rpcvers, prog, vers, proc uint32, cred, verf rpcxdr.OpaqueAuth, args xdr.Marshaler, raw []byte) []byte {
	w := xdr.Writer{Buf: buf}
	appendCallArgs(&w, framed, xid, rpcvers, prog, vers, proc, cred, verf, args, raw)
	return w.Buf
}

// appendCallArgs is appendCallMsg into w.Buf[:0]; it returns where the
// arguments start.
func appendCallArgs(w *xdr.Writer, framed bool, xid, rpcvers, prog, vers, proc uint32, cred, verf rpcxdr.OpaqueAuth, args xdr.Marshaler, raw []byte) (hdr int) {
	w.Buf = w.Buf[:0]
	if framed {
		w.Reserve(markLen)
	}
	appendCall(w, xid, rpcvers, prog, vers, proc, cred, verf)
	hdr = len(w.Buf)
	if args != nil {
		args.Encode(w)
	}
	w.Buf = append(w.Buf, raw...)
	return hdr
}

// errBadTail reports arguments that do not end with the zero length that
// CallOptions.Tail fills in.
var errBadTail = errors.New("sunrpc: arguments do not end with an empty opaque for Tail")

// setTailLen puts the length of tail into the empty opaque that msg (a
// call message with hdr bytes of header before the arguments) ends with.
func setTailLen(msg []byte, hdr int, tail []byte) error {
	if len(msg)-hdr < 4 || binary.BigEndian.Uint32(msg[len(msg)-4:]) != 0 || uint64(len(msg))+uint64(len(tail))+3 > 1<<31-1 {
		return errBadTail
	}
	binary.BigEndian.PutUint32(msg[len(msg)-4:], uint32(len(tail)))
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
	cs := getCallState()
	defer putCallState(cs)
	rep, err := c.call(ctx, cs, h, nil, body, &CallOptions{})
	if err != nil {
		return nil, err
	}
	return parseReply(rep.rec.b)
}

// call sends a call and returns its reply; the caller parses it and, for a
// transient call, releases its buffer.
func (c *Client) call(ctx context.Context, cs *callState, h CallHeader, args xdr.Marshaler, raw []byte, o *CallOptions) (reply, error) {
	xid := c.xid.Add(1)
	var sink *sinkState
	if c.stream { // a datagram arrives whole
		sink = newSinkState(o.Sink, c.nc)
	}
	pc := getPending(sink, o.Transient)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		putPending(pc)
		return reply{}, c.err
	}
	c.pending[xid] = pc
	c.mu.Unlock()

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
	hdr := appendCallArgs(&cs.w, c.stream, xid, h.RPCVers, h.Prog, h.Vers, h.Proc, cred, verf, args, raw)
	msg := cs.w.Buf
	tail := o.Tail
	var err error
	if tail != nil {
		err = setTailLen(msg, hdr, tail)
		if !c.stream && err == nil {
			msg = append(msg, tail...)
			msg = append(msg, zeros[:xdrPad(len(tail))]...)
			tail = nil
		}
	}
	cs.w.Buf = msg

	var rep reply
	if err == nil {
		rep, err = c.exchange(ctx, pc, msg, tail)
	}
	if err == nil {
		err = rep.err
	}
	if err != nil {
		if rep.err == nil {
			c.mu.Lock()
			delete(c.pending, xid)
			c.mu.Unlock()
			pc.abandon()
		} else {
			putPending(pc)
		}
		return reply{}, err
	}
	putPending(pc)
	return rep, nil
}

// zeros pads a Tail to a multiple of four bytes.
var zeros [4]byte

// exchange sends msg (and tail) and waits for the reply to pc,
// retransmitting on UDP.
func (c *Client) exchange(ctx context.Context, pc *pendingCall, msg, tail []byte) (reply, error) {
	if c.stream {
		if err := c.write(msg, tail); err != nil {
			return reply{}, err
		}
		select {
		case rep := <-pc.ch:
			return rep, nil
		case <-ctx.Done():
			return reply{}, ctx.Err()
		case <-c.done:
			return reply{}, c.err
		}
	}
	// UDP: retransmit the same bytes, same xid, so that the server's
	// duplicate request cache recognizes them.
	wait := c.opts.RetryInterval
	t := time.NewTimer(wait)
	defer t.Stop()
	for attempt := 1; ; attempt++ {
		if _, err := c.nc.Write(msg); err != nil {
			return reply{}, err
		}
		select {
		case rep := <-pc.ch:
			return rep, nil
		case <-ctx.Done():
			return reply{}, ctx.Err()
		case <-c.done:
			return reply{}, c.err
		case <-t.C:
		}
		if attempt == c.opts.MaxAttempts {
			return reply{}, ErrTimeout
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
	if !c.stream {
		c.readDatagrams()
		return
	}
	s := newRecvStream(c.nc, c.opts.MaxRecordSize)
	head := make([]byte, headLen)
	for {
		if err := c.receive(s, head); err != nil {
			c.fail(err)
			return
		}
	}
}

// receive reads one record and passes it on: a REPLY to the call waiting
// for its xid, a CALL to serveCall. The call is taken out of c.pending as
// soon as its reply starts, so that the rest of the reply can be read to
// where the call wants it (a pooled buffer, its Sink). An error is the
// stream's and ends the client.
func (c *Client) receive(s *recvStream, scratch []byte) error {
	if err := s.begin(); err != nil {
		return err
	}
	n, err := s.fill(scratch)
	if err != nil {
		return err
	}
	head := scratch[:n]
	if len(head) < 8 {
		return s.skipRest()
	}
	switch rpcxdr.MsgType(binary.BigEndian.Uint32(head[4:])) {
	case rpcxdr.REPLY:
	case rpcxdr.CALL:
		rec := newRecBuf(len(head)+s.left, false)
		rec.b = append(rec.b, head...)
		if err := s.readRest(&rec); err != nil {
			return err
		}
		c.serveCall(rec.b)
		return nil
	default:
		return s.skipRest()
	}
	pc := c.claim(binary.BigEndian.Uint32(head))
	if pc == nil {
		return s.skipRest()
	}
	if pc.sink != nil {
		rep, ok, err := receiveSunk(s, pc, head)
		if err != nil {
			return err
		}
		if ok {
			pc.ch <- rep
			return nil
		}
	}
	rec := newRecBuf(len(head)+s.left, pc.transient)
	rec.b = append(rec.b, head...)
	if err := s.readRest(&rec); err != nil {
		rec.release()
		return err
	}
	pc.ch <- reply{rec: rec, sunk: -1}
	return nil
}

// claim takes the call waiting for xid out of c.pending, or returns nil
// if none is (it gave up, or the reply is a duplicate).
func (c *Client) claim(xid uint32) *pendingCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	pc := c.pending[xid]
	delete(c.pending, xid)
	return pc
}

// readDatagrams is read for UDP: one message per datagram.
func (c *Client) readDatagrams() {
	buf := make([]byte, maxDatagram)
	for {
		n, err := c.nc.Read(buf)
		if err != nil {
			if errors.Is(err, syscall.ECONNREFUSED) {
				// ICMP errors (port unreachable) surface on a
				// connected UDP socket; retransmission handles them.
				continue
			}
			c.fail(err)
			return
		}
		if n < 8 {
			continue
		}
		switch rpcxdr.MsgType(binary.BigEndian.Uint32(buf[4:])) {
		case rpcxdr.REPLY:
		case rpcxdr.CALL:
			c.serveCall(append([]byte(nil), buf[:n]...))
			continue
		default:
			continue
		}
		if pc := c.claim(binary.BigEndian.Uint32(buf)); pc != nil {
			rec := newRecBuf(n, pc.transient)
			rec.b = append(rec.b, buf[:n]...)
			pc.ch <- reply{rec: rec, sunk: -1}
		}
	}
}

// serveCall admits a call from the server on the reading goroutine and
// serves it on a goroutine of its own, which also writes any rejection, so
// that the reader never waits for a slot or for the connection's write lock.
func (c *Client) serveCall(rec []byte) {
	select {
	case c.cbSlots <- struct{}{}:
	default:
		c.log.Warn("sunrpc: client dropped a call from the server: too many running",
			"xid", binary.BigEndian.Uint32(rec), "max", c.opts.MaxCallbacks)
		return
	}
	req := getRequest()
	req.rec = rec
	req.framed = c.stream
	req.call.Transport = "tcp"
	if !c.stream {
		req.call.Transport = "udp"
	}
	req.call.Local, req.call.Remote = c.local, c.remote
	v, _ := admitCall(req, &c.in, c.opts.Handler)
	if v != vDispatch && v != vReplied {
		// Not a call after all (the caller checked msg_type), but
		// nothing to answer either.
		putRequest(req)
		<-c.cbSlots
		return
	}
	c.cbRunning.Add(1)
	go c.runCallback(req, v == vDispatch)
}

func (c *Client) runCallback(req *request, dispatch bool) {
	defer c.cbRunning.Done()
	send := len(req.w.Buf) > req.start
	if dispatch {
		send = runHandler(c.ctx, req, c.log, nil)
	}
	// Free the slot before the reply can reach the server (see
	// MaxCallbacks).
	<-c.cbSlots
	if send {
		// A failure here fails the client; the reader sees it too.
		c.write(req.w.Buf, nil)
	}
	putRequest(req)
}

// write sends one message: on a stream, a record whose mark b reserves,
// written whole under the write lock; on UDP one datagram. On a stream,
// tail and its padding follow b in the same record, written together with
// it by one vectored write (writev), so the record's bytes are not
// gathered into one buffer first. A stream that fails to write fails the
// client.
func (c *Client) write(b, tail []byte) error {
	if !c.stream {
		_, err := c.nc.Write(b)
		return err
	}
	var err error
	if tail == nil {
		setMark(b)
		c.wmu.Lock()
		_, err = c.nc.Write(b)
		c.wmu.Unlock()
	} else {
		p := xdrPad(len(tail))
		binary.BigEndian.PutUint32(b, lastFragment|uint32(len(b)-markLen+len(tail)+p))
		c.wmu.Lock()
		c.iov = [3][]byte{b, tail, zeros[:p]}
		c.vec = c.iov[:]
		_, err = c.vec.WriteTo(c.nc)
		c.iov, c.vec = [3][]byte{}, nil // keep none of the caller's memory
		c.wmu.Unlock()
	}
	if err != nil {
		c.fail(err)
	}
	return err
}

// fail stops the client with err, waking every pending call and cancelling
// the context of running Handler calls.
func (c *Client) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.err = fmt.Errorf("sunrpc: connection failed: %w", err)
	close(c.done)
	c.cancel()
	c.nc.Close()
}

// Close closes the connection; pending calls fail with ErrClientClosed.
// It cancels the context of running Handler calls and waits for them to
// return, so a Handler must not call Close.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.err == nil {
		c.err = ErrClientClosed
		close(c.done)
	}
	c.mu.Unlock()
	c.cancel()
	err := c.nc.Close()
	<-c.reader
	c.cbRunning.Wait()
	return err
}
