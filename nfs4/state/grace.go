package state

import (
	"time"
)

// grace is the reclaim period after a restart (RFC 8881 §8.4.2). It ends
// at end, or earlier once every previous client has sent
// RECLAIM_COMPLETE (§8.4.2.1: the server may end it early when it knows
// no further reclaims can come).
type grace struct {
	active  bool
	end     time.Time
	prev    map[string]ClientRecord // owners allowed to reclaim
	done    map[string]bool         // owners that sent RECLAIM_COMPLETE
	pending int                     // len(prev) - len(done)
}

func (g *grace) start(now time.Time, d time.Duration, prev []ClientRecord) {
	g.prev = make(map[string]ClientRecord, len(prev))
	for _, r := range prev {
		g.prev[string(r.Owner)] = r
	}
	g.done = make(map[string]bool)
	g.pending = len(g.prev)
	g.end = now.Add(d)
	g.active = g.pending > 0
}

// in reports whether reclaims are still accepted.
func (g *grace) in(now time.Time) bool { return g.active && now.Before(g.end) }

// finish ends the grace period. The records of previous clients that did
// not come back are removed: their state is gone, and after another
// restart they must not reclaim what others may since have taken
// (RFC 8881 §8.4.3, the edge conditions).
func (g *grace) finish(eff *Effects) {
	if !g.active {
		return
	}
	g.active = false
	for owner, r := range g.prev {
		if !g.done[owner] {
			eff.Remove = append(eff.Remove, r)
		}
	}
}

// InGrace reports whether the server is in its grace period: new opens
// and locks get NFS4ERR_GRACE, reclaims are accepted.
func (m *Manager) InGrace() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.grace.in(m.now())
}

// checkReclaim decides whether c may reclaim now (RFC 8881 §8.4.2.1,
// §18.51.3): outside grace or after its RECLAIM_COMPLETE, NO_GRACE; a
// client the recovery store did not know, RECLAIM_BAD.
func (m *Manager) checkReclaim(c *client) Status {
	switch {
	case !m.grace.in(m.now()) || c.reclaimComplete:
		return errNoGrace
	case !m.canReclaim(c):
		return errReclaimBad
	}
	return OK
}

func (m *Manager) canReclaim(c *client) bool {
	_, ok := m.grace.prev[c.owner]
	return ok && !m.grace.done[c.owner]
}

// checkNew decides whether a client may take new (non-reclaim) state now:
// not during grace (RFC 8881 §8.4.2: NFS4ERR_GRACE).
func (m *Manager) checkNew() Status {
	if m.grace.in(m.now()) {
		return errGrace
	}
	return OK
}

// checkNewLock is checkNew for an operation that obtains a lock or share
// (OPEN, LOCK): a client must also have sent RECLAIM_COMPLETE first, even
// with nothing to reclaim (RFC 8881 §18.51.3: "If non-reclaim locking
// operations are done before the RECLAIM_COMPLETE, an NFS4ERR_GRACE error
// will be returned"). NFSv4.0 clients, which have no RECLAIM_COMPLETE,
// will be exempt when they are added.
func (m *Manager) checkNewLock(c *client) Status {
	// NFSv4.0 clients (c.v40) have no RECLAIM_COMPLETE (RFC 7530 §9.6.2):
	// only the grace period itself holds their new locks back.
	if !c.reclaimComplete && c.v40 == nil {
		return errGrace
	}
	return m.checkNew()
}

// ReclaimComplete runs RECLAIM_COMPLETE (RFC 8881 §18.51). With oneFS
// (rca_one_fs) it only says one file system is done, which the server does
// not track per file system, so it succeeds and changes nothing. Otherwise
// the client may reclaim no more; a second one is
// NFS4ERR_COMPLETE_ALREADY.
//
// This is when the client's record is persisted: from now on it holds
// state that it may reclaim after a restart, and a client that never got
// this far must not (the approach of Linux nfsd's client tracking, which
// closes the RFC 8881 §8.4.3 edge conditions). When the last previous
// client completes, the grace period ends early.
func (m *Manager) ReclaimComplete(id ClientID, oneFS bool) (Effects, Status) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, st := m.lookupClient(id)
	if st != OK {
		return Effects{}, st
	}
	if !c.confirmed {
		return Effects{}, errStaleClientID
	}
	if oneFS {
		return Effects{}, OK
	}
	if c.reclaimComplete {
		return Effects{}, errCompleteAlready
	}
	c.reclaimComplete = true
	var eff Effects
	c.persisted = true
	eff.Persist = append(eff.Persist, ClientRecord{Owner: []byte(c.owner), Principal: c.principal})
	if m.grace.active && m.canReclaim(c) {
		m.grace.done[c.owner] = true
		m.grace.pending--
		if m.grace.pending == 0 {
			m.grace.finish(&eff)
		}
	}
	return eff, OK
}
