package nfs4

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
)

// ErrClosed is returned by calls on a closed Client.
var ErrClosed = errors.New("nfs4: client closed")

// DefaultSlots is the number of fore-channel slots asked for: the bound on
// COMPOUNDs in flight at once (RFC 8881 §2.10.6.1).
const DefaultSlots = 16

// callbackProgram is the program number the client gives the server for
// callbacks on the backchannel (any number in the transient range, RFC
// 5531 §7.3).
const callbackProgram = 0x40000000 + 0x4e46

// Options configure a Client. The zero value works.
type Options struct {
	// Auth is the AUTH_SYS credential of every call; nil sends AUTH_NONE.
	Auth *rpcxdr.AuthsysParms
	// Minor is the minor version, 1 or 2 (default 2).
	Minor uint32
	// Owner overrides the client owner (co_ownerid). By default each
	// Client has its own, unique to the machine, the process and the
	// Client (see defaultOwner); a program that wants to reclaim its
	// state after it restarts sets a stable one.
	Owner []byte
	// Slots is the number of fore-channel slots asked for (default
	// DefaultSlots); the server may grant fewer.
	Slots int
	// Logger receives recovery events (default: discard).
	Logger *slog.Logger
	// Delegations, when set, makes OPEN take the delegations the server
	// offers (RFC 8881 §10.4) and is told of their recalls; nil asks for
	// none.
	Delegations DelegationHandler
}

// Client is an NFSv4.1 or 4.2 client of one server: one client ID, one
// session, one TCP connection carrying both the fore channel and the
// backchannel. It is safe for concurrent use: COMPOUNDs run concurrently up
// to the session's slot count.
type Client struct {
	addr  string
	opts  Options
	owner []byte
	verf  x.Verifier4
	log   *slog.Logger

	mu       sync.Mutex
	rpc      *sunrpc.Client
	connGen  uint64
	clientID x.Clientid4
	csSeq    x.Sequenceid4
	sess     *session
	epoch    uint64 // bumped each time the client ID is replaced
	lease    time.Duration
	opens    map[*Open]struct{}
	delegs   map[string]*delegation // by file handle
	closed   bool
	maxRead  uint32
	maxWrite uint32

	recoverMu sync.Mutex // one recovery at a time
	lastReply atomic.Int64
	owners    atomic.Uint64

	stop chan struct{}
	wg   sync.WaitGroup
}

// session is one session's slot table. A slot's sequence id is touched only
// by the goroutine holding the slot (taken from free).
type session struct {
	id      x.Sessionid4
	free    chan uint32
	seq     []x.Sequenceid4
	highest x.Slotid4
	maxResp uint32
}

func (s *session) acquire(ctx context.Context) (uint32, error) {
	select {
	case slot := <-s.free:
		return slot, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (s *session) release(slot uint32) { s.free <- slot }

// Dial connects to the NFSv4 server at addr (host:port), establishes a
// client ID and a session and sends RECLAIM_COMPLETE (RFC 8881 §18.51): a
// new client has nothing to reclaim. A server without the minor version
// fails with an error matching ErrMinorVersion.
func Dial(ctx context.Context, addr string, opts Options) (*Client, error) {
	if opts.Minor == 0 {
		opts.Minor = 2
	}
	if opts.Slots <= 0 {
		opts.Slots = DefaultSlots
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{addr: addr, opts: opts, owner: opts.Owner, log: opts.Logger, opens: make(map[*Open]struct{}), delegs: make(map[string]*delegation), stop: make(chan struct{})}
	if c.owner == nil {
		c.owner = defaultOwner()
	}
	// The verifier tells the server this is a new incarnation of the
	// owner (RFC 8881 §18.35.4): random per Client.
	rand.Read(c.verf[:])
	if err := c.connect(ctx); err != nil {
		return nil, err
	}
	if err := c.newClient(ctx, false); err != nil {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		c.rpc.Close()
		return nil, err
	}
	if err := c.fsInfo(ctx); err != nil {
		c.Close()
		return nil, err
	}
	c.wg.Add(1)
	go c.renew()
	return c, nil
}

// ErrMinorVersion reports a server that does not support the minor
// version asked for (NFS4ERR_MINOR_VERS_MISMATCH, or no NFSv4 at all).
var ErrMinorVersion = errors.New("nfs4: minor version not supported by the server")

// Minor returns the minor version in use.
func (c *Client) Minor() uint32 { return c.opts.Minor }

// Owner returns the client owner the client presents.
func (c *Client) Owner() []byte { return c.owner }

// SessionID returns the current session's id.
func (c *Client) SessionID() x.Sessionid4 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess.id
}

// ClientID returns the current client ID.
func (c *Client) ClientID() x.Clientid4 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.clientID
}

// MaxRead is the largest READ the client sends: the server's maxread,
// bounded by the session's maximum response size.
func (c *Client) MaxRead() uint32 { return c.maxRead }

// MaxWrite is the largest WRITE the client sends.
func (c *Client) MaxWrite() uint32 { return c.maxWrite }

// Close destroys the session and client ID (courteously: the server frees
// their state now instead of at lease expiry) and closes the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	sess, cid := c.sess, c.clientID
	c.mu.Unlock()
	close(c.stop)
	c.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if sess != nil {
		// DESTROY_CLIENTID is refused while the client ID holds state
		// (NFS4ERR_CLIENTID_BUSY, RFC 8881 §18.50.3), and a delegation
		// left behind makes others wait for its recall to time out.
		c.ReturnDelegations(ctx)
		c.raw(ctx, x.NfsArgop4{Argop: x.OP_DESTROY_SESSION, OpdestroySession: &x.DESTROY_SESSION4args{DsaSessionid: sess.id}})
		c.raw(ctx, x.NfsArgop4{Argop: x.OP_DESTROY_CLIENTID, OpdestroyClientid: &x.DESTROY_CLIENTID4args{DcaClientid: cid}})
	}
	c.mu.Lock()
	c.closed = true
	rpc := c.rpc
	c.mu.Unlock()
	return rpc.Close()
}

// connect dials a new connection; the backchannel is served on it.
func (c *Client) connect(ctx context.Context) error {
	rpc, err := sunrpc.Dial(ctx, "tcp", c.addr, sunrpc.ClientOptions{Auth: c.opts.Auth, Handler: callbackHandler{c}, Logger: c.log})
	if err != nil {
		return fmt.Errorf("nfs4: %w", err)
	}
	c.mu.Lock()
	old := c.rpc
	c.rpc = rpc
	c.connGen++
	c.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

func (c *Client) conn() (*sunrpc.Client, uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, 0, ErrClosed
	}
	return c.rpc, c.connGen, nil
}

// reconnect replaces a failed connection (once per failure: gen is the
// generation that failed) and binds it to the session for both channels
// (RFC 8881 §18.34), so that calls in flight can be replayed on it with
// their slot and sequence id: the server's reply cache makes the replay
// exactly-once (§2.10.6.2).
func (c *Client) reconnect(gen uint64) error {
	c.recoverMu.Lock()
	defer c.recoverMu.Unlock()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if c.connGen != gen {
		c.mu.Unlock()
		return nil
	}
	sess := c.sess
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		if err = c.connect(ctx); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return err
		case <-c.stop:
			return ErrClosed
		case <-time.After(wait):
		}
	}
	c.log.Info("nfs4: reconnected", "addr", c.addr)
	if sess != nil {
		// A failure here (the session is gone too) shows up again as
		// BADSESSION on the replay, which recovers the session.
		c.raw(ctx, x.NfsArgop4{Argop: x.OP_BIND_CONN_TO_SESSION, OpbindConnToSession: &x.BIND_CONN_TO_SESSION4args{BctsaSessid: sess.id, BctsaDir: x.CDFC4_FORE_OR_BOTH}})
	}
	return nil
}

// isTransport reports whether err is a failure of the connection rather
// than an answer from the server.
func isTransport(err error) bool {
	var ae *sunrpc.AcceptError
	var re *sunrpc.RejectError
	return !errors.As(err, &ae) && !errors.As(err, &re) && !errors.Is(err, sunrpc.ErrBadReply) && !errors.Is(err, sunrpc.ErrClientClosed)
}

// raw sends a COMPOUND without SEQUENCE (EXCHANGE_ID, CREATE_SESSION,
// DESTROY_SESSION, BIND_CONN_TO_SESSION, DESTROY_CLIENTID may stand alone,
// RFC 8881 §2.10.6.4) and returns the result of its single op.
func (c *Client) raw(ctx context.Context, op x.NfsArgop4) (*x.NfsResop4, error) {
	rpc, _, err := c.conn()
	if err != nil {
		return nil, err
	}
	args := x.COMPOUND4args{Minorversion: c.opts.Minor, Argarray: []x.NfsArgop4{op}}
	var res x.COMPOUND4res
	if err := rpc.Call(ctx, x.NFS4_PROGRAM, x.NFS_V4, x.NFSPROC4_COMPOUND, &args, &res); err != nil {
		var ae *sunrpc.AcceptError
		if errors.As(err, &ae) && (ae.Stat == rpcxdr.PROG_MISMATCH || ae.Stat == rpcxdr.PROG_UNAVAIL) {
			return nil, fmt.Errorf("%w: %w", ErrMinorVersion, err)
		}
		return nil, fmt.Errorf("nfs4: %v: %w", op.Argop, err)
	}
	if res.Status == x.NFS4ERR_MINOR_VERS_MISMATCH {
		return nil, fmt.Errorf("%w: %d", ErrMinorVersion, c.opts.Minor)
	}
	if len(res.Resarray) != 1 {
		return nil, statusErr(op.Argop, res.Status)
	}
	return &res.Resarray[0], statusErr(op.Argop, res.Status)
}

// newClient establishes a client ID and a session (RFC 8881 §18.35,
// §18.36), reclaims the opens of the previous client ID if reclaim is set
// (§8.4.2.1), and sends RECLAIM_COMPLETE.
func (c *Client) newClient(ctx context.Context, reclaim bool) error {
	r, err := c.raw(ctx, x.NfsArgop4{Argop: x.OP_EXCHANGE_ID, OpexchangeId: &x.EXCHANGE_ID4args{
		EiaClientowner:  x.ClientOwner4{CoVerifier: c.verf, CoOwnerid: c.owner},
		EiaStateProtect: x.StateProtect4A{SpaHow: x.SP4_NONE},
	}})
	if err != nil {
		return err
	}
	eid := r.OpexchangeId.EirResok4
	c.mu.Lock()
	c.clientID, c.csSeq = eid.EirClientid, eid.EirSequenceid
	c.epoch++
	c.mu.Unlock()
	if err := c.createSession(ctx); err != nil {
		return err
	}
	if reclaim {
		c.reclaimOpens(ctx)
	}
	_, err = c.compoundOnce(ctx, x.NfsArgop4{Argop: x.OP_RECLAIM_COMPLETE, OpreclaimComplete: &x.RECLAIM_COMPLETE4args{}})
	var e *Error
	if errors.As(err, &e) && e.Status == x.NFS4ERR_COMPLETE_ALREADY {
		err = nil
	}
	return err
}

// createSession creates a session for the current client ID with the
// backchannel on the current connection (CREATE_SESSION4_FLAG_CONN_BACK_CHAN).
func (c *Client) createSession(ctx context.Context) error {
	c.mu.Lock()
	args := x.CREATE_SESSION4args{
		CsaClientid: c.clientID,
		CsaSequence: c.csSeq,
		CsaFlags:    x.CREATE_SESSION4_FLAG_CONN_BACK_CHAN,
		CsaForeChanAttrs: x.ChannelAttrs4{
			CaMaxrequestsize: 1<<20 + 64<<10, CaMaxresponsesize: 1<<20 + 64<<10,
			CaMaxresponsesizeCached: 64 << 10, CaMaxoperations: 16, CaMaxrequests: x.Count4(c.opts.Slots),
		},
		CsaBackChanAttrs: x.ChannelAttrs4{
			CaMaxrequestsize: 16 << 10, CaMaxresponsesize: 16 << 10,
			CaMaxresponsesizeCached: 0, CaMaxoperations: 8, CaMaxrequests: 4,
		},
		CsaCbProgram: callbackProgram,
		CsaSecParms:  []x.CallbackSecParms4{{CbSecflavor: uint32(rpcxdr.AUTH_NONE)}},
	}
	c.mu.Unlock()
	r, err := c.raw(ctx, x.NfsArgop4{Argop: x.OP_CREATE_SESSION, OpcreateSession: &args})
	if err != nil {
		return err
	}
	ok := r.OpcreateSession.CsrResok4
	n := max(1, int(ok.CsrForeChanAttrs.CaMaxrequests))
	s := &session{id: ok.CsrSessionid, free: make(chan uint32, n), seq: make([]x.Sequenceid4, n),
		highest: x.Slotid4(n - 1), maxResp: uint32(ok.CsrForeChanAttrs.CaMaxresponsesize)}
	for i := range n {
		// A new slot's first sequence id is 1 (RFC 8881 §2.10.6.1).
		s.seq[i] = 1
		s.free <- uint32(i)
	}
	c.mu.Lock()
	c.sess = s
	c.csSeq++
	c.mu.Unlock()
	c.lastReply.Store(time.Now().UnixNano())
	return nil
}

// fsInfo learns the lease time and the transfer sizes.
func (c *Client) fsInfo(ctx context.Context) error {
	res, err := c.Compound(ctx, PutRootFH(), Getattr(bitmap(x.FATTR4_LEASE_TIME, x.FATTR4_MAXREAD, x.FATTR4_MAXWRITE)))
	if err != nil {
		return err
	}
	a, err := DecodeAttr(&res[1].Opgetattr.Resok4.ObjAttributes)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lease = time.Duration(a.LeaseTime) * time.Second
	if c.lease <= 0 {
		c.lease = 90 * time.Second
	}
	// Leave room for the headers of the READ reply within the session's
	// maximum response size.
	limit := uint64(c.sess.maxResp) - 1024
	c.maxRead = uint32(min(nonzero(a.MaxRead, 1<<20), limit, 1<<20))
	c.maxWrite = uint32(min(nonzero(a.MaxWrite, 1<<20), limit, 1<<20))
	return nil
}

func nonzero(v, def uint64) uint64 {
	if v == 0 {
		return def
	}
	return v
}

// renew keeps the lease alive while the client is idle (RFC 8881 §8.3: any
// SEQUENCE renews it): a SEQUENCE-only COMPOUND whenever a third of the
// lease has passed without a reply.
func (c *Client) renew() {
	defer c.wg.Done()
	c.mu.Lock()
	lease := c.lease
	c.mu.Unlock()
	tick := max(lease/6, 100*time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		if time.Since(time.Unix(0, c.lastReply.Load())) < lease/3 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), lease/2)
		if _, err := c.Compound(ctx); err != nil {
			c.log.Warn("nfs4: lease renewal failed", "err", err)
		}
		cancel()
	}
}
