package state

import (
	"encoding/binary"
	"maps"
	"slices"
	"time"

	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

// NFSv4.0 client IDs (RFC 7530 §9.1.1, §16.33, §16.34): SETCLIENTID and
// SETCLIENTID_CONFIRM share the owner index of EXCHANGE_ID (nfs_client_id4.id
// is co_ownerid) and the confirmed/unconfirmed record pair; a record made by
// SETCLIENTID carries a client40. An NFSv4.0 client has no session: its
// lease is renewed by RENEW and by every operation that names its client ID
// or one of its stateids (RFC 7530 §9.5), and its callbacks go to the
// address it named (Callback40).

// Callback40 is the callback path a NFSv4.0 client named in SETCLIENTID
// (RFC 7530 §16.33.1): cb_program, cb_location and callback_ident.
type Callback40 struct {
	Program uint32
	Netid   string // r_netid: "tcp" or "tcp6"
	Addr    string // r_addr, a universal address (RFC 5665 §5.2.3.4)
	Ident   uint32 // callback_ident, echoed in CB_COMPOUND
}

// client40 is the NFSv4.0 part of a client record.
type client40 struct {
	cb      Callback40
	confirm Verifier // setclientid_confirm of this record
	// update is a SETCLIENTID that matched this confirmed record's
	// verifier and principal (a callback update, RFC 7530 §16.33.5): it
	// awaits its SETCLIENTID_CONFIRM, and the record keeps its client ID
	// and state meanwhile.
	update *update40
	// owners are the open-owners and lock-owners with their seqids and
	// last replies (owners40.go). They outlive their opens and locks,
	// since a client reuses an owner after closing everything.
	owners map[ownerKey40]*owner40
}

type update40 struct {
	cb        Callback40
	confirm   Verifier
	principal string
}

// SetClientIDArgs are SETCLIENTID4args plus who sent them.
type SetClientIDArgs struct {
	Owner     []byte // nfs_client_id4.id
	Verifier  Verifier
	Principal string
	Callback  Callback40
	Addr      string // source address, for the admin view
}

// SetClientIDResult is SETCLIENTID4resok.
type SetClientIDResult struct {
	ClientID ClientID
	Confirm  Verifier // setclientid_confirm
}

// newConfirm returns a setclientid_confirm verifier never issued before by
// this server instance (boot epoch, then a counter), never all zeros.
func (m *Manager) newConfirm() Verifier {
	m.v40.nextConfirm++
	var v Verifier
	binary.BigEndian.PutUint32(v[:4], m.opts.BootEpoch|0x80000000)
	binary.BigEndian.PutUint32(v[4:], m.v40.nextConfirm)
	return v
}

// SetClientID runs SETCLIENTID (RFC 7530 §16.33.5; the same cases as
// RFC 3530 §14.2.33). With x the owner, v the verifier and the principal:
//
//   - a confirmed record of x with another principal that still holds
//     state or sessions: NFS4ERR_CLID_INUSE (without state the new
//     principal may take x over, as in EXCHANGE_ID case 3);
//   - every other SETCLIENTID first removes an unconfirmed record of x
//     (and a pending callback update);
//   - a confirmed NFSv4.0 record with the same v and principal: a callback
//     update, kept beside the record with a new confirm verifier, the
//     client ID unchanged;
//   - otherwise (no confirmed record, a new v: the client restarted, or a
//     new principal without state) a new unconfirmed record with a new
//     client ID; the confirmed record and its state go when it is
//     confirmed.
func (m *Manager) SetClientID(a SetClientIDArgs) (SetClientIDResult, Status) {
	if len(a.Owner) == 0 || len(a.Owner) > nfs4xdr.NFS4_OPAQUE_LIMIT {
		return SetClientIDResult{}, errInval
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
	if conf != nil && conf.principal != a.Principal && (conf.live > 0 || len(conf.sessions) > 0) {
		m.noteEvent(ClientEvent{Kind: ClientInUse, Owner: a.Owner, Addr: a.Addr, Verifier: a.Verifier, Principal: a.Principal, ClientID: conf.id})
		return SetClientIDResult{}, errClidInuse
	}
	if e == nil {
		e = &ownerEntry{}
		m.owners[owner] = e
	}
	if u := e.unconfirmed; u != nil {
		m.dropUnconfirmed(u)
		m.owners[owner] = e
	}
	if conf != nil && conf.v40 != nil {
		conf.v40.update = nil
		if conf.principal == a.Principal && conf.verifier == a.Verifier {
			conf.v40.update = &update40{cb: a.Callback, confirm: m.newConfirm(), principal: a.Principal}
			conf.noteAddr(a.Addr)
			return SetClientIDResult{ClientID: conf.id, Confirm: conf.v40.update.confirm}, OK
		}
	}
	c := &client{
		id:         m.newClientID(),
		owner:      owner,
		verifier:   a.Verifier,
		principal:  a.Principal,
		created:    now,
		lastRenew:  now,
		sessions:   make(map[SessionID]*session),
		openOwners: make(map[string]*openOwner),
		lockOwners: make(map[string]*lockOwner),
		stateids:   make(map[*stateRec]struct{}),
		v40:        &client40{cb: a.Callback, confirm: m.newConfirm(), owners: make(map[ownerKey40]*owner40)},
	}
	c.lockKey = lockClient(c.id)
	c.noteAddr(a.Addr)
	m.clients[c.id] = c
	e.unconfirmed = c
	e.history = appendBounded(e.history, VerifierEvent{Time: now, Verifier: a.Verifier, Addr: a.Addr, ClientID: c.id}, maxHistory)
	m.noteNewRecord(c, conf)
	return SetClientIDResult{ClientID: c.id, Confirm: c.v40.confirm}, OK
}

// SetClientIDConfirm runs SETCLIENTID_CONFIRM (RFC 7530 §16.34.5). The
// pair (client ID, confirm verifier) must name a record SETCLIENTID
// returned, else NFS4ERR_STALE_CLIENTID (unknown, earlier boot, replaced,
// or the verifier of another SETCLIENTID), and come from the principal
// that sent that SETCLIENTID, else NFS4ERR_CLID_INUSE:
//
//   - a pending callback update of a confirmed record: the record takes
//     the new callback, keeping its client ID and state;
//   - an unconfirmed record: it becomes the confirmed record of its
//     owner; a previous confirmed record (the client restarted) is
//     destroyed with all its state;
//   - the confirm verifier of an already confirmed record: a retransmitted
//     confirm, which changes nothing.
//
// changed reports that the callback path is new (probe it). The lease is
// renewed.
func (m *Manager) SetClientIDConfirm(id ClientID, confirm Verifier, principal string) (changed bool, eff Effects, st Status) {
	defer m.flushEvents() // after the unlock
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	c := m.clients[id]
	if c == nil || c.v40 == nil {
		return false, Effects{}, errStaleClientID
	}
	v := c.v40
	switch {
	case c.confirmed && v.update != nil && v.update.confirm == confirm:
		if v.update.principal != principal {
			return false, Effects{}, errClidInuse
		}
		v.cb, v.confirm, v.update = v.update.cb, v.update.confirm, nil
		changed = true
	case v.confirm != confirm:
		return false, Effects{}, errStaleClientID
	case c.principal != principal:
		return false, Effects{}, errClidInuse
	case !c.confirmed:
		m.confirm(c, &eff)
		changed = true
	}
	// A client that confirms its client ID again is recovering (after
	// NFS4ERR_EXPIRED, say): what was revoked while its lease had expired
	// has been said, and must not make its next RENEW fail again.
	m.forgetRevoked40(c)
	if changed {
		// Not known to work until the callback sender's probe answers
		// (SetCallbackDown): no delegation before (callbackUp40).
		c.cbDown = true
	}
	m.renew(c, now)
	return changed, eff, OK
}

// callbackUp40 is callbackUp (deleg.go) for an NFSv4.0 client: its
// callback path is the address SETCLIENTID named, up once the callback
// sender's CB_NULL probe answered.
func (m *Manager) callbackUp40(c *client) bool {
	return c.confirmed && !c.cbDown && c.v40.cb.Addr != ""
}

// Callback40 returns the callback path of a confirmed NFSv4.0 client, for
// the callback sender; false for unknown and NFSv4.1 clients.
func (m *Manager) Callback40(id ClientID) (Callback40, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.clients[id]
	if c == nil || c.v40 == nil || !c.confirmed {
		return Callback40{}, false
	}
	return c.v40.cb, true
}

// Renew runs RENEW (RFC 7530 §16.29): the client's lease is renewed. An
// unknown, unconfirmed or earlier-boot client ID is
// NFS4ERR_STALE_CLIENTID. A client whose lease expired and lost state to
// another client's conflicting request (see the courteous server in
// doc.go) is told NFS4ERR_EXPIRED once, and its revoked stateids are
// forgotten (NFSv4.0 has no FREE_STATEID): it must recover its state.
// While the callback path is down, a client holding delegations gets
// NFS4ERR_CB_PATH_DOWN (its lease is renewed all the same).
func (m *Manager) Renew(id ClientID) (Effects, Status) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	c := m.clients[id]
	if c == nil || !c.confirmed {
		return Effects{}, errStaleClientID
	}
	m.renew(c, now)
	if c.revoked > 0 {
		m.forgetRevoked40(c)
		return Effects{}, errExpired
	}
	if c.cbDown && m.hasDelegations(c) {
		return Effects{}, nfs4xdr.NFS4ERR_CB_PATH_DOWN
	}
	return Effects{}, OK
}

// hasDelegations reports whether c holds a live stateid that is neither an
// open nor a lock: a delegation.
func (m *Manager) hasDelegations(c *client) bool {
	for st := range c.stateids {
		if st.kind&^(kindOpen|kindLock) != 0 && st.revoked == notRevoked {
			return true
		}
	}
	return false
}

// lookupClient40 is lookupClient for NFSv4.0 operations that name a client
// ID (OPEN, LOCK, LOCKT, RELEASE_LOCKOWNER): only a confirmed record will
// do (RFC 7530 §16.34.5: state is created only under a confirmed client
// ID), and the use renews the lease (§9.5).
func (m *Manager) lookupClient40(id ClientID, now time.Time) (*client, Status) {
	c := m.clients[id]
	if c == nil || !c.confirmed {
		return nil, errStaleClientID
	}
	m.renew(c, now)
	return c, OK
}

// renew40 is the implicit lease renewal of RFC 7530 §9.5 for the hooks in
// lookupClient and lookupState: an NFSv4.0 client's use of its client ID
// or of one of its stateids renews its lease (NFSv4.1 renews in SEQUENCE).
func (m *Manager) renew40(c *client) {
	if c != nil && c.v40 != nil && c.confirmed {
		m.renew(c, m.now())
	}
}

// state40 is the Manager's NFSv4.0 bookkeeping.
type state40 struct {
	nextConfirm uint32
	// closed maps the "other" of an open stateid that CLOSE ended to its
	// open-owner, so that a retransmitted CLOSE is answered from the
	// owner's reply cache (RFC 7530 §9.1.9) after the stateid is gone.
	// One entry per owner (its last CLOSE).
	closed map[[12]byte]*owner40
	// gone remembers the stateids of NFSv4.0 clients destroyed with
	// their state (lease expiry, client restart), oldest first in goneQ,
	// so that a client still using one hears NFS4ERR_EXPIRED rather than
	// NFS4ERR_BAD_STATEID and starts its recovery (RFC 7530 §9.6.3,
	// §16.33.5 ff). Bounded by maxGone40.
	gone  map[[12]byte]struct{}
	goneQ [][12]byte
}

const maxGone40 = 4096

// noteGone40 records the stateids of a client being destroyed.
func (m *Manager) noteGone40(c *client) {
	if m.v40.gone == nil {
		m.v40.gone = make(map[[12]byte]struct{})
	}
	for st := range c.stateids {
		m.noteGoneOther40(st.other)
	}
}

// noteGoneOther40 records one gone stateid (m.v40.gone is made).
func (m *Manager) noteGoneOther40(other [12]byte) {
	if len(m.v40.goneQ) >= maxGone40 {
		delete(m.v40.gone, m.v40.goneQ[0])
		m.v40.goneQ = m.v40.goneQ[1:]
	}
	m.v40.gone[other] = struct{}{}
	m.v40.goneQ = append(m.v40.goneQ, other)
}

// goneStatus is the status of a stateid the Manager does not know: EXPIRED
// for one of a destroyed NFSv4.0 client, else BAD_STATEID.
func (m *Manager) goneStatus(other [12]byte) Status {
	if _, ok := m.v40.gone[other]; ok {
		return errExpired
	}
	return errBadStateid
}

// forget40 drops what the NFSv4.0 bookkeeping holds for a client that is
// being destroyed.
func (m *Manager) forget40(c *client) {
	if c.v40 == nil {
		return
	}
	m.noteGone40(c)
	for _, ow := range c.v40.owners {
		if ow.hasClosed {
			delete(m.v40.closed, ow.closed)
		}
	}
}

// tick40 forgets the owners of NFSv4.0 clients that hold nothing and were
// not used for a lease period: a client that comes back with one starts
// it afresh (RFC 7530 §9.1.8 lets the server forget owners without state).
func (m *Manager) tick40(now time.Time) {
	for _, c := range m.clients {
		if c.v40 == nil {
			continue
		}
		for k, ow := range c.v40.owners {
			if ow.busy || now.Sub(ow.used) <= m.opts.Lease || m.ownerHolds(c, k) {
				continue
			}
			if ow.hasClosed {
				delete(m.v40.closed, ow.closed)
			}
			delete(c.v40.owners, k)
		}
	}
}

// ownerHolds reports whether an owner has open or lock stateids.
func (m *Manager) ownerHolds(c *client, k ownerKey40) bool {
	switch k.kind {
	case ownerOpen40:
		return c.openOwners[k.id] != nil
	default:
		return c.lockOwners[k.id] != nil
	}
}

// ReleaseLockOwner runs RELEASE_LOCKOWNER (RFC 7530 §16.37): a lock-owner
// that holds no locks is forgotten with its lock stateids and seqid; one
// that holds locks is NFS4ERR_LOCKS_HELD. An unknown lock-owner is no
// error.
func (m *Manager) ReleaseLockOwner(id ClientID, owner []byte) (Effects, Status) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, st := m.lookupClient40(id, m.now())
	if st != OK {
		return Effects{}, st
	}
	if lo := c.lockOwners[string(owner)]; lo != nil {
		for _, ls := range lo.states {
			if m.holdsLocks(ls) {
				return Effects{}, errLocksHeld
			}
		}
		for _, ls := range slices.Collect(maps.Values(lo.states)) {
			m.dropLockState(ls)
		}
	}
	if c.v40 != nil {
		delete(c.v40.owners, ownerKey40{ownerLock40, string(owner)})
	}
	return Effects{}, OK
}

// StateClient40 returns the NFSv4.0 client a live stateid belongs to, so
// that the COMPOUND layer can tell whose a 4.0 compound is (it has no
// SEQUENCE). Unknown stateids and those of NFSv4.1 clients give false.
func (m *Manager) StateClient40(s Stateid) (ClientID, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.stateids[s.Other]
	if st == nil || st.client.v40 == nil || st.revoked != notRevoked {
		return 0, false
	}
	return st.client.id, true
}

// forgetRevoked40 forgets the revoked stateids of an NFSv4.0 client, which
// has no FREE_STATEID: they answer NFS4ERR_EXPIRED from now on (gone).
func (m *Manager) forgetRevoked40(c *client) {
	if c.revoked == 0 {
		return
	}
	if m.v40.gone == nil {
		m.v40.gone = make(map[[12]byte]struct{})
	}
	for st := range c.stateids {
		if st.revoked != notRevoked {
			m.forget(st)
			c.revoked--
			m.noteGoneOther40(st.other)
		}
	}
}
