package state

import (
	"testing"

	"github.com/gonfs/gonfs/lock"
)

const (
	R    = lock.ShareRead
	W    = lock.ShareWrite
	RW   = lock.ShareBoth
	none = lock.ShareNone
)

// TestOpenUpgradeDowngradeClose: one open stateid per owner and file whose
// modes are the union of the OPENs; every change increments the seqid
// (RFC 8881 §9.1.1, §18.16.3, §18.18.3, §18.2).
func TestOpenUpgradeDowngradeClose(t *testing.T) {
	e := newEnv(t)
	c, _ := e.mount("host")
	s1 := e.mustOpen(c, "o", "f", R, none)
	if s1.Seqid != 1 || s1.Epoch() != epoch {
		t.Fatalf("first open %+v", s1)
	}
	s2 := e.mustOpen(c, "o", "f", W, lock.ShareWrite)
	if s2.Other != s1.Other || s2.Seqid != 2 {
		t.Fatalf("upgrade %+v, want same other, seqid 2", s2)
	}
	if sh := e.locks.Shares("f"); len(sh) != 1 || sh[0].Access != RW || sh[0].Deny != W {
		t.Fatalf("share after upgrade %+v", sh)
	}
	other := e.mustOpen(c, "o2", "f", R, none)
	if other.Other == s1.Other {
		t.Fatal("another owner shares the stateid")
	}
	_, st := e.m.OpenDowngrade(c, "f", s2, RW, none)
	wantStatus(t, "downgrade to modes never opened (deny none with access both)", st, errInval)
	_, st = e.m.OpenDowngrade(c, "f", s2, R, RW)
	wantStatus(t, "downgrade widening deny", st, errInval)
	_, st = e.m.OpenDowngrade(c, "f", s1, R, none)
	wantStatus(t, "downgrade with an old seqid", st, errOldStateid)
	s3, st := e.m.OpenDowngrade(c, "f", s2, R, none)
	wantStatus(t, "downgrade to the first open's modes", st, OK)
	if s3.Seqid != 3 {
		t.Errorf("downgrade seqid %d, want 3", s3.Seqid)
	}
	_, st = e.m.OpenDowngrade(c, "f", s3, W, none)
	wantStatus(t, "write after downgrade to read", st, errInval)

	// RFC 8881 §18.18.3: a downgrade may go to the union of several
	// OPENs, here READ and WRITE opened separately with deny none.
	u1 := e.mustOpen(c, "u", "h", R, none)
	e.mustOpen(c, "u", "h", W, none)
	// The owner's own reservation binds it too: denying write while it
	// holds write access conflicts (RFC 7530 §9.9, as knfsd).
	_, st = e.open(c, "u", "h", R, W)
	wantStatus(t, "OPEN denying the owner's own access", st, errShareDenied)
	cur := Stateid{Other: u1.Other} // seqid 0: the current one
	if _, st := e.m.OpenDowngrade(c, "h", cur, RW, none); st != OK {
		t.Errorf("downgrade to the union of READ and WRITE opens: %v", st)
	}
	_, _, st = e.m.Close(c, "g", s3)
	wantStatus(t, "CLOSE on another file", st, errBadStateid)
	cs, _, st := e.m.Close(c, "f", Stateid{Other: s3.Other}) // seqid 0: current
	wantStatus(t, "CLOSE", st, OK)
	if cs != InvalidStateid {
		t.Errorf("CLOSE returned %+v", cs)
	}
	_, _, st = e.m.Close(c, "f", s3)
	wantStatus(t, "CLOSE again", st, errBadStateid)
	if sh := e.locks.Shares("f"); len(sh) != 1 || sh[0].Owner.ID != "o2" {
		t.Errorf("shares after close %+v", sh)
	}
}

// TestShareConflicts: share reservations across clients and against NLM
// SHARE, through the one lock table (RFC 8881 §9.7).
func TestShareConflicts(t *testing.T) {
	tests := []struct {
		name         string
		access, deny lock.ShareMode // first client
		acc2, deny2  lock.ShareMode // second client
		want         Status
	}{
		{"read vs read", R, none, R, none, OK},
		{"deny write vs write", R, W, W, none, errShareDenied},
		{"deny write vs read", R, W, R, none, OK},
		{"write vs deny write", W, none, R, W, errShareDenied},
		{"deny read vs read", RW, R, R, none, errShareDenied},
		{"deny both vs anything", R, RW, R, none, errShareDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			a, _ := e.mount("a")
			b, _ := e.mount("b")
			e.mustOpen(a, "o", "f", tt.access, tt.deny)
			_, st := e.open(b, "o", "f", tt.acc2, tt.deny2)
			wantStatus(t, "second client", st, tt.want)
		})
	}
	e := newEnv(t)
	a, _ := e.mount("a")
	nlm := lock.Owner{Kind: lock.NLM, Client: "v3host", ID: "x"}
	if err := e.locks.Share("f", nlm, R, W); err != nil {
		t.Fatal(err)
	}
	_, st := e.open(a, "o", "f", W, none)
	wantStatus(t, "v4 write vs NLM deny-write", st, errShareDenied)
	e.mustOpen(a, "o", "f", R, none)
	_, st = e.open(a, "o", "f", 0, none)
	wantStatus(t, "access 0", st, errInval)
}

// TestCheckAccess: READ/WRITE stateid checks (RFC 8881 §8.2, §9.1.4).
func TestCheckAccess(t *testing.T) {
	e := newEnv(t)
	a, _ := e.mount("a")
	b, _ := e.mount("b")
	ro := e.mustOpen(a, "o", "f", R, W)
	wo := e.mustOpen(a, "o", "g", W, none)
	stale := ro
	stale.Other[0] ^= 1
	tests := []struct {
		name string
		c    ClientID
		file lock.FileKey
		s    Stateid
		want lock.ShareMode
		st   Status
	}{
		{"read through read open", a, "f", ro, R, OK},
		{"write through read open", a, "f", ro, W, errOpenmode},
		{"read through write open", a, "g", wo, R, OK},
		{"write through write open", a, "g", wo, W, OK},
		{"wrong file", a, "g", ro, R, errBadStateid},
		{"other client's stateid", b, "f", ro, R, errBadStateid},
		{"earlier boot", a, "f", stale, R, errStaleStateid},
		{"newer seqid", a, "f", Stateid{Seqid: 5, Other: ro.Other}, R, errBadStateid},
		{"anonymous read", b, "f", AnonymousStateid, R, OK},
		{"anonymous write vs deny write", b, "f", AnonymousStateid, W, errLocked},
		{"bypass write is anonymous", b, "f", BypassStateid, W, errLocked},
		{"anonymous write elsewhere", b, "g", AnonymousStateid, W, OK},
		{"current placeholder", a, "f", CurrentStateid, R, errBadStateid},
		{"invalid stateid", a, "f", InvalidStateid, R, errBadStateid},
		{"other all zero, odd seqid", a, "f", Stateid{Seqid: 9}, R, errBadStateid},
	}
	for _, tt := range tests {
		_, st := e.m.CheckAccess(tt.c, tt.file, tt.s, tt.want)
		wantStatus(t, tt.name, st, tt.st)
	}
	// A deny-read open stops anonymous reads, but not the bypass stateid.
	e.mustOpen(a, "o", "h", R, R)
	_, st := e.m.CheckAccess(b, "h", AnonymousStateid, R)
	wantStatus(t, "anonymous read vs deny read", st, errLocked)
	_, st = e.m.CheckAccess(b, "h", BypassStateid, R)
	wantStatus(t, "bypass read vs deny read", st, OK)
}

// TestStateidRules: TEST_STATEID and FREE_STATEID (RFC 8881 §18.48,
// §18.38) and the seqid rules of §8.2.2.
func TestStateidRules(t *testing.T) {
	e := newEnv(t)
	c, _ := e.mount("host")
	e.mustOpen(c, "o", "f", RW, none)
	open := e.mustOpen(c, "o", "f", R, none) // seqid 2
	res, _, st := e.lock(c, open, "lo", "f", true, 0, 10)
	wantStatus(t, "LOCK", st, OK)
	ls := res.Stateid
	got := e.m.TestStateids(c, []Stateid{
		open, {Other: open.Other}, {Seqid: 1, Other: open.Other}, {Seqid: 3, Other: open.Other},
		ls, AnonymousStateid, {Seqid: 1, Other: [12]byte{0, 0, 0, epoch, 9}}, {Other: [12]byte{0, 0, 0, epoch + 1, 1}},
	})
	want := []Status{OK, OK, errOldStateid, errBadStateid, OK, errBadStateid, errBadStateid, errStaleStateid}
	for i := range want {
		wantStatus(t, "TEST_STATEID entry", got[i], want[i])
	}
	_, st = e.m.FreeStateid(c, open)
	wantStatus(t, "FREE_STATEID of an open", st, errLocksHeld)
	_, st = e.m.FreeStateid(c, ls)
	wantStatus(t, "FREE_STATEID of a lock stateid with locks", st, errLocksHeld)
	_, _, st = e.m.Close(c, "f", open)
	wantStatus(t, "CLOSE with locks", st, errLocksHeld)
	ls, _, st = e.m.Unlock(c, "f", ls, 0, 10)
	wantStatus(t, "LOCKU", st, OK)
	_, st = e.m.FreeStateid(c, ls)
	wantStatus(t, "FREE_STATEID of an idle lock stateid", st, OK)
	wantStatus(t, "freed lock stateid", e.m.TestStateids(c, []Stateid{ls})[0], errBadStateid)
	_, _, st = e.m.Close(c, "f", open)
	wantStatus(t, "CLOSE", st, OK)
	if e.m.clients[c].live != 0 || len(e.m.stateids) != 0 {
		t.Errorf("leftover state: live %d, %d stateids", e.m.clients[c].live, len(e.m.stateids))
	}
}
