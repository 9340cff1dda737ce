package nlm

import (
	"context"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/proto/nlmxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/vfs"
)

// shareOwner is the owner of a share reservation: nlm4_share has an oh
// but no svid.
func shareOwner(call *sunrpc.Call, sh *nlmxdr.Nlm4Share) lock.Owner {
	return owner(call, sh.CallerName, 0, sh.Oh)
}

// share is NLMPROC4_SHARE: a DOS share reservation (XNFS, NLM_SHARE),
// refused during the grace period unless it is a reclaim. The fsh4_access
// and fsh4_mode values are the lock package's ShareMode bits.
func (s *Server) share(ctx context.Context, call *sunrpc.Call, a *nlmxdr.Nlm4Shareargs) nlmxdr.Nlm4Stats {
	if s.InGrace() && !a.Reclaim {
		return nlmxdr.NLM4_DENIED_GRACE_PERIOD
	}
	if a.Share.Access < nlmxdr.Fsa_NONE || a.Share.Access > nlmxdr.Fsa_RW ||
		a.Share.Mode < nlmxdr.Fsm_DN || a.Share.Mode > nlmxdr.Fsm_DRW {
		return nlmxdr.NLM4_FAILED
	}
	access, deny := lock.ShareMode(a.Share.Access), lock.ShareMode(a.Share.Mode)
	var want uint32
	if access&lock.ShareRead != 0 {
		want |= vfs.AccessRead
	}
	if access&lock.ShareWrite != 0 {
		want |= vfs.AccessModify
	}
	key, st := s.target(ctx, call, a.Share.Fh, want)
	if st != nlmxdr.NLM4_GRANTED {
		return st
	}
	o := shareOwner(call, &a.Share)
	client, local := addrs(call)

	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hostFor(o.Client, client, local)
	if err := s.locks.Share(key, o, access, deny); err != nil {
		s.prune(h)
		return lockStatus(err)
	}
	if err := s.monitorHost(h); err != nil {
		s.log.Error("nlm: cannot record client, refusing share", "client", o.Client, "err", err)
		s.locks.Unshare(key, o)
		s.prune(h)
		return nlmxdr.NLM4_DENIED_NOLOCKS
	}
	h.shares[shareKey{file: key, owner: o}] = struct{}{}
	return nlmxdr.NLM4_GRANTED
}

// unshare is NLMPROC4_UNSHARE; removing a reservation that is not there
// succeeds.
func (s *Server) unshare(ctx context.Context, call *sunrpc.Call, a *nlmxdr.Nlm4Shareargs) nlmxdr.Nlm4Stats {
	key, st := s.target(ctx, call, a.Share.Fh, 0)
	if st != nlmxdr.NLM4_GRANTED {
		return st
	}
	o := shareOwner(call, &a.Share)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.locks.Unshare(key, o)
	if h := s.hosts[o.Client]; h != nil {
		delete(h.shares, shareKey{file: key, owner: o})
		s.prune(h)
	}
	return nlmxdr.NLM4_GRANTED
}
