package nlm

import (
	"context"
	"net/netip"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/nfserr"
	"github.com/gonfs/gonfs/proto/nlmxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// nlmHandler serves NLM version 4.
type nlmHandler struct{ s *Server }

// NLMHandler returns the handler of NLM version 4 (program 100021).
func (s *Server) NLMHandler() sunrpc.Handler { return nlmHandler{s} }

// Idempotent sends the procedures that change lock state through the
// duplicate request cache, so that a retransmitted LOCK arriving after an
// UNLOCK does not take the lock again.
func (nlmHandler) Idempotent(proc uint32) bool {
	switch proc {
	case nlmxdr.NLMPROC4_LOCK, nlmxdr.NLMPROC4_CANCEL, nlmxdr.NLMPROC4_UNLOCK,
		nlmxdr.NLMPROC4_LOCK_MSG, nlmxdr.NLMPROC4_CANCEL_MSG, nlmxdr.NLMPROC4_UNLOCK_MSG,
		nlmxdr.NLMPROC4_SHARE, nlmxdr.NLMPROC4_UNSHARE, nlmxdr.NLMPROC4_NM_LOCK,
		nlmxdr.NLMPROC4_FREE_ALL:
		return false
	}
	return true
}

// ServeRPC decodes the arguments, runs the procedure and encodes the
// result; a _MSG procedure sends its result as a _RES call instead.
func (h nlmHandler) ServeRPC(ctx context.Context, call *sunrpc.Call, w *xdr.Writer) sunrpc.Status {
	s := h.s
	args := nlmxdr.NLM4_VERSArgs(call.Proc)
	if args == nil {
		return sunrpc.ProcUnavail
	}
	var r xdr.Reader
	r.Reset(call.Args)
	args.Decode(&r)
	if r.Err() != nil {
		return sunrpc.GarbageArgs
	}
	var res xdr.Marshaler
	switch a := args.(type) {
	case *xdr.Void:
		return sunrpc.Success
	case *nlmxdr.Nlm4Testargs:
		if call.Proc == nlmxdr.NLMPROC4_GRANTED || call.Proc == nlmxdr.NLMPROC4_GRANTED_MSG {
			// We never block as a client, but a peer that thinks so
			// gets its lock acknowledged rather than an error.
			res = &nlmxdr.Nlm4Res{Cookie: a.Cookie, Stat: nlmxdr.Nlm4Stat{Stat: nlmxdr.NLM4_GRANTED}}
		} else {
			res = &nlmxdr.Nlm4Testres{Cookie: a.Cookie, Stat: s.test(ctx, call, a)}
		}
	case *nlmxdr.Nlm4Lockargs:
		monitor := call.Proc != nlmxdr.NLMPROC4_NM_LOCK
		st := s.lock(ctx, call, a, monitor, call.Proc == nlmxdr.NLMPROC4_LOCK_MSG)
		res = &nlmxdr.Nlm4Res{Cookie: a.Cookie, Stat: nlmxdr.Nlm4Stat{Stat: st}}
	case *nlmxdr.Nlm4Cancargs:
		res = &nlmxdr.Nlm4Res{Cookie: a.Cookie, Stat: nlmxdr.Nlm4Stat{Stat: s.cancelLock(ctx, call, a)}}
	case *nlmxdr.Nlm4Unlockargs:
		res = &nlmxdr.Nlm4Res{Cookie: a.Cookie, Stat: nlmxdr.Nlm4Stat{Stat: s.unlock(ctx, call, a)}}
	case *nlmxdr.Nlm4Shareargs:
		var st nlmxdr.Nlm4Stats
		if call.Proc == nlmxdr.NLMPROC4_SHARE {
			st = s.share(ctx, call, a)
		} else {
			st = s.unshare(ctx, call, a)
		}
		res = &nlmxdr.Nlm4Shareres{Cookie: a.Cookie, Stat: st}
	case *nlmxdr.Nlm4Notify:
		s.freeAll(a.Name)
		return sunrpc.Success
	case *nlmxdr.Nlm4Res:
		// LOCK_RES and friends answer _MSG calls we never make, except
		// GRANTED_RES, which answers our GRANTED_MSG.
		if call.Proc == nlmxdr.NLMPROC4_GRANTED_RES {
			s.grantedRes(a.Cookie, a.Stat.Stat)
		}
		return sunrpc.Success
	case *nlmxdr.Nlm4Testres:
		return sunrpc.Success // TEST_RES: we make no TEST_MSG calls
	default:
		return sunrpc.ProcUnavail
	}
	if resProc, ok := msgRes[call.Proc]; ok {
		s.sendRes(call, resProc, res)
		return sunrpc.Success
	}
	res.Encode(w)
	return sunrpc.Success
}

// msgRes maps each _MSG procedure to the _RES procedure that carries its
// result back (XNFS, NLM asynchronous procedures).
var msgRes = map[uint32]uint32{
	nlmxdr.NLMPROC4_TEST_MSG:    nlmxdr.NLMPROC4_TEST_RES,
	nlmxdr.NLMPROC4_LOCK_MSG:    nlmxdr.NLMPROC4_LOCK_RES,
	nlmxdr.NLMPROC4_CANCEL_MSG:  nlmxdr.NLMPROC4_CANCEL_RES,
	nlmxdr.NLMPROC4_UNLOCK_MSG:  nlmxdr.NLMPROC4_UNLOCK_RES,
	nlmxdr.NLMPROC4_GRANTED_MSG: nlmxdr.NLMPROC4_GRANTED_RES,
}

// raw is an already encoded body.
type raw []byte

func (r raw) Encode(w *xdr.Writer) { w.Buf = append(w.Buf, r...) }

// sendRes sends res as procedure proc to the caller's lock manager from a
// goroutine. res is encoded now: it aliases the request.
func (s *Server) sendRes(call *sunrpc.Call, proc uint32, res xdr.Marshaler) {
	body := raw(xdr.Marshal(nil, res))
	client, local := call.Remote.Addr(), call.Local.Addr()
	s.goSafe(func() {
		err := s.retry(func(ctx context.Context) error {
			return s.callPeer(ctx, "tcp", local, client, nlmxdr.NLM_PROG, nlmxdr.NLM4_VERS, proc, body, nil)
		})
		if err != nil && s.ctx.Err() == nil {
			s.log.Info("nlm: could not deliver result", "proc", nlmxdr.NLM4_VERSProcName(proc), "addr", client, "err", err)
		}
	})
}

// retry runs fn with a per-attempt timeout until it succeeds, the attempts
// are used up or the server closes.
func (s *Server) retry(fn func(ctx context.Context) error) error {
	delay := s.opts.RetryDelay
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(s.ctx, s.opts.CallTimeout)
		err := fn(ctx)
		cancel()
		if err == nil || attempt >= s.opts.Retries {
			return err
		}
		if !s.sleep(delay) {
			return err
		}
		delay *= 2
	}
}

// owner is the lock owner of an NLM request. A request without a
// caller_name is attributed to its source address.
func owner(call *sunrpc.Call, callerName string, svid int32, oh []byte) lock.Owner {
	return lock.Owner{Kind: lock.NLM, Client: hostName(call, callerName), ID: ownerID(svid, oh)}
}

func hostName(call *sunrpc.Call, callerName string) string {
	if callerName == "" {
		return call.Remote.Addr().String()
	}
	return callerName
}

// lockAccess is the access an NLM lock needs: knfsd opens the file for
// writing for an exclusive lock and for reading otherwise.
func lockAccess(exclusive bool) uint32 {
	if exclusive {
		return vfs.AccessModify
	}
	return vfs.AccessRead
}

// target resolves fh to its lock table key after the checks of knfsd's
// nlm_fopen (see the package documentation). want is the access the
// request needs, 0 for requests that only release state.
func (s *Server) target(ctx context.Context, call *sunrpc.Call, fh []byte, want uint32) (lock.FileKey, nlmxdr.Nlm4Stats) {
	e, h, err := s.ns.Resolve(fh)
	if err != nil {
		return "", s.status(err)
	}
	acc, err := s.ns.Authorize(ctx, e, namespace.CallerOf(call))
	if err != nil {
		s.log.Debug("nlm: access denied", "addr", call.Remote, "export", e.Config.Path, "err", err)
		return "", nlmxdr.NLM4_FAILED
	}
	key := FileKey(e, h)
	if want == 0 {
		return key, nlmxdr.NLM4_GRANTED
	}
	if want&vfs.AccessModify != 0 && acc.ReadOnly {
		return "", nlmxdr.NLM4_FAILED
	}
	attr, err := e.FS.GetAttr(ctx, h)
	if err != nil {
		return "", s.status(err)
	}
	if attr.Type != vfs.TypeRegular {
		return "", nlmxdr.NLM4_FAILED
	}
	if attr.UID == acc.Cred.UID {
		return key, nlmxdr.NLM4_GRANTED // knfsd: NFSD_MAY_OWNER_OVERRIDE
	}
	got, err := e.FS.Access(ctx, &acc.Cred, h, want)
	if err != nil {
		return "", s.status(err)
	}
	if got&want != want {
		return "", nlmxdr.NLM4_FAILED
	}
	return key, nlmxdr.NLM4_GRANTED
}

// status maps a handle or backend error to NLM: a handle that does not
// resolve, or a file that is gone, is NLM4_STALE_FH; anything else
// NLM4_FAILED, as knfsd's nlm_fopen does.
func (s *Server) status(err error) nlmxdr.Nlm4Stats {
	st, known := nfserr.NLM4(err)
	if !known {
		s.log.Error("nlm: backend error", "err", err)
	}
	return st
}

// lockStatus maps an error of the lock table.
func lockStatus(err error) nlmxdr.Nlm4Stats {
	st, _ := nfserr.NLM4(err)
	return st
}

func addrs(call *sunrpc.Call) (client, local netip.Addr) {
	return call.Remote.Addr(), call.Local.Addr()
}

// request is what a LOCK, TEST, CANCEL or UNLOCK is about: the file, the
// lock owner and the byte range of its nlm4_lock.
type request struct {
	key lock.FileKey
	o   lock.Owner
	rng lock.Range
}

// lockRequest checks an nlm4_lock (range, handle, the caller's right to
// the access given — 0 for none needed) and names what it is about.
func (s *Server) lockRequest(ctx context.Context, call *sunrpc.Call, l *nlmxdr.Nlm4Lock, access uint32) (request, nlmxdr.Nlm4Stats) {
	rng, err := lock.RangeNLM(l.LOffset, l.LLen)
	if err != nil {
		return request{}, nlmxdr.NLM4_FBIG
	}
	key, st := s.target(ctx, call, l.Fh, access)
	if st != nlmxdr.NLM4_GRANTED {
		return request{}, st
	}
	return request{key: key, o: owner(call, l.CallerName, l.Svid, l.Oh), rng: rng}, nlmxdr.NLM4_GRANTED
}
