package nlm

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/proto/nlmxdr"
)

// blockKey names a queued request as NLM CANCEL does: file, owner, range
// and type.
type blockKey struct {
	file  lock.FileKey
	owner lock.Owner
	rng   lock.Range
	excl  bool
}

// blocked is a blocking LOCK we answered NLM4_BLOCKED: queued in the
// table, then granted there and called back. It is the table's Waiter
// cookie. The fields below mu are guarded by Server.mu.
type blocked struct {
	key    blockKey
	args   nlmxdr.Nlm4Testargs // for NLMPROC4_GRANTED: the client's cookie and lock, copied
	client netip.Addr          // where the client's lock manager is
	local  netip.Addr          // our address it reached
	async  bool                // came as LOCK_MSG: answer with GRANTED_MSG

	granted bool                  // the table granted it; callback under way
	done    bool                  // cancelled, released or called back: nothing more to do
	res     chan nlmxdr.Nlm4Stats // GRANTED_RES for our GRANTED_MSG
	cookie  string                // our GRANTED_MSG cookie, key of Server.pending
}

func newBlocked(key blockKey, a *nlmxdr.Nlm4Lockargs, client, local netip.Addr, async bool) *blocked {
	b := &blocked{key: key, client: client, local: local, async: async}
	b.args.Cookie = clone(a.Cookie)
	b.args.Exclusive = a.Exclusive
	b.args.Alock = cloneLock(&a.Alock)
	return b
}

func clone(b []byte) []byte { return append([]byte{}, b...) }

func cloneLock(l *nlmxdr.Nlm4Lock) nlmxdr.Nlm4Lock {
	c := *l
	c.Fh, c.Oh = clone(l.Fh), clone(l.Oh)
	return c
}

// dropBlocked forgets b: a queued request whose waiter the caller removed
// from the table, or a granted one whose callback must not act any more.
// Called with s.mu held.
func (s *Server) dropBlocked(b *blocked) {
	if b.done {
		return
	}
	b.done = true
	if s.blocked[b.key] == b {
		delete(s.blocked, b.key)
	}
	if b.cookie != "" {
		delete(s.pending, b.cookie)
	}
	if !b.granted {
		if h := s.hosts[b.key.owner.Client]; h != nil {
			if h.waiting[b.key.owner]--; h.waiting[b.key.owner] <= 0 {
				delete(h.waiting, b.key.owner)
			}
		}
	}
}

// Wake sends NLM_GRANTED for the NLM requests among woken, which the lock
// table has granted (their locks are held), and ignores the others. Every
// caller of the table that may wake waiters hands the result here: the NLM
// procedures do it themselves, and the NFSv4 server must do it for what its
// unlocks wake.
func (s *Server) Wake(woken []*lock.Waiter) {
	for _, w := range woken {
		b, ok := w.Cookie().(*blocked)
		if !ok {
			continue
		}
		s.mu.Lock()
		if b.done || b.granted {
			s.mu.Unlock()
			continue
		}
		b.granted = true
		if h := s.hosts[b.key.owner.Client]; h != nil {
			if h.waiting[b.key.owner]--; h.waiting[b.key.owner] <= 0 {
				delete(h.waiting, b.key.owner)
			}
		}
		s.mu.Unlock()
		s.goSafe(func() { s.callBack(b) })
	}
}

// callBack tells the client its blocked lock is granted, retrying while it
// cannot be reached, and releases the lock again if the client refuses it
// or never answers (XNFS: the server must not keep a lock the client does
// not know it has).
func (s *Server) callBack(b *blocked) {
	stat, err := s.sendGranted(b)
	for attempt, delay := 1, s.opts.RetryDelay; retryable(stat, err) && attempt < s.opts.Retries; attempt, delay = attempt+1, delay*2 {
		s.log.Debug("nlm: GRANTED callback failed, retrying", "client", b.key.owner.Client, "addr", b.client, "stat", stat, "err", err)
		if !s.sleep(delay) || s.isDone(b) {
			return
		}
		stat, err = s.sendGranted(b)
	}
	if s.ctx.Err() != nil {
		return // closing: the caller owns the table from now on
	}
	s.mu.Lock()
	if b.done {
		s.mu.Unlock()
		return
	}
	s.dropBlocked(b)
	var woken []*lock.Waiter
	if err != nil || stat != nlmxdr.NLM4_GRANTED {
		s.log.Info("nlm: blocked lock not taken by client, releasing it", "client", b.key.owner.Client, "addr", b.client, "stat", stat, "err", err)
		woken = s.locks.Unlock(b.key.file, b.key.owner, b.key.rng)
		if h := s.hosts[b.key.owner.Client]; h != nil {
			s.prune(h)
		}
	}
	s.mu.Unlock()
	s.Wake(woken)
}

// retryable: no answer, or the client is in its own grace period.
func retryable(stat nlmxdr.Nlm4Stats, err error) bool {
	return err != nil || stat == nlmxdr.NLM4_DENIED_GRACE_PERIOD
}

func (s *Server) isDone(b *blocked) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return b.done
}

// sendGranted makes one GRANTED call, or one GRANTED_MSG and the wait for
// its GRANTED_RES, and returns the client's answer.
func (s *Server) sendGranted(b *blocked) (nlmxdr.Nlm4Stats, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.CallTimeout)
	defer cancel()
	if !b.async {
		var res nlmxdr.Nlm4Res
		err := s.callPeer(ctx, "tcp", b.local, b.client, nlmxdr.NLM_PROG, nlmxdr.NLM4_VERS, nlmxdr.NLMPROC4_GRANTED, &b.args, &res)
		return res.Stat.Stat, err
	}
	// Our own cookie, unique among pending grants, so that the
	// GRANTED_RES finds this grant whatever cookies clients use.
	s.mu.Lock()
	if b.done {
		s.mu.Unlock()
		return 0, errors.New("nlm: grant cancelled")
	}
	if b.cookie == "" {
		s.seq++
		c := binary.BigEndian.AppendUint64([]byte("gonfs"), s.seq)
		b.cookie = string(c)
		b.res = make(chan nlmxdr.Nlm4Stats, 1)
		s.pending[b.cookie] = b
	}
	args := b.args
	args.Cookie = nlmxdr.Netobj(b.cookie)
	s.mu.Unlock()
	if err := s.callPeer(ctx, "tcp", b.local, b.client, nlmxdr.NLM_PROG, nlmxdr.NLM4_VERS, nlmxdr.NLMPROC4_GRANTED_MSG, &args, nil); err != nil {
		return 0, err
	}
	select {
	case st := <-b.res:
		return st, nil
	case <-ctx.Done():
		return 0, fmt.Errorf("nlm: no GRANTED_RES: %w", ctx.Err())
	}
}

// grantedRes delivers a client's GRANTED_RES to the grant it answers.
func (s *Server) grantedRes(cookie []byte, stat nlmxdr.Nlm4Stats) {
	s.mu.Lock()
	b := s.pending[string(cookie)]
	s.mu.Unlock()
	if b == nil {
		return
	}
	select {
	case b.res <- stat:
	default: // an answer is already waiting
	}
}
