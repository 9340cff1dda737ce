package nfs4

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"

	"github.com/gonfs/gonfs/nfs4/state"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// fakeCBClient is the callback side of a fake NFSv4.1 client: it answers
// CB_NULL and CB_COMPOUND (CB_SEQUENCE, then NFS4_OK for each op) and
// records what it got.
type fakeCBClient struct {
	mu        sync.Mutex
	nulls     chan struct{}
	compounds []nfs4xdr.CB_COMPOUND4args
	creds     []uint32 // credential flavors of the calls
}

func newFakeCB() *fakeCBClient { return &fakeCBClient{nulls: make(chan struct{}, 16)} }

func (f *fakeCBClient) ServeRPC(ctx context.Context, call *sunrpc.Call, w *xdr.Writer) sunrpc.Status {
	if call.Prog != nfs4xdr.NFS4_CALLBACK || call.Vers != nfs4xdr.NFS_CB {
		return sunrpc.ProgUnavail
	}
	f.mu.Lock()
	f.creds = append(f.creds, uint32(call.Cred.Flavor))
	f.mu.Unlock()
	switch call.Proc {
	case nfs4xdr.CB_NULL:
		f.nulls <- struct{}{}
		return sunrpc.Success
	case nfs4xdr.CB_COMPOUND:
		var args nfs4xdr.CB_COMPOUND4args
		if err := xdr.Unmarshal(call.Args, &args); err != nil {
			return sunrpc.GarbageArgs
		}
		f.mu.Lock()
		f.compounds = append(f.compounds, args)
		f.mu.Unlock()
		res := nfs4xdr.CB_COMPOUND4res{Tag: args.Tag}
		for _, op := range args.Argarray {
			r := nfs4xdr.NfsCbResop4{Resop: op.Argop}
			if op.Argop == nfs4xdr.OP_CB_SEQUENCE {
				a := op.Opcbsequence
				r.Opcbsequence = nfs4xdr.CB_SEQUENCE4res{CsrResok4: nfs4xdr.CB_SEQUENCE4resok{
					CsrSessionid: a.CsaSessionid, CsrSequenceid: a.CsaSequenceid}}
			}
			res.Resarray = append(res.Resarray, r)
		}
		res.Encode(w)
		return sunrpc.Success
	}
	return sunrpc.ProcUnavail
}

func (f *fakeCBClient) last() nfs4xdr.CB_COMPOUND4args {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.compounds[len(f.compounds)-1]
}

// listen serves the fixture's server over TCP on loopback.
func (f *fixture) listen() string {
	f.t.Helper()
	rpc := sunrpc.NewServer(sunrpc.Options{})
	rpc.Register(nfs4xdr.NFS4_PROGRAM, nfs4xdr.NFS_V4, f.srv)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		rpc.ServeTCP(l)
	}()
	f.t.Cleanup(func() {
		rpc.Close()
		<-done
		f.srv.Close()
	})
	return l.Addr().String()
}

// wireClient is a fake client on a real connection.
type wireClient struct {
	t  *testing.T
	c  *sunrpc.Client
	cb *fakeCBClient
}

func dialClient(t *testing.T, addr string) *wireClient {
	t.Helper()
	cb := newFakeCB()
	c, err := sunrpc.Dial(context.Background(), "tcp", addr, sunrpc.ClientOptions{
		Handler: cb, Auth: &rpcxdr.AuthsysParms{Machinename: "fake", Uid: 0}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &wireClient{t: t, c: c, cb: cb}
}

func (w *wireClient) compound(ops ...nfs4xdr.NfsArgop4) *nfs4xdr.COMPOUND4res {
	w.t.Helper()
	args := nfs4xdr.COMPOUND4args{Tag: nfs4xdr.Utf8strCs("wire"), Minorversion: 1, Argarray: ops}
	var res nfs4xdr.COMPOUND4res
	if err := w.c.Call(context.Background(), nfs4xdr.NFS4_PROGRAM, nfs4xdr.NFS_V4, nfs4xdr.NFSPROC4_COMPOUND, &args, &res); err != nil {
		w.t.Fatal(err)
	}
	return &res
}

func cbRecall(fh []byte) nfs4xdr.NfsCbArgop4 {
	return nfs4xdr.NfsCbArgop4{Argop: nfs4xdr.OP_CB_RECALL, Opcbrecall: nfs4xdr.CB_RECALL4args{Fh: fh}}
}

// RFC 8881 §2.10.3.1, §18.36, §20.9, §18.46.3: the back channel of a
// session is probed with CB_NULL, carries CB_COMPOUNDs that start with
// CB_SEQUENCE on slot 0, and when its connection goes away SEQUENCE
// reports SEQ4_STATUS_CB_PATH_DOWN until the client binds another.
func TestCallbacksOverLoopback(t *testing.T) {
	f := newFixture(t, "")
	addr := f.listen()
	c1 := dialClient(t, addr)

	res := c1.compound(opExchangeID("wire-owner", nfs4xdr.Verifier4{1}, 0))
	f.wantStatus(res, nfs4xdr.NFS4_OK, 1)
	ex := res.Resarray[0].OpexchangeId.EirResok4
	cs := opCreateSession(ex.EirClientid, ex.EirSequenceid, nfs4xdr.CREATE_SESSION4_FLAG_CONN_BACK_CHAN)
	cs.OpcreateSession.CsaSecParms = []nfs4xdr.CallbackSecParms4{
		{CbSecflavor: nfs4xdr.RPCSEC_GSS}, // skipped: no GSS
		{CbSecflavor: nfs4xdr.AUTH_SYS, CbspSysCred: nfs4xdr.AuthsysParms{Machinename: "srv", Uid: 7}},
	}
	res = c1.compound(cs)
	f.wantStatus(res, nfs4xdr.NFS4_OK, 1)
	sid := res.Resarray[0].OpcreateSession.CsrResok4.CsrSessionid
	<-c1.cb.nulls // the probe

	sess := &session{f: f, id: sid}
	seqFlags := func(w *wireClient) uint32 {
		t.Helper()
		sess.seq++
		res := w.compound(sess.sequence(sess.seq, false))
		f.wantStatus(res, nfs4xdr.NFS4_OK, 1)
		return res.Resarray[0].Opsequence.SrResok4.SrStatusFlags
	}

	ctx := context.Background()
	for want := nfs4xdr.Sequenceid4(1); want <= 2; want++ {
		out, err := f.srv.SendCallback(ctx, cbClient(sid), cbRecall([]byte("fh")))
		if err != nil {
			t.Fatal(err)
		}
		if out.Status != nfs4xdr.NFS4_OK || len(out.Resarray) != 2 {
			t.Fatalf("CB_COMPOUND reply %+v", out)
		}
		got := c1.cb.last()
		seq := got.Argarray[0].Opcbsequence
		if got.Minorversion != 1 || got.Argarray[0].Argop != nfs4xdr.OP_CB_SEQUENCE || seq.CsaSessionid != sid ||
			seq.CsaSequenceid != want || seq.CsaSlotid != 0 || got.Argarray[1].Argop != nfs4xdr.OP_CB_RECALL {
			t.Fatalf("callback %d: %+v", want, got)
		}
	}
	c1.cb.mu.Lock()
	for _, fl := range c1.cb.creds {
		if fl != uint32(rpcxdr.AUTH_SYS) {
			t.Errorf("callback with flavor %d, want AUTH_SYS", fl)
		}
	}
	c1.cb.mu.Unlock()
	if fl := seqFlags(c1); fl&(nfs4xdr.SEQ4_STATUS_CB_PATH_DOWN|nfs4xdr.SEQ4_STATUS_CB_PATH_DOWN_SESSION) != 0 {
		t.Fatalf("flags %#x with a working back channel", fl)
	}

	// The connection goes away: the callback fails and the path is down.
	c1.c.Close()
	if _, err := f.srv.SendCallback(ctx, cbClient(sid), cbRecall([]byte("fh"))); err == nil {
		t.Fatal("callback over a closed connection succeeded")
	}
	c2 := dialClient(t, addr)
	if fl := seqFlags(c2); fl&nfs4xdr.SEQ4_STATUS_CB_PATH_DOWN == 0 {
		t.Fatalf("flags %#x, want CB_PATH_DOWN", fl)
	}
	// The client binds its new connection to the back channel (§18.34).
	res = c2.compound(opBindConn(sid, nfs4xdr.CDFC4_BACK_OR_BOTH))
	f.wantStatus(res, nfs4xdr.NFS4_OK, 1)
	<-c2.cb.nulls
	if _, err := f.srv.SendCallback(ctx, cbClient(sid), cbRecall([]byte("fh"))); err != nil {
		t.Fatal(err)
	}
	if seq := c2.cb.last().Argarray[0].Opcbsequence.CsaSequenceid; seq != 3 {
		t.Fatalf("sequence after rebinding %d, want 3", seq)
	}
	if fl := seqFlags(c2); fl&nfs4xdr.SEQ4_STATUS_CB_PATH_DOWN != 0 {
		t.Fatalf("flags %#x after rebinding", fl)
	}
}

// A client with no back channel gets no callback.
func TestCallbackWithoutBackchannel(t *testing.T) {
	f := newFixture(t, "")
	s := f.newSession(root)
	if _, err := f.srv.SendCallback(context.Background(), s.clientID()); !errors.Is(err, ErrNoBackchannel) {
		t.Fatalf("err %v, want ErrNoBackchannel", err)
	}
}

func cbClient(sid nfs4xdr.Sessionid4) state.ClientID { return state.SessionID(sid).ClientID() }
