package sunrpc

import (
	"context"
	"errors"
	"hash/crc32"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gonfs/gonfs/xdr"
)

// DefaultMaxRecordSize is the default bound on a request record: a 4 MiB
// NFS WRITE plus room for its headers.
const DefaultMaxRecordSize = 4<<20 + 64<<10

// ErrServerClosed is returned by ServeTCP and ServeUDP after Shutdown or
// Close.
var ErrServerClosed = errors.New("sunrpc: server closed")

// Options configure a Server. The zero value gives the defaults.
type Options struct {
	// MaxRecordSize bounds a request record (the sum of its fragments on
	// TCP). A connection that announces a larger record is closed before
	// the record is read. Default DefaultMaxRecordSize.
	MaxRecordSize int
	// MaxInFlightPerConn bounds the requests of one TCP connection that run
	// at once (default 64). When it is reached the server stops reading the
	// connection until a request finishes.
	MaxInFlightPerConn int
	// MaxInFlight bounds the requests running at once over all
	// connections and sockets (default 1024).
	MaxInFlight int
	// Logger receives errors and panics (default: discard).
	Logger *slog.Logger
	// Clock gives the time for the duplicate request cache (default
	// time.Now).
	Clock func() time.Time
	// IdleTimeout closes a TCP connection that has had no request running
	// and sent no byte for this long (default 0: never).
	IdleTimeout time.Duration
	// WriteTimeout bounds the writing of one reply on TCP; a connection
	// whose client does not read in time is closed (default 1 minute;
	// negative: no bound).
	WriteTimeout time.Duration
	// MaxCallsPerConn bounds the calls the server makes to the client
	// over one TCP connection (Conn.Call) that wait for replies at once
	// (default DefaultMaxCallsPerConn). A further Conn.Call waits.
	MaxCallsPerConn int
	// DRC bounds the duplicate request cache.
	DRC DRCOptions
	// Observer, if set, is told of every dispatched call.
	Observer Observer
	// Tap, if set, sees every record the server reads and writes (see
	// Tap). Nil costs nothing.
	Tap Tap
	// Sendfile says which TCP connections send file spans attached to
	// replies (Call.AttachFile) with sendfile(2) (default SendfileRemote).
	Sendfile SendfileMode
}

// SendfileMode says which connections take file spans (see
// Options.Sendfile). Where they do not, Call.CanAttach is false and
// handlers copy file data into their replies.
type SendfileMode int

const (
	// SendfileRemote sends spans on connections whose client is not on
	// a loopback address. A span saves the server both copies of the
	// data (pread into a buffer, write out of it) and lets a network
	// card take the pages as they are; over loopback, though, the
	// client must copy the data out of page-sized fragments instead of
	// the large buffers write(2) fills, and measured 1 MiB READs over
	// loopback were 10-30 % slower with spans (gonfs bench seqread,
	// docs/performance.md). One cost is not measured here: sendfile runs
	// under the connection's write lock, so when the data is not in the
	// page cache the replies of one connection wait for each other's
	// disk reads, where pread into the reply ran them in parallel.
	SendfileRemote SendfileMode = iota
	// SendfileAlways sends spans on every TCP connection.
	SendfileAlways
	// SendfileNever never sends spans.
	SendfileNever
)

// sendfileFor reports whether a connection from remote takes spans.
func (m SendfileMode) sendfileFor(remote netip.AddrPort) bool {
	switch m {
	case SendfileAlways:
		return true
	case SendfileRemote:
		return !remote.Addr().IsLoopback()
	}
	return false
}

// Server dispatches ONC RPC calls to registered Handlers over TCP and UDP.
// Register handlers before serving; its methods are safe for concurrent use.
type Server struct {
	opts   Options
	log    *slog.Logger
	drc    *drc
	global chan struct{} // semaphore of MaxInFlight

	mux     Mux           // the registrations
	connIDs atomic.Uint64 // last Conn.ID given out

	ctx    context.Context // parent of every handler context; cancelled by Close
	cancel context.CancelFunc

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	packets   map[net.PacketConn]struct{}
	conns     map[*Conn]struct{}
	done      chan struct{} // closed when Shutdown or Close begins
	closing   bool
	serving   sync.WaitGroup // serve loops and connection goroutines

	work chan *request // hands TCP requests to idle workers (see startWork)
	idle atomic.Int32  // workers waiting on work

	// testHookWaitSlot, if set, is called when a reader is about to block
	// for an in-flight slot.
	testHookWaitSlot func()
}

// NewServer returns a Server with opts (the zero Options work).
func NewServer(opts Options) *Server {
	if opts.MaxRecordSize <= 0 {
		opts.MaxRecordSize = DefaultMaxRecordSize
	}
	if opts.MaxInFlightPerConn <= 0 {
		opts.MaxInFlightPerConn = 64
	}
	if opts.MaxCallsPerConn <= 0 {
		opts.MaxCallsPerConn = DefaultMaxCallsPerConn
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 1024
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = time.Minute
	}
	s := &Server{
		opts:      opts,
		log:       opts.Logger,
		global:    make(chan struct{}, opts.MaxInFlight),
		listeners: make(map[net.Listener]struct{}),
		packets:   make(map[net.PacketConn]struct{}),
		conns:     make(map[*Conn]struct{}),
		done:      make(chan struct{}),
		work:      make(chan *request),
	}
	if !opts.DRC.Disabled {
		s.drc = newDRC(opts.DRC, opts.Clock)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Register serves version vers of program prog with h, replacing an earlier
// registration of the same pair. It may be called while serving.
func (s *Server) Register(prog, vers uint32, h Handler) {
	s.mux.Register(prog, vers, h)
}

// request is the per-call state, pooled so that a steady stream of calls
// does not allocate.
type request struct {
	call  Call
	rec   []byte     // the request record or datagram
	w     xdr.Writer // the reply
	start int        // offset of the reply message in w.Buf (after a record mark)

	framed   bool           // stream transport: w starts with room for a record mark
	conn     *Conn          // TCP
	udp      *udpSock       // UDP
	peer     netip.AddrPort // UDP: the sender as the socket gave it
	peerAddr net.Addr       // UDP on a PacketConn that is not a *net.UDPConn
	h        Handler        // the handler chosen
	key      drcKey         // set when drc
	drc      bool           // the call goes through the DRC
}

var requestPool = sync.Pool{New: func() any { return new(request) }}

// bigRequests keeps requests whose buffers grew past bigBuf (1 MiB READ
// replies and WRITE records). A sync.Pool is emptied by every garbage
// collection, and a server moving 1 MiB per request collects often, so
// without this each large READ or WRITE allocated, zeroed and (for a
// record read in growing steps) copied its buffers afresh. Its capacity
// bounds what it holds: at most bigRequestsKept requests with two buffers
// of up to maxPooledBuf each.
var bigRequests = make(chan *request, bigRequestsKept)

const (
	bigBuf          = 64 << 10
	bigRequestsKept = 16
)

func getRequest() *request {
	select {
	case r := <-bigRequests:
		return r
	default:
		return requestPool.Get().(*request)
	}
}

// maxPooledBuf keeps a burst of large records from pinning their buffers.
const maxPooledBuf = DefaultMaxRecordSize

func putRequest(r *request) {
	r.call.releaseAttachment()
	rec, buf := r.rec[:0], r.w.Buf[:0]
	if cap(rec) > maxPooledBuf {
		rec = nil
	}
	if cap(buf) > maxPooledBuf {
		buf = nil
	}
	*r = request{rec: rec, w: xdr.Writer{Buf: buf}}
	if cap(rec) > bigBuf || cap(buf) > bigBuf {
		select {
		case bigRequests <- r:
			return
		default:
		}
	}
	requestPool.Put(r)
}

// resetReply starts the reply buffer, leaving room for a record mark on a
// stream.
func (r *request) resetReply() {
	r.w.Buf = r.w.Buf[:0]
	if r.framed {
		r.w.Reserve(markLen)
	}
	r.start = len(r.w.Buf)
}

// verdict is what the reading goroutine does after looking at a record.
type verdict int

const (
	vDispatch verdict = iota // run the handler on its own goroutine
	vReplied                 // answered (or dropped) already; request is done
	vClose                   // hostile or unreadable input: close the connection
	vReply                   // a REPLY: for the calls this end made (Conn.Call)
)

// admit decodes and checks the call header in req.rec and either answers it
// at once (errors, DRC replays) or prepares it for a handler. It runs on the
// reading goroutine, so a bad header is rejected before any handler work
// and before taking an in-flight slot.
func (s *Server) admit(req *request, in *interner) verdict {
	v, idem := admitCall(req, in, &s.mux)
	c := &req.call
	if v != vDispatch || s.drc == nil || idem == nil {
		return v
	}
	if ai, ok := idem.(ArgsIdempotency); ok {
		if ai.IdempotentArgs(c.Proc, c.Args) {
			return v
		}
	} else if idem.Idempotent(c.Proc) {
		return v
	}
	req.key = drcKey{
		addr: c.Remote.Addr(),
		xid:  c.XID, prog: c.Prog, vers: c.Vers, proc: c.Proc,
		argsum: argSum(c.Args), argLen: len(c.Args),
	}
	switch st, reply := s.drc.begin(req.key); st {
	case drcInProgress:
		return vReplied // dropped: the running copy will answer
	case drcDone:
		req.w.Buf = append(req.w.Buf, reply...)
		if reply == nil {
			req.w.Buf = req.w.Buf[:req.start]
		}
		return vReplied
	}
	req.drc = true
	return vDispatch
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// run calls the handler and builds the reply in req.w, recording it in the
// duplicate request cache. It reports whether a reply is to be sent.
func (s *Server) run(ctx context.Context, req *request) bool {
	send := runHandler(ctx, req, s.log, s.opts.Observer)
	if req.drc {
		s.drc.finish(req.key, req.w.Buf[req.start:], !send)
	}
	return send
}

// maxIdleWorkers bounds the workers kept waiting for requests. Each holds
// its stack (a few KiB to a few tens of KiB once grown), so the bound is
// also a bound on the memory a past burst leaves behind.
const maxIdleWorkers = 128

// startWork runs req (a TCP call that holds its in-flight slots) on a
// worker: an idle one if there is one, else a new one. Workers outlive
// their requests so that the next request runs on a stack that has
// already grown to what handlers need; a new goroutine per request
// starts small and copies its stack as it grows, which profiles of small
// operations (GETATTR, 4 KiB READ) showed at 12-16 % of server CPU.
func (s *Server) startWork(req *request) {
	select {
	case s.work <- req:
	default:
		go s.worker(req)
	}
}

// worker runs requests until it has been idle while maxIdleWorkers others
// were, or the server closes.
func (s *Server) worker(req *request) {
	for {
		req.conn.handle(req)
		if s.idle.Add(1) > maxIdleWorkers {
			s.idle.Add(-1)
			return
		}
		select {
		case req = <-s.work:
			s.idle.Add(-1)
		case <-s.done:
			s.idle.Add(-1)
			return
		}
	}
}

// acquire takes an in-flight slot from each semaphore given (nil ones are
// skipped), blocking: this is the backpressure that stops a reader. It
// fails when the server shuts down.
func (s *Server) acquire(local chan struct{}) bool {
	if local != nil {
		select {
		case local <- struct{}{}:
		default:
			if s.testHookWaitSlot != nil {
				s.testHookWaitSlot()
			}
			select {
			case local <- struct{}{}:
			case <-s.done:
				return false
			}
		}
	}
	select {
	case s.global <- struct{}{}:
		return true
	default:
	}
	if s.testHookWaitSlot != nil {
		s.testHookWaitSlot()
	}
	select {
	case s.global <- struct{}{}:
		return true
	case <-s.done:
		if local != nil {
			<-local
		}
		return false
	}
}

// Shutdown stops the server gracefully: it closes the listeners and
// sockets' reading, lets running requests finish and send their replies,
// then closes every connection. If ctx ends first it closes everything at
// once (as Close) and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.beginClose()
	s.mu.Lock()
	for c := range s.conns {
		c.wake()
	}
	for pc := range s.packets {
		pc.SetReadDeadline(time.Unix(1, 0))
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.serving.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.Close()
		<-done
		return ctx.Err()
	}
}

// Close closes the listeners, sockets and connections at once and cancels
// the context of running handlers. It does not wait for them.
func (s *Server) Close() error {
	s.beginClose()
	s.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.nc.Close()
	}
	for pc := range s.packets {
		pc.Close()
	}
	return nil
}

// beginClose marks the server closing and closes its listeners.
func (s *Server) beginClose() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closing {
		s.closing = true
		close(s.done)
	}
	for l := range s.listeners {
		l.Close()
		delete(s.listeners, l)
	}
}

func (s *Server) shuttingDown() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// addrPort converts a net.Addr to an AddrPort with IPv4-mapped addresses
// unmapped, so that a client has one key however it reached a dual-stack
// socket.
func addrPort(a net.Addr) netip.AddrPort {
	var ap netip.AddrPort
	switch a := a.(type) {
	case *net.TCPAddr:
		ap = a.AddrPort()
	case *net.UDPAddr:
		ap = a.AddrPort()
	default:
		if a != nil {
			ap, _ = netip.ParseAddrPort(a.String())
		}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// interner keeps the few AUTH_SYS machine names a connection uses, so that
// turning them into strings does not allocate per call. It belongs to one
// reading goroutine.
type interner struct {
	names [4]string
	next  int
}

func (in *interner) intern(b []byte) string {
	for _, n := range in.names {
		if n == string(b) {
			return n
		}
	}
	n := string(b)
	in.names[in.next] = n
	in.next = (in.next + 1) % len(in.names)
	return n
}
