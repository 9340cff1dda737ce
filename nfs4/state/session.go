package state

import (
	"slices"
	"time"

	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

// session is one session (RFC 8881 §2.10): a fore channel slot table with
// its reply cache, the connections bound to it, and the back channel the
// client offered.
type session struct {
	id      SessionID
	client  *client
	created time.Time
	flags   uint32
	fore    ChannelAttrs
	back    ChannelAttrs
	slots   []slot

	cbProgram uint32
	cbSec     []CallbackSec
	wantBack  bool // the client asked for a back channel at some point

	conns     map[ConnID]ConnDir
	backConns []ConnID // connections usable for callbacks, oldest first

	// Extension point: the back channel slot table (CB_SEQUENCE) lives
	// here once the callback sender exists.
}

func (s *session) busy() bool {
	for i := range s.slots {
		if s.slots[i].busy {
			return true
		}
	}
	return false
}

// minMessage is the smallest ca_maxrequestsize / ca_maxresponsesize
// accepted: below it not even SEQUENCE, PUTFH and GETATTR fit, so
// CREATE_SESSION answers NFS4ERR_TOOSMALL (RFC 8881 §18.36.4).
const minMessage = 256

// CreateSessionArgs are CREATE_SESSION4args plus who sent them.
type CreateSessionArgs struct {
	ClientID  ClientID
	Sequence  uint32 // csa_sequence
	Flags     uint32 // CREATE_SESSION4_FLAG_*
	Fore      ChannelAttrs
	Back      ChannelAttrs
	CBProgram uint32
	CBSec     []CallbackSec
	Principal string
	Conn      ConnID // the connection the request came on
	Addr      string
}

// CreateSessionResult is CREATE_SESSION4resok.
type CreateSessionResult struct {
	SessionID SessionID
	Sequence  uint32
	Flags     uint32
	Fore      ChannelAttrs
	Back      ChannelAttrs
}

// CreateSession runs CREATE_SESSION (RFC 8881 §18.36.4).
//
// Each client ID has one CREATE_SESSION slot: csa_sequence equal to the
// slot's sequence is a retry and gets the cached result of the last
// successful CREATE_SESSION; one more is a new request; anything else is
// NFS4ERR_SEQ_MISORDERED. Only a success advances the slot (as Linux nfsd
// does), so a failed request may be retried with the same sequence.
//
// A new request on an unconfirmed record confirms it, provided it comes
// from the principal that sent EXCHANGE_ID (else NFS4ERR_CLID_INUSE). A
// confirmed record of the same owner is then destroyed with all its state:
// that is how a client restart takes effect (RFC 8881 §18.35.4 case 5).
//
// The fore channel gets the smaller of the client's and the server's
// limits; PERSIST and RDMA are never granted; CONN_BACK_CHAN is, and binds
// Conn to both channels.
func (m *Manager) CreateSession(a CreateSessionArgs) (CreateSessionResult, Effects, Status) {
	defer m.flushEvents() // after the unlock
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	c, st := m.lookupClient(a.ClientID)
	if st != OK {
		return CreateSessionResult{}, Effects{}, st
	}
	if !c.confirmed && c.principal != a.Principal {
		return CreateSessionResult{}, Effects{}, errClidInuse
	}
	switch {
	case a.Sequence == c.cs.seq && c.cs.cached:
		return c.cs.res, Effects{}, c.cs.status
	case a.Sequence != c.cs.seq+1:
		return CreateSessionResult{}, Effects{}, errSeqMisordered
	}
	// RFC 8881 §18.36.3: csa_flags has three defined bits.
	if a.Flags&^(nfs4xdr.CREATE_SESSION4_FLAG_PERSIST|nfs4xdr.CREATE_SESSION4_FLAG_CONN_BACK_CHAN|
		nfs4xdr.CREATE_SESSION4_FLAG_CONN_RDMA) != 0 {
		return CreateSessionResult{}, Effects{}, errInval
	}
	if a.Fore.MaxRequestSize < minMessage || a.Fore.MaxResponseSize < minMessage {
		return CreateSessionResult{}, Effects{}, errTooSmall
	}
	// A back channel that cannot carry CB_SEQUENCE plus one operation
	// (CB_RECALL with a file handle) is useless: NFS4ERR_TOOSMALL
	// (RFC 8881 §18.36.4), as knfsd answers.
	if a.Back.MaxRequestSize < minBackRequest || a.Back.MaxOperations < 2 {
		return CreateSessionResult{}, Effects{}, errTooSmall
	}
	if len(c.sessions) >= m.opts.MaxSessionsPerClient {
		return CreateSessionResult{}, Effects{}, errResource
	}
	var eff Effects
	if !c.confirmed {
		m.confirm(c, &eff)
	}
	s := &session{
		id:        m.newSessionID(c.id),
		client:    c,
		created:   now,
		flags:     a.Flags & nfs4xdr.CREATE_SESSION4_FLAG_CONN_BACK_CHAN,
		fore:      m.foreAttrs(a.Fore),
		back:      m.backAttrs(a.Back),
		cbProgram: a.CBProgram,
		cbSec:     slices.Clone(a.CBSec),
		conns:     make(map[ConnID]ConnDir),
	}
	s.slots = make([]slot, s.fore.MaxRequests)
	c.sessions[s.id] = s
	m.sessions[s.id] = s
	dir := ConnFore
	if s.flags&nfs4xdr.CREATE_SESSION4_FLAG_CONN_BACK_CHAN != 0 {
		dir = ConnBoth
		s.wantBack = true
	}
	m.bind(s, a.Conn, dir)
	c.noteAddr(a.Addr)
	m.renew(c, now)
	res := CreateSessionResult{SessionID: s.id, Sequence: a.Sequence, Flags: s.flags, Fore: s.fore, Back: s.back}
	c.cs.seq, c.cs.cached, c.cs.res, c.cs.status = a.Sequence, true, res, OK
	return res, eff, OK
}

// confirm makes c the confirmed record of its owner, destroying the
// previous incarnation (RFC 8881 §18.35.4 case 5, §18.36.4).
func (m *Manager) confirm(c *client, eff *Effects) {
	e := m.owners[c.owner]
	if old := e.confirmed; old != nil {
		e.reboots++
		m.noteReplaced(c, old)
		m.destroyClient(old, eff)
	}
	c.confirmed = true
	e.confirmed = c
	if e.unconfirmed == c {
		e.unconfirmed = nil
	}
}

// minBackRequest is the smallest back channel request that holds a
// CB_COMPOUND of CB_SEQUENCE and CB_RECALL with our largest file handle.
const minBackRequest = 256

func (m *Manager) foreAttrs(req ChannelAttrs) ChannelAttrs {
	return ChannelAttrs{
		MaxRequestSize:        min(req.MaxRequestSize, m.opts.MaxRequestSize),
		MaxResponseSize:       min(req.MaxResponseSize, m.opts.MaxResponseSize),
		MaxResponseSizeCached: min(req.MaxResponseSizeCached, m.opts.MaxResponseSizeCached),
		MaxOperations:         max(1, min(req.MaxOperations, m.opts.MaxOperations)),
		MaxRequests:           uint32(max(1, min(int(req.MaxRequests), m.opts.MaxSlots))),
	}
}

// backAttrs accepts what the client can take in callbacks, but only as
// many slots as the server will use at once.
func (m *Manager) backAttrs(req ChannelAttrs) ChannelAttrs {
	req.HeaderPadSize = 0
	req.MaxRequests = uint32(max(1, min(int(req.MaxRequests), m.opts.MaxBackSlots)))
	return req
}

// bind associates conn with s in direction dir (replacing an earlier
// direction).
func (m *Manager) bind(s *session, conn ConnID, dir ConnDir) {
	s.conns[conn] = dir
	s.backConns = slices.DeleteFunc(s.backConns, func(c ConnID) bool { return c == conn })
	if dir&ConnBack != 0 {
		s.backConns = append(s.backConns, conn)
		s.wantBack = true
	}
	set := m.conns[conn]
	if set == nil {
		set = make(map[*session]struct{})
		m.conns[conn] = set
	}
	set[s] = struct{}{}
}

func (m *Manager) removeSession(s *session) {
	// Its cached replies and reservations go with it; a Done still to
	// come finds no session and changes nothing (replycache.go).
	m.replyBytes -= s.cachedBytes()
	for conn := range s.conns {
		if set := m.conns[conn]; set != nil {
			delete(set, s)
			if len(set) == 0 {
				delete(m.conns, conn)
			}
		}
	}
	delete(m.sessions, s.id)
	delete(s.client.sessions, s.id)
}

// DestroySession runs DESTROY_SESSION (RFC 8881 §18.37). Requests still
// running on the session finish normally; their Done is then a no-op.
func (m *Manager) DestroySession(id SessionID) Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.sessions[id]
	if s == nil {
		return errBadSession
	}
	m.removeSession(s)
	return OK
}

// BindConnToSession runs BIND_CONN_TO_SESSION (RFC 8881 §18.34): conn is
// bound to the fore channel, the back channel or both; the "or both"
// requests always get both.
func (m *Manager) BindConnToSession(id SessionID, dir ConnDir, conn ConnID) (ConnDir, Status) {
	var got ConnDir
	switch dir {
	case ConnFore:
		got = ConnFore
	case ConnBack:
		got = ConnBack
	case ConnForeOrBoth, ConnBackOrBoth:
		got = ConnBoth
	default:
		return 0, errInval
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.sessions[id]
	if s == nil {
		return 0, errBadSession
	}
	m.bind(s, conn, got)
	m.renew(s.client, m.now())
	return got, OK
}

// BackchannelCtl runs BACKCHANNEL_CTL (RFC 8881 §18.33): new callback
// program and security parameters for the session.
func (m *Manager) BackchannelCtl(id SessionID, program uint32, sec []CallbackSec) Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.sessions[id]
	if s == nil {
		return errBadSession
	}
	s.cbProgram, s.cbSec = program, slices.Clone(sec)
	return OK
}

// ConnClosed forgets a closed connection: it no longer carries callbacks.
// Sessions stay; the client binds a new connection (RFC 8881 §2.10.3).
func (m *Manager) ConnClosed(conn ConnID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for s := range m.conns[conn] {
		delete(s.conns, conn)
		s.backConns = slices.DeleteFunc(s.backConns, func(c ConnID) bool { return c == conn })
	}
	delete(m.conns, conn)
}

// Backchannel is where callbacks to a client go.
type Backchannel struct {
	SessionID SessionID
	Conn      ConnID
	Program   uint32
	Sec       []CallbackSec
	Attrs     ChannelAttrs
}

// Backchannel picks the connection to send a client's callbacks on: the
// most recently bound back channel connection of any of its sessions.
func (m *Manager) Backchannel(id ClientID) (Backchannel, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.clients[id]
	if c == nil {
		return Backchannel{}, false
	}
	var best *session
	for _, s := range c.sessions {
		if len(s.backConns) > 0 && (best == nil || s.created.After(best.created) ||
			(s.created.Equal(best.created) && string(s.id[:]) > string(best.id[:]))) {
			best = s
		}
	}
	if best == nil {
		return Backchannel{}, false
	}
	return Backchannel{
		SessionID: best.id,
		Conn:      best.backConns[len(best.backConns)-1],
		Program:   best.cbProgram,
		Sec:       slices.Clone(best.cbSec),
		Attrs:     best.back,
	}, true
}

// SetCallbackDown records the callback sender's verdict on a client's back
// channel; while down, SEQUENCE reports SEQ4_STATUS_CB_PATH_DOWN so the
// client binds a new connection (RFC 8881 §18.46.3).
func (m *Manager) SetCallbackDown(id ClientID, down bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.clients[id]; c != nil {
		c.cbDown = down
	}
}
