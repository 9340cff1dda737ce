package nfs4

import (
	"context"
	"testing"

	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// RFC 8881 §18.35, §18.36, §18.46: a client gets a session and runs
// compounds in it; the SEQUENCE result echoes the slot.
func TestSessionEndToEnd(t *testing.T) {
	f := newFixture(t, "")
	s := f.newRawSession(root)
	res := s.call(opPutrootfh(), opGetfh())
	f.wantStatus(res, nfs4xdr.NFS4_OK, 3)
	seq := res.Resarray[0].Opsequence.SrResok4
	if seq.SrSessionid != s.id || seq.SrSequenceid != 1 || seq.SrSlotid != 0 {
		t.Fatalf("SEQUENCE result %+v", seq)
	}
	res = s.call42(opPutrootfh())
	f.wantStatus(res, nfs4xdr.NFS4_OK, 2)
}

// FuzzCompound sends arbitrary COMPOUND4args through ServeRPC: a session
// exists, so SEQUENCE, the reply cache and the sessionless operations are
// reachable. Whatever comes in, ServeRPC must not panic, and a Success
// reply must decode as COMPOUND4res.
func FuzzCompound(f *testing.F) {
	seed := func(minor uint32, ops ...nfs4xdr.NfsArgop4) {
		args := nfs4xdr.COMPOUND4args{Tag: nfs4xdr.Utf8strCs("seed"), Minorversion: minor, Argarray: ops}
		f.Add(xdr.Marshal(nil, &args))
	}
	var sid nfs4xdr.Sessionid4 // the fixture's first session: client 1, session 1, epoch 1
	sid[3], sid[7], sid[11], sid[15] = 1, 1, 1, 1
	s := &session{id: sid}
	seed(1, s.sequence(1, true), opPutrootfh(), opGetfh())
	seed(1, s.sequence(1, false), opPutrootfh(), s.sequence(2, false))
	seed(1, opExchangeID("fuzz", nfs4xdr.Verifier4{}, 0))
	seed(1, opCreateSession(0x100000001, 2, nfs4xdr.CREATE_SESSION4_FLAG_CONN_BACK_CHAN))
	seed(2, s.sequence(1, false), opDestroySession(sid))
	seed(1, opBindConn(sid, nfs4xdr.CDFC4_BACK_OR_BOTH))
	f.Fuzz(func(t *testing.T, body []byte) {
		fx := newFixture(t, "")
		fx.newSession(root)
		for range 2 { // twice, so the second may be a replay
			call := &sunrpc.Call{XID: 1, Prog: nfs4xdr.NFS4_PROGRAM, Vers: nfs4xdr.NFS_V4, Proc: nfs4xdr.NFSPROC4_COMPOUND,
				Args: body, Transport: "tcp", Remote: fx.remote}
			call.Cred.Flavor = rpcxdr.AUTH_SYS
			var w xdr.Writer
			if fx.srv.ServeRPC(context.Background(), call, &w) != sunrpc.Success {
				return
			}
			var res nfs4xdr.COMPOUND4res
			if err := xdr.Unmarshal(w.Bytes(), &res); err != nil {
				t.Fatalf("reply does not decode: %v\n%x", err, w.Bytes())
			}
		}
		fx.srv.Close()
	})
}
