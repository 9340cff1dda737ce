package mount

import (
	"context"
	"net/netip"
	"testing"

	"github.com/gonfs/gonfs/internal/fuzzcorpus"
	"github.com/gonfs/gonfs/proto/mountxdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// FuzzServeRPC feeds arbitrary arguments to every procedure: the handler
// must answer with a defined status, never panic, and never hand out a
// handle of a file outside the tree or of a non-directory.
func FuzzServeRPC(f *testing.F) {
	for _, p := range []string{"/srv", "/srv/a/b", "/srv/../secure", "/srv/link/a", "/krb/private", "srv", ""} {
		fuzzcorpus.Add(f, uint8(mountxdr.MOUNTPROC3_MNT), xdr.Marshal(nil, ptr(mountxdr.Dirpath(p))))
	}
	fuzzcorpus.Add(f, uint8(mountxdr.MOUNTPROC3_UMNT), xdr.Marshal(nil, ptr(mountxdr.Dirpath("/srv"))))
	fuzzcorpus.Add(f, uint8(mountxdr.MOUNTPROC3_EXPORT), []byte{})
	s, ns, _ := newServer(f)
	f.Fuzz(func(t *testing.T, proc uint8, args []byte) {
		c := sunrpc.Call{Prog: mountxdr.MOUNT_PROGRAM, Vers: mountxdr.MOUNT_V3, Proc: uint32(proc % 8), Args: args,
			Transport: "tcp", Local: netip.MustParseAddrPort("127.0.0.1:2049"), Remote: netip.MustParseAddrPort("127.0.0.1:40000")}
		c.Cred.Flavor = rpcxdr.AUTH_SYS
		c.Cred.Sys.Uid, c.Cred.Sys.Gid = 1000, 1000
		var w xdr.Writer
		st := s.ServeRPC(context.Background(), &c, &w)
		switch st {
		case sunrpc.Success, sunrpc.GarbageArgs, sunrpc.ProcUnavail:
		default:
			t.Fatalf("procedure %d: status %v", c.Proc, st)
		}
		if st != sunrpc.Success || c.Proc != mountxdr.MOUNTPROC3_MNT {
			return
		}
		var res mountxdr.Mountres3
		if err := xdr.Unmarshal(w.Buf, &res); err != nil {
			t.Fatalf("MNT reply does not decode: %v", err)
		}
		if res.FhsStatus != mountxdr.MNT3_OK {
			return
		}
		e, h, err := ns.Resolve(res.Mountinfo.Fhandle)
		if err != nil {
			t.Fatalf("MNT handle does not resolve: %v", err)
		}
		a, err := e.FS.GetAttr(context.Background(), h)
		if err != nil || a.Type != vfs.TypeDirectory {
			t.Fatalf("MNT handed out %q (%v, type %v)", h, err, a.Type)
		}
	})
}
