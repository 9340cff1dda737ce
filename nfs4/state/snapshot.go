package state

import (
	"bytes"
	"cmp"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gonfs/gonfs/lock"
)

// Snapshot is a copy of the state for the admin view (gonfs ctl).
type Snapshot struct {
	Now       time.Time
	Lease     time.Duration
	InGrace   bool
	GraceEnds time.Time // zero when there was no grace period
	Clients   []ClientInfo
	// Delegations lists live and revoked (not yet freed) delegations;
	// DelegCounters counts grants, recalls, returns and revocations by
	// export ID (deleg.go).
	Delegations   []DelegInfo
	DelegCounters map[uint32]DelegCounters
	// CachedReplyBytes is what the session reply caches hold, all
	// sessions together (replies kept plus room reserved for running
	// requests that asked for theirs to be cached), of
	// CachedReplyLimit (Options.MaxCachedReplyBytes); CachedReplyRefused
	// counts the SEQUENCEs answered NFS4ERR_DELAY because the limit was
	// reached (replycache.go).
	CachedReplyBytes   int64
	CachedReplyLimit   int64
	CachedReplyRefused uint64
}

// LeaseState is where a client stands.
type LeaseState string

// Lease states.
const (
	Unconfirmed LeaseState = "unconfirmed"
	Active      LeaseState = "active"
	Courtesy    LeaseState = "courtesy" // lease expired, state kept
)

// ClientInfo describes one client record.
type ClientInfo struct {
	ClientID  ClientID
	Owner     string // co_ownerid, printable (non-UTF-8 bytes quoted)
	Principal string
	State     LeaseState
	Created   time.Time
	LastRenew time.Time
	Expires   time.Time
	Addrs     []string
	// Reboots counts how often a new incarnation of this owner replaced a
	// confirmed record (destroying its state), and Verifiers lists the
	// recent EXCHANGE_IDs that created records: many reboots from more
	// than one address suggest two machines sharing one owner string.
	Reboots         int
	Verifiers       []VerifierEvent
	ReclaimComplete bool
	CallbackDown    bool
	Revoked         int // revoked stateids the client has not freed
	Sessions        []SessionInfo
	Opens           []OpenInfo
	Locks           []LockInfo
}

// SessionInfo describes a session.
type SessionInfo struct {
	SessionID SessionID
	Created   time.Time
	Slots     int
	Busy      int // slots with a request running
	// CachedBytes is what the session holds of Snapshot.CachedReplyBytes.
	CachedBytes int64
	Fore        ChannelAttrs
	Back        ChannelAttrs
	Conns       map[ConnID]ConnDir
	CBProgram   uint32
}

// OpenInfo describes an open stateid.
type OpenInfo struct {
	Stateid      Stateid
	Owner        string
	File         lock.FileKey
	Access, Deny lock.ShareMode
}

// LockInfo describes a lock stateid and the locks its owner holds on the
// file.
type LockInfo struct {
	Stateid Stateid
	Owner   string
	File    lock.FileKey
	Locks   []lock.Lock
}

// Snapshot copies the state for display, clients ordered by ID.
func (m *Manager) Snapshot() Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	s := Snapshot{Now: now, Lease: m.opts.Lease, InGrace: m.grace.in(now),
		CachedReplyBytes: m.replyBytes, CachedReplyLimit: m.opts.MaxCachedReplyBytes, CachedReplyRefused: m.replyRefused}
	if len(m.grace.prev) > 0 {
		s.GraceEnds = m.grace.end
	}
	for _, c := range m.clients {
		s.Clients = append(s.Clients, m.clientInfo(c, now))
	}
	slices.SortFunc(s.Clients, func(a, b ClientInfo) int { return cmp.Compare(a.ClientID, b.ClientID) })
	m.delegSnapshot(&s)
	return s
}

func (m *Manager) clientInfo(c *client, now time.Time) ClientInfo {
	ci := ClientInfo{
		ClientID:        c.id,
		Owner:           printable(c.owner),
		Principal:       c.principal,
		State:           Active,
		Created:         c.created,
		LastRenew:       c.lastRenew,
		Expires:         c.lastRenew.Add(m.opts.Lease),
		Addrs:           slices.Clone(c.addrs),
		ReclaimComplete: c.reclaimComplete,
		CallbackDown:    c.cbDown,
		Revoked:         c.revoked,
	}
	switch {
	case !c.confirmed:
		ci.State = Unconfirmed
	case m.expired(c, now):
		ci.State = Courtesy
	}
	if e := m.owners[c.owner]; e != nil {
		ci.Reboots = e.reboots
		ci.Verifiers = slices.Clone(e.history)
	}
	for _, s := range c.sessions {
		si := SessionInfo{SessionID: s.id, Created: s.created, Slots: len(s.slots), Fore: s.fore, Back: s.back,
			Conns: make(map[ConnID]ConnDir, len(s.conns)), CBProgram: s.cbProgram, CachedBytes: s.cachedBytes()}
		for k, v := range s.conns {
			si.Conns[k] = v
		}
		for i := range s.slots {
			if s.slots[i].busy {
				si.Busy++
			}
		}
		ci.Sessions = append(ci.Sessions, si)
	}
	slices.SortFunc(ci.Sessions, func(a, b SessionInfo) int { return bytes.Compare(a.SessionID[:], b.SessionID[:]) })
	for _, oo := range c.openOwners {
		for _, st := range oo.opens {
			ci.Opens = append(ci.Opens, OpenInfo{Stateid: st.stateid(), Owner: printable(oo.id), File: st.file, Access: st.access, Deny: st.deny})
		}
	}
	slices.SortFunc(ci.Opens, func(a, b OpenInfo) int { return bytes.Compare(a.Stateid.Other[:], b.Stateid.Other[:]) })
	for _, lo := range c.lockOwners {
		held := m.locks.OwnerLocks(lo.owner())
		for _, st := range lo.states {
			li := LockInfo{Stateid: st.stateid(), Owner: printable(lo.id), File: st.file}
			for _, l := range held {
				if l.File == st.file {
					li.Locks = append(li.Locks, l.Lock)
				}
			}
			ci.Locks = append(ci.Locks, li)
		}
	}
	slices.SortFunc(ci.Locks, func(a, b LockInfo) int { return bytes.Compare(a.Stateid.Other[:], b.Stateid.Other[:]) })
	return ci
}

// printable returns s as is when it is printable UTF-8, else Go-quoted.
func printable(s string) string {
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}
