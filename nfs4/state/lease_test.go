package state

import (
	"testing"
	"time"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

// TestCourtesy: an expired client keeps its state until a conflicting
// request arrives; then only the conflicting state is revoked, and the
// client, when it returns, learns of it from SEQUENCE and TEST_STATEID and
// frees the stateid (RFC 8881 §8.3, §18.46.3, §18.48, §18.38).
func TestCourtesy(t *testing.T) {
	e := newEnv(t)
	a, sa := e.mount("a")
	b, sb := e.mount("b")
	fa := e.mustOpen(a, "o", "f", RW, W) // will conflict
	ga := e.mustOpen(a, "o", "g", R, none)
	res, _, st := e.lock(a, ga, "la", "g", false, 0, 10) // will not conflict
	wantStatus(t, "LOCK g", st, OK)
	ha := e.mustOpen(a, "o", "h", RW, none)
	hl, _, st := e.lock(a, ha, "la", "h", true, 0, 10) // will conflict with a LOCK
	wantStatus(t, "LOCK h", st, OK)

	e.clk.advance(lease + time.Second)
	e.ping(sb)
	if eff := e.m.Tick(); !eff.Empty() {
		t.Fatalf("Tick destroyed a courtesy client: %+v", eff)
	}
	if ci := e.m.Snapshot().Clients[0]; ci.ClientID != a || ci.State != Courtesy {
		t.Fatalf("client a %+v, want courtesy", ci)
	}
	// b's write open conflicts with a's deny-write: a's open of f goes.
	_, st = e.open(b, "o", "f", W, none)
	wantStatus(t, "b opens f for write", st, OK)
	// b's write lock on h conflicts with a's lock there: that lock goes.
	hb := e.mustOpen(b, "o", "h", RW, none)
	_, _, st = e.lock(b, hb, "lb", "h", true, 5, 1)
	wantStatus(t, "b locks h", st, OK)
	// g is untouched.
	if l := e.locks.Locks("g"); len(l) != 1 || l[0].Owner.ID != "la" {
		t.Fatalf("a's lock on g: %+v", l)
	}

	// a comes back.
	r := e.ping(sa)
	if r.StatusFlags&nfs4xdr.SEQ4_STATUS_EXPIRED_SOME_STATE_REVOKED == 0 {
		t.Errorf("status flags %#x, want EXPIRED_SOME_STATE_REVOKED", r.StatusFlags)
	}
	got := e.m.TestStateids(a, []Stateid{fa, ga, res.Stateid, hl.Stateid, ha})
	want := []Status{errExpired, OK, OK, errExpired, OK}
	for i := range want {
		wantStatus(t, "TEST_STATEID", got[i], want[i])
	}
	_, st = e.m.CheckAccess(a, "f", fa, R)
	wantStatus(t, "READ with a revoked stateid", st, errExpired)
	for _, s := range []Stateid{fa, hl.Stateid} {
		_, st = e.m.FreeStateid(a, s)
		wantStatus(t, "FREE_STATEID of a revoked stateid", st, OK)
	}
	if r := e.ping(sa); r.StatusFlags != 0 {
		t.Errorf("status flags %#x after freeing", r.StatusFlags)
	}
}

// TestCourtesyAllRevoked: EXPIRED_ALL_STATE_REVOKED when nothing is left;
// NLM can free a courtesy holder through ReleaseCourtesyHolder.
func TestCourtesyAllRevoked(t *testing.T) {
	e := newEnv(t)
	a, sa := e.mount("a")
	oa := e.mustOpen(a, "o", "f", RW, none)
	_, _, st := e.lock(a, oa, "la", "f", true, 0, 10)
	wantStatus(t, "LOCK", st, OK)
	holder := lock.Owner{Kind: lock.NFS4, Client: lockClient(a), ID: "la"}
	if _, ok := e.m.ReleaseCourtesyHolder("f", holder); ok {
		t.Fatal("released a live client's lock")
	}
	e.clk.advance(lease + time.Second)
	if _, ok := e.m.ReleaseCourtesyHolder("f", holder); !ok {
		t.Fatal("courtesy lock not released")
	}
	if _, ok := e.m.ReleaseCourtesyHolder("f", lock.Owner{Kind: lock.NFS4, Client: lockClient(a), ID: "o"}); !ok {
		t.Fatal("courtesy share not released")
	}
	if n := len(e.locks.Locks("f")) + len(e.locks.Shares("f")); n != 0 {
		t.Fatalf("%d locks and shares left", n)
	}
	if f := e.ping(sa).StatusFlags; f&nfs4xdr.SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED == 0 {
		t.Errorf("flags %#x, want EXPIRED_ALL_STATE_REVOKED", f)
	}
}

// TestTickExpiry: expired clients without state go at once; courtesy
// clients go after CourtesyLimit; unconfirmed records after a lease.
func TestTickExpiry(t *testing.T) {
	e := newEnv(t)
	idle, _ := e.mount("idle")
	busy, _ := e.mount("busy")
	e.mustOpen(busy, "o", "f", R, none)
	unconf := e.exchange("unconf", verf(1), "sys:0").ClientID
	e.clk.advance(lease)
	if eff := e.m.Tick(); !eff.Empty() || len(e.m.clients) != 3 {
		t.Fatalf("Tick at exactly one lease: %+v, %d clients", eff, len(e.m.clients))
	}
	e.clk.advance(time.Second)
	eff := e.m.Tick()
	if e.m.clients[idle] != nil || e.m.clients[unconf] != nil || e.m.clients[busy] == nil {
		t.Fatalf("after expiry: idle %v unconf %v busy %v", e.m.clients[idle] != nil, e.m.clients[unconf] != nil, e.m.clients[busy] != nil)
	}
	if len(eff.Remove) != 1 || string(eff.Remove[0].Owner) != "idle" {
		t.Errorf("effects %+v, want idle's record removed", eff)
	}
	e.clk.advance(defCourtesy)
	eff = e.m.Tick()
	if e.m.clients[busy] != nil || len(e.locks.Shares("f")) != 0 {
		t.Fatal("courtesy client outlived CourtesyLimit")
	}
	if len(eff.Remove) != 1 || string(eff.Remove[0].Owner) != "busy" {
		t.Errorf("effects %+v, want busy's record removed", eff)
	}
}

// TestLeaseRenewal: SEQUENCE renews; a running request keeps the client
// alive (RFC 8881 §8.3).
func TestLeaseRenewal(t *testing.T) {
	e := newEnv(t)
	c, s := e.mount("host")
	e.mustOpen(c, "o", "f", R, none)
	for range 5 {
		e.clk.advance(lease - time.Second)
		e.ping(s)
	}
	res, st := e.m.Sequence(SequenceArgs{SessionID: s, Slot: 1, Seq: 1})
	wantStatus(t, "SEQUENCE", st, OK)
	e.clk.advance(2 * lease)
	b, _ := e.mount("b")
	_, st = e.open(b, "o", "f", R, RW)
	wantStatus(t, "conflict with a client whose request runs", st, errShareDenied)
	e.m.Done(res.Token, nil, false)
	_, st = e.open(b, "o", "f", R, RW)
	wantStatus(t, "conflict once it expired", st, OK)
}
