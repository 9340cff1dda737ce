package state

import (
	"encoding/binary"
	"strconv"
	"sync"
	"time"

	"github.com/gonfs/gonfs/lock"
)

// Manager holds all NFSv4.1 protocol state of one server instance. Create it
// with New. Every exported method takes the one mutex for its whole
// duration and never calls out of the package while holding it, except
// into the lock.Table (which has its own, inner, mutex).
type Manager struct {
	opts  Options
	locks *lock.Table

	mu          sync.Mutex
	nextClient  uint32
	nextSession uint32
	nextState   uint64
	clients     map[ClientID]*client
	owners      map[string]*ownerEntry // by co_ownerid
	sessions    map[SessionID]*session
	conns       map[ConnID]map[*session]struct{}
	stateids    map[[12]byte]*stateRec
	grace       grace
	deleg       delegTable // delegations (deleg.go)
	events      eventQueue // for Options.OnClientEvent
	v40         state40    // NFSv4.0 bookkeeping (clients40.go)

	// replyBytes is what the session reply caches hold of
	// Options.MaxCachedReplyBytes, replyRefused how many SEQUENCEs got
	// NFS4ERR_DELAY for lack of it (replycache.go).
	replyBytes   int64
	replyRefused uint64
}

const (
	defLease       = 90 * time.Second
	defCourtesy    = 24 * time.Hour
	defMaxCourtesy = 1024
	defSessions    = 16
	defSlots       = 64
	defBackSlots   = 1
	defOpens       = 65536
	defMaxMsg      = 1<<20 + 16<<10
	defMaxCached   = 8 << 10
	defMaxOps      = 64
)

// New returns a Manager. The grace period starts now and lasts opts.Grace,
// unless opts.PreviousClients is empty, in which case there is nothing to
// reclaim and there is no grace period.
func New(opts Options) *Manager {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defu := func(v *uint32, d uint32) {
		if *v == 0 {
			*v = d
		}
	}
	if opts.Lease <= 0 {
		opts.Lease = defLease
	}
	if opts.Grace <= 0 {
		opts.Grace = opts.Lease
	}
	if opts.CourtesyLimit <= 0 {
		opts.CourtesyLimit = defCourtesy
	}
	def(&opts.MaxCourtesyClients, defMaxCourtesy)
	def(&opts.MaxSessionsPerClient, defSessions)
	def(&opts.MaxSlots, defSlots)
	def(&opts.MaxBackSlots, defBackSlots)
	def(&opts.MaxOpensPerClient, defOpens)
	defu(&opts.MaxRequestSize, defMaxMsg)
	defu(&opts.MaxResponseSize, defMaxMsg)
	defu(&opts.MaxResponseSizeCached, defMaxCached)
	defu(&opts.MaxOperations, defMaxOps)
	if opts.MaxCachedReplyBytes <= 0 {
		opts.MaxCachedReplyBytes = defMaxCachedReplyBytes
	}
	// Below one reply of the largest size, a request asking for its reply
	// to be cached could never run.
	opts.MaxCachedReplyBytes = max(opts.MaxCachedReplyBytes, int64(opts.MaxResponseSizeCached))
	if opts.ServerOwner == nil {
		opts.ServerOwner = []byte("gonfs")
	}
	if opts.ServerScope == nil {
		opts.ServerScope = []byte("gonfs")
	}
	t := opts.Locks
	if t == nil {
		t = lock.NewTable(lock.Options{})
	}
	m := &Manager{
		opts:     opts,
		locks:    t,
		clients:  make(map[ClientID]*client),
		owners:   make(map[string]*ownerEntry),
		sessions: make(map[SessionID]*session),
		conns:    make(map[ConnID]map[*session]struct{}),
		stateids: make(map[[12]byte]*stateRec),
	}
	m.grace.start(opts.Now(), opts.Grace, opts.PreviousClients)
	return m
}

// Locks returns the lock table the Manager uses.
func (m *Manager) Locks() *lock.Table { return m.locks }

// LeaseTime is the lease period, for the lease_time attribute.
func (m *Manager) LeaseTime() time.Duration { return m.opts.Lease }

// now reads the injected clock. Only Manager methods call it, under m.mu.
func (m *Manager) now() time.Time { return m.opts.Now() }

func (m *Manager) newClientID() ClientID {
	m.nextClient++
	if m.nextClient == 0 { // 0 is never issued, so a zero ClientID is "none"
		m.nextClient++
	}
	return ClientID(uint64(m.opts.BootEpoch)<<32 | uint64(m.nextClient))
}

func (m *Manager) newSessionID(c ClientID) SessionID {
	m.nextSession++
	var s SessionID
	binary.BigEndian.PutUint64(s[:8], uint64(c))
	binary.BigEndian.PutUint32(s[8:12], m.opts.BootEpoch)
	binary.BigEndian.PutUint32(s[12:], m.nextSession)
	return s
}

// newOther returns a fresh stateid "other": epoch then a counter starting
// at 1, so that no issued stateid is special even with epoch 0.
func (m *Manager) newOther() [12]byte {
	m.nextState++
	var o [12]byte
	binary.BigEndian.PutUint32(o[:4], m.opts.BootEpoch)
	binary.BigEndian.PutUint64(o[4:], m.nextState)
	return o
}

// lockClient is the lock.Owner.Client string of an NFSv4 client.
func lockClient(id ClientID) string { return strconv.FormatUint(uint64(id), 16) }

// parseLockClient inverts lockClient.
func parseLockClient(s string) (ClientID, bool) {
	v, err := strconv.ParseUint(s, 16, 64)
	return ClientID(v), err == nil
}

// lookupClient finds a client for an operation that names it: unknown and
// earlier-boot IDs are NFS4ERR_STALE_CLIENTID (RFC 8881 §15.1.13.5).
func (m *Manager) lookupClient(id ClientID) (*client, Status) {
	c := m.clients[id]
	if c == nil {
		return nil, errStaleClientID
	}
	// NFSv4.0 (RFC 7530 §9.5, §16.34.5): only a confirmed client ID may
	// be used, and using it renews the lease (clients40.go).
	if c.v40 != nil {
		if !c.confirmed {
			return nil, errStaleClientID
		}
		m.renew40(c)
	}
	return c, OK
}
