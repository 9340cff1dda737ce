package nlm

import (
	"context"
	"net/netip"
	"testing"

	"github.com/gonfs/gonfs/internal/fuzzcorpus"
	"github.com/gonfs/gonfs/proto/nlmxdr"
	"github.com/gonfs/gonfs/proto/nsmxdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// FuzzServeRPC feeds arbitrary arguments to every NLM and NSM procedure:
// no input may panic, and a successful reply must decode as the
// procedure's result type.
func FuzzServeRPC(f *testing.F) {
	lk := nlmxdr.Nlm4Lock{CallerName: "c", Fh: make([]byte, 30), Oh: []byte("oh"), Svid: 1, LLen: 10}
	fuzzcorpus.Add(f, false, uint8(nlmxdr.NLMPROC4_LOCK), xdr.Marshal(nil, &nlmxdr.Nlm4Lockargs{Cookie: []byte{1}, Alock: lk, Exclusive: true}))
	fuzzcorpus.Add(f, false, uint8(nlmxdr.NLMPROC4_TEST), xdr.Marshal(nil, &nlmxdr.Nlm4Testargs{Cookie: []byte{1}, Alock: lk}))
	fuzzcorpus.Add(f, false, uint8(nlmxdr.NLMPROC4_UNLOCK), xdr.Marshal(nil, &nlmxdr.Nlm4Unlockargs{Cookie: []byte{1}, Alock: lk}))
	fuzzcorpus.Add(f, false, uint8(nlmxdr.NLMPROC4_CANCEL), xdr.Marshal(nil, &nlmxdr.Nlm4Cancargs{Cookie: []byte{1}, Alock: lk}))
	fuzzcorpus.Add(f, false, uint8(nlmxdr.NLMPROC4_SHARE), xdr.Marshal(nil, &nlmxdr.Nlm4Shareargs{Cookie: []byte{1},
		Share: nlmxdr.Nlm4Share{CallerName: "c", Fh: make([]byte, 30), Oh: []byte("oh"), Mode: nlmxdr.Fsm_DN, Access: nlmxdr.Fsa_R}}))
	fuzzcorpus.Add(f, false, uint8(nlmxdr.NLMPROC4_FREE_ALL), xdr.Marshal(nil, &nlmxdr.Nlm4Notify{Name: "c", State: 3}))
	fuzzcorpus.Add(f, true, uint8(nsmxdr.SM_NOTIFY), xdr.Marshal(nil, &nsmxdr.StatChge{MonName: "c", State: 5}))
	fuzzcorpus.Add(f, true, uint8(nsmxdr.SM_STAT), xdr.Marshal(nil, &nsmxdr.SmName{MonName: "c"}))
	f.Fuzz(func(t *testing.T, nsm bool, proc uint8, args []byte) {
		e := newEnv(t, t.TempDir())
		h, prog, vers := e.s.NLMHandler(), uint32(nlmxdr.NLM_PROG), uint32(nlmxdr.NLM4_VERS)
		results := nlmxdr.NLM4_VERSResults
		if nsm {
			h, prog, vers, results = e.s.NSMHandler(), nsmxdr.SM_PROG, nsmxdr.SM_VERS, nsmxdr.SM_VERSResults
		}
		call := &sunrpc.Call{XID: 1, Prog: prog, Vers: vers, Proc: uint32(proc), Args: args, Transport: "tcp",
			Remote: netip.MustParseAddrPort("127.0.0.1:700"), Local: netip.MustParseAddrPort("127.0.0.1:2049")}
		call.Cred.Flavor = rpcxdr.AUTH_SYS
		call.Cred.Sys = rpcxdr.AuthsysParms{Machinename: "c", Uid: 1000, Gid: 1000}
		var w xdr.Writer
		st := h.ServeRPC(context.Background(), call, &w)
		switch st {
		case sunrpc.Success:
			res := results(uint32(proc))
			if res == nil {
				t.Fatalf("proc %d: success for an unknown procedure", proc)
			}
			if err := xdr.Unmarshal(w.Bytes(), res); err != nil {
				t.Fatalf("proc %d: reply does not decode: %v", proc, err)
			}
		case sunrpc.GarbageArgs, sunrpc.ProcUnavail, sunrpc.NoReply:
		default:
			if st.String() == "" {
				t.Fatalf("proc %d: status %v", proc, st)
			}
		}
	})
}
