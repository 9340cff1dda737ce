package state

import (
	"github.com/gonfs/gonfs/lock"
)

// stateKind says what a stateid stands for.
type stateKind uint8

const (
	kindOpen stateKind = 1 << iota
	kindLock
	kindDeleg // read and write delegations (RFC 8881 §10.2, deleg.go)
)

// revocation says why a stateid no longer works (RFC 8881 §8.2.2).
type revocation uint8

const (
	notRevoked     revocation = iota
	revokedExpired            // freed for a conflict while its client was a courtesy client: NFS4ERR_EXPIRED
	revokedAdmin              // NFS4ERR_ADMIN_REVOKED; extension point for the admin
	revokedDeleg              // a delegation not returned after recall: NFS4ERR_DELEG_REVOKED (deleg.go)
)

// stateRec is one stateid: an open (one per open-owner and file, RFC 8881
// §9.1.1) or a lock stateid (one per lock-owner and file, §9.1.4). A
// revoked stateRec stays in Manager.stateids, unlinked from its owner,
// until FREE_STATEID or the client goes (RFC 8881 §8.2.2: the client must
// learn it was revoked).
type stateRec struct {
	kind    stateKind
	other   [12]byte
	seqid   uint32
	client  *client
	file    lock.FileKey
	revoked revocation

	// open stateids
	oo           *openOwner
	access, deny lock.ShareMode
	// seen is the set of (share_access, share_deny) pairs the owner's
	// OPENs of the file asked for, bit access*4+deny: OPEN_DOWNGRADE may
	// only go to the union of some of them (RFC 8881 §18.18.3).
	seen  uint16
	locks map[*stateRec]struct{} // lock stateids derived from this open

	// lock stateids
	lo   *lockOwner
	open *stateRec

	// delegation stateids (access is ShareRead or ShareBoth)
	dl *delegation

	// Extension point (NFSv4.0): open-owner and lock-owner seqids and the
	// last reply for replay live on openOwner/lockOwner, not here.
}

// openOwner is an open-owner (RFC 8881 §2.4.1... §9.1.1): client plus
// owner bytes.
type openOwner struct {
	client *client
	id     string
	opens  map[lock.FileKey]*stateRec
}

// lockOwner is a lock-owner; its locks live in the lock table under
// lock.Owner{NFS4, clientid, owner bytes}.
type lockOwner struct {
	client *client
	id     string
	states map[lock.FileKey]*stateRec
}

func (oo *openOwner) owner() lock.Owner {
	return lock.Owner{Kind: lock.NFS4, Client: oo.client.lockKey, ID: oo.id}
}

func (lo *lockOwner) owner() lock.Owner {
	return lock.Owner{Kind: lock.NFS4, Client: lo.client.lockKey, ID: lo.id}
}

func (st *stateRec) stateid() Stateid { return Stateid{Seqid: st.seqid, Other: st.other} }

// bump increments the seqid for a state change, skipping 0, which means
// "current" in requests (RFC 8881 §8.2.2).
func (st *stateRec) bump() {
	st.seqid++
	if st.seqid == 0 {
		st.seqid = 1
	}
}

// openOf returns the open a stateid grants access through.
func (st *stateRec) openOf() *stateRec {
	if st.kind == kindLock {
		return st.open
	}
	return st
}

// newState registers a fresh stateid with seqid 1.
func (m *Manager) newState(c *client, kind stateKind, file lock.FileKey) *stateRec {
	st := &stateRec{kind: kind, other: m.newOther(), seqid: 1, client: c, file: file}
	m.stateids[st.other] = st
	c.stateids[st] = struct{}{}
	c.live++
	return st
}

// forget removes a stateid for good.
func (m *Manager) forget(st *stateRec) {
	delete(m.stateids, st.other)
	delete(st.client.stateids, st)
}

// lookupState validates a non-special stateid sent by client c for file
// (empty: any file) and returns its state (RFC 8881 §8.2.2-§8.2.4):
// another boot's stateid is STALE_STATEID; unknown, another client's, of
// the wrong kind or for another file is BAD_STATEID; revoked is EXPIRED or
// ADMIN_REVOKED; seqid 0 means the current one; an older seqid is
// OLD_STATEID and a newer one BAD_STATEID.
func (m *Manager) lookupState(c *client, s Stateid, file lock.FileKey, kinds stateKind) (*stateRec, Status) {
	if s.IsSpecial() {
		return nil, errBadStateid
	}
	if s.Epoch() != m.opts.BootEpoch {
		return nil, errStaleStateid
	}
	st := m.stateids[s.Other]
	// NFSv4.0 compounds have no client of their own (no SEQUENCE): the
	// caller passes none (ClientID 0) and the stateid names its client,
	// which must be an NFSv4.0 one. Their use of a stateid renews the
	// lease (RFC 7530 §9.5; clients40.go).
	if st == nil {
		return nil, m.goneStatus(s.Other) // EXPIRED for a gone 4.0 client's
	}
	if st.client != c && (c != nil || st.client.v40 == nil) {
		return nil, errBadStateid
	}
	m.renew40(st.client)
	switch st.revoked {
	case revokedExpired:
		return nil, errExpired
	case revokedAdmin:
		return nil, errAdminRevoked
	case revokedDeleg:
		return nil, errDelegRevoked
	}
	if st.kind&kinds == 0 || (file != "" && st.file != file) {
		return nil, errBadStateid
	}
	if st := checkSeqid(s.Seqid, st.seqid); st != OK {
		return nil, st
	}
	return st, OK
}

// checkSeqid compares a request's seqid with the current one, modulo 2^32
// so the comparison survives wraparound.
func checkSeqid(req, cur uint32) Status {
	switch {
	case req == 0 || req == cur:
		return OK
	case int32(req-cur) > 0:
		return errBadStateid
	}
	return errOldStateid
}

// CheckAccess decides whether READ (want ShareRead) or WRITE or SETATTR of
// the size (want ShareWrite) may use stateid s on file, for the client of
// the COMPOUND's session (RFC 8881 §8.2, §9.1.2). The COMPOUND layer has
// already replaced the current-stateid placeholder; if it arrives here it
// is BAD_STATEID.
//
// An open or lock stateid must belong to id and file; writing needs write
// access (else NFS4ERR_OPENMODE). Reading is allowed through a write-only
// open, as clients read to fill partial pages (Linux nfsd agrees).
//
// The anonymous and READ-bypass stateids stand for I/O without an open:
// they are refused with NFS4ERR_GRACE during the grace period (a share
// reservation that would forbid them may not be reclaimed yet, RFC 8881
// §8.4.2) and with NFS4ERR_LOCKED when another open denies the access
// (RFC 8881 §9.1.4, §9.7); the bypass stateid ignores deny-read
// reservations for READ (§8.2.3). Byte-range locks are advisory and never
// stop I/O. A conflicting share of a courtesy client is revoked, whence the
// Effects.
func (m *Manager) CheckAccess(id ClientID, file lock.FileKey, s Stateid, want lock.ShareMode) (Effects, Status) {
	if want == 0 || want > lock.ShareBoth {
		return Effects{}, errInval
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	c := m.clients[id]
	switch {
	case s.IsAnonymous() || s.IsBypass():
		if m.grace.in(now) {
			return Effects{}, errGrace
		}
		acc := want
		if s.IsBypass() {
			acc &^= lock.ShareRead
		}
		var eff Effects
		if !m.clearShares(file, nil, acc, lock.ShareNone, now, &eff) {
			return eff, errLocked
		}
		// I/O without an open recalls other clients' delegations it
		// conflicts with (RFC 8881 §10.4.4; deleg.go).
		if !m.delegsClear(c, file, want&lock.ShareWrite != 0, false, now, &eff) {
			return eff, errDelay
		}
		return eff, OK
	case s.IsSpecial():
		return Effects{}, errBadStateid
	}
	st, status := m.lookupState(c, s, file, kindOpen|kindLock|kindDeleg)
	if status != OK {
		return Effects{}, status
	}
	if want&lock.ShareWrite != 0 && st.openOf().access&lock.ShareWrite == 0 {
		return Effects{}, errOpenmode
	}
	return Effects{}, OK
}

// TestStateids runs TEST_STATEID (RFC 8881 §18.48): one status per
// stateid, as lookupState judges it; special stateids are BAD_STATEID.
func (m *Manager) TestStateids(id ClientID, ids []Stateid) []Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.clients[id]
	out := make([]Status, len(ids))
	for i, s := range ids {
		_, out[i] = m.lookupState(c, s, "", kindOpen|kindLock|kindDeleg)
	}
	return out
}

// FreeStateid runs FREE_STATEID (RFC 8881 §18.38). A revoked stateid is
// forgotten (which clears SEQ4_STATUS_*_STATE_REVOKED once none is left);
// a lock stateid whose lock-owner holds no lock on the file is freed; an
// open stateid, or a lock stateid with locks, is NFS4ERR_LOCKS_HELD.
func (m *Manager) FreeStateid(id ClientID, s Stateid) (Effects, Status) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.clients[id]
	if s.IsSpecial() {
		return Effects{}, errBadStateid
	}
	if s.Epoch() != m.opts.BootEpoch {
		return Effects{}, errStaleStateid
	}
	st := m.stateids[s.Other]
	if st == nil || st.client != c {
		return Effects{}, errBadStateid
	}
	if st.kind == kindDeleg {
		return Effects{}, m.freeDeleg(st, s) // deleg.go
	}
	if st.revoked != notRevoked {
		m.forget(st)
		c.revoked--
		return Effects{}, OK
	}
	if status := checkSeqid(s.Seqid, st.seqid); status != OK {
		return Effects{}, status
	}
	if st.kind == kindOpen || m.holdsLocks(st) {
		return Effects{}, errLocksHeld
	}
	m.dropLockState(st)
	return Effects{}, OK
}

// holdsLocks reports whether a lock stateid's owner has locks on its file.
func (m *Manager) holdsLocks(st *stateRec) bool {
	for _, l := range m.locks.OwnerLocks(st.lo.owner()) {
		if l.File == st.file {
			return true
		}
	}
	return false
}

// dropLockState forgets a live lock stateid that holds no locks.
func (m *Manager) dropLockState(st *stateRec) {
	m.forget(st)
	m.unlinkLock(st)
	st.client.live--
}

// unlinkLock detaches a lock stateid from its owner and open.
func (m *Manager) unlinkLock(st *stateRec) {
	lo := st.lo
	delete(lo.states, st.file)
	if len(lo.states) == 0 {
		delete(lo.client.lockOwners, lo.id)
	}
	if st.open != nil {
		delete(st.open.locks, st)
	}
}

// unlinkOpen detaches an open stateid from its open-owner.
func (m *Manager) unlinkOpen(st *stateRec) {
	oo := st.oo
	delete(oo.opens, st.file)
	if len(oo.opens) == 0 {
		delete(oo.client.openOwners, oo.id)
	}
}

// revoke frees the state behind st in the lock table and marks it revoked
// (an open takes its lock stateids with it). Used when a courtesy client's
// state conflicts with someone else's request (RFC 8881 §8.3: once the
// lease expired the server may free the state; the client learns it from
// SEQ4_STATUS_EXPIRED_SOME_STATE_REVOKED and TEST_STATEID).
func (m *Manager) revoke(st *stateRec, why revocation, eff *Effects) {
	if st.revoked != notRevoked {
		return
	}
	switch st.kind {
	case kindOpen:
		for l := range st.locks {
			m.revoke(l, why, eff)
		}
		m.locks.Unshare(st.file, st.oo.owner())
		m.unlinkOpen(st)
	case kindLock:
		eff.Woken = append(eff.Woken, m.locks.Unlock(st.file, st.lo.owner(), lock.WholeFile())...)
		m.unlinkLock(st)
	}
	st.revoked = why
	st.client.live--
	st.client.revoked++
}
