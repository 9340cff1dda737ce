package state

import (
	"math"
	"testing"

	"github.com/gonfs/gonfs/lock"
)

// TestLockConflicts: v4 against v4 and v4 against NLM in the one table
// (RFC 8881 §9.4, §18.10-§18.12).
func TestLockConflicts(t *testing.T) {
	e := newEnv(t)
	a, _ := e.mount("a")
	b, _ := e.mount("b")
	oa := e.mustOpen(a, "o", "f", RW, none)
	ob := e.mustOpen(b, "o", "f", RW, none)

	ra, _, st := e.lock(a, oa, "la", "f", true, 0, 100)
	wantStatus(t, "a write-locks 0-99", st, OK)
	if ra.Stateid.Seqid != 1 || ra.Stateid.Other == oa.Other {
		t.Fatalf("lock stateid %+v", ra.Stateid)
	}
	res, _, st := e.lock(b, ob, "lb", "f", false, 50, 10)
	wantStatus(t, "b read-locks 50-59", st, errDenied)
	want := Denied{Offset: 0, Length: 100, Exclusive: true, ClientID: a, Owner: []byte("la")}
	if d := res.Denied; d == nil || d.Offset != want.Offset || d.Length != want.Length || !d.Exclusive || d.ClientID != a || string(d.Owner) != "la" {
		t.Fatalf("denied %+v, want %+v", res.Denied, want)
	}
	if len(e.m.clients[b].lockOwners) != 0 {
		t.Error("a refused LOCK left a lock-owner behind")
	}
	d, _, st := e.m.LockTest(b, "f", []byte("lb"), false, 100, math.MaxUint64)
	wantStatus(t, "LOCKT past a's range", st, OK)
	if d != nil {
		t.Errorf("LOCKT denied %+v", d)
	}
	d, _, st = e.m.LockTest(b, "f", []byte("lb"), false, 99, 1)
	wantStatus(t, "LOCKT over a's range", st, errDenied)
	if d == nil || d.ClientID != a {
		t.Errorf("LOCKT holder %+v", d)
	}
	// Same lock-owner again through exist_lock_owner4: seqid goes up.
	r2, _, st := e.m.Lock(LockArgs{ClientID: a, File: "f", Exclusive: false, Offset: 200, Length: 10, LockStateid: ra.Stateid})
	wantStatus(t, "a locks more", st, OK)
	if r2.Stateid.Other != ra.Stateid.Other || r2.Stateid.Seqid != 2 {
		t.Errorf("existing lock stateid %+v", r2.Stateid)
	}
	_, _, st = e.m.Lock(LockArgs{ClientID: a, File: "f", Offset: 300, Length: 1, LockStateid: ra.Stateid})
	wantStatus(t, "old lock seqid", st, errOldStateid)
	u, _, st := e.m.Unlock(a, "f", r2.Stateid, 0, 100)
	wantStatus(t, "LOCKU", st, OK)
	if u.Seqid != 3 {
		t.Errorf("LOCKU seqid %d", u.Seqid)
	}
	_, _, st = e.lock(b, ob, "lb", "f", false, 50, 10)
	wantStatus(t, "b after a unlocked", st, OK)

	// NLM holds 1000-1999; a v4 write lock overlapping it is DENIED with a
	// synthesized owner.
	nlm := lock.Owner{Kind: lock.NLM, Client: "v3host", ID: "\x00\x00\x00\x01oh"}
	r, _ := lock.RangeNLM(1000, 1000)
	if c, _, _ := e.locks.Lock("f", nlm, r, true); c != nil {
		t.Fatal("NLM lock refused")
	}
	res, _, st = e.lock(b, ob, "lb2", "f", true, 1500, 1)
	wantStatus(t, "v4 vs NLM", st, errDenied)
	if d := res.Denied; d == nil || d.ClientID != 0 || string(d.Owner) != "nlm:v3host" || d.Offset != 1000 || d.Length != 1000 {
		t.Errorf("denied by NLM %+v", res.Denied)
	}
	// And NLM sees v4 locks: b's read lock 50-59 blocks an NLM write lock.
	r, _ = lock.RangeNLM(55, 1)
	if c := e.locks.Test("f", nlm, r, true); c == nil || c.Owner.Kind != lock.NFS4 {
		t.Errorf("NLM TEST over a v4 lock: %+v", c)
	}
}

// TestLockWakesNLM: an NLM waiter queued behind a v4 lock is granted by
// LOCKU and handed back in Effects.Woken for NLM_GRANTED.
func TestLockWakesNLM(t *testing.T) {
	e := newEnv(t)
	a, _ := e.mount("a")
	oa := e.mustOpen(a, "o", "f", RW, none)
	res, _, st := e.lock(a, oa, "la", "f", true, 0, 10)
	wantStatus(t, "LOCK", st, OK)
	nlm := lock.Owner{Kind: lock.NLM, Client: "v3host", ID: "x"}
	r, _ := lock.RangeNLM(0, 10)
	granted, w, _, err := e.locks.Wait("f", nlm, r, true, "cookie")
	if err != nil || granted || w == nil {
		t.Fatalf("Wait: %v %v %v", granted, w, err)
	}
	_, eff, st := e.m.Unlock(a, "f", res.Stateid, 0, 10)
	wantStatus(t, "LOCKU", st, OK)
	if len(eff.Woken) != 1 || eff.Woken[0] != w {
		t.Errorf("woken %v, want the NLM waiter", eff.Woken)
	}
}

// TestLockArgs: open modes and ranges (RFC 8881 §18.10.4).
func TestLockArgs(t *testing.T) {
	e := newEnv(t)
	a, _ := e.mount("a")
	ro := e.mustOpen(a, "o", "r", R, none)
	wo := e.mustOpen(a, "o", "w", W, none)
	_, _, st := e.lock(a, ro, "l", "r", true, 0, 1)
	wantStatus(t, "write lock on a read open", st, errOpenmode)
	_, _, st = e.lock(a, wo, "l", "w", false, 0, 1)
	wantStatus(t, "read lock on a write open", st, errOpenmode)
	_, _, st = e.lock(a, ro, "l", "r", false, 0, 0)
	wantStatus(t, "zero length", st, errInval)
	_, _, st = e.lock(a, ro, "l", "r", false, math.MaxUint64, 2)
	wantStatus(t, "overflow", st, errInval)
	_, _, st = e.lock(a, ro, "l", "w", false, 0, 1)
	wantStatus(t, "open stateid of another file", st, errBadStateid)
	if e.m.clients[a].live != 2 {
		t.Errorf("refused locks left stateids: live %d", e.m.clients[a].live)
	}
}
