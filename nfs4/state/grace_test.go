package state

import (
	"testing"
	"time"

	"github.com/gonfs/gonfs/lock"
)

// TestGrace: after a restart previous clients reclaim with CLAIM_PREVIOUS
// and reclaim locks, others wait with NFS4ERR_GRACE, and the grace period
// ends early once every previous client sent RECLAIM_COMPLETE
// (RFC 8881 §8.4.2, §8.4.2.1, §18.51).
func TestGrace(t *testing.T) {
	e := newEnv(t, ClientRecord{Owner: []byte("a"), Principal: "sys:0"}, ClientRecord{Owner: []byte("b"), Principal: "sys:0"})
	if !e.m.InGrace() {
		t.Fatal("not in grace with previous clients")
	}
	ra := e.exchange("a", verf(2), "sys:0")
	e.createSession(ra, "sys:0")
	a := ra.ClientID
	rn := e.exchange("new", verf(1), "sys:0")
	e.createSession(rn, "sys:0")
	n := rn.ClientID

	_, st := e.open(n, "o", "f", R, none)
	wantStatus(t, "new open in grace", st, errGrace)
	_, _, st = e.m.Open(OpenArgs{ClientID: n, Owner: []byte("o"), File: "f", Access: R, Reclaim: true})
	wantStatus(t, "reclaim by a client not in the store", st, errReclaimBad)
	_, st = e.m.CheckAccess(n, "f", AnonymousStateid, R)
	wantStatus(t, "anonymous read in grace", st, errGrace)
	_, _, st = e.m.LockTest(n, "f", []byte("x"), false, 0, 1)
	wantStatus(t, "LOCKT in grace", st, errGrace)

	res, _, st := e.m.Open(OpenArgs{ClientID: a, Owner: []byte("o"), File: "f", Access: RW, Deny: lock.ShareWrite, Reclaim: true})
	wantStatus(t, "reclaim open", st, OK)
	_, _, st = e.m.Lock(LockArgs{ClientID: a, File: "f", Exclusive: true, Offset: 0, Length: 1, Reclaim: true, NewOwner: true, OpenStateid: res.Stateid, Owner: []byte("l")})
	wantStatus(t, "reclaim lock", st, OK)
	_, _, st = e.m.Lock(LockArgs{ClientID: a, File: "f", Offset: 5, Length: 1, NewOwner: true, OpenStateid: res.Stateid, Owner: []byte("l")})
	wantStatus(t, "non-reclaim lock in grace", st, errGrace)

	eff, st := e.m.ReclaimComplete(a, false)
	wantStatus(t, "RECLAIM_COMPLETE a", st, OK)
	if len(eff.Persist) != 1 || string(eff.Persist[0].Owner) != "a" {
		t.Errorf("effects %+v, want a persisted", eff)
	}
	_, st = e.m.ReclaimComplete(a, false)
	wantStatus(t, "RECLAIM_COMPLETE again", st, errCompleteAlready)
	_, _, st = e.m.Open(OpenArgs{ClientID: a, Owner: []byte("o"), File: "g", Access: R, Reclaim: true})
	wantStatus(t, "reclaim after RECLAIM_COMPLETE", st, errNoGrace)
	if !e.m.InGrace() {
		t.Fatal("grace ended with b still to come")
	}

	rb := e.exchange("b", verf(2), "sys:0")
	e.createSession(rb, "sys:0")
	if _, st := e.m.ReclaimComplete(rb.ClientID, true); st != OK || !e.m.InGrace() {
		t.Fatalf("rca_one_fs: %v, in grace %v", st, e.m.InGrace())
	}
	eff, st = e.m.ReclaimComplete(rb.ClientID, false)
	wantStatus(t, "RECLAIM_COMPLETE b", st, OK)
	if e.m.InGrace() {
		t.Fatal("grace did not end when every previous client completed")
	}
	if len(eff.Remove) != 0 {
		t.Errorf("removed %+v though everyone came back", eff.Remove)
	}
	_, st = e.open(n, "o", "f", R, none)
	wantStatus(t, "new open after grace, before the client's RECLAIM_COMPLETE (RFC 8881 §18.51.3)", st, errGrace)
	if _, st := e.m.ReclaimComplete(n, false); st != OK {
		t.Fatalf("RECLAIM_COMPLETE n: %v", st)
	}
	_, st = e.open(n, "o", "f", R, none)
	wantStatus(t, "new open after grace (share a holds)", st, OK)
	_, _, st = e.m.Open(OpenArgs{ClientID: n, Owner: []byte("o"), File: "f", Access: R, Reclaim: true})
	wantStatus(t, "reclaim after grace", st, errNoGrace)
}

// TestGraceTimeout: grace ends after Options.Grace; the records of
// previous clients that never came back are removed then (RFC 8881 §8.4.3).
func TestGraceTimeout(t *testing.T) {
	e := newEnv(t, ClientRecord{Owner: []byte("gone")}, ClientRecord{Owner: []byte("back")})
	r := e.exchange("back", verf(1), "sys:0")
	e.createSession(r, "sys:0")
	e.m.ReclaimComplete(r.ClientID, false)
	e.clk.advance(lease - time.Second)
	if !e.m.InGrace() {
		t.Fatal("grace over early")
	}
	e.clk.advance(time.Second)
	if e.m.InGrace() {
		t.Fatal("grace outlived Options.Grace")
	}
	eff := e.m.Tick()
	if len(eff.Remove) != 1 || string(eff.Remove[0].Owner) != "gone" {
		t.Errorf("effects %+v, want gone's record removed", eff)
	}
	if eff := e.m.Tick(); len(eff.Remove) != 0 {
		t.Errorf("second Tick removed again: %+v", eff)
	}
}

// TestNoGraceWithoutPreviousClients: nothing to reclaim, no grace.
func TestNoGraceWithoutPreviousClients(t *testing.T) {
	e := newEnv(t)
	if e.m.InGrace() {
		t.Fatal("in grace with an empty recovery store")
	}
}
