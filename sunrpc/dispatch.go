package sunrpc

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/xdr"
)

// This file is the dispatch path that both ends of a connection share: the
// Server for calls from clients, and a Client for calls the server makes back
// to it over the same connection. It checks the call header, authenticates,
// picks the Handler by program and version, runs it with panic recovery and
// turns its Status into the reply. What differs between the two ends
// (duplicate request cache, in-flight limits, how replies are written) stays
// with each end.

// Mux is a Handler that routes each call to the Handler registered for its
// program and version. Given to a Server's dispatch path or as
// ClientOptions.Handler, it also answers the calls no registration matches:
// PROG_UNAVAIL for an unknown program, PROG_MISMATCH with the lowest and
// highest registered versions for an unknown version of a known one (RFC
// 5531 §9). Called as a plain Handler from inside another Handler it can only
// say ProgUnavail for both.
//
// The zero Mux serves nothing and is ready to use. Register may be called at
// any time, also while calls are being served: lookups read an immutable
// snapshot and take no lock.
type Mux struct {
	mu    sync.Mutex
	progs map[uint32]map[uint32]Handler
	table atomic.Pointer[progTable]
}

// progTable is an immutable snapshot of a Mux's registrations, swapped on
// Register so that lookups on the hot path take no lock.
type progTable struct {
	handlers map[uint64]registration
	ranges   map[uint32][2]uint32 // lowest and highest registered version
}

// registration is a Handler with its Idempotency found once, at Register.
type registration struct {
	h    Handler
	idem Idempotency
}

func progKey(prog, vers uint32) uint64 { return uint64(prog)<<32 | uint64(vers) }

// Register serves version vers of program prog with h, replacing an earlier
// registration of the same pair.
func (m *Mux) Register(prog, vers uint32, h Handler) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.progs == nil {
		m.progs = make(map[uint32]map[uint32]Handler)
	}
	if m.progs[prog] == nil {
		m.progs[prog] = make(map[uint32]Handler)
	}
	m.progs[prog][vers] = h
	t := &progTable{
		handlers: make(map[uint64]registration),
		ranges:   make(map[uint32][2]uint32),
	}
	for p, vs := range m.progs {
		r := [2]uint32{^uint32(0), 0}
		for v, h := range vs {
			idem, _ := h.(Idempotency)
			t.handlers[progKey(p, v)] = registration{h, idem}
			r[0], r[1] = min(r[0], v), max(r[1], v)
		}
		t.ranges[p] = r
	}
	m.table.Store(t)
}

// ServeRPC passes the call to the Handler registered for its program and
// version, or returns ProgUnavail.
func (m *Mux) ServeRPC(ctx context.Context, call *Call, w *xdr.Writer) Status {
	if t := m.table.Load(); t != nil {
		if r := t.handlers[progKey(call.Prog, call.Vers)]; r.h != nil {
			return r.h.ServeRPC(ctx, call, w)
		}
	}
	return ProgUnavail
}

// router is what the dispatch path asks of a *Mux, so that PROG_MISMATCH can
// carry the version range, which a Status cannot.
type router interface {
	route(w *xdr.Writer, xid, prog, vers uint32) (Handler, Idempotency)
}

// route returns the Handler for (prog, vers) and its Idempotency, if any. When
// there is none it appends the rejection to w and returns nil.
func (m *Mux) route(w *xdr.Writer, xid, prog, vers uint32) (Handler, Idempotency) {
	t := m.table.Load()
	if t == nil {
		appendAccepted(w, xid, rpcxdr.PROG_UNAVAIL)
		return nil, nil
	}
	if r := t.handlers[progKey(prog, vers)]; r.h != nil {
		return r.h, r.idem
	}
	if r, ok := t.ranges[prog]; ok {
		appendProgMismatch(w, xid, r[0], r[1])
	} else {
		appendAccepted(w, xid, rpcxdr.PROG_UNAVAIL)
	}
	return nil, nil
}

// resolve picks the Handler below root for a call: a router routes by its
// registrations, any other Handler serves every program and version, and
// nil serves none. When it picks none it has appended the rejection to w.
func resolve(root Handler, w *xdr.Writer, xid, prog, vers uint32) (Handler, Idempotency) {
	switch r := root.(type) {
	case nil:
		appendAccepted(w, xid, rpcxdr.PROG_UNAVAIL)
		return nil, nil
	case router:
		return r.route(w, xid, prog, vers)
	}
	idem, _ := root.(Idempotency)
	return root, idem
}

// admitCall decodes and checks the call header in req.rec, authenticates
// it and picks its Handler below root. For vDispatch req.call and req.h are
// set and the Idempotency of the handler, if any, is returned. For vReplied
// the answer (possibly none) is in req.w after req.start. vReply means the
// record is a REPLY, for the caller to route; vClose that it cannot even be
// framed as a message.
func admitCall(req *request, in *interner, root Handler) (verdict, Idempotency) {
	var h callHeader
	c := &req.call
	req.resetReply()
	switch decodeCallHeader(req.rec, &h) {
	case hdrGarbage:
		return vClose, nil
	case hdrReply:
		return vReply, nil
	case hdrRPCMismatch:
		appendRPCMismatch(&req.w, h.xid)
		return vReplied, nil
	case hdrShort:
		appendAccepted(&req.w, h.xid, rpcxdr.GARBAGE_ARGS)
		return vReplied, nil
	case hdrBadCred:
		appendAuthError(&req.w, h.xid, rpcxdr.AUTH_BADCRED)
		return vReplied, nil
	case hdrBadVerf:
		appendAuthError(&req.w, h.xid, rpcxdr.AUTH_BADVERF)
		return vReplied, nil
	}
	c.XID, c.Prog, c.Vers, c.Proc = h.xid, h.prog, h.vers, h.proc
	c.Cred.OpaqueAuth = h.cred
	c.Verf = h.verf
	c.Args = h.args
	if st := authenticate(c, in); st != rpcxdr.AUTH_OK {
		appendAuthError(&req.w, h.xid, st)
		return vReplied, nil
	}
	hd, idem := resolve(root, &req.w, h.xid, h.prog, h.vers)
	if hd == nil {
		return vReplied, nil
	}
	req.h = hd
	return vDispatch, idem
}

// authenticate checks the credential and verifier (RFC 5531 §8.2, §9) and
// decodes AUTH_SYS. Only AUTH_NONE and AUTH_SYS are served, both with an
// AUTH_NONE verifier. An unknown flavor gets AUTH_BADCRED, as RFC 9289 §4.1
// prescribes for a server that does not recognize AUTH_TLS and as Linux
// answers every flavor it lacks.
func authenticate(c *Call, in *interner) rpcxdr.AuthStat {
	switch c.Cred.Flavor {
	case rpcxdr.AUTH_NONE:
		if len(c.Cred.Body) != 0 {
			return rpcxdr.AUTH_BADCRED
		}
	case rpcxdr.AUTH_SYS:
		if !decodeAuthSys(c.Cred.Body, &c.Cred.Sys, &c.gids, in) {
			return rpcxdr.AUTH_BADCRED
		}
	default:
		return rpcxdr.AUTH_BADCRED
	}
	if c.Verf.Flavor != rpcxdr.AUTH_NONE || len(c.Verf.Body) != 0 {
		return rpcxdr.AUTH_BADVERF
	}
	return rpcxdr.AUTH_OK
}

// runHandler calls req's handler and builds the reply in req.w, turning
// the Status into its reply header. It reports whether a reply is to be
// sent. obs may be nil.
func runHandler(ctx context.Context, req *request, log *slog.Logger, obs Observer) bool {
	c := &req.call
	appendAccepted(&req.w, c.XID, rpcxdr.SUCCESS)
	var start time.Time
	if obs != nil {
		start = time.Now()
		obs.Start(c)
	}
	st := invoke(ctx, req, log)
	if obs != nil {
		obs.Done(c, st, time.Since(start))
	}
	if st != Success {
		c.releaseAttachment()
	}
	switch {
	case st == Success:
		return true
	case st == NoReply:
		req.w.Buf = req.w.Buf[:req.start]
		return false
	case st&statusAuth != 0:
		req.w.Buf = req.w.Buf[:req.start]
		appendAuthError(&req.w, c.XID, rpcxdr.AuthStat(uint32(st)))
	case st == ProgUnavail || st == ProcUnavail || st == GarbageArgs || st == SystemErr:
		req.w.Buf = req.w.Buf[:req.start]
		appendAccepted(&req.w, c.XID, rpcxdr.AcceptStat(st))
	default:
		log.Error("sunrpc: handler returned an invalid status",
			"prog", c.Prog, "vers", c.Vers, "proc", c.Proc, "status", st.String())
		req.w.Buf = req.w.Buf[:req.start]
		appendAccepted(&req.w, c.XID, rpcxdr.SYSTEM_ERR)
	}
	return true
}

// invoke calls the handler, turning a panic into SystemErr.
func invoke(ctx context.Context, req *request, log *slog.Logger) (st Status) {
	c := &req.call
	defer func() {
		if p := recover(); p != nil {
			log.Error("sunrpc: handler panic",
				"prog", c.Prog, "vers", c.Vers, "proc", c.Proc, "xid", c.XID,
				"remote", c.Remote.String(), "panic", p, "stack", string(debug.Stack()))
			st = SystemErr
		}
	}()
	return req.h.ServeRPC(ctx, c, &req.w)
}
