package portmap

import (
	"context"

	"github.com/gonfs/gonfs/proto/pmapxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// serveV2 serves the port mapper, version 2 (RFC 1833 §3.2).
func (s *Server) serveV2(ctx context.Context, call *sunrpc.Call, w *xdr.Writer) sunrpc.Status {
	switch call.Proc {
	case pmapxdr.PMAPPROC_NULL:
		if len(call.Args) != 0 {
			return sunrpc.GarbageArgs
		}
	case pmapxdr.PMAPPROC_SET, pmapxdr.PMAPPROC_UNSET:
		var m pmapxdr.Mapping
		if !decode(call.Args, &m) {
			return sunrpc.GarbageArgs
		}
		s.refuse(ctx, call, pmapxdr.PMAP_VERSProcName(call.Proc), m.Prog, m.Vers)
		w.Bool(false)
	case pmapxdr.PMAPPROC_GETPORT:
		var m pmapxdr.Mapping
		if !decode(call.Args, &m) {
			return sunrpc.GarbageArgs
		}
		w.Uint32(uint32(s.getport(m)))
	case pmapxdr.PMAPPROC_DUMP:
		if len(call.Args) != 0 {
			return sunrpc.GarbageArgs
		}
		s.dumpV2(w)
	case pmapxdr.PMAPPROC_CALLIT:
		s.indirect(call)
		return sunrpc.NoReply
	}
	return sunrpc.Success
}

// getport serves PMAPPROC_GETPORT: the port of m.Prog, m.Vers over m.Prot,
// 0 if there is none.
func (s *Server) getport(m pmapxdr.Mapping) uint16 {
	var netid string
	switch m.Prot {
	case pmapxdr.IPPROTO_TCP:
		netid = NetidTCP
	case pmapxdr.IPPROTO_UDP:
		netid = NetidUDP
	}
	found, ok := s.find(m.Prog, m.Vers, netid, false)
	s.countLookup(pmapxdr.PMAP_VERS, m.Prog, m.Vers, netid, ok)
	return found.Addr.Port()
}

// dumpV2 serves PMAPPROC_DUMP: the IPv4 mappings, which are all version 2
// can express.
func (s *Server) dumpV2(w *xdr.Writer) {
	var head *pmapxdr.Pmaplist
	ms := s.Mappings()
	for i := len(ms) - 1; i >= 0; i-- {
		prot := uint32(pmapxdr.IPPROTO_TCP)
		switch ms[i].Netid {
		case NetidTCP:
		case NetidUDP:
			prot = pmapxdr.IPPROTO_UDP
		default:
			continue
		}
		head = &pmapxdr.Pmaplist{
			Map:  pmapxdr.Mapping{Prog: ms[i].Prog, Vers: ms[i].Vers, Prot: prot, Port: uint32(ms[i].Addr.Port())},
			Next: head,
		}
	}
	w.Bool(head != nil)
	if head != nil {
		head.Encode(w)
	}
}

// indirect records a CALLIT, BCAST or INDIRECT, which is never forwarded
// (see the package documentation).
func (s *Server) indirect(call *sunrpc.Call) {
	var a pmapxdr.CallArgs // the same wire form as rpcb_rmtcallargs
	if !decode(call.Args, &a) {
		return
	}
	s.countRemote(call.Vers, a.Prog, a.Vers, a.Proc, callNetid(call), call.Proc == pmapxdr.RPCBPROC_INDIRECT && call.Vers == pmapxdr.RPCBVERS4)
}
