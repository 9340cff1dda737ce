package state

import (
	"bytes"
	"cmp"
	"slices"
	"sync/atomic"
	"time"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

// Delegations (RFC 8881 §10.2-§10.4, RFC 7530 §10).
//
// A delegation is a stateid of kind kindDeleg, owned by its client like an
// open, but without anything in the lock table: it is a promise that no
// other client will change the file (read delegation) or use it at all
// (write delegation) without the holder being asked first. The promise is
// kept by the checks below, which every conflicting request passes
// through: another client's OPEN (Open), I/O without an open
// (CheckAccess), and changes that do not need an open, which the COMPOUND
// layer and the NFSv3 and NLM servers report through RecallConflicts.
//
// A conflict does not wait: the delegation is marked recalled, a Recall
// (CB_RECALL) goes out in Effects, and the conflicting request is answered
// NFS4ERR_DELAY (NFSv3: NFS3ERR_JUKEBOX) until the holder returns the
// delegation with DELEGRETURN. A holder that has not returned it a lease
// period after the recall (whether or not the CB_RECALL arrived) loses it:
// the delegation is revoked (RFC 8881 §10.4.6 leaves the timing to the
// server; a lease is what knfsd waits), its stateid answers
// NFS4ERR_DELEG_REVOKED, SEQUENCE reports
// SEQ4_STATUS_RECALLABLE_STATE_REVOKED until the client frees it with
// FREE_STATEID (§8.2.2, §18.46.3), and the conflicting request goes ahead
// at its next try. A delegation of a courtesy client (lease expired) is
// revoked at once on conflict, with no recall.
//
// Requests of the holder itself never conflict with its own delegation
// (as knfsd judges since it stopped breaking a client's own delegations).

// DelegType is a delegation type, with the values of open_delegation_type4
// (RFC 8881 §18.16), so the COMPOUND layer converts with a cast.
type DelegType uint8

// Delegation types.
const (
	DelegNone  DelegType = 0 // OPEN_DELEGATE_NONE
	DelegRead  DelegType = 1 // OPEN_DELEGATE_READ
	DelegWrite DelegType = 2 // OPEN_DELEGATE_WRITE
)

// defCooldown is how long after a recall a file gets no new delegation,
// so that a file two clients share does not go back and forth between
// delegated and recalled.
const defCooldown = 10 * time.Second

// Recall is a CB_RECALL to send (RFC 8881 §20.2): the caller sends it to
// ClientID from a goroutine of its own, outside any lock, and need not
// report the outcome: a recall that is not answered by DELEGRETURN within
// a lease ends in revocation either way. FH is the file handle given to
// Delegate.
type Recall struct {
	ClientID ClientID
	Stateid  Stateid
	Truncate bool
	FH       []byte
}

// DelegCounters count what happened to the delegations of one export.
type DelegCounters struct {
	Grants      uint64
	Recalls     uint64
	Returns     uint64
	Revocations uint64
}

// delegation is what a kindDeleg stateRec holds beyond the common fields.
type delegation struct {
	typ      DelegType
	export   uint32
	fh       []byte
	recalled bool
	recallAt time.Time
	// CB_GETATTR bookkeeping (RFC 8881 §10.4.3): the change attribute the
	// holder last reported (at grant, the server's own), how often it
	// reported a new one, and whether the holder's size is to be believed.
	change   uint64
	bumps    uint64
	modified bool
}

// delegTable is the Manager's delegation state. Its maps are made on
// first use, so a Manager that never delegates carries none.
type delegTable struct {
	// live and writes count the delegations in byFile and the write
	// delegations among them, so that requests on undelegated files
	// (nearly all) skip the Manager's lock: RecallConflicts and
	// WriteDelegated read them first.
	live, writes atomic.Int64

	off      bool // SetDelegations(false)
	byFile   map[lock.FileKey]map[*stateRec]struct{}
	cooldown map[lock.FileKey]time.Time // when a file's delegations were last recalled
	revoked  map[*client]int            // revoked delegations not yet freed, per client
	counters map[uint32]*DelegCounters  // by export ID
}

func (t *delegTable) count(export uint32) *DelegCounters {
	if t.counters == nil {
		t.counters = make(map[uint32]*DelegCounters)
	}
	k := t.counters[export]
	if k == nil {
		k = &DelegCounters{}
		t.counters[export] = k
	}
	return k
}

func (t *delegTable) index(st *stateRec) {
	if t.byFile == nil {
		t.byFile = make(map[lock.FileKey]map[*stateRec]struct{})
	}
	set := t.byFile[st.file]
	if set == nil {
		set = make(map[*stateRec]struct{})
		t.byFile[st.file] = set
	}
	set[st] = struct{}{}
	t.live.Add(1)
	if st.dl.typ == DelegWrite {
		t.writes.Add(1)
	}
}

func (t *delegTable) unindex(st *stateRec) {
	set := t.byFile[st.file]
	if _, ok := set[st]; !ok {
		return
	}
	delete(set, st)
	if len(set) == 0 {
		delete(t.byFile, st.file)
	}
	t.live.Add(-1)
	if st.dl.typ == DelegWrite {
		t.writes.Add(-1)
	}
}

func (m *Manager) cooldownPeriod() time.Duration {
	if m.opts.DelegCooldown > 0 {
		return m.opts.DelegCooldown
	}
	return defCooldown
}

// SetDelegations turns the granting of new delegations on or off at run
// time (the global switch; Options.NoDelegations sets it at start).
// Delegations already granted stay until returned or recalled.
func (m *Manager) SetDelegations(on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deleg.off = !on
}

// DelegationsOn reports whether new delegations may be granted at all.
func (m *Manager) DelegationsOn() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.opts.NoDelegations && !m.deleg.off
}

// DelegArgs ask for a delegation of File to ClientID: after a successful
// OPEN (Access is the access the client now holds), or for WANT_DELEGATION
// (Access 0).
type DelegArgs struct {
	ClientID ClientID
	File     lock.FileKey
	// Export is the export's ID, for the counters; FH is the file's wire
	// handle, sent back in CB_RECALL.
	Export uint32
	FH     []byte
	Access lock.ShareMode
	// Want is the client's delegation want (OPEN4_SHARE_ACCESS_WANT_* in
	// share_access & OPEN4_SHARE_ACCESS_WANT_DELEG_MASK, or wda_want's).
	Want uint32
	// Allowed is the export's delegations option for this client
	// (exports option delegations / nodelegations).
	Allowed bool
	// Reclaim is the delegate_type of CLAIM_PREVIOUS (RFC 8881 §9.11,
	// §10.2.1): a delegation held before the server restarted.
	Reclaim DelegType
	// Change is the file's change attribute now, the starting point of
	// CB_GETATTR comparisons (RFC 8881 §10.4.3).
	Change uint64
}

// DelegResult is the delegation part of an OPEN or WANT_DELEGATION reply.
type DelegResult struct {
	Type    DelegType
	Stateid Stateid
	// Recall asks the client to return a reclaimed delegation at once:
	// the server would not grant it now (RFC 8881 §18.16.3, the recall
	// field of open_read_delegation4 and open_write_delegation4).
	Recall bool
	// With Type DelegNone: Ext says to answer OPEN_DELEGATE_NONE_EXT
	// (the client expressed a want, RFC 8881 §18.16.3) with Why.
	Ext bool
	Why nfs4xdr.WhyNoDelegation4
}

// Delegate decides whether to delegate a file (RFC 8881 §10.2, §10.4):
//
//   - OPEN4_SHARE_ACCESS_WANT_NO_DELEG and _CANCEL get none (WND4_NOT_WANTED,
//     WND4_CANCELLED);
//   - none while delegations are off (Options.NoDelegations,
//     SetDelegations, the export's option), during grace, or while the
//     client's callback path is not known to work (WND4_RESOURCE);
//   - none for a file recalled within Options.DelegCooldown, a file under
//     recall, one the client already holds a delegation of, or one other
//     clients use in a way the type would conflict with (WND4_CONTENTION);
//   - a write delegation when the client asks for one (WANT_WRITE_DELEG)
//     or expresses no preference or any (WANT_ANY_DELEG, no preference)
//     and opened for writing, and nobody else has the file open or
//     delegated;
//   - else a read delegation when the client asks for one or any, or
//     expresses no preference and opened for reading, and nobody else has
//     it open for writing or delegated for writing.
//
// A reclaim (Reclaim set) is granted as asked, with Recall set when the
// server would not grant it now; it is refused as reclaims of opens are
// (NFS4ERR_NO_GRACE, NFS4ERR_RECLAIM_BAD: RFC 8881 §8.4.2.1). That is the
// only status other than OK.
func (m *Manager) Delegate(a DelegArgs) (DelegResult, Status) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	c := m.clients[a.ClientID]
	if c == nil {
		return DelegResult{Ext: a.Want != nfs4xdr.OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE, Why: nfs4xdr.WND4_RESOURCE}, OK
	}
	if a.Reclaim != DelegNone {
		if a.Reclaim != DelegRead && a.Reclaim != DelegWrite {
			return DelegResult{}, errInval
		}
		if st := m.checkReclaim(c); st != OK {
			return DelegResult{}, st
		}
		recall := !m.mayDelegate(c, a) || !m.clearFor(c, a.File, a.Reclaim)
		st := m.grant(c, a, a.Reclaim)
		return DelegResult{Type: a.Reclaim, Stateid: st.stateid(), Recall: recall}, OK
	}
	r := m.delegate(c, a, now)
	return r, OK
}

func (m *Manager) delegate(c *client, a DelegArgs, now time.Time) DelegResult {
	none := func(why nfs4xdr.WhyNoDelegation4) DelegResult {
		return DelegResult{Ext: a.Want != nfs4xdr.OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE, Why: why}
	}
	switch a.Want {
	case nfs4xdr.OPEN4_SHARE_ACCESS_WANT_NO_DELEG:
		return none(nfs4xdr.WND4_NOT_WANTED)
	case nfs4xdr.OPEN4_SHARE_ACCESS_WANT_CANCEL:
		return none(nfs4xdr.WND4_CANCELLED)
	}
	if !m.mayDelegate(c, a) || m.grace.in(now) {
		return none(nfs4xdr.WND4_RESOURCE)
	}
	if t, ok := m.deleg.cooldown[a.File]; ok && now.Sub(t) < m.cooldownPeriod() {
		return none(nfs4xdr.WND4_CONTENTION)
	}
	for st := range m.deleg.byFile[a.File] {
		if st.client == c || st.dl.recalled {
			return none(nfs4xdr.WND4_CONTENTION)
		}
	}
	var typ DelegType
	wantWrite := a.Want == nfs4xdr.OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG ||
		a.Access&lock.ShareWrite != 0 && a.Want != nfs4xdr.OPEN4_SHARE_ACCESS_WANT_READ_DELEG
	wantRead := a.Want == nfs4xdr.OPEN4_SHARE_ACCESS_WANT_READ_DELEG || a.Want == nfs4xdr.OPEN4_SHARE_ACCESS_WANT_ANY_DELEG ||
		a.Access&lock.ShareRead != 0 && a.Want == nfs4xdr.OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE
	switch {
	case wantWrite && m.clearFor(c, a.File, DelegWrite):
		typ = DelegWrite
	case wantRead && m.clearFor(c, a.File, DelegRead):
		typ = DelegRead
	default:
		return none(nfs4xdr.WND4_CONTENTION)
	}
	st := m.grant(c, a, typ)
	return DelegResult{Type: typ, Stateid: st.stateid()}
}

// mayDelegate applies the switches and the callback path check.
func (m *Manager) mayDelegate(c *client, a DelegArgs) bool {
	return a.Allowed && !m.opts.NoDelegations && !m.deleg.off && m.callbackUp(c)
}

// callbackUp reports whether c's callbacks can be expected to arrive: a
// back channel connection is bound and the callback sender has not found
// it failing. Extension point (NFSv4.0): a client of minor version 0 has
// its callback address from SETCLIENTID instead of back channel
// connections.
func (m *Manager) callbackUp(c *client) bool {
	if c.cbDown || !c.confirmed {
		return false
	}
	if c.v40 != nil { // NFSv4.0: the SETCLIENTID callback path (clients40.go)
		return m.callbackUp40(c)
	}
	for _, s := range c.sessions {
		if len(s.backConns) > 0 {
			return true
		}
	}
	return false
}

// clearFor reports whether a delegation of type typ to c would conflict
// with nobody: for a read delegation, no other holder of a write open
// (NFSv4 or NLM share) and no other delegation for writing; for a write
// delegation, no other open and no other delegation at all.
func (m *Manager) clearFor(c *client, file lock.FileKey, typ DelegType) bool {
	for st := range m.deleg.byFile[file] {
		if st.client != c && (typ == DelegWrite || st.dl.typ == DelegWrite) {
			return false
		}
	}
	for _, sh := range m.locks.Shares(file) {
		if sh.Owner.Kind == lock.NFS4 && sh.Owner.Client == c.lockKey {
			continue
		}
		if typ == DelegWrite || sh.Access&lock.ShareWrite != 0 {
			return false
		}
	}
	// Byte-range locks of anyone else (NLM hosts above all, whose locks
	// no OPEN shows) rule out a delegation: its holder would take its own
	// locks locally and never see theirs. Any lock rules out a write
	// delegation; an exclusive one, held by a writer, a read delegation.
	for _, l := range m.locks.Locks(file) {
		if l.Owner.Kind == lock.NFS4 && l.Owner.Client == c.lockKey {
			continue
		}
		if typ == DelegWrite || l.Exclusive {
			return false
		}
	}
	return true
}

// grant makes a delegation stateid.
func (m *Manager) grant(c *client, a DelegArgs, typ DelegType) *stateRec {
	st := m.newState(c, kindDeleg, a.File)
	st.access = lock.ShareRead
	if typ == DelegWrite {
		st.access = lock.ShareBoth
	}
	st.dl = &delegation{typ: typ, export: a.Export, fh: slices.Clone(a.FH), change: a.Change}
	m.deleg.index(st)
	m.deleg.count(a.Export).Grants++
	return st
}

// ConflictArgs describe a request that may conflict with delegations.
type ConflictArgs struct {
	// ClientID is the NFSv4 client asking; zero for NFSv3 and NLM, which
	// conflict with every delegation.
	ClientID ClientID
	File     lock.FileKey
	// Write says the request changes the file or its name (WRITE,
	// SETATTR, REMOVE, RENAME, LINK, an exclusive lock), which recalls
	// every delegation; otherwise it only reads (an anonymous READ, a
	// shared lock), which recalls write delegations.
	Write bool
	// Truncate is CB_RECALL's truncate: the request will truncate the
	// file to zero (RFC 8881 §20.2).
	Truncate bool
}

// RecallConflicts recalls the delegations of other clients that stand in
// the way of a request (RFC 8881 §10.4.4, §18.25.4, §18.26.4): OK when
// there are none, else NFS4ERR_DELAY, with CB_RECALLs in Effects for those
// not yet recalled. Delegations whose recall has gone unanswered for a
// lease, and those of courtesy clients, are revoked here, and then no
// longer stand in the way.
func (m *Manager) RecallConflicts(a ConflictArgs) (Effects, Status) {
	if m.deleg.live.Load() == 0 {
		return Effects{}, OK
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var eff Effects
	if !m.delegsClear(m.clients[a.ClientID], a.File, a.Write, a.Truncate, m.now(), &eff) {
		return eff, errDelay
	}
	return eff, OK
}

// delegsClear is RecallConflicts for self (nil: not an NFSv4 client). It
// reports whether no conflicting delegation remains.
func (m *Manager) delegsClear(self *client, file lock.FileKey, write, truncate bool, now time.Time, eff *Effects) bool {
	clear := true
	for st := range m.deleg.byFile[file] {
		if st.client == self || (!write && st.dl.typ == DelegRead) {
			continue
		}
		if m.courtesy(st.client, now) || (st.dl.recalled && now.Sub(st.dl.recallAt) > m.opts.Lease) {
			m.revokeDeleg(st, now)
			continue
		}
		clear = false
		if !st.dl.recalled {
			m.recall(st, truncate, now, eff)
		}
	}
	return clear
}

// recall marks st recalled and asks for CB_RECALL.
func (m *Manager) recall(st *stateRec, truncate bool, now time.Time, eff *Effects) {
	st.dl.recalled, st.dl.recallAt = true, now
	m.noteRecall(st.file, now)
	m.deleg.count(st.dl.export).Recalls++
	eff.Recalls = append(eff.Recalls, Recall{ClientID: st.client.id, Stateid: st.stateid(), Truncate: truncate, FH: st.dl.fh})
}

func (m *Manager) noteRecall(file lock.FileKey, now time.Time) {
	if m.deleg.cooldown == nil {
		m.deleg.cooldown = make(map[lock.FileKey]time.Time)
	}
	m.deleg.cooldown[file] = now
}

// revokeDeleg revokes a live delegation: it stops conflicting at once and
// its stateid stays, revoked, until the client frees it.
func (m *Manager) revokeDeleg(st *stateRec, now time.Time) {
	if st.revoked != notRevoked {
		return
	}
	m.deleg.unindex(st)
	m.noteRecall(st.file, now)
	st.revoked = revokedDeleg
	st.client.live--
	if m.deleg.revoked == nil {
		m.deleg.revoked = make(map[*client]int)
	}
	m.deleg.revoked[st.client]++
	m.deleg.count(st.dl.export).Revocations++
}

// DelegReturn runs DELEGRETURN (RFC 8881 §18.6): the delegation stateid s
// of client id on file goes away. A revoked one is NFS4ERR_DELEG_REVOKED
// and stays until FREE_STATEID.
func (m *Manager) DelegReturn(id ClientID, file lock.FileKey, s Stateid) Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, status := m.lookupState(m.clients[id], s, file, kindDeleg)
	if status != OK {
		return status
	}
	m.deleg.unindex(st)
	m.forget(st)
	st.client.live--
	m.deleg.count(st.dl.export).Returns++
	return OK
}

// TestDelegation checks that s is a live delegation of client id for file,
// for the OPEN claims that rest on one (CLAIM_DELEGATE_CUR,
// CLAIM_DELEG_CUR_FH: RFC 8881 §18.16.3).
func (m *Manager) TestDelegation(id ClientID, file lock.FileKey, s Stateid) Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, st := m.lookupState(m.clients[id], s, file, kindDeleg)
	return st
}

// freeDeleg is FREE_STATEID of a delegation stateid st of client c
// (RFC 8881 §18.38.3): a revoked one is forgotten, which clears
// SEQ4_STATUS_RECALLABLE_STATE_REVOKED once the client has no other; a
// live one is still a lock held (NFS4ERR_LOCKS_HELD: DELEGRETURN it).
func (m *Manager) freeDeleg(st *stateRec, s Stateid) Status {
	if st.revoked == notRevoked {
		if status := checkSeqid(s.Seqid, st.seqid); status != OK {
			return status
		}
		return errLocksHeld
	}
	m.forget(st)
	if n := m.deleg.revoked[st.client] - 1; n > 0 {
		m.deleg.revoked[st.client] = n
	} else {
		delete(m.deleg.revoked, st.client)
	}
	return OK
}

// delegStatusFlags are the SEQUENCE status flags of c's delegations
// (RFC 8881 §18.46.3).
func (m *Manager) delegStatusFlags(c *client) uint32 {
	if m.deleg.revoked[c] > 0 {
		return nfs4xdr.SEQ4_STATUS_RECALLABLE_STATE_REVOKED
	}
	return 0
}

// dropClientDelegs forgets the delegations of a client being destroyed
// (its stateids go with it).
func (m *Manager) dropClientDelegs(c *client) {
	for st := range c.stateids {
		if st.kind == kindDeleg {
			m.deleg.unindex(st)
		}
	}
	delete(m.deleg.revoked, c)
}

// tickDelegs revokes delegations whose recall went unanswered for a lease
// and forgets cool-downs that are over.
func (m *Manager) tickDelegs(now time.Time) {
	for _, set := range m.deleg.byFile {
		for st := range set {
			if st.dl.recalled && now.Sub(st.dl.recallAt) > m.opts.Lease {
				m.revokeDeleg(st, now)
			}
		}
	}
	for f, t := range m.deleg.cooldown {
		if now.Sub(t) >= m.cooldownPeriod() {
			delete(m.deleg.cooldown, f)
		}
	}
}

// GetattrQuery names a write delegation whose holder must be asked for
// the file's size and change attribute (CB_GETATTR, RFC 8881 §10.4.3,
// §20.1) before another client's GETATTR is answered.
type GetattrQuery struct {
	Holder  ClientID
	Stateid Stateid
	FH      []byte
}

// WriteDelegated returns the write delegation another client than id
// holds on file, if any.
func (m *Manager) WriteDelegated(id ClientID, file lock.FileKey) (GetattrQuery, bool) {
	if m.deleg.writes.Load() == 0 {
		return GetattrQuery{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for st := range m.deleg.byFile[file] {
		if st.dl.typ == DelegWrite && st.client.id != id {
			return GetattrQuery{Holder: st.client.id, Stateid: st.stateid(), FH: st.dl.fh}, true
		}
	}
	return GetattrQuery{}, false
}

// GetattrReply takes the holder's CB_GETATTR answer (its change attribute
// and size) and returns those to report to the asking client, given the
// server's own (RFC 8881 §10.4.3): while the holder reports the change
// attribute it was given (or reported last time), it has not modified the
// file and the server's values stand; once it reports another, the file
// counts as modified: the holder's size is reported, and a change
// attribute above the server's by the number of modifications seen, so
// that it differs from what clients saw before and grows.
func (m *Manager) GetattrReply(q GetattrQuery, serverChange, serverSize, holderChange, holderSize uint64) (change, size uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.stateids[q.Stateid.Other]
	if st == nil || st.kind != kindDeleg || st.revoked != notRevoked {
		return serverChange, serverSize
	}
	d := st.dl
	if holderChange != d.change {
		d.change = holderChange
		d.bumps++
		d.modified = true
	}
	if !d.modified {
		return serverChange, serverSize
	}
	return serverChange + d.bumps, holderSize
}

// RecallDelegation recalls one delegation, if it is still live and not
// recalled: for a CB_GETATTR that failed (the holder cannot be asked, so
// it must give the delegation back or lose it).
func (m *Manager) RecallDelegation(s Stateid) Effects {
	m.mu.Lock()
	defer m.mu.Unlock()
	var eff Effects
	st := m.stateids[s.Other]
	if st != nil && st.kind == kindDeleg && st.revoked == notRevoked && !st.dl.recalled {
		m.recall(st, false, m.now(), &eff)
	}
	return eff
}

// DelegInfo describes a delegation for the admin view.
type DelegInfo struct {
	Stateid  Stateid
	ClientID ClientID
	File     lock.FileKey
	Export   uint32
	Type     DelegType
	Recalled bool
	RecallAt time.Time
	Revoked  bool
}

// delegSnapshot fills the delegation part of a Snapshot: live and
// revoked-but-unfreed delegations by stateid, and the counters by export.
func (m *Manager) delegSnapshot(s *Snapshot) {
	for _, st := range m.stateids {
		if st.kind != kindDeleg {
			continue
		}
		s.Delegations = append(s.Delegations, DelegInfo{Stateid: st.stateid(), ClientID: st.client.id, File: st.file,
			Export: st.dl.export, Type: st.dl.typ, Recalled: st.dl.recalled, RecallAt: st.dl.recallAt,
			Revoked: st.revoked != notRevoked})
	}
	slices.SortFunc(s.Delegations, func(a, b DelegInfo) int {
		return cmp.Or(cmp.Compare(a.ClientID, b.ClientID), bytes.Compare(a.Stateid.Other[:], b.Stateid.Other[:]))
	})
	if len(m.deleg.counters) > 0 {
		s.DelegCounters = make(map[uint32]DelegCounters, len(m.deleg.counters))
		for k, v := range m.deleg.counters {
			s.DelegCounters[k] = *v
		}
	}
}

// DelegCounters returns the delegation counters of each export, by export
// ID (for statistics).
func (m *Manager) DelegCounters() map[uint32]DelegCounters {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[uint32]DelegCounters, len(m.deleg.counters))
	for k, v := range m.deleg.counters {
		out[k] = *v
	}
	return out
}
