package nlm

import (
	"context"

	"github.com/gonfs/gonfs/proto/nlmxdr"
	"github.com/gonfs/gonfs/sunrpc"
)

// unlock is NLMPROC4_UNLOCK and UNLOCK_MSG. Unlocking what is not locked
// succeeds (RFC 1813 Appendix II). A client that holds nothing afterwards
// is forgotten and its record removed.
func (s *Server) unlock(ctx context.Context, call *sunrpc.Call, a *nlmxdr.Nlm4Unlockargs) nlmxdr.Nlm4Stats {
	req, st := s.lockRequest(ctx, call, &a.Alock, 0)
	if st != nlmxdr.NLM4_GRANTED {
		return st
	}
	key, o, rng := req.key, req.o, req.rng

	s.mu.Lock()
	woken := s.locks.Unlock(key, o, rng)
	if h := s.hosts[o.Client]; h != nil {
		s.prune(h)
	}
	s.mu.Unlock()
	s.Wake(woken)
	return nlmxdr.NLM4_GRANTED
}
