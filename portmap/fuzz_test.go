package portmap

import (
	"context"
	"net/netip"
	"testing"

	"github.com/gonfs/gonfs/internal/fuzzcorpus"
	"github.com/gonfs/gonfs/proto/pmapxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// FuzzServeRPC feeds arbitrary arguments to every procedure of every
// version: the handler must answer with a defined status and never panic,
// and no call may change the mappings.
func FuzzServeRPC(f *testing.F) {
	fuzzcorpus.Add(f, uint8(2), uint8(pmapxdr.PMAPPROC_GETPORT), xdr.Marshal(nil, &pmapxdr.Mapping{Prog: 100005, Vers: 3, Prot: 6}))
	fuzzcorpus.Add(f, uint8(2), uint8(pmapxdr.PMAPPROC_SET), xdr.Marshal(nil, &pmapxdr.Mapping{Prog: 100005, Vers: 3, Prot: 6, Port: 1}))
	fuzzcorpus.Add(f, uint8(4), uint8(pmapxdr.RPCBPROC_GETADDR), xdr.Marshal(nil, &pmapxdr.Rpcb{RProg: 100003, RVers: 3}))
	fuzzcorpus.Add(f, uint8(4), uint8(pmapxdr.RPCBPROC_GETADDRLIST), xdr.Marshal(nil, &pmapxdr.Rpcb{RProg: 100003, RVers: 3}))
	fuzzcorpus.Add(f, uint8(3), uint8(pmapxdr.RPCBPROC_TADDR2UADDR), xdr.Marshal(nil, &pmapxdr.Netbuf{Maxlen: 4, Buf: []byte{1, 2}}))
	fuzzcorpus.Add(f, uint8(4), uint8(pmapxdr.RPCBPROC_INDIRECT), xdr.Marshal(nil, &pmapxdr.RpcbRmtcallargs{Prog: 1}))
	fuzzcorpus.Add(f, uint8(4), uint8(pmapxdr.RPCBPROC_GETSTAT), []byte{})
	s := New(Options{})
	for _, m := range testMappings {
		s.Set(m)
	}
	f.Fuzz(func(t *testing.T, vers, proc uint8, args []byte) {
		v := uint32(2 + vers%3)
		c := sunrpc.Call{Prog: pmapxdr.PMAP_PROG, Vers: v, Proc: uint32(proc % 16), Args: args,
			Transport: "tcp", Local: netip.MustParseAddrPort("127.0.0.1:111"), Remote: netip.MustParseAddrPort("127.0.0.1:900")}
		var w xdr.Writer
		switch st := s.ServeRPC(context.Background(), &c, &w); st {
		case sunrpc.Success, sunrpc.GarbageArgs, sunrpc.ProcUnavail, sunrpc.NoReply:
		default:
			t.Fatalf("version %d procedure %d: status %v", c.Vers, c.Proc, st)
		}
		if n := len(s.Mappings()); n != len(testMappings) {
			t.Fatalf("version %d procedure %d changed the mappings", c.Vers, c.Proc)
		}
	})
}
