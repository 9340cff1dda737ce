package nlm

import (
	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/proto/nlmxdr"
)

// Delegations lets the NFSv4 server recall the delegations of a file
// before NLM grants a lock on it (RFC 8881 §10.4.4: a lock by anyone else
// conflicts with a delegation's promise). RecallForLock returns nil when
// nothing stands in the way, and an error while a recall is under way;
// it must not block. nfs4.Conflicts implements it.
type Delegations interface {
	RecallForLock(file lock.FileKey, exclusive bool) error
}

// delegBox holds the Delegations for an atomic pointer.
type delegBox struct{ d Delegations }

// SetDelegations installs the NFSv4 delegation checker. It is a setter
// rather than an Options field because the NFSv4 server is built after
// NLM (it takes NLM as its Waker). Call it before serving; nil removes it.
func (s *Server) SetDelegations(d Delegations) {
	if d == nil {
		s.deleg.Store(nil)
		return
	}
	s.deleg.Store(&delegBox{d})
}

// recallDelegations asks the delegation checker, if any, before a lock on
// file. While NFSv4 delegations are being recalled the request is
// answered NLM4_DENIED_GRACE_PERIOD: NLM has no "try again later" status,
// and this is the one the Linux client retries by itself (every few
// seconds, as during a grace period), where NLM4_DENIED fails the lock
// and NLM4_BLOCKED would promise an NLM_GRANTED callback that nothing
// would send. Linux knfsd instead drops the request so that the client
// retransmits it; that does not work here, since LOCK goes through the
// duplicate request cache, which would answer the retransmission with the
// same silence.
func (s *Server) recallDelegations(file lock.FileKey, exclusive bool) nlmxdr.Nlm4Stats {
	b := s.deleg.Load()
	if b == nil {
		return nlmxdr.NLM4_GRANTED
	}
	if err := b.d.RecallForLock(file, exclusive); err != nil {
		return nlmxdr.NLM4_DENIED_GRACE_PERIOD
	}
	return nlmxdr.NLM4_GRANTED
}
