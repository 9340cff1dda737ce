package nlm

import (
	"context"

	"github.com/gonfs/gonfs/proto/nlmxdr"
	"github.com/gonfs/gonfs/sunrpc"
)

// test is NLMPROC4_TEST and TEST_MSG: would the lock be granted, and if
// not, which lock stands in the way (RFC 1813 Appendix II, nlm4_testres).
// It is refused during the grace period, where the answer could change as
// soon as a client reclaims.
func (s *Server) test(ctx context.Context, call *sunrpc.Call, a *nlmxdr.Nlm4Testargs) nlmxdr.Nlm4Testrply {
	if s.InGrace() {
		return nlmxdr.Nlm4Testrply{Stat: nlmxdr.NLM4_DENIED_GRACE_PERIOD}
	}
	req, st := s.lockRequest(ctx, call, &a.Alock, lockAccess(a.Exclusive))
	if st != nlmxdr.NLM4_GRANTED {
		return nlmxdr.Nlm4Testrply{Stat: st}
	}
	key, o, rng := req.key, req.o, req.rng
	if c := s.locks.Test(key, o, rng, a.Exclusive); c != nil {
		return nlmxdr.Nlm4Testrply{Stat: nlmxdr.NLM4_DENIED, Holder: holder(c)}
	}
	return nlmxdr.Nlm4Testrply{Stat: nlmxdr.NLM4_GRANTED}
}
