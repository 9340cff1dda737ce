package state

import (
	"errors"
	"time"

	"github.com/gonfs/gonfs/lock"
)

// OpenArgs are what OPEN needs from the state, once the COMPOUND layer has
// looked up or created the file.
type OpenArgs struct {
	ClientID ClientID // from SEQUENCE
	Owner    []byte   // open_owner4.owner
	File     lock.FileKey
	// Access and Deny are share_access and share_deny with the
	// OPEN4_SHARE_ACCESS_WANT_* bits masked off: 1-3 and 0-3.
	Access, Deny lock.ShareMode
	// Reclaim is CLAIM_PREVIOUS (RFC 8881 §9.11). CLAIM_NULL, CLAIM_FH and
	// the delegation claims are ordinary opens here.
	Reclaim bool
}

// OpenResult is the stateid and the share modes now held by the owner on
// the file.
type OpenResult struct {
	Stateid      Stateid
	Access, Deny lock.ShareMode
}

// Open records an OPEN (RFC 8881 §18.16, §9.1.1, §9.7).
//
// One open-owner has one open stateid per file: a further OPEN by the same
// owner returns the same stateid with its seqid incremented and share
// modes that are the union of all its OPENs. The share reservation is set
// in the lock table, so NFSv4 opens and NLM shares deny each other; a
// conflict is NFS4ERR_SHARE_DENIED, unless every conflicting holder is a
// courtesy client, whose opens are then revoked.
//
// During grace a new open is NFS4ERR_GRACE; a reclaim is accepted only
// then and only from a previous client (see checkReclaim).
//
// If the COMPOUND layer cannot finish an OPEN that succeeded here, it must
// Close the returned stateid.
func (m *Manager) Open(a OpenArgs) (OpenResult, Effects, Status) {
	if a.Access == 0 || a.Access > lock.ShareBoth || a.Deny > lock.ShareBoth || len(a.Owner) == 0 {
		return OpenResult{}, Effects{}, errInval
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	c, st := m.lookupClient(a.ClientID)
	if st != OK {
		return OpenResult{}, Effects{}, st
	}
	if a.Reclaim {
		st = m.checkReclaim(c)
	} else {
		st = m.checkNewLock(c)
	}
	if st != OK {
		return OpenResult{}, Effects{}, st
	}
	oo := c.openOwners[string(a.Owner)]
	var open *stateRec
	if oo != nil {
		open = oo.opens[a.File]
	}
	if open == nil && c.live >= m.opts.MaxOpensPerClient {
		return OpenResult{}, Effects{}, errResource
	}
	access, deny := a.Access, a.Deny
	if open != nil {
		// The owner's own reservation binds its later OPENs too: asking
		// for access it denies, or denying access it holds, conflicts
		// (RFC 7530 §9.9; knfsd and ganesha answer SHARE_DENIED; pynfs
		// OPEN21, OPEN25, OPEN30).
		if a.Access&open.deny != 0 || a.Deny&open.access != 0 {
			return OpenResult{}, Effects{}, errShareDenied
		}
		access |= open.access
		deny |= open.deny
	}
	self := lock.Owner{Kind: lock.NFS4, Client: c.lockKey, ID: string(a.Owner)}
	var eff Effects
	// Other clients' delegations come first: a write delegation conflicts
	// with any open, a read delegation with opens for writing or with a
	// deny (RFC 8881 §10.4.4; deleg.go).
	if !m.delegsClear(c, a.File, access&lock.ShareWrite != 0 || deny != 0, false, now, &eff) {
		return OpenResult{}, eff, errDelay
	}
	if st := m.share(a.File, self, access, deny, now, &eff); st != OK {
		if st == errShareDenied && a.Reclaim {
			st = errReclaimConflict
		}
		return OpenResult{}, eff, st
	}
	if oo == nil {
		oo = &openOwner{client: c, id: string(a.Owner), opens: make(map[lock.FileKey]*stateRec)}
		c.openOwners[oo.id] = oo
	}
	if open == nil {
		open = m.newState(c, kindOpen, a.File)
		open.oo = oo
		open.locks = make(map[*stateRec]struct{})
		oo.opens[a.File] = open
	} else {
		open.bump()
	}
	open.access, open.deny = access, deny
	open.seen |= pairBit(a.Access, a.Deny)
	return OpenResult{Stateid: open.stateid(), Access: access, Deny: deny}, eff, OK
}

// share sets self's share reservation on file, first revoking the opens of
// courtesy clients that stand in the way.
func (m *Manager) share(file lock.FileKey, self lock.Owner, access, deny lock.ShareMode, now time.Time, eff *Effects) Status {
	for {
		err := m.locks.Share(file, self, access, deny)
		switch {
		case err == nil:
			return OK
		case !errors.Is(err, lock.ErrShareDenied):
			return errServerFault // modes were validated; cannot happen
		case !m.clearShares(file, &self, access, deny, now, eff):
			return errShareDenied
		}
		// Courtesy shares were dropped: try again. Each round removes at
		// least one share, so this ends.
	}
}

// clearShares revokes the courtesy opens on file that conflict with a
// request for (access, deny) by self (nil: I/O without an open). It
// reports whether no other conflicting share remains.
func (m *Manager) clearShares(file lock.FileKey, self *lock.Owner, access, deny lock.ShareMode, now time.Time, eff *Effects) bool {
	clear := true
	for _, sh := range m.locks.Shares(file) {
		if (self != nil && sh.Owner == *self) || (access&sh.Deny == 0 && deny&sh.Access == 0) {
			continue
		}
		c := m.courtesyHolder(sh.Owner, now)
		if c == nil {
			clear = false
			continue
		}
		if oo := c.openOwners[sh.Owner.ID]; oo != nil && oo.opens[file] != nil {
			m.revoke(oo.opens[file], revokedExpired, eff)
		} else {
			m.locks.Unshare(file, sh.Owner) // not ours to keep
		}
	}
	return clear
}

// courtesyHolder returns the courtesy client behind a lock table owner, or
// nil if the owner is not an NFSv4 client whose lease has expired.
func (m *Manager) courtesyHolder(o lock.Owner, now time.Time) *client {
	if o.Kind != lock.NFS4 {
		return nil
	}
	id, ok := parseLockClient(o.Client)
	if !ok {
		return nil
	}
	if c := m.clients[id]; c != nil && m.courtesy(c, now) {
		return c
	}
	return nil
}

// OpenDowngrade runs OPEN_DOWNGRADE (RFC 8881 §18.18): the new modes must
// be within those held and must each have been asked for by an OPEN of
// this owner on this file, else NFS4ERR_INVAL. The seqid is incremented.
func (m *Manager) OpenDowngrade(id ClientID, file lock.FileKey, s Stateid, access, deny lock.ShareMode) (Stateid, Status) {
	if access == 0 || access > lock.ShareBoth || deny > lock.ShareBoth {
		return Stateid{}, errInval
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	open, st := m.lookupState(m.clients[id], s, file, kindOpen)
	if st != OK {
		return Stateid{}, st
	}
	if access&^open.access != 0 || deny&^open.deny != 0 || unions(open.seen)&pairBit(access, deny) == 0 {
		return Stateid{}, errInval
	}
	if err := m.locks.Share(file, open.oo.owner(), access, deny); err != nil {
		return Stateid{}, errServerFault // a subset never conflicts
	}
	open.access, open.deny = access, deny
	open.seen &= subsetsOf(access, deny)
	open.bump()
	return open.stateid(), OK
}

// pairBit is the bit of an (access, deny) pair in openState.seen.
func pairBit(access, deny lock.ShareMode) uint16 { return 1 << (access*4 + deny) }

// unions closes a set of (access, deny) pairs under union: every pair
// that is the union of some of the OPENs in seen (RFC 8881 §18.18.3).
func unions(seen uint16) uint16 {
	for {
		next := seen
		for x := range 16 {
			for y := range 16 {
				if seen&(1<<x) != 0 && seen&(1<<y) != 0 {
					a, d := lock.ShareMode(x/4|y/4), lock.ShareMode(x%4|y%4)
					next |= pairBit(a, d)
				}
			}
		}
		if next == seen {
			return seen
		}
		seen = next
	}
}

// subsetsOf is the set of pairs whose modes are within (access, deny).
func subsetsOf(access, deny lock.ShareMode) uint16 {
	var set uint16
	for a := lock.ShareMode(0); a <= lock.ShareBoth; a++ {
		for d := lock.ShareMode(0); d <= lock.ShareBoth; d++ {
			if a&^access == 0 && d&^deny == 0 {
				set |= pairBit(a, d)
			}
		}
	}
	return set
}

// Close runs CLOSE (RFC 8881 §18.2). RFC 8881 §18.2.4 lets the server
// either free the open's byte-range locks or refuse; this one refuses with
// NFS4ERR_LOCKS_HELD while the open's lock-owners hold locks on the file,
// since clients release their locks before closing. Lock stateids without
// locks go with the open. The result is the invalid special stateid, as
// the RFC advises.
func (m *Manager) Close(id ClientID, file lock.FileKey, s Stateid) (Stateid, Effects, Status) {
	m.mu.Lock()
	defer m.mu.Unlock()
	open, st := m.lookupState(m.clients[id], s, file, kindOpen)
	if st != OK {
		return Stateid{}, Effects{}, st
	}
	for l := range open.locks {
		if m.holdsLocks(l) {
			return Stateid{}, Effects{}, errLocksHeld
		}
	}
	for l := range open.locks {
		m.dropLockState(l)
	}
	m.locks.Unshare(file, open.oo.owner())
	m.unlinkOpen(open)
	m.forget(open)
	open.client.live--
	if open.client.v40 != nil {
		// NFSv4.0: the open stateid with its seqid bumped (owners40.go).
		return m.closed40(open), Effects{}, OK
	}
	return InvalidStateid, Effects{}, OK
}
