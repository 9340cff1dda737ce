package state

// The server-wide budget of session reply cache bytes.
//
// Every fore channel slot keeps the reply of its last request when the
// client asked (sa_cachethis), up to the session's ca_maxresponsesize_cached:
// 8 KiB by default, so 64 slots of one session may hold 512 KiB and a few
// thousand hostile sessions gigabytes. Options.MaxCachedReplyBytes (256 MiB
// by default) bounds the sum over all sessions, counted in Manager.replyBytes:
// the bytes of every cached reply, plus ca_maxresponsesize_cached for every
// running request that asked for its reply to be cached.
//
// What happens at the budget follows from RFC 8881:
//
//   - A reply the client asked to cache must be cached: §2.10.6.4 requires
//     it even when an operation got NFS4ERR_REP_TOO_BIG_TO_CACHE, so that a
//     retry of a non-idempotent request is answered from the cache and not
//     run twice. Dropping such a reply at Done to save memory would break
//     exactly-once semantics. So room is reserved when the request starts
//     (SEQUENCE), for the largest reply the session may cache, and given
//     back at Done, when the actual reply's bytes are counted instead.
//   - When the reservation does not fit, SEQUENCE answers NFS4ERR_DELAY and
//     leaves the slot as it was (§2.10.6.1: a failed SEQUENCE changes
//     nothing), so the client retries the same slot and sequence ID later,
//     as it does for a slot still busy (NFSv4.1 has no NFS4ERR_RESOURCE).
//     NFS4ERR_REP_TOO_BIG_TO_CACHE is not used for this: §15.1 defines it
//     by the negotiated ca_maxresponsesize_cached, the shortened reply must
//     still be cached (so it saves little), and the client would see its
//     operation fail, after the operations before it had run, rather than
//     wait.
//   - A request without sa_cachethis reserves nothing and is never refused
//     for the budget: its reply is cached only optionally (the COMPOUND
//     layer asks for a lone SEQUENCE), and only when the budget has room;
//     otherwise its retry gets NFS4ERR_RETRY_UNCACHED_REP (§2.10.6.1.3).
//   - Beyond three quarters of the budget, SEQUENCE lowers
//     sr_target_highest_slotid (§2.10.6.1, §18.46.3: the highest slot the
//     server would prefer the client to use) from the session's highest
//     slot at three quarters down to slot 0 at the full budget, so that
//     well-behaved clients shrink their slot tables before anyone is
//     refused. sr_highest_slotid stays: every slot remains usable, so no
//     client sees NFS4ERR_BADSLOT.

// defMaxCachedReplyBytes is the default of Options.MaxCachedReplyBytes.
const defMaxCachedReplyBytes = 256 << 20

// slotBytes is what sl holds of the reply cache budget.
func (s *session) slotBytes(sl *slot) int64 {
	n := int64(len(sl.reply))
	if sl.reserved {
		n += int64(s.fore.MaxResponseSizeCached)
	}
	return n
}

// cachedBytes is what s holds of the reply cache budget.
func (s *session) cachedBytes() int64 {
	var n int64
	for i := range s.slots {
		n += s.slotBytes(&s.slots[i])
	}
	return n
}

// admitReply accounts for a new request about to start on sl: the slot's
// previous reply is given back, and a request asking for its reply to be
// cached reserves the session's ca_maxresponsesize_cached, or is refused
// with NFS4ERR_DELAY, changing nothing, if the budget cannot hold that.
func (m *Manager) admitReply(s *session, sl *slot, cacheThis bool) Status {
	after := m.replyBytes - s.slotBytes(sl)
	if cacheThis {
		after += int64(s.fore.MaxResponseSizeCached)
		if after > m.opts.MaxCachedReplyBytes {
			m.replyRefused++
			return errDelay
		}
	}
	m.replyBytes = after
	return OK
}

// finishReply ends the running request on sl: its reservation is given
// back and reply is kept if cacheThis and it fits the negotiated size
// (RFC 8881 §2.10.6.4) and, when nothing was reserved (no sa_cachethis),
// the budget.
func (m *Manager) finishReply(s *session, sl *slot, reply []byte, cacheThis bool) {
	m.replyBytes -= s.slotBytes(sl)
	keep := cacheThis && uint64(len(reply)) <= uint64(s.fore.MaxResponseSizeCached)
	if keep && !sl.reserved {
		keep = m.replyBytes+int64(len(reply)) <= m.opts.MaxCachedReplyBytes
	}
	sl.finish(reply, keep)
	m.replyBytes += s.slotBytes(sl)
}

// targetHighestSlot is sr_target_highest_slotid for a session whose
// highest slot is hi: hi while the budget is at most three quarters used,
// then falling linearly to 0 at the full budget.
func (m *Manager) targetHighestSlot(hi uint32) uint32 {
	budget := m.opts.MaxCachedReplyBytes
	high := budget - budget/4
	if m.replyBytes <= high {
		return hi
	}
	left := float64(budget-m.replyBytes) / float64(budget-high)
	return uint32(float64(hi) * max(0, left))
}
