package nfs4

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gonfs/gonfs/nfs4/state"
	"github.com/gonfs/gonfs/portmap"
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
)

// listenCB40 runs the callback service of a fake NFSv4.0 client on a
// loopback port and returns it with its universal address.
func listenCB40(t *testing.T) (*fakeCBClient, string) {
	t.Helper()
	cb := newFakeCB()
	rpc := sunrpc.NewServer(sunrpc.Options{})
	rpc.Register(x.NFS4_CALLBACK, x.NFS_CB, cb)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		rpc.ServeTCP(l)
	}()
	t.Cleanup(func() {
		rpc.Close()
		<-done
	})
	ap := netip.MustParseAddrPort(l.Addr().String())
	return cb, portmap.FormatUAddr(ap)
}

// RFC 7530 §3.3.3, §16.33, §16.34: after SETCLIENTID_CONFIRM the server
// probes the address the client named with CB_NULL, and callbacks go
// there as CB_COMPOUND of minor version 0 with the callback_ident, no
// CB_SEQUENCE, with an AUTH_SYS credential. RENEW reports
// NFS4ERR_CB_PATH_DOWN only for a client holding delegations.
func TestCallback40OverLoopback(t *testing.T) {
	f := newFixture(t, "")
	t.Cleanup(func() { f.srv.Close() })
	fake, uaddr := listenCB40(t)
	cl := f.client40(root, "cb40", x.Verifier4{1})
	cl.cb = x.CbClient4{CbProgram: x.NFS4_CALLBACK, CbLocation: x.Netaddr4{NaRNetid: "tcp", NaRAddr: uaddr}}
	cl.ident = 77
	cl.setclientid()
	cl.confirmID()
	<-fake.nulls // the probe
	id := state.ClientID(cl.cid)
	// The probe's verdict is its last act; wait for it, so that it cannot
	// overwrite the path states the test sets below.
	waitCallbackUp(t, f, id)

	res, err := f.srv.SendCallback(context.Background(), id, cbRecall([]byte("fh")))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Resarray) != 1 || res.Resarray[0].Resop != x.OP_CB_RECALL {
		t.Fatalf("CB_COMPOUND reply %+v", res)
	}
	got := fake.last()
	if got.Minorversion != 0 || got.CallbackIdent != 77 || len(got.Argarray) != 1 || got.Argarray[0].Argop != x.OP_CB_RECALL {
		t.Fatalf("CB_COMPOUND args: minor %d ident %d ops %+v", got.Minorversion, got.CallbackIdent, got.Argarray)
	}
	fake.mu.Lock()
	creds := append([]uint32(nil), fake.creds...)
	fake.mu.Unlock()
	for _, fl := range creds {
		if fl != uint32(rpcxdr.AUTH_SYS) {
			t.Fatalf("callback credential flavors %v, want AUTH_SYS", creds)
		}
	}
	if st := cl.call(opRenew(cl.cid)).Status; st != x.NFS4_OK {
		t.Fatalf("RENEW with the path up: %v", st)
	}
	// The path goes down: without delegations RENEW does not care.
	f.state.SetCallbackDown(id, true)
	if st := cl.call(opRenew(cl.cid)).Status; st != x.NFS4_OK {
		t.Fatalf("RENEW with the path down, no delegations: %v", st)
	}
	// With the path up again the client gets a delegation; once the path
	// is down RENEW says so (RFC 7530 §16.29.4).
	f.state.SetCallbackDown(id, false)
	res2 := cl.call(opPutrootfh(), cl.create40Arg("oo", "f"), opGetfh())
	f.wantStatus(res2, x.NFS4_OK, 3)
	if d := res2.Resarray[1].Opopen.Resok4.Delegation.DelegationType; d != x.OPEN_DELEGATE_WRITE {
		t.Fatalf("delegation %v with the callback path up, want a write delegation", d)
	}
	// The holder's own WRITE and GETATTR of the size: the compound is
	// known to be the holder's from the stateid (NFSv4.0 has no
	// SEQUENCE), so no CB_GETATTR or CB_RECALL goes out.
	fake.mu.Lock()
	before := len(fake.compounds)
	fake.mu.Unlock()
	fh := res2.Resarray[2].Opgetfh.Resok4.Object
	open := res2.Resarray[1].Opopen.Resok4
	res2 = cl.call(opPutfh(fh), writeArg(open.Stateid, 0, x.UNSTABLE4, "data"),
		argGetattr(x.FATTR4_SIZE))
	f.wantStatus(res2, x.NFS4_OK, 3)
	fake.mu.Lock()
	after := len(fake.compounds)
	fake.mu.Unlock()
	if after != before {
		t.Fatalf("the holder's own GETATTR sent %d callbacks", after-before)
	}
	// The Linux client returns a delegation with PUTFH, GETATTR,
	// DELEGRETURN: the stateid of the DELEGRETURN makes the compound the
	// holder's from its start, so the GETATTR asks it nothing.
	dsid := open.Delegation.Write.Stateid
	res2 = cl.call(opPutfh(fh), argGetattr(x.FATTR4_SIZE),
		x.NfsArgop4{Argop: x.OP_DELEGRETURN, Opdelegreturn: &x.DELEGRETURN4args{DelegStateid: dsid}})
	f.wantStatus(res2, x.NFS4_OK, 3)
	fake.mu.Lock()
	after = len(fake.compounds)
	fake.mu.Unlock()
	if after != before {
		t.Fatalf("the holder's DELEGRETURN compound sent %d callbacks", after-before)
	}
	// A new delegation for the RENEW check below.
	res2 = cl.call(opPutrootfh(), cl.open40Arg("oo", cl.seq("oo"), x.OPEN4_SHARE_ACCESS_BOTH, 0, noCreate, claimNull("f")))
	f.wantStatus(res2, x.NFS4_OK, 2)
	f.state.SetCallbackDown(id, true)
	if st := cl.call(opRenew(cl.cid)).Status; st != x.NFS4ERR_CB_PATH_DOWN {
		t.Fatalf("RENEW with the path down and a delegation: %v", st)
	}
}

// RFC 7530 §16.33.4: a callback address the server will not dial (another
// address family than the client's connection, a netid other than TCP, a
// wildcard) leaves the client without a callback path, and SETCLIENTID
// still succeeds.
func TestCallback40Address(t *testing.T) {
	remote4 := netip.MustParseAddr("127.0.0.1")
	remote6 := netip.MustParseAddr("::1")
	tests := []struct {
		netid, addr string
		remote      netip.Addr
		ok          bool
	}{
		{"tcp", "127.0.0.1.3.232", remote4, true},
		{"tcp6", "::1.3.232", remote6, true},
		{"tcp6", "::1.3.232", remote4, false},
		{"tcp", "127.0.0.1.3.232", remote6, false},
		{"udp", "127.0.0.1.3.232", remote4, false},
		{"tcp", "0.0.0.0.3.232", remote4, false},
		{"tcp", "127.0.0.1.0.0", remote4, false},
		{"tcp", "127.0.0.1", remote4, false},
		{"tcp", "224.0.0.1.3.232", remote4, false},
	}
	for _, tt := range tests {
		_, _, ok := callbackAddr40(x.Netaddr4{NaRNetid: tt.netid, NaRAddr: tt.addr}, tt.remote)
		if ok != tt.ok {
			t.Errorf("%s %s from %v: ok %v, want %v", tt.netid, tt.addr, tt.remote, ok, tt.ok)
		}
	}

	f := newFixture(t, "")
	t.Cleanup(func() { f.srv.Close() })
	cl := f.client40(root, "cb40-bad", x.Verifier4{1})
	cl.cb.CbLocation = x.Netaddr4{NaRNetid: "tcp6", NaRAddr: "::1.3.232"}
	cl.setclientid()
	cl.confirmID()
	_, err := f.srv.SendCallback(context.Background(), state.ClientID(cl.cid), cbRecall([]byte("fh")))
	if !errors.Is(err, ErrNoBackchannel) {
		t.Fatalf("SendCallback without a usable address: %v", err)
	}
}

// waitCallbackUp waits until the state holds the client's callback path
// for up (the probe answered).
func waitCallbackUp(t *testing.T, f *fixture, id state.ClientID) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, c := range f.state.Snapshot().Clients {
			if c.ClientID == id && !c.CallbackDown {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the callback probe never reported the path up")
		}
		time.Sleep(time.Millisecond)
	}
}
