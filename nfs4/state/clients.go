package state

import (
	"slices"
	"time"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

// client is one client ID: a confirmed or unconfirmed record (RFC 8881
// §2.4, §18.35.4). A client restart produces a second record for the same
// owner; the two coexist until the new one is confirmed.
type client struct {
	id        ClientID
	owner     string // co_ownerid
	verifier  Verifier
	principal string
	confirmed bool
	flags     uint32 // eia_flags the server accepted
	lockKey   string // lock.Owner.Client

	created   time.Time
	lastRenew time.Time
	addrs     []string // source addresses seen, oldest first, bounded

	// cs is the CREATE_SESSION slot of this client ID (RFC 8881 §18.36.4).
	cs struct {
		seq    uint32
		cached bool
		res    CreateSessionResult
		status Status
	}

	sessions   map[SessionID]*session
	openOwners map[string]*openOwner
	lockOwners map[string]*lockOwner
	stateids   map[*stateRec]struct{} // all of its stateids, revoked ones too
	live       int                    // open and lock stateids not revoked
	revoked    int                    // revoked stateids not yet freed (SEQ4_STATUS_*_REVOKED)

	reclaimComplete bool
	persisted       bool // a ClientRecord was handed out in Effects.Persist
	cbDown          bool // the callback sender says the back channel fails

	// v40 is set on records made by SETCLIENTID (NFSv4.0, RFC 7530
	// §16.33, clients40.go): callback address, confirm verifier, owner
	// seqids. The owner index above is shared with EXCHANGE_ID.
	v40 *client40
}

// ownerEntry indexes the records of one co_ownerid and keeps its history,
// which survives record replacement so the admin view can show a client
// that keeps "rebooting" (two machines sharing one owner string, or a
// client that loses its verifier).
type ownerEntry struct {
	confirmed   *client
	unconfirmed *client
	reboots     int // confirmed records replaced by a new incarnation
	history     []VerifierEvent
}

// VerifierEvent is one EXCHANGE_ID that created a new record for an owner.
type VerifierEvent struct {
	Time     time.Time
	Verifier Verifier
	Addr     string
	ClientID ClientID
}

const (
	maxAddrs   = 8
	maxHistory = 16
)

// exchgidFlagsAllowed are the eia_flags a client may send (RFC 8881
// §18.35.3); anything else is NFS4ERR_INVAL. CONFIRMED_R is reply-only.
const exchgidFlagsAllowed = nfs4xdr.EXCHGID4_FLAG_SUPP_MOVED_REFER |
	nfs4xdr.EXCHGID4_FLAG_SUPP_MOVED_MIGR |
	nfs4xdr.EXCHGID4_FLAG_BIND_PRINC_STATEID |
	nfs4xdr.EXCHGID4_FLAG_MASK_PNFS |
	nfs4xdr.EXCHGID4_FLAG_UPD_CONFIRMED_REC_A

// ExchangeIDArgs are the parts of EXCHANGE_ID4args the state needs, plus
// who sent it.
type ExchangeIDArgs struct {
	Owner     []byte // co_ownerid
	Verifier  Verifier
	Principal string // the RPC credential, as the caller names it: "sys:0", "krb5:nfs/host@REALM"
	Flags     uint32 // eia_flags
	Protect   StateProtect
	Addr      string // source address, for the admin view
}

// ExchangeIDResult is EXCHANGE_ID4resok without the implementation ID.
// ServerOwner is so_major_id (so_minor_id is 0).
type ExchangeIDResult struct {
	ClientID    ClientID
	SequenceID  uint32
	Flags       uint32
	ServerOwner []byte
	ServerScope []byte
}

// ExchangeID runs EXCHANGE_ID (RFC 8881 §18.35.4). The numbered cases are
// those of the RFC's IMPLEMENTATION section:
//
//  1. new owner: a new unconfirmed record;
//  2. non-update, confirmed record with the same verifier and principal:
//     that record, unchanged;
//  3. non-update, confirmed record with another principal: CLID_INUSE
//     while the old record has state or sessions, otherwise as case 1 (an
//     unexpired lease alone does not protect it, as in knfsd);
//  4. an unconfirmed record for the owner is replaced by a new one;
//  5. non-update, confirmed record, same principal, new verifier (client
//     restart): a new unconfirmed record; the old one and its state go
//     when CREATE_SESSION confirms the new one;
//  6. update, confirmed record with the same verifier and principal: that
//     record;
//  7. update, other principal: PERM;
//  8. update, same principal, other verifier: NOT_SAME;
//  9. update with no confirmed record: NOENT.
//
// Only SP4_NONE is supported. SP4_SSV is NFS4ERR_ENCR_ALG_UNSUPP (no SSV
// algorithm is offered) and SP4_MACH_CRED is NFS4ERR_INVAL, as Linux nfsd
// answers when it cannot enforce machine credentials; clients then retry
// with SP4_NONE.
func (m *Manager) ExchangeID(a ExchangeIDArgs) (ExchangeIDResult, Status) {
	switch a.Protect {
	case ProtectNone:
	case ProtectSSV:
		return ExchangeIDResult{}, errEncrAlgUnsupp
	default:
		return ExchangeIDResult{}, errInval
	}
	if a.Flags&^exchgidFlagsAllowed != 0 || len(a.Owner) == 0 || len(a.Owner) > nfs4xdr.NFS4_OPAQUE_LIMIT {
		return ExchangeIDResult{}, errInval
	}
	defer m.flushEvents() // after the unlock
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	owner := string(a.Owner)
	e := m.owners[owner]
	var conf *client
	if e != nil {
		conf = e.confirmed
	}
	if a.Flags&nfs4xdr.EXCHGID4_FLAG_UPD_CONFIRMED_REC_A != 0 {
		switch {
		case conf == nil: // case 9
			return ExchangeIDResult{}, errNoent
		case conf.principal != a.Principal: // case 7
			return ExchangeIDResult{}, errPerm
		case conf.verifier != a.Verifier: // case 8
			return ExchangeIDResult{}, errNotSame
		}
		// case 6: nothing the state keeps is updatable under SP4_NONE.
		conf.noteAddr(a.Addr)
		return m.exchangeResult(conf), OK
	}
	if conf != nil {
		switch {
		case conf.principal != a.Principal: // case 3
			if conf.live > 0 || len(conf.sessions) > 0 {
				m.noteEvent(ClientEvent{Kind: ClientInUse, Owner: a.Owner, Addr: a.Addr, Verifier: a.Verifier, Principal: a.Principal, ClientID: conf.id})
				return ExchangeIDResult{}, errClidInuse
			}
			// Without state the old record is replaced at once, as knfsd
			// expires it: its client ID is stale from now on (pynfs
			// EID5e). It holds nothing to release; its recovery record,
			// if any, is overwritten when the new client completes.
			var none Effects
			m.destroyClient(conf, &none)
			e = m.owners[owner]
		case conf.verifier == a.Verifier: // case 2
			conf.noteAddr(a.Addr)
			return m.exchangeResult(conf), OK
		}
		// case 5 (or 3 without state): fall through to a new record.
	}
	if e == nil {
		e = &ownerEntry{}
		m.owners[owner] = e
	}
	if u := e.unconfirmed; u != nil { // case 4
		// Dropping the record may drop the owner's entry too when it
		// held nothing else; the new record belongs in it.
		m.dropUnconfirmed(u)
		m.owners[owner] = e
	}
	c := &client{
		id:         m.newClientID(),
		owner:      owner,
		verifier:   a.Verifier,
		principal:  a.Principal,
		flags:      a.Flags &^ nfs4xdr.EXCHGID4_FLAG_UPD_CONFIRMED_REC_A,
		created:    now,
		lastRenew:  now,
		sessions:   make(map[SessionID]*session),
		openOwners: make(map[string]*openOwner),
		lockOwners: make(map[string]*lockOwner),
		stateids:   make(map[*stateRec]struct{}),
	}
	c.lockKey = lockClient(c.id)
	c.noteAddr(a.Addr)
	// The first CREATE_SESSION must carry eir_sequenceid; the slot holds
	// the one before it (RFC 8881 §18.35.4, §18.36.4).
	c.cs.seq = 0
	m.clients[c.id] = c
	e.unconfirmed = c
	e.history = appendBounded(e.history, VerifierEvent{Time: now, Verifier: a.Verifier, Addr: a.Addr, ClientID: c.id}, maxHistory)
	m.noteNewRecord(c, conf)
	return m.exchangeResult(c), OK
}

func (m *Manager) exchangeResult(c *client) ExchangeIDResult {
	r := ExchangeIDResult{
		ClientID:    c.id,
		SequenceID:  c.cs.seq + 1,
		Flags:       nfs4xdr.EXCHGID4_FLAG_USE_NON_PNFS,
		ServerOwner: m.opts.ServerOwner,
		ServerScope: m.opts.ServerScope,
	}
	if c.confirmed {
		r.Flags |= nfs4xdr.EXCHGID4_FLAG_CONFIRMED_R
	}
	return r
}

func appendBounded[T any](s []T, v T, n int) []T {
	if len(s) >= n {
		s = slices.Delete(s, 0, len(s)-n+1)
	}
	return append(s, v)
}

func (c *client) noteAddr(addr string) {
	if addr == "" {
		return
	}
	if i := slices.Index(c.addrs, addr); i >= 0 {
		c.addrs = slices.Delete(c.addrs, i, i+1)
	}
	c.addrs = appendBounded(c.addrs, addr, maxAddrs)
}

// expired reports whether c's lease has run out (RFC 8881 §8.3). A client
// with a request in progress is never expired: it is talking to us.
func (m *Manager) expired(c *client, now time.Time) bool {
	if now.Sub(c.lastRenew) <= m.opts.Lease {
		return false
	}
	for _, s := range c.sessions {
		if s.busy() {
			return false
		}
	}
	return true
}

// courtesy reports whether c is a confirmed client whose lease expired but
// whose state is still kept (a courtesy client): its state gives way to
// any conflicting request.
func (m *Manager) courtesy(c *client, now time.Time) bool {
	return c.confirmed && m.expired(c, now)
}

// renew extends c's lease (RFC 8881 §8.3: any SEQUENCE renews).
func (m *Manager) renew(c *client, now time.Time) { c.lastRenew = now }

// dropUnconfirmed forgets an unconfirmed record, which has no state.
func (m *Manager) dropUnconfirmed(c *client) {
	for _, s := range c.sessions { // none in practice: sessions confirm
		m.removeSession(s)
	}
	delete(m.clients, c.id)
	if e := m.owners[c.owner]; e != nil {
		if e.unconfirmed == c {
			e.unconfirmed = nil
		}
		m.gcOwner(c.owner, e)
	}
}

func (m *Manager) gcOwner(owner string, e *ownerEntry) {
	if e.confirmed == nil && e.unconfirmed == nil {
		delete(m.owners, owner)
	}
}

// destroyClient removes c with all its sessions and state, releasing its
// locks and shares in the lock table.
func (m *Manager) destroyClient(c *client, eff *Effects) {
	if !c.confirmed {
		m.dropUnconfirmed(c)
		return
	}
	for _, s := range c.sessions {
		m.removeSession(s)
	}
	m.dropClientDelegs(c) // deleg.go
	m.forget40(c)         // NFSv4.0 owners' closed stateids (clients40.go)
	for st := range c.stateids {
		delete(m.stateids, st.other)
	}
	_, woken := m.locks.ReleaseClient(lock.NFS4, c.lockKey)
	eff.Woken = append(eff.Woken, woken...)
	if c.persisted {
		eff.Remove = append(eff.Remove, ClientRecord{Owner: []byte(c.owner), Principal: c.principal})
	}
	delete(m.clients, c.id)
	if e := m.owners[c.owner]; e != nil {
		if e.confirmed == c {
			e.confirmed = nil
		}
		m.gcOwner(c.owner, e)
	}
}

// DestroyClientID runs DESTROY_CLIENTID (RFC 8881 §18.50): a client with
// sessions or state is NFS4ERR_CLIENTID_BUSY.
func (m *Manager) DestroyClientID(id ClientID) (Effects, Status) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, st := m.lookupClient(id)
	if st != OK {
		return Effects{}, st
	}
	if len(c.sessions) > 0 || c.live > 0 {
		return Effects{}, errClientIDBusy
	}
	var eff Effects
	m.destroyClient(c, &eff)
	return eff, OK
}

// Evict destroys a client with all its state at once, whatever it holds:
// the admin's "forget this client". Its locks and shares go, waking NLM
// waiters, and its recovery record is removed.
func (m *Manager) Evict(id ClientID) Effects {
	m.mu.Lock()
	defer m.mu.Unlock()
	var eff Effects
	if c := m.clients[id]; c != nil {
		m.destroyClient(c, &eff)
	}
	return eff
}
