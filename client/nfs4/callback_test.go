package nfs4

import (
	"context"
	"testing"
	"time"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// TestLeaseRenewal: an idle client keeps its lease with background
// SEQUENCEs (RFC 8881 §8.3). The server's lease is 2 s; after 3 leases of
// silence from the caller, the client ID is still the same one, so no
// recovery was needed.
func TestLeaseRenewal(t *testing.T) {
	if testing.Short() {
		t.Skip("waits several lease periods")
	}
	ts := startServerLease(t, 2*time.Second)
	c := dial(t, ts, 1)
	cid, sid := c.ClientID(), c.SessionID()
	time.Sleep(6 * time.Second)
	if _, _, err := c.Stat(testCtx(t), ""); err != nil {
		t.Fatal(err)
	}
	if c.ClientID() != cid || c.SessionID() != sid {
		t.Error("the client ID or session was replaced: the lease expired while idle")
	}
}

// serveCB hands one backchannel call to the client's handler.
func serveCB(t *testing.T, c *Client, proc uint32, args xdr.Marshaler) (sunrpc.Status, *x.CB_COMPOUND4res) {
	t.Helper()
	var body []byte
	if args != nil {
		body = xdr.Marshal(nil, args)
	}
	var w xdr.Writer
	st := callbackHandler{c}.ServeRPC(context.Background(), &sunrpc.Call{Prog: callbackProgram, Vers: 1, Proc: proc, Args: body}, &w)
	if st != sunrpc.Success || proc == 0 {
		return st, nil
	}
	var res x.CB_COMPOUND4res
	if err := xdr.Unmarshal(w.Buf, &res); err != nil {
		t.Fatal(err)
	}
	return st, &res
}

// TestCallbacks: CB_NULL, and CB_COMPOUND with CB_SEQUENCE echoing the
// slot and sequence (RFC 8881 §20.9.3), CB_RECALL answered NFS4_OK
// (§20.2.3); a CB_COMPOUND not starting with CB_SEQUENCE is refused.
func TestCallbacks(t *testing.T) {
	ts := startServer(t)
	c := dial(t, ts, 1)
	if st, _ := serveCB(t, c, 0, nil); st != sunrpc.Success {
		t.Fatalf("CB_NULL: %v", st)
	}
	seq := x.NfsCbArgop4{Argop: x.OP_CB_SEQUENCE, Opcbsequence: x.CB_SEQUENCE4args{CsaSessionid: c.SessionID(), CsaSequenceid: 7, CsaSlotid: 0}}
	recall := x.NfsCbArgop4{Argop: x.OP_CB_RECALL, Opcbrecall: x.CB_RECALL4args{Fh: x.NfsFh4{1, 2, 3}}}
	_, res := serveCB(t, c, 1, &x.CB_COMPOUND4args{Minorversion: 1, Argarray: []x.NfsCbArgop4{seq, recall}})
	if res.Status != x.NFS4_OK || len(res.Resarray) != 2 {
		t.Fatalf("CB_COMPOUND: %v, %d results", res.Status, len(res.Resarray))
	}
	if ok := res.Resarray[0].Opcbsequence.CsrResok4; ok.CsrSequenceid != 7 || ok.CsrSessionid != c.SessionID() {
		t.Errorf("CB_SEQUENCE reply %+v", ok)
	}
	if res.Resarray[1].Opcbrecall.Status != x.NFS4_OK {
		t.Errorf("CB_RECALL: %v", res.Resarray[1].Opcbrecall.Status)
	}
	_, res = serveCB(t, c, 1, &x.CB_COMPOUND4args{Minorversion: 1, Argarray: []x.NfsCbArgop4{recall}})
	if res.Status != x.NFS4ERR_OP_NOT_IN_SESSION {
		t.Errorf("CB_COMPOUND without CB_SEQUENCE: %v", res.Status)
	}
	if st, _ := serveCB(t, c, 9, nil); st != sunrpc.ProcUnavail {
		t.Errorf("unknown procedure: %v", st)
	}
}
