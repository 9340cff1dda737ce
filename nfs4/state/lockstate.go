package state

import (
	"errors"
	"time"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

// LockArgs are LOCK4args as the state needs them (RFC 8881 §18.10).
type LockArgs struct {
	ClientID  ClientID
	File      lock.FileKey
	Exclusive bool // WRITE_LT / WRITEW_LT; the W variants are polled, not queued
	Offset    uint64
	Length    uint64
	Reclaim   bool
	// NewOwner selects open_to_lock_owner4: OpenStateid and Owner (the
	// lock-owner bytes). Otherwise LockStateid (exist_lock_owner4). The
	// NFSv4.0 seqids are not needed in 4.1.
	NewOwner    bool
	OpenStateid Stateid
	Owner       []byte
	LockStateid Stateid
}

// Denied describes the lock that stands in the way (LOCK4denied).
// For an NLM holder ClientID is 0 and Owner is "nlm:" and the NLM
// caller_name, so a tool looking at the reply can tell what it is.
type Denied struct {
	Offset    uint64
	Length    uint64
	Exclusive bool
	ClientID  ClientID
	Owner     []byte
}

// LockResult is the lock stateid on success, or Denied with NFS4ERR_DENIED.
type LockResult struct {
	Stateid Stateid
	Denied  *Denied
}

// Lock runs LOCK (RFC 8881 §18.10, §9.4). With NewOwner the lock-owner's
// stateid for the file is derived from the open stateid (created on first
// use, the existing one otherwise); else the lock stateid is checked. A
// read lock needs read access and a write lock write access through the
// open (NFS4ERR_OPENMODE). The lock goes into the shared table, so NLM
// locks conflict: a conflict is NFS4ERR_DENIED with Denied, after locks of
// courtesy clients in the way have been revoked. On success the lock
// stateid's seqid is incremented (a new one starts at 1). NLM requests the
// change lets through are in Effects.Woken.
func (m *Manager) Lock(a LockArgs) (LockResult, Effects, Status) {
	r, err := lock.RangeNFS4(a.Offset, a.Length)
	if err != nil {
		return LockResult{}, Effects{}, errInval
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	c, st := m.lookupClient(a.ClientID)
	if st != OK {
		return LockResult{}, Effects{}, st
	}
	if a.Reclaim {
		st = m.checkReclaim(c)
	} else {
		st = m.checkNewLock(c)
	}
	if st != OK {
		return LockResult{}, Effects{}, st
	}
	var ls *stateRec
	created := false
	if a.NewOwner {
		if len(a.Owner) == 0 {
			return LockResult{}, Effects{}, errInval
		}
		open, st := m.lookupState(c, a.OpenStateid, a.File, kindOpen)
		if st != OK {
			return LockResult{}, Effects{}, st
		}
		lo := c.lockOwners[string(a.Owner)]
		if lo != nil {
			ls = lo.states[a.File]
		}
		if ls == nil {
			if c.live >= m.opts.MaxOpensPerClient {
				return LockResult{}, Effects{}, errResource
			}
			if lo == nil {
				lo = &lockOwner{client: c, id: string(a.Owner), states: make(map[lock.FileKey]*stateRec)}
				c.lockOwners[lo.id] = lo
			}
			ls = m.newState(c, kindLock, a.File)
			ls.lo, ls.open = lo, open
			lo.states[a.File] = ls
			open.locks[ls] = struct{}{}
			created = true
		}
	} else if ls, st = m.lookupState(c, a.LockStateid, a.File, kindLock); st != OK {
		return LockResult{}, Effects{}, st
	}
	need := lock.ShareRead
	if a.Exclusive {
		need = lock.ShareWrite
	}
	if ls.open.access&need == 0 {
		if created {
			m.dropLockState(ls)
		}
		return LockResult{}, Effects{}, errOpenmode
	}
	var eff Effects
	conflict, err := m.lockTable(a.File, ls.lo.owner(), r, a.Exclusive, now, &eff)
	switch {
	case errors.Is(err, lock.ErrTooManyLocks):
		st = errResource
	case err != nil:
		st = errServerFault
	case conflict != nil:
		st = errDenied
		if a.Reclaim {
			st = errReclaimConflict
		}
	}
	if st != OK {
		if created {
			m.dropLockState(ls)
		}
		res := LockResult{}
		if conflict != nil && !a.Reclaim {
			res.Denied = m.denied(conflict)
		}
		return res, eff, st
	}
	if !created {
		ls.bump()
	}
	return LockResult{Stateid: ls.stateid()}, eff, OK
}

// lockTable places a lock, first revoking courtesy clients' locks in the
// way. conflict is the first lock that remains in the way.
func (m *Manager) lockTable(file lock.FileKey, o lock.Owner, r lock.Range, excl bool, now time.Time, eff *Effects) (*lock.Lock, error) {
	for {
		conflict, woken, err := m.locks.Lock(file, o, r, excl)
		eff.Woken = append(eff.Woken, woken...)
		if conflict == nil || err != nil {
			return conflict, err
		}
		if !m.freeCourtesyLock(file, conflict.Owner, now, eff) {
			return conflict, nil
		}
	}
}

// freeCourtesyLock revokes holder's state on file if holder is a courtesy
// client's lock-owner, and reports whether it did.
func (m *Manager) freeCourtesyLock(file lock.FileKey, holder lock.Owner, now time.Time, eff *Effects) bool {
	c := m.courtesyHolder(holder, now)
	if c == nil {
		return false
	}
	if lo := c.lockOwners[holder.ID]; lo != nil && lo.states[file] != nil {
		m.revoke(lo.states[file], revokedExpired, eff)
	} else {
		// A lock with no stateid behind it: drop it all the same.
		eff.Woken = append(eff.Woken, m.locks.Unlock(file, holder, lock.WholeFile())...)
	}
	return true
}

// denied describes a conflicting lock for LOCK4denied.
func (m *Manager) denied(l *lock.Lock) *Denied {
	off, length := l.Range.NFS4()
	d := &Denied{Offset: off, Length: length, Exclusive: l.Exclusive}
	switch l.Owner.Kind {
	case lock.NFS4:
		id, _ := parseLockClient(l.Owner.Client)
		d.ClientID, d.Owner = id, []byte(l.Owner.ID)
	default:
		d.Owner = []byte("nlm:" + l.Owner.Client)
	}
	if len(d.Owner) > nfs4xdr.NFS4_OPAQUE_LIMIT {
		d.Owner = d.Owner[:nfs4xdr.NFS4_OPAQUE_LIMIT]
	}
	return d
}

// LockTest runs LOCKT (RFC 8881 §18.11): nil and OK when the lock could be
// had now, the holder and NFS4ERR_DENIED otherwise. Courtesy holders in the
// way are revoked first, as LOCK would. During grace it is NFS4ERR_GRACE,
// as a reclaim may yet claim the range.
func (m *Manager) LockTest(id ClientID, file lock.FileKey, owner []byte, exclusive bool, off, length uint64) (*Denied, Effects, Status) {
	r, err := lock.RangeNFS4(off, length)
	if err != nil {
		return nil, Effects{}, errInval
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	c, st := m.lookupClient(id)
	if st != OK {
		return nil, Effects{}, st
	}
	if st := m.checkNew(); st != OK {
		return nil, Effects{}, st
	}
	o := lock.Owner{Kind: lock.NFS4, Client: c.lockKey, ID: string(owner)}
	var eff Effects
	for {
		conflict := m.locks.Test(file, o, r, exclusive)
		if conflict == nil {
			return nil, eff, OK
		}
		if !m.freeCourtesyLock(file, conflict.Owner, now, &eff) {
			return m.denied(conflict), eff, errDenied
		}
	}
}

// Unlock runs LOCKU (RFC 8881 §18.12): the range is released (what is not
// locked is no error) and the lock stateid's seqid incremented. NLM
// requests it lets through are in Effects.Woken.
func (m *Manager) Unlock(id ClientID, file lock.FileKey, s Stateid, off, length uint64) (Stateid, Effects, Status) {
	r, err := lock.RangeNFS4(off, length)
	if err != nil {
		return Stateid{}, Effects{}, errInval
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ls, st := m.lookupState(m.clients[id], s, file, kindLock)
	if st != OK {
		return Stateid{}, Effects{}, st
	}
	eff := Effects{Woken: m.locks.Unlock(file, ls.lo.owner(), r)}
	ls.bump()
	return ls.stateid(), eff, OK
}

// ReleaseCourtesyHolder is for the NLM server: when an NLM request is
// refused because of holder, an NFSv4 owner, it asks whether that owner
// belongs to a courtesy client. If so, the client's lock (or open, for a
// share) on file is revoked and ok is true: retry the request.
func (m *Manager) ReleaseCourtesyHolder(file lock.FileKey, holder lock.Owner) (eff Effects, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	c := m.courtesyHolder(holder, now)
	if c == nil {
		return Effects{}, false
	}
	if lo := c.lockOwners[holder.ID]; lo != nil && lo.states[file] != nil {
		m.revoke(lo.states[file], revokedExpired, &eff)
		ok = true
	}
	if oo := c.openOwners[holder.ID]; oo != nil && oo.opens[file] != nil {
		m.revoke(oo.opens[file], revokedExpired, &eff)
		ok = true
	}
	return eff, ok
}
