package nlm

import (
	"context"
	"encoding/binary"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/proto/nlmxdr"
	"github.com/gonfs/gonfs/proto/nsmxdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/vfs"
)

// DefaultGrace is the grace period after a restart: long enough for
// clients told by SM_NOTIFY to reclaim (knfsd and Linux statd use 90 s).
const DefaultGrace = 90 * time.Second

// Dialer opens a connection for a call from the server to a client (NLM
// callbacks, _RES messages, SM_NOTIFY, portmapper lookups). network is "tcp"
// or "udp"; local, when valid, is the server address the client reached us
// at, which the connection should leave from, because the Linux client
// accepts NLM_GRANTED only from the address it sent the lock to.
type Dialer func(ctx context.Context, network string, local netip.Addr, remote netip.AddrPort) (net.Conn, error)

// Options configure a Server. The zero value works: no stable state, no
// grace period, logs discarded.
type Options struct {
	// Logger receives errors and notable events (default: discard).
	Logger *slog.Logger
	// Clock gives the time for the grace period (default time.Now).
	Clock func() time.Time
	// StateDir holds the NSM state number and the client records. Empty
	// means none: the state number is then derived from the clock, no
	// client is ever notified of our restart and there is no grace period.
	StateDir string
	// Hostname is our name in SM_NOTIFY and in the AUTH_SYS credential
	// of our calls. When it is empty, SM_NOTIFY names us by the address
	// the client reached us at, which its statd can always match against
	// the server it monitors (a host name it may not resolve), and
	// credentials carry os.Hostname().
	Hostname string
	// Grace is the grace period after a restart (default DefaultGrace;
	// negative: none).
	Grace time.Duration
	// Dialer opens connections to clients (default: net.Dialer).
	Dialer Dialer
	// CallTimeout bounds one attempt of a call to a client, portmapper
	// lookup included, and the wait for a GRANTED_RES (default 10 s).
	CallTimeout time.Duration
	// Retries is the number of attempts of a call to a client (default 5).
	Retries int
	// RetryDelay is the pause after the first failed attempt; each further
	// one doubles it (default 2 s).
	RetryDelay time.Duration
}

// Server serves NLM v4 and NSM v1. Create it with New, register its
// handlers with Register (or NLMHandler and NSMHandler), call Start once
// the listeners are up, and Close when done.
type Server struct {
	ns    *namespace.Namespace
	locks *lock.Table
	opts  Options
	log   *slog.Logger
	store *store // nil without a state directory
	auth  *rpcxdr.AuthsysParms
	named bool // Options.Hostname was given

	state    atomic.Int32             // our NSM state number: odd while we run
	deleg    atomic.Pointer[delegBox] // NFSv4 delegations to recall before locking (deleg.go)
	graceEnd time.Time                // set by New, read-only afterwards

	ctx     context.Context // parent of callback goroutines; cancelled by Close
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closeMu sync.Mutex // orders wg.Add against Close
	closed  bool

	mu       sync.Mutex
	hosts    map[string]*host
	blocked  map[blockKey]*blocked // queued requests and grants being called back
	pending  map[string]*blocked   // GRANTED_MSG cookie → grant awaiting GRANTED_RES
	monitors []localMonitor        // SM_MON registrations from local callers
	previous []record              // clients of the previous run, for Start
	seq      uint64                // makes GRANTED_MSG cookies unique
	started  bool
}

// New returns a Server over ns and the shared lock table. With a state
// directory it reads and advances the NSM state number (starting the grace
// period if an earlier run left one) and takes the client records of the
// previous run for Start to notify.
func New(ns *namespace.Namespace, locks *lock.Table, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	namedHost := opts.Hostname != ""
	if !namedHost {
		opts.Hostname, _ = os.Hostname()
		if opts.Hostname == "" {
			opts.Hostname = "localhost"
		}
	}
	if opts.Grace == 0 {
		opts.Grace = DefaultGrace
	}
	if opts.Dialer == nil {
		opts.Dialer = dialNet
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = 10 * time.Second
	}
	if opts.Retries <= 0 {
		opts.Retries = 5
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = 2 * time.Second
	}
	s := &Server{
		ns:      ns,
		locks:   locks,
		opts:    opts,
		log:     opts.Logger,
		auth:    &rpcxdr.AuthsysParms{Machinename: opts.Hostname},
		named:   namedHost,
		hosts:   make(map[string]*host),
		blocked: make(map[blockKey]*blocked),
		pending: make(map[string]*blocked),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if opts.StateDir == "" {
		// No memory of earlier runs: a clock-derived odd number still
		// changes from one run to the next.
		s.state.Store(int32(opts.Clock().Unix()&0x3fffffff) | 1)
		return s, nil
	}
	st, err := openStore(opts.StateDir)
	if err != nil {
		return nil, err
	}
	s.store = st
	state, rebooted, err := st.advanceState()
	if err != nil {
		return nil, err
	}
	s.state.Store(state)
	if rebooted && opts.Grace > 0 {
		s.graceEnd = opts.Clock().Add(opts.Grace)
	}
	if s.previous, err = st.takePrevious(); err != nil {
		return nil, err
	}
	s.log.Info("nlm: started", "nsm_state", state, "grace", rebooted && opts.Grace > 0, "clients_to_notify", len(s.previous))
	return s, nil
}

// Start sends SM_NOTIFY to every client that held locks in the previous
// run, each from a goroutine of its own with bounded retries, so that they
// reclaim their locks during the grace period. Call it once the NLM
// service is reachable. Later calls do nothing.
func (s *Server) Start() {
	s.mu.Lock()
	prev := s.previous
	s.previous = nil
	started := s.started
	s.started = true
	s.mu.Unlock()
	if started {
		return
	}
	for _, r := range prev {
		s.notifyPeer(r, s.state.Load())
	}
}

// Close stops the callbacks in flight and waits for their goroutines. Locks
// stay in the table (it belongs to the caller).
func (s *Server) Close() error {
	s.closeMu.Lock()
	s.closed = true
	s.closeMu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}

// State returns our NSM state number.
func (s *Server) State() int32 { return s.state.Load() }

// InGrace reports whether the grace period is running.
func (s *Server) InGrace() bool { return s.opts.Clock().Before(s.graceEnd) }

// Register serves NLM version 4 and NSM version 1 on srv.
func (s *Server) Register(srv *sunrpc.Server) {
	srv.Register(nlmxdr.NLM_PROG, nlmxdr.NLM4_VERS, s.NLMHandler())
	srv.Register(nsmxdr.SM_PROG, nsmxdr.SM_VERS, s.NSMHandler())
}

// FileKey is the lock table key of a file: the export id (4 bytes, big
// endian) followed by the backend handle. The NFSv4 server must use the
// same key so that v3 and v4 locks on one file meet in the table.
func FileKey(e *namespace.Export, h vfs.Handle) lock.FileKey {
	b := make([]byte, 4, 4+len(h))
	binary.BigEndian.PutUint32(b, e.ID)
	return lock.FileKey(append(b, h...))
}

// ownerID packs svid and oh into lock.Owner.ID so that TEST can give the
// holder back: 4 bytes of svid, then oh.
func ownerID(svid int32, oh []byte) string {
	b := make([]byte, 4, 4+len(oh))
	binary.BigEndian.PutUint32(b, uint32(svid))
	return string(append(b, oh...))
}

// holder describes a conflicting lock for NLM4_TEST. A holder that is not
// an NLM owner (an NFSv4 lock-owner) has no svid or oh to show.
func holder(l *lock.Lock) nlmxdr.Nlm4Holder {
	h := nlmxdr.Nlm4Holder{Exclusive: l.Exclusive}
	h.LOffset, h.LLen = l.Range.NLM()
	if l.Owner.Kind == lock.NLM && len(l.Owner.ID) >= 4 {
		h.Svid = int32(binary.BigEndian.Uint32([]byte(l.Owner.ID[:4])))
		h.Oh = nlmxdr.Netobj(l.Owner.ID[4:])
	}
	return h
}

// dialNet is the default Dialer.
func dialNet(ctx context.Context, network string, local netip.Addr, remote netip.AddrPort) (net.Conn, error) {
	var d net.Dialer
	if local.IsValid() && !local.IsUnspecified() {
		if network == "udp" {
			d.LocalAddr = net.UDPAddrFromAddrPort(netip.AddrPortFrom(local, 0))
		} else {
			d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(local, 0))
		}
	}
	return d.DialContext(ctx, network, remote.String())
}

// sleep waits d or until the server closes; it reports whether to go on.
func (s *Server) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// goSafe runs fn on a goroutine that Close waits for.
func (s *Server) goSafe(fn func()) {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
}
