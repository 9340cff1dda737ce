package nfs4

import (
	"context"
	"encoding/binary"
	"log/slog"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/nfs4/state"
	"github.com/gonfs/gonfs/nfserr"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// maxIO bounds the data of one READ or WRITE.
const maxIO = 1 << 20

// Options configure a Server.
type Options struct {
	// State decides all protocol state (required).
	State *state.Manager
	// Store keeps client records across restarts for reclaim (RFC 8881
	// §8.4.2.1). Nil keeps nothing: after a restart no client can
	// reclaim.
	Store RecoveryStore
	// Waker is told of NLM lock requests granted because NFSv4 locks went
	// away, to send NLM_GRANTED (the NLM server).
	Waker  Waker
	Logger *slog.Logger
	Now    func() time.Time
	// Recorder receives each operation's status and duration, for
	// nfsstat-style statistics (package stats).
	Recorder Recorder
	// Ticks drives the lease work (state.Tick) once Start has been
	// called; nil means a ticker of one second. Tests pass their own
	// channel and send on it.
	Ticks <-chan time.Time
	// CallbackTimeout bounds one callback (CB_NULL probe, CB_COMPOUND);
	// zero means 10 seconds.
	CallbackTimeout time.Duration
	// ClientKeyByAddress folds the client's source address into its
	// owner string (clientkey.go): off by default, as RFC 8881 requires.
	ClientKeyByAddress bool
}

// RecoveryStore keeps the records of confirmed clients, so that after a
// restart the server knows who may reclaim (RFC 8881 §8.4.2.1). Calls
// happen outside the state lock and must be durable when they return.
type RecoveryStore interface {
	Put(state.ClientRecord) error
	Delete(state.ClientRecord) error
}

// Recorder receives one call per NFSv4 operation (not per COMPOUND): the
// version (4), minor version, operation number, its status, how long it
// took, the client and the export id (^uint32(0) outside exports).
// Implementations must be cheap and safe for concurrent use.
type Recorder interface {
	Op(ver, minor, op uint32, status int32, d time.Duration, client netip.Addr, export uint32)
}

// Waker sends NLM_GRANTED for NLM requests granted by the lock table.
type Waker interface {
	Wake([]*lock.Waiter)
}

// Server serves NFSv4.0, 4.1 and 4.2.
type Server struct {
	ns    *namespace.Namespace
	state *state.Manager
	store RecoveryStore
	waker Waker
	log   *slog.Logger
	now   func() time.Time
	ticks <-chan time.Time
	// verf is the write verifier: the start time, so that it differs
	// between server instances (RFC 8881 §18.32.3), as NFSv3's does.
	verf nfs4xdr.Verifier4
	// copyTab tracks asynchronous COPYs (RFC 7862 §15.2.3).
	copyTab copyTable
	// rec receives per-operation statistics (nil: none).
	rec Recorder
	// keyByAddr is Options.ClientKeyByAddress.
	keyByAddr bool

	// limits holds each session's fore channel attributes as
	// CREATE_SESSION granted them, so that SEQUENCE can refuse an
	// oversized compound before it takes the slot (RFC 8881 §2.10.6.4).
	// Entries of sessions the state destroyed on its own are pruned on
	// lease ticks.
	limits sync.Map // state.SessionID → state.ChannelAttrs
	// conns are the TCP connections compounds arrived on, watched so
	// that the state hears when one closes; the callback sender finds a
	// back channel's connection here.
	conns sync.Map // uint64 → *sunrpc.Conn
	cb    callbacks

	startOnce sync.Once
	goMu      sync.Mutex // guards closed and wg.Add against Close
	closed    bool
	done      chan struct{} // closed by Close
	wg        sync.WaitGroup
	tickCount int // ticks seen by the lease goroutine (its own)
}

// New returns an NFSv4 server for the exports of ns.
func New(ns *namespace.Namespace, opts Options) *Server {
	s := &Server{ns: ns, state: opts.State, store: opts.Store, waker: opts.Waker, log: opts.Logger, now: opts.Now, rec: opts.Recorder,
		ticks: opts.Ticks, done: make(chan struct{}), keyByAddr: opts.ClientKeyByAddress}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	binary.BigEndian.PutUint64(s.verf[:], uint64(s.now().UnixNano()))
	s.cb.init(s, opts.CallbackTimeout)
	return s
}

// Start runs the lease work: state.Tick every tick, its effects applied.
// ServeRPC works without Start (leases are then only checked, never
// reaped). Start is idempotent; Close stops it.
func (s *Server) Start() {
	s.startOnce.Do(func() {
		ticks := s.ticks
		var stop func()
		if ticks == nil {
			t := time.NewTicker(time.Second)
			ticks, stop = t.C, t.Stop
		}
		if !s.spawn(func(ctx context.Context) {
			for {
				select {
				case <-ticks:
					s.tick()
				case <-ctx.Done():
					return
				}
			}
		}) && stop != nil {
			stop()
		}
	})
}

// spawn runs f in a goroutine that Close waits for; f's context ends at
// Close. After Close it runs nothing and returns false.
func (s *Server) spawn(f func(ctx context.Context)) bool {
	s.goMu.Lock()
	defer s.goMu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-s.done:
				cancel()
			case <-ctx.Done():
			}
		}()
		f(ctx)
	}()
	return true
}

// tick does one round of lease work.
func (s *Server) tick() {
	if err := s.apply(s.state.Tick()); err != nil {
		s.log.Error("nfs4: lease tick", "err", err)
	}
	// The state destroys expired clients' sessions without telling;
	// forget their limits now and then.
	s.tickCount++
	if s.tickCount%pruneEvery == 0 {
		s.pruneLimits()
	}
}

// pruneEvery is how many ticks pass between prunings of limits.
const pruneEvery = 60

// Close stops the lease goroutine, the connection watchers and the
// callbacks in flight, and waits for them. It does not close connections
// (the RPC server owns them).
func (s *Server) Close() error {
	s.goMu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	s.goMu.Unlock()
	s.wg.Wait()
	return nil
}

// watchConn remembers a TCP connection the first time a compound arrives
// on it, and tells the state when it closes (its sessions lose it, and a
// back channel on it goes down: RFC 8881 §2.10.3).
func (s *Server) watchConn(conn *sunrpc.Conn) {
	if conn == nil {
		return
	}
	if _, seen := s.conns.Load(conn.ID()); seen {
		return
	}
	if _, seen := s.conns.LoadOrStore(conn.ID(), conn); seen {
		return
	}
	id := conn.ID()
	if !s.spawn(func(ctx context.Context) {
		select {
		case <-conn.Context().Done():
			s.state.ConnClosed(state.ConnID(id))
		case <-ctx.Done():
		}
		s.conns.Delete(id)
	}) {
		s.conns.Delete(id)
	}
}

// conn returns the live connection with the given ID.
func (s *Server) conn(id state.ConnID) *sunrpc.Conn {
	v, ok := s.conns.Load(uint64(id))
	if !ok {
		return nil
	}
	return v.(*sunrpc.Conn)
}

// connID names the connection a call came on for the state; UDP and
// in-process calls share ConnID 0.
func connID(call *sunrpc.Call) state.ConnID {
	if call.Conn == nil {
		return 0
	}
	return state.ConnID(call.Conn.ID())
}

// sessionLimits returns the fore channel attributes CREATE_SESSION gave a
// session.
func (s *Server) sessionLimits(id state.SessionID) (state.ChannelAttrs, bool) {
	v, ok := s.limits.Load(id)
	if !ok {
		return state.ChannelAttrs{}, false
	}
	return v.(state.ChannelAttrs), true
}

// pruneLimits drops the limits of sessions the state no longer has.
func (s *Server) pruneLimits() {
	live := make(map[state.SessionID]bool)
	for _, c := range s.state.Snapshot().Clients {
		for _, ss := range c.Sessions {
			live[ss.SessionID] = true
		}
	}
	s.limits.Range(func(k, _ any) bool {
		if !live[k.(state.SessionID)] {
			s.limits.Delete(k)
		}
		return true
	})
}

// principal names the RPC credential of a call, for the state's
// comparisons of who created a client ID (RFC 8881 §18.35.4, §18.36.4).
// RFC 8881 §2.4.3 leaves the notion of principal to the security flavor;
// for AUTH_SYS the only identity the flavor carries is the uid
// (RFC 5531 Appendix A): the machine name is free text a client may
// change at will (containers, renamed hosts), so it is left out, and two
// calls from the same uid are the same principal, as Linux nfsd judges
// AUTH_SYS credentials. AUTH_NONE callers are all one principal.
func principal(call *sunrpc.Call) string {
	switch call.Cred.Flavor {
	case rpcxdr.AUTH_SYS:
		return "sys:" + strconv.FormatUint(uint64(call.Cred.Sys.Uid), 10)
	case rpcxdr.AUTH_NONE:
		return "none"
	}
	return "flavor:" + strconv.FormatUint(uint64(call.Cred.Flavor), 10)
}

// apply carries out what a state decision left to the caller (see
// nfs4/state doc.go): recovery records first, since the reply that
// follows promises them, then NLM grants.
func (s *Server) apply(eff state.Effects) error {
	if s.store != nil {
		for _, r := range eff.Remove {
			if err := s.store.Delete(r); err != nil {
				s.log.Error("nfs4: recovery store delete", "err", err)
				return err
			}
		}
		for _, r := range eff.Persist {
			if err := s.store.Put(r); err != nil {
				s.log.Error("nfs4: recovery store put", "err", err)
				return err
			}
		}
	}
	if len(eff.Woken) > 0 && s.waker != nil {
		s.waker.Wake(eff.Woken)
	}
	s.sendRecalls(eff.Recalls) // CB_RECALLs, from goroutines (deleg.go)
	return nil
}

// ServeRPC implements sunrpc.Handler for NFS version 4: NULL and COMPOUND
// (RFC 8881 §16).
//
// NFSv4 is not served over UDP: its transports must be reliable and
// congestion controlled (RFC 7530 §3.1, RFC 8881 §2.9.1), and sessions
// are bound to connections. A UDP call is answered PROG_UNAVAIL, as from a server
// that registered version 4 for TCP only.
func (s *Server) ServeRPC(ctx context.Context, call *sunrpc.Call, w *xdr.Writer) sunrpc.Status {
	if call.Transport == "udp" {
		return sunrpc.ProgUnavail
	}
	switch call.Proc {
	case nfs4xdr.NFSPROC4_NULL:
		if len(call.Args) != 0 {
			return sunrpc.GarbageArgs
		}
		return sunrpc.Success
	case nfs4xdr.NFSPROC4_COMPOUND:
		return s.compound(ctx, call, w)
	}
	return sunrpc.ProcUnavail
}

// compound is the context of one COMPOUND: the current and saved
// filehandles and stateids (RFC 8881 §16.2.3.1) and who is asking.
type compound struct {
	s     *Server
	ctx   context.Context
	call  *sunrpc.Call
	minor uint32

	cur, saved  fileRef
	curSid      nfs4xdr.Stateid4
	curSidSet   bool
	savedSid    nfs4xdr.Stateid4
	savedSidSet bool
	// The caller's rights in cur's export, decided on first use.
	acc    namespace.Access
	accErr error
	accFor *namespace.Export
	op     nfs4xdr.NfsOpnum4
	index  int // position of the current op in the compound

	// Set by SEQUENCE (RFC 8881 §18.46): the client and session the
	// compound runs in, and the slot whose reply cache gets the reply.
	inSession bool
	cid       state.ClientID
	session   state.SessionID
	token     state.Token
	cacheThis bool
	limits    state.ChannelAttrs // the session's fore channel; zero if unknown
	maxCached uint32             // ca_maxresponsesize_cached
	n         int                // operations in the compound

	// confirm40: the NFSv4.0 OPEN being run is by an open-owner that must
	// confirm it (OPEN4_RESULT_CONFIRM, op_seqid40.go).
	confirm40 bool
}

// stateid turns a wire stateid into the state package's, substituting the
// current stateid for the special "current" value (RFC 8881 §16.2.3.1.2).
func (c *compound) stateid(sid nfs4xdr.Stateid4) (state.Stateid, nfs4xdr.Nfsstat4) {
	s := state.Stateid(sid)
	if c.minor == 0 {
		c.learnClient40(s) // op_seqid40.go
	}
	if s.IsCurrent() && c.minor > 0 { // NFSv4.0 has no current stateid
		if !c.curSidSet {
			return s, nfs4xdr.NFS4ERR_BAD_STATEID
		}
		return state.Stateid(c.curSid), nfs4xdr.NFS4_OK
	}
	return s, nfs4xdr.NFS4_OK
}

// setStateid makes sid the current stateid (after OPEN, LOCK, …).
func (c *compound) setStateid(sid state.Stateid) {
	c.curSid, c.curSidSet = nfs4xdr.Stateid4(sid), true
}

// compound runs a COMPOUND, writing COMPOUND4res as it goes: the status
// and the result count are filled in at the end.
//
// Sessions (RFC 8881 §2.10.6) shape the loop: a compound of minor version
// 1 or 2 starts with SEQUENCE, or is one of the operations that create or
// manage sessions alone (sessionless). SEQUENCE is decided before anything
// is written, because a retransmission is answered with the slot's cached
// reply, byte for byte, in place of everything this compound would write.
// Once SEQUENCE has a slot, the reply (COMPOUND4res, from start) is handed
// to state.Done whatever happens next, so that the slot is freed.
func (s *Server) compound(ctx context.Context, call *sunrpc.Call, w *xdr.Writer) sunrpc.Status {
	start := w.Len()
	r := xdr.NewReader(call.Args)
	var tag nfs4xdr.Utf8strCs
	tag.Decode(r)
	minor := r.Uint32()
	n := r.ArrayLen(xdr.Unbounded, 4)
	if r.Err() != nil {
		return sunrpc.GarbageArgs
	}
	s.watchConn(call.Conn)
	c := &compound{s: s, ctx: ctx, call: call, minor: minor, n: n}
	if minor == 0 {
		if n <= maxOps40 { // a longer one is refused below, unread
			c.scanClient40(r) // op_seqid40.go
		}
	}

	// A leading SEQUENCE is run first: its outcome may be a replay.
	var seq seqOutcome
	if minor >= 1 && minor <= 2 && n > 0 && r.Remaining() >= 4 &&
		nfs4xdr.NfsOpnum4(binary.BigEndian.Uint32(r.Rest())) == nfs4xdr.OP_SEQUENCE {
		r.Uint32()
		began := time.Now()
		seq = c.sequence(r, len(call.Args))
		if s.rec != nil {
			st := seq.status
			if seq.replay != nil {
				st = nfs4xdr.NFS4_OK // a replay is a SEQUENCE that succeeded
			}
			s.record(c, nfs4xdr.OP_SEQUENCE, st, time.Since(began))
		}
		if seq.replay != nil {
			w.Buf = append(w.Buf, seq.replay...)
			return sunrpc.Success
		}
	}

	statusAt := w.Reserve(4)
	tag.Encode(w)
	countAt := w.Reserve(4)

	status := nfs4xdr.NFS4_OK
	count := 0
	garbage := false
	switch {
	case minor > 2:
		status = nfs4xdr.NFS4ERR_MINOR_VERS_MISMATCH
	case minor == 0 && n > maxOps40:
		// NFSv4.0 has no negotiated ca_maxoperations: a compound the
		// server will not run is NFS4ERR_RESOURCE (RFC 7530 §15.2).
		status = nfs4xdr.NFS4ERR_RESOURCE
	default:
		for i := 0; i < n; i++ {
			c.index = i
			opAt := w.Len()
			if i == 0 && seq.ran {
				c.op = nfs4xdr.OP_SEQUENCE
				w.Uint32(uint32(nfs4xdr.OP_SEQUENCE))
				status = seq.write(w)
				if status == nfs4xdr.NFS4_OK {
					// SEQUENCE's own result may already exceed a tiny
					// ca_maxresponsesize_cached (pynfs CSESS27).
					status = c.checkReplySize(w, start, opAt, status)
				}
				count++
				if status != nfs4xdr.NFS4_OK {
					break
				}
				continue
			}
			opnum := nfs4xdr.NfsOpnum4(r.Uint32())
			if r.Err() != nil {
				garbage = true
				break
			}
			info, ok := lookupOp(opnum, minor)
			if !ok {
				// RFC 8881 §15.2: an unknown operation is answered with
				// OP_ILLEGAL and NFS4ERR_OP_ILLEGAL.
				w.Uint32(uint32(nfs4xdr.OP_ILLEGAL))
				status = nfs4xdr.NFS4ERR_OP_ILLEGAL
				w.Uint32(uint32(status))
				count++
				break
			}
			c.op = opnum
			w.Uint32(uint32(opnum))
			var began time.Time
			if s.rec != nil {
				began = time.Now()
			}
			if st := c.position(opnum); st != nfs4xdr.NFS4_OK {
				status = c.fail(w, st)
			} else {
				status = info.fn(c, r, w)
				status = c.wrongType40(w, opAt+4, status) // op_seqid40.go
				status = c.checkReplySize(w, start, opAt, status)
			}
			if s.rec != nil {
				s.record(c, opnum, status, time.Since(began))
			}
			count++
			if status != nfs4xdr.NFS4_OK {
				break
			}
		}
	}
	w.PutUint32At(statusAt, uint32(status))
	w.PutUint32At(countAt, uint32(count))
	if c.token.Valid() {
		// RFC 8881 §2.10.6.1.3: the slot keeps the reply for retries
		// when the client asked (sa_cachethis); a compound of SEQUENCE
		// alone is kept too, as it costs nothing and makes its retry
		// exact. A compound that did not decode is not a reply.
		reply := w.Bytes()[start:]
		if garbage {
			reply = nil
		}
		s.state.Done(c.token, reply, !garbage && (c.cacheThis || n == 1))
	}
	if garbage {
		return sunrpc.GarbageArgs
	}
	return sunrpc.Success
}

// rpcReplyHeader is the size of an accepted RPC reply header with an
// AUTH_NONE verifier (RFC 5531 §9): xid, msg_type, reply_stat, verifier
// flavor and length, accept_stat. ca_maxresponsesize counts the whole RPC
// reply (RFC 8881 §18.36.3), so it is added to the COMPOUND's own size.
const rpcReplyHeader = 24

// position enforces where an operation may stand in a compound
// (RFC 8881 §2.10.6, §16.2.3): SEQUENCE only first; without SEQUENCE the
// compound holds one of the sessionless operations alone.
func (c *compound) position(op nfs4xdr.NfsOpnum4) nfs4xdr.Nfsstat4 {
	if op == nfs4xdr.OP_SEQUENCE {
		// A leading SEQUENCE never gets here (see compound).
		return nfs4xdr.NFS4ERR_SEQUENCE_POS
	}
	// NFSv4.0 has no sessions (RFC 7530 §16.2): any operation anywhere.
	if c.inSession || c.index > 0 || c.minor == 0 {
		return nfs4xdr.NFS4_OK
	}
	switch op {
	case nfs4xdr.OP_EXCHANGE_ID, nfs4xdr.OP_CREATE_SESSION, nfs4xdr.OP_DESTROY_SESSION,
		nfs4xdr.OP_BIND_CONN_TO_SESSION, nfs4xdr.OP_DESTROY_CLIENTID:
		// RFC 8881 §18.35.3, §18.36.3, §18.37.3, §18.34.3, §18.50.3:
		// "If [the op] is not preceded by SEQUENCE, it MUST be the only
		// operation in the COMPOUND request", else NFS4ERR_NOT_ONLY_OP.
		if c.n > 1 {
			return nfs4xdr.NFS4ERR_NOT_ONLY_OP
		}
		return nfs4xdr.NFS4_OK
	}
	return nfs4xdr.NFS4ERR_OP_NOT_IN_SESSION
}

// checkReplySize holds a session's reply to the negotiated sizes
// (RFC 8881 §2.10.6.4, §18.46.3): the operation whose result made the
// reply longer than ca_maxresponsesize gets NFS4ERR_REP_TOO_BIG instead
// of its result, and, when the client asked for the reply to be cached,
// one longer than ca_maxresponsesize_cached gets
// NFS4ERR_REP_TOO_BIG_TO_CACHE. The result is cut off at opAt: these are
// bytes this handler appended, past anything sunrpc wrote.
func (c *compound) checkReplySize(w *xdr.Writer, start, opAt int, st nfs4xdr.Nfsstat4) nfs4xdr.Nfsstat4 {
	if !c.inSession {
		return st
	}
	size := uint64(w.Len() - start + c.call.Attached())
	var over nfs4xdr.Nfsstat4
	switch {
	case c.limits.MaxResponseSize != 0 && size+rpcReplyHeader > uint64(c.limits.MaxResponseSize):
		over = nfs4xdr.NFS4ERR_REP_TOO_BIG
	case c.cacheThis && size > uint64(c.maxCached):
		over = nfs4xdr.NFS4ERR_REP_TOO_BIG_TO_CACHE
	default:
		return st
	}
	if c.call.AttachedAt() > opAt {
		c.call.DetachFile() // it belonged to the result cut off here
	}
	w.Buf = w.Buf[:opAt]
	w.Uint32(uint32(c.op))
	return c.fail(w, over)
}

// writeStatus writes the result of an operation that failed before it
// produced anything: its status, and for SETATTR the empty attrsset that
// SETATTR4res always carries (RFC 8881 §18.30).
func writeStatus(w *xdr.Writer, op nfs4xdr.NfsOpnum4, st nfs4xdr.Nfsstat4) nfs4xdr.Nfsstat4 {
	w.Uint32(uint32(st))
	if op == nfs4xdr.OP_SETATTR {
		w.Uint32(0)
	}
	return st
}

// fail is writeStatus for the current operation.
func (c *compound) fail(w *xdr.Writer, st nfs4xdr.Nfsstat4) nfs4xdr.Nfsstat4 {
	return writeStatus(w, c.op, st)
}

// decode decodes an operation's arguments; false means NFS4ERR_BADXDR,
// already written.
func (c *compound) decode(r *xdr.Reader, w *xdr.Writer, args xdr.Unmarshaler) bool {
	args.Decode(r)
	if r.Err() != nil {
		c.fail(w, nfs4xdr.NFS4ERR_BADXDR)
		return false
	}
	return true
}

// needFH checks that there is a current filehandle (RFC 8881 §16.2.3.1.1).
func (c *compound) needFH() nfs4xdr.Nfsstat4 {
	if !c.cur.valid() {
		return nfs4xdr.NFS4ERR_NOFILEHANDLE
	}
	return nfs4xdr.NFS4_OK
}

// access decides, once per export, what the caller may do in the current
// filehandle's export. Deciding at use rather than at PUTFH lets a client
// PUTFH a handle and ask SECINFO about it (RFC 8881 §2.6.3.1.1).
func (c *compound) access() (namespace.Access, nfs4xdr.Nfsstat4) {
	if c.cur.e == nil {
		return namespace.Access{ReadOnly: true}, nfs4xdr.NFS4_OK
	}
	if c.accFor != c.cur.e {
		c.acc, c.accErr = c.s.ns.Authorize(c.ctx, c.cur.e, namespace.CallerOf(c.call))
		c.accFor = c.cur.e
	}
	if c.accErr != nil {
		return namespace.Access{}, errStatus(c.accErr)
	}
	return c.acc, nfs4xdr.NFS4_OK
}

// errStatus maps an error to nfsstat4 through nfserr.
func errStatus(err error) nfs4xdr.Nfsstat4 {
	return nfserr.NFS4(err)
}

// record reports one operation to the statistics recorder.
func (s *Server) record(c *compound, op nfs4xdr.NfsOpnum4, st nfs4xdr.Nfsstat4, d time.Duration) {
	export := ^uint32(0)
	if c.cur.e != nil {
		export = c.cur.e.ID
	}
	s.rec.Op(4, c.minor, uint32(op), int32(st), d, c.call.Remote.Addr(), export)
}
