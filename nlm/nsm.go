package nlm

import (
	"context"
	"net/netip"
	"slices"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/proto/nsmxdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// maxMonitors bounds the SM_MON registrations of local callers.
const maxMonitors = 1024

// localMonitor is an SM_MON registration: tell my_id when mon_name
// reboots.
type localMonitor struct {
	name string
	id   nsmxdr.MyId
	priv [16]byte
}

// nsmHandler serves NSM version 1: we are the status monitor of our own
// lock manager, so the only NSM traffic that matters is SM_NOTIFY from
// clients that rebooted. The local-only procedures are served to local
// callers as statd does; other callers are refused.
type nsmHandler struct{ s *Server }

// NSMHandler returns the handler of NSM version 1 (program 100024).
func (s *Server) NSMHandler() sunrpc.Handler { return nsmHandler{s} }

// Idempotent: SM_NULL and SM_STAT change nothing.
func (nsmHandler) Idempotent(proc uint32) bool {
	return proc == nsmxdr.SM_NULL || proc == nsmxdr.SM_STAT
}

func (h nsmHandler) ServeRPC(ctx context.Context, call *sunrpc.Call, w *xdr.Writer) sunrpc.Status {
	s := h.s
	args := nsmxdr.SM_VERSArgs(call.Proc)
	if args == nil {
		return sunrpc.ProcUnavail
	}
	var r xdr.Reader
	r.Reset(call.Args)
	args.Decode(&r)
	if r.Err() != nil {
		return sunrpc.GarbageArgs
	}
	// statd serves SM_MON and friends to the local lock manager only
	// (nfs-utils statd checks the caller is a loopback address).
	local := call.Remote.Addr().IsLoopback()
	state := s.state.Load()
	switch a := args.(type) {
	case *nsmxdr.SmName: // SM_STAT
		res := nsmxdr.SmStatRes{ResStat: nsmxdr.Stat_succ, State: state}
		res.Encode(w)
	case *nsmxdr.Mon: // SM_MON
		res := nsmxdr.SmStatRes{ResStat: nsmxdr.Stat_fail, State: state}
		if local && s.monitor(a) {
			res.ResStat = nsmxdr.Stat_succ
		}
		res.Encode(w)
	case *nsmxdr.MonId: // SM_UNMON
		if local {
			s.unmonitor(func(m *localMonitor) bool { return m.name == a.MonName && m.id == a.MyId })
		}
		res := nsmxdr.SmStat{State: state}
		res.Encode(w)
	case *nsmxdr.MyId: // SM_UNMON_ALL
		if local {
			s.unmonitor(func(m *localMonitor) bool { return m.id == *a })
		}
		res := nsmxdr.SmStat{State: state}
		res.Encode(w)
	case *nsmxdr.StatChge: // SM_NOTIFY
		s.peerRebooted(a.MonName, a.State, call.Remote.Addr())
	case *xdr.Void:
		if call.Proc == nsmxdr.SM_SIMU_CRASH {
			if !local {
				return sunrpc.AuthError(rpcxdr.AUTH_TOOWEAK)
			}
			s.simulateCrash()
		}
	}
	return sunrpc.Success
}

func (s *Server) monitor(m *nsmxdr.Mon) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	lm := localMonitor{name: m.MonId.MonName, id: m.MonId.MyId, priv: m.Priv}
	if slices.Contains(s.monitors, lm) {
		return true
	}
	if len(s.monitors) >= maxMonitors {
		return false
	}
	s.monitors = append(s.monitors, lm)
	return true
}

func (s *Server) unmonitor(match func(*localMonitor) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.monitors = slices.DeleteFunc(s.monitors, func(m localMonitor) bool { return match(&m) })
}

// peerRebooted handles SM_NOTIFY: the client name rebooted, so every lock,
// share and queued request it held is released (XNFS chapter 11). The
// match is on the caller_name its locks were taken under; if no client
// has that name, the clients that locked from the notifying address are
// released instead (the notification may name the client differently from
// its caller_name, e.g. by address). Local SM_MON registrations for name
// are called back.
func (s *Server) peerRebooted(name string, state int32, from netip.Addr) {
	s.mu.Lock()
	names := []string{name}
	if _, ok := s.hosts[name]; !ok {
		names = append(names, s.hostsAt(from)...)
	}
	var woken []*lock.Waiter
	for _, n := range names {
		woken = append(woken, s.releaseClient(n)...)
	}
	var cbs []localMonitor
	for _, m := range s.monitors {
		if m.name == name {
			cbs = append(cbs, m)
		}
	}
	s.mu.Unlock()
	s.log.Info("nlm: client rebooted, locks released", "mon_name", name, "state", state, "from", from, "clients", names)
	s.Wake(woken)
	for _, m := range cbs {
		cb := nsmxdr.NsmStatusCb{MonName: name, State: state, Priv: m.priv}
		addr, err := netip.ParseAddr(m.id.MyName)
		if err != nil {
			addr = netip.AddrFrom4([4]byte{127, 0, 0, 1}) // my_name is a local name
		}
		s.goSafe(func() {
			err := s.retry(func(ctx context.Context) error {
				return s.callPeer(ctx, "udp", netip.Addr{}, addr, uint32(m.id.MyProg), uint32(m.id.MyVers), uint32(m.id.MyProc), &cb, nil)
			})
			if err != nil && s.ctx.Err() == nil {
				s.log.Warn("nlm: status callback failed", "my_name", m.id.MyName, "err", err)
			}
		})
	}
}

// simulateCrash is SM_SIMU_CRASH: act as if we had restarted, without the
// grace period: release every NLM lock, advance the state number and
// notify every client that held any.
func (s *Server) simulateCrash() {
	s.mu.Lock()
	state := (s.state.Load() + 2) | 1
	if state < 0 {
		state = 1
	}
	s.state.Store(state)
	if s.store != nil {
		if err := s.store.setState(state); err != nil {
			s.log.Error("nlm: storing NSM state", "err", err)
		}
	}
	var recs []record
	var woken []*lock.Waiter
	for name, h := range s.hosts {
		if h.recorded {
			recs = append(recs, h.record())
		}
		woken = append(woken, s.releaseClient(name)...)
	}
	s.mu.Unlock()
	s.log.Info("nlm: SM_SIMU_CRASH", "nsm_state", state)
	s.Wake(woken)
	for _, r := range recs {
		s.notifyPeer(r, state)
	}
}
