package portmap

import (
	"context"
	"net/netip"

	"github.com/gonfs/gonfs/proto/pmapxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// serveRPCB serves rpcbind versions 3 and 4 (RFC 1833 §2). The procedures
// they share have the same numbers; 9 to 12 exist in version 4 only, which
// ServeRPC has already checked.
func (s *Server) serveRPCB(ctx context.Context, call *sunrpc.Call, w *xdr.Writer) sunrpc.Status {
	switch call.Proc {
	case pmapxdr.RPCBPROC_NULL, pmapxdr.RPCBPROC_DUMP, pmapxdr.RPCBPROC_GETTIME, pmapxdr.RPCBPROC_GETSTAT:
		if len(call.Args) != 0 {
			return sunrpc.GarbageArgs
		}
	}
	switch call.Proc {
	case pmapxdr.RPCBPROC_NULL:
	case pmapxdr.RPCBPROC_SET, pmapxdr.RPCBPROC_UNSET:
		var r pmapxdr.Rpcb
		if !decode(call.Args, &r) {
			return sunrpc.GarbageArgs
		}
		s.refuse(ctx, call, pmapxdr.RPCBVERS4ProcName(call.Proc), r.RProg, r.RVers)
		w.Bool(false)
	case pmapxdr.RPCBPROC_GETADDR, pmapxdr.RPCBPROC_GETVERSADDR:
		var r pmapxdr.Rpcb
		if !decode(call.Args, &r) {
			return sunrpc.GarbageArgs
		}
		w.String(s.getaddr(call, &r, call.Proc == pmapxdr.RPCBPROC_GETVERSADDR))
	case pmapxdr.RPCBPROC_DUMP:
		s.dumpRPCB(call, w)
	case pmapxdr.RPCBPROC_BCAST, pmapxdr.RPCBPROC_INDIRECT:
		s.indirect(call)
		return sunrpc.NoReply
	case pmapxdr.RPCBPROC_GETTIME:
		w.Uint32(uint32(s.now().Unix()))
	case pmapxdr.RPCBPROC_UADDR2TADDR:
		var u pmapxdr.Uaddr
		if !decode(call.Args, &u) {
			return sunrpc.GarbageArgs
		}
		nb := pmapxdr.Netbuf{} // see the package documentation
		nb.Encode(w)
	case pmapxdr.RPCBPROC_TADDR2UADDR:
		var nb pmapxdr.Netbuf
		if !decode(call.Args, &nb) {
			return sunrpc.GarbageArgs
		}
		w.String("")
	case pmapxdr.RPCBPROC_GETADDRLIST:
		var r pmapxdr.Rpcb
		if !decode(call.Args, &r) {
			return sunrpc.GarbageArgs
		}
		s.getaddrlist(call, &r, w)
	case pmapxdr.RPCBPROC_GETSTAT:
		st := s.snapshot()
		st.Encode(w)
	}
	return sunrpc.Success
}

// getaddr serves GETADDR (any version of the program will do) and
// GETVERSADDR (exact): the universal address, "" if none.
func (s *Server) getaddr(call *sunrpc.Call, r *pmapxdr.Rpcb, exact bool) string {
	netid := r.RNetid
	if netid == "" {
		netid = callNetid(call)
	}
	m, ok := s.find(r.RProg, r.RVers, netid, exact)
	s.countLookup(call.Vers, r.RProg, r.RVers, netid, ok)
	if !ok {
		return ""
	}
	return FormatUAddr(reachable(m.Addr, call.Local))
}

// reachable replaces a wildcard address by local, the address the caller
// reached us at, when both are of one family: 0.0.0.0 is no address to
// connect to from another host.
func reachable(ap netip.AddrPort, local netip.AddrPort) netip.AddrPort {
	a, l := ap.Addr(), local.Addr()
	if !a.IsUnspecified() || !l.IsValid() || l.IsUnspecified() || a.Is4() != l.Is4() {
		return ap
	}
	return netip.AddrPortFrom(l.WithZone(""), ap.Port())
}

// dumpRPCB serves RPCBPROC_DUMP: every mapping, as registered.
func (s *Server) dumpRPCB(call *sunrpc.Call, w *xdr.Writer) {
	var head *pmapxdr.RpList
	ms := s.Mappings()
	for i := len(ms) - 1; i >= 0; i-- {
		head = &pmapxdr.RpList{RpcbMap: pmapxdr.Rpcb{
			RProg:  ms[i].Prog,
			RVers:  ms[i].Vers,
			RNetid: ms[i].Netid,
			RAddr:  FormatUAddr(ms[i].Addr),
			ROwner: ms[i].Owner,
		}, RpcbNext: head}
	}
	w.Bool(head != nil)
	if head != nil {
		head.Encode(w)
	}
}

// getaddrlist serves RPCBPROC_GETADDRLIST: the addresses of r.RProg,
// r.RVers on every transport (r's netid and address are ignored, as in
// rpcbind: the caller wants to choose among all of them).
func (s *Server) getaddrlist(call *sunrpc.Call, r *pmapxdr.Rpcb, w *xdr.Writer) {
	var head *pmapxdr.RpcbEntryList
	ms := s.Mappings()
	for i := len(ms) - 1; i >= 0; i-- {
		m := &ms[i]
		if m.Prog != r.RProg || m.Vers != r.RVers {
			continue
		}
		n := netids[m.Netid]
		head = &pmapxdr.RpcbEntryList{RpcbEntryMap: pmapxdr.RpcbEntry{
			RMaddr:       FormatUAddr(reachable(m.Addr, call.Local)),
			RNcNetid:     m.Netid,
			RNcSemantics: n.semantics,
			RNcProtofmly: n.protoFamily(),
			RNcProto:     n.network,
		}, RpcbEntryNext: head}
	}
	s.countLookup(call.Vers, r.RProg, r.RVers, r.RNetid, head != nil)
	w.Bool(head != nil)
	if head != nil {
		head.Encode(w)
	}
}
