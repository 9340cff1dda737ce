package portmap

import (
	"math"

	"github.com/gonfs/gonfs/proto/pmapxdr"
)

// maxStatEntries bounds each of GETSTAT's lists: their keys come from
// callers, who could otherwise grow them without end.
const maxStatEntries = 256

type addrKey struct {
	idx        int
	prog, vers uint32
	netid      string
}

type rmtKey struct {
	idx              int
	prog, vers, proc uint32
	netid            string
}

// stats are the counters of RPCBPROC_GETSTAT (RFC 1833 §2.1, rpcb_stat),
// guarded by Server.mu.
type stats struct {
	info [pmapxdr.RPCBVERS_STAT]pmapxdr.RpcbsProc
	addr counters[addrKey, [2]int32] // success, failure
	rmt  counters[rmtKey, [3]int32]  // success, failure, indirect
}

// counters is a bounded map of counter sets that keeps its first-seen
// order, for GETSTAT's lists.
type counters[K comparable, V any] struct {
	m    map[K]*V
	keys []K
}

// get returns the counters of k, creating them, or nil when k is new and
// maxStatEntries are already kept.
func (c *counters[K, V]) get(k K) *V {
	if v := c.m[k]; v != nil {
		return v
	}
	if len(c.keys) >= maxStatEntries {
		return nil
	}
	if c.m == nil {
		c.m = make(map[K]*V)
	}
	v := new(V)
	c.m[k] = v
	c.keys = append(c.keys, k)
	return v
}

// statIndex is the rpcb_stat_byvers index of an RPC version.
func statIndex(vers uint32) int {
	switch vers {
	case pmapxdr.PMAP_VERS:
		return pmapxdr.RPCBVERS_2_STAT
	case pmapxdr.RPCBVERS:
		return pmapxdr.RPCBVERS_3_STAT
	}
	return pmapxdr.RPCBVERS_4_STAT
}

// inc adds one, sticking at the largest int rather than wrapping negative.
func inc(v *int32) {
	if *v < math.MaxInt32 {
		*v++
	}
}

// count records a call of a procedure ServeRPC knows.
func (s *Server) count(vers, proc uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inc(&s.stats.info[statIndex(vers)][proc])
}

// countLookup records the outcome of GETPORT, GETADDR, GETVERSADDR or
// GETADDRLIST.
func (s *Server) countLookup(vers, prog, pvers uint32, netid string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.stats.addr.get(addrKey{statIndex(vers), prog, pvers, netid})
	switch {
	case c == nil:
	case ok:
		inc(&c[0])
	default:
		inc(&c[1])
	}
}

// countRemote records a CALLIT, BCAST or INDIRECT: always a failure, since
// none is forwarded.
func (s *Server) countRemote(vers, prog, pvers, proc uint32, netid string, indirect bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.stats.rmt.get(rmtKey{statIndex(vers), prog, pvers, proc, netid})
	if c == nil {
		return
	}
	inc(&c[1])
	if indirect {
		inc(&c[2])
	}
}

// snapshot returns the statistics as GETSTAT sends them.
func (s *Server) snapshot() *pmapxdr.RpcbStatByvers {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := new(pmapxdr.RpcbStatByvers)
	for i := range out {
		out[i].Info = s.stats.info[i]
	}
	for j := len(s.stats.addr.keys) - 1; j >= 0; j-- {
		k := s.stats.addr.keys[j]
		c := s.stats.addr.m[k]
		out[k.idx].Addrinfo = &pmapxdr.RpcbsAddrlist{
			Prog: k.prog, Vers: k.vers, Success: c[0], Failure: c[1], Netid: k.netid,
			Next: out[k.idx].Addrinfo,
		}
	}
	for j := len(s.stats.rmt.keys) - 1; j >= 0; j-- {
		k := s.stats.rmt.keys[j]
		c := s.stats.rmt.m[k]
		out[k.idx].Rmtinfo = &pmapxdr.RpcbsRmtcalllist{
			Prog: k.prog, Vers: k.vers, Proc: k.proc, Success: c[0], Failure: c[1], Indirect: c[2], Netid: k.netid,
			Next: out[k.idx].Rmtinfo,
		}
	}
	return out
}
