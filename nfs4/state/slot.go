package state

import (
	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

// slot is one fore channel slot with its reply cache entry (RFC 8881
// §2.10.6.1). seq is the sequence ID of the last request accepted on the
// slot (0 before the first, whose sequence ID is 1).
type slot struct {
	seq    uint32
	used   bool // a request was accepted: seq is real
	busy   bool // the request seq is still running
	cached bool // reply holds the reply to seq
	// reserved: the running request asked for its reply to be cached and
	// holds the session's ca_maxresponsesize_cached of the server-wide
	// reply cache budget until Done (replycache.go).
	reserved bool
	reply    []byte // the whole COMPOUND reply, sent verbatim on retry
}

// slotOutcome is what a slot decides about a sequence ID.
type slotOutcome uint8

const (
	slotNew slotOutcome = iota
	slotReplay
)

// check applies the RFC 8881 §2.10.6.1 rules to a request with sequence
// ID seq, changing nothing: a new request is started with start once the
// caller has admitted it.
func (sl *slot) check(seq uint32) (slotOutcome, Status) {
	switch seq {
	case sl.seq + 1:
		if sl.busy {
			// The client may not reuse a slot before it has the reply;
			// let it retry once the running request is done.
			return 0, errDelay
		}
		return slotNew, OK
	case sl.seq:
		switch {
		case !sl.used:
			return 0, errSeqMisordered // a fresh slot's first request is 1
		case sl.busy:
			return 0, errDelay // §2.10.6.2: the original is in progress
		case !sl.cached:
			return 0, errRetryUncached // §2.10.6.1.3
		}
		return slotReplay, OK
	}
	return 0, errSeqMisordered
}

// start marks the new request seq running until finish. The previous
// reply goes: the client has it, so no retry will ask for it again.
func (sl *slot) start(seq uint32, reserved bool) {
	sl.seq, sl.used, sl.busy, sl.cached, sl.reserved, sl.reply = seq, true, true, false, reserved, nil
}

// finish ends the running request, keeping a copy of reply if keep.
func (sl *slot) finish(reply []byte, keep bool) {
	sl.busy, sl.reserved = false, false
	if keep {
		sl.cached, sl.reply = true, append([]byte(nil), reply...)
	}
}

// Token ties a running COMPOUND to its slot. Pass it to Done exactly once.
// The zero Token is valid for Done (a no-op).
type Token struct {
	session SessionID
	slot    uint32
	seq     uint32
	valid   bool
}

// Valid reports whether t came from a new request.
func (t Token) Valid() bool { return t.valid }

// SequenceArgs are SEQUENCE4args plus the connection the COMPOUND came on.
type SequenceArgs struct {
	SessionID   SessionID
	Seq         uint32
	Slot        uint32
	HighestSlot uint32
	CacheThis   bool
	Conn        ConnID
}

// SequenceResult is SEQUENCE4resok plus what the COMPOUND layer needs.
type SequenceResult struct {
	ClientID          ClientID
	SessionID         SessionID
	Seq               uint32
	Slot              uint32
	HighestSlot       uint32
	TargetHighestSlot uint32
	StatusFlags       uint32 // SEQ4_STATUS_*
	// MaxCachedReply is the negotiated ca_maxresponsesize_cached: a reply
	// the client asked to cache that is larger must be answered
	// NFS4ERR_REP_TOO_BIG_TO_CACHE by the COMPOUND layer.
	MaxCachedReply uint32
	// Token is set for a new request: run the rest of the COMPOUND and
	// call Done with it.
	Token Token
	// Replay is set for a retry whose reply is cached: send these bytes as
	// the whole COMPOUND reply, verbatim, and run nothing. They are shared
	// with the cache: do not modify them.
	Replay []byte
}

// Sequence runs SEQUENCE (RFC 8881 §18.46, §2.10.6): NFS4ERR_BADSESSION
// for an unknown session, NFS4ERR_BADSLOT beyond the slot table,
// NFS4ERR_SEQ_MISORDERED for a sequence ID neither the slot's nor the next,
// NFS4ERR_DELAY while the original of a retry still runs, and
// NFS4ERR_RETRY_UNCACHED_REP for a retry whose reply was not kept. A new
// request with CacheThis is NFS4ERR_DELAY, the slot unchanged, when the
// server-wide reply cache budget cannot hold its reply (replycache.go);
// near that budget TargetHighestSlot asks clients to use fewer slots.
//
// A new request renews the client's lease (a courtesy client becomes an
// ordinary one again) and binds Conn to the fore channel if it was not
// bound, as SP4_NONE requires (RFC 8881 §2.10.5.1).
func (m *Manager) Sequence(a SequenceArgs) (SequenceResult, Status) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.sessions[a.SessionID]
	if s == nil {
		return SequenceResult{}, errBadSession
	}
	if uint64(a.Slot) >= uint64(len(s.slots)) {
		return SequenceResult{}, errBadSlot
	}
	sl := &s.slots[a.Slot]
	out, st := sl.check(a.Seq)
	if st != OK {
		return SequenceResult{}, st
	}
	if out == slotNew {
		if st := m.admitReply(s, sl, a.CacheThis); st != OK {
			return SequenceResult{}, st
		}
		sl.start(a.Seq, a.CacheThis)
	}
	c := s.client
	m.renew(c, m.now())
	if _, ok := s.conns[a.Conn]; !ok {
		m.bind(s, a.Conn, ConnFore)
	}
	hi := uint32(len(s.slots) - 1)
	r := SequenceResult{
		ClientID:          c.id,
		SessionID:         s.id,
		Seq:               a.Seq,
		Slot:              a.Slot,
		HighestSlot:       hi,
		TargetHighestSlot: m.targetHighestSlot(hi),
		StatusFlags:       m.statusFlags(c, s),
		MaxCachedReply:    s.fore.MaxResponseSizeCached,
	}
	if out == slotReplay {
		r.Replay = sl.reply
		return r, OK
	}
	r.Token = Token{session: s.id, slot: a.Slot, seq: a.Seq, valid: true}
	return r, OK
}

// Done ends the request that Sequence gave t for. reply is the complete
// COMPOUND reply; it is copied and kept for retries if cacheThis (the
// COMPOUND layer passes sa_cachethis, and may pass true for any COMPOUND it
// wants replayable, such as a lone SEQUENCE) and it fits the negotiated
// cache size. A reply kept without sa_cachethis is optional and is kept
// only if the server-wide budget has room for it. Otherwise a retry gets
// NFS4ERR_RETRY_UNCACHED_REP (RFC 8881 §2.10.6.1.3). Done must be called
// for every valid token, even when the COMPOUND failed, or the slot stays
// busy and its retries get NFS4ERR_DELAY forever.
func (m *Manager) Done(t Token, reply []byte, cacheThis bool) {
	if !t.valid {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.sessions[t.session]
	if s == nil || uint64(t.slot) >= uint64(len(s.slots)) {
		return // destroyed meanwhile (DESTROY_SESSION in this COMPOUND)
	}
	sl := &s.slots[t.slot]
	if !sl.busy || sl.seq != t.seq {
		return
	}
	m.finishReply(s, sl, reply, cacheThis)
}

// statusFlags computes sr_status_flags (RFC 8881 §18.46.3).
func (m *Manager) statusFlags(c *client, s *session) uint32 {
	var f uint32
	if s.wantBack && len(s.backConns) == 0 {
		f |= nfs4xdr.SEQ4_STATUS_CB_PATH_DOWN_SESSION
	}
	want, have := false, false
	for _, cs := range c.sessions {
		want = want || cs.wantBack
		have = have || len(cs.backConns) > 0
	}
	if (want && !have) || c.cbDown {
		f |= nfs4xdr.SEQ4_STATUS_CB_PATH_DOWN
	}
	if c.revoked > 0 {
		if c.live == 0 {
			f |= nfs4xdr.SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED
		} else {
			f |= nfs4xdr.SEQ4_STATUS_EXPIRED_SOME_STATE_REVOKED
		}
	}
	f |= m.delegStatusFlags(c) // SEQ4_STATUS_RECALLABLE_STATE_REVOKED (deleg.go)
	// Extension point: SEQ4_STATUS_ADMIN_STATE_REVOKED once single
	// stateids can be revoked by the admin.
	return f
}
