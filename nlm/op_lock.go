package nlm

import (
	"context"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/proto/nlmxdr"
	"github.com/gonfs/gonfs/sunrpc"
)

// lock is NLMPROC4_LOCK, LOCK_MSG (async) and NM_LOCK (monitor false: the
// client is not recorded for notification after our restart, XNFS
// NLM_NM_LOCK).
//
// During the grace period only reclaims pass. Outside it a reclaim is an
// ordinary request (knfsd refuses it with NLM4_DENIED_GRACE_PERIOD, which a
// client told late of our restart can only retry forever; granting it when
// nothing conflicts gives the client its lock back, and a conflict is an
// ordinary NLM4_DENIED).
func (s *Server) lock(ctx context.Context, call *sunrpc.Call, a *nlmxdr.Nlm4Lockargs, monitor, async bool) nlmxdr.Nlm4Stats {
	if s.InGrace() && !a.Reclaim {
		return nlmxdr.NLM4_DENIED_GRACE_PERIOD
	}
	req, st := s.lockRequest(ctx, call, &a.Alock, lockAccess(a.Exclusive))
	if st != nlmxdr.NLM4_GRANTED {
		return st
	}
	key, o, rng := req.key, req.o, req.rng
	if st := s.recallDelegations(key, a.Exclusive); st != nlmxdr.NLM4_GRANTED {
		return st // NFSv4 delegations are being recalled (deleg.go)
	}
	client, local := addrs(call)
	k := blockKey{file: key, owner: o, rng: rng, excl: a.Exclusive}

	s.mu.Lock()
	h := s.hostFor(o.Client, client, local)
	var woken []*lock.Waiter
	var err error
	if !a.Block {
		var conflict *lock.Lock
		conflict, woken, err = s.locks.Lock(key, o, rng, a.Exclusive)
		switch {
		case err != nil:
			st = lockStatus(err)
		case conflict != nil:
			st = nlmxdr.NLM4_DENIED
		}
	} else {
		b := newBlocked(k, a, client, local, async)
		var granted bool
		var w *lock.Waiter
		granted, w, woken, err = s.locks.Wait(key, o, rng, a.Exclusive, b)
		switch {
		case err != nil:
			st = lockStatus(err)
		case !granted:
			st = nlmxdr.NLM4_BLOCKED
			if w.Cookie() == any(b) { // not a retransmission of a queued request
				s.blocked[k] = b
				h.owners[o] = struct{}{}
				h.waiting[o]++
			}
		}
	}
	if monitor && (st == nlmxdr.NLM4_GRANTED || st == nlmxdr.NLM4_BLOCKED) {
		if err := s.monitorHost(h); err != nil {
			// Without a record the client would not hear of our
			// restart and could not reclaim: take the request back.
			s.log.Error("nlm: cannot record client, refusing lock", "client", o.Client, "err", err)
			if st == nlmxdr.NLM4_GRANTED {
				woken = append(woken, s.locks.Unlock(key, o, rng)...)
			} else if b := s.blocked[k]; b != nil && !b.granted {
				_, wk := s.locks.CancelWait(key, o, rng)
				woken = append(woken, wk...)
				s.dropBlocked(b)
			}
			st = nlmxdr.NLM4_DENIED_NOLOCKS
		}
	}
	if st == nlmxdr.NLM4_GRANTED {
		h.owners[o] = struct{}{}
		// The client asked again for a lock whose GRANTED callback is
		// still under way and has it now: the callback must not
		// release it if the client answers that it knows of no such
		// blocked request.
		if b := s.blocked[k]; b != nil && b.granted {
			s.dropBlocked(b)
		}
	} else if st != nlmxdr.NLM4_BLOCKED {
		s.prune(h)
	}
	s.mu.Unlock()
	s.Wake(woken)
	return st
}
