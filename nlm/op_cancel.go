package nlm

import (
	"context"

	"github.com/gonfs/gonfs/proto/nlmxdr"
	"github.com/gonfs/gonfs/sunrpc"
)

// cancelLock is NLMPROC4_CANCEL and CANCEL_MSG: the client no longer wants
// a lock it was told was BLOCKED. A request still queued leaves the queue;
// one granted whose GRANTED callback is under way is released, since the
// client gave up on it. As in knfsd the answer is NLM4_GRANTED either way.
func (s *Server) cancelLock(ctx context.Context, call *sunrpc.Call, a *nlmxdr.Nlm4Cancargs) nlmxdr.Nlm4Stats {
	req, st := s.lockRequest(ctx, call, &a.Alock, 0)
	if st != nlmxdr.NLM4_GRANTED {
		return st
	}
	key, o, rng := req.key, req.o, req.rng

	s.mu.Lock()
	cancelled, woken := s.locks.CancelWait(key, o, rng)
	k := blockKey{file: key, owner: o, rng: rng, excl: a.Exclusive}
	b := s.blocked[k]
	if b == nil {
		k.excl = !k.excl
		b = s.blocked[k]
	}
	switch {
	case b == nil:
	case b.granted:
		s.dropBlocked(b)
		woken = append(woken, s.locks.Unlock(key, o, rng)...)
	case cancelled:
		s.dropBlocked(b)
	}
	if h := s.hosts[o.Client]; h != nil {
		s.prune(h)
	}
	s.mu.Unlock()
	s.Wake(woken)
	return nlmxdr.NLM4_GRANTED
}
