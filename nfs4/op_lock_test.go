package nfs4

import (
	"math"
	"sync"
	"testing"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/nlm"
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
)

// lockNew is LOCK by a new lock-owner through an open stateid.
func lockNew(lt x.NfsLockType4, off, length uint64, openSid x.Stateid4, owner string) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_LOCK, Oplock: &x.LOCK4args{Locktype: lt, Offset: x.Offset4(off), Length: x.Length4(length),
		Locker: x.Locker4{NewLockOwner: true, OpenOwner: x.OpenToLockOwner4{OpenStateid: openSid,
			LockOwner: x.LockOwner4{Owner: []byte(owner)}}}}}
}

// lockExist is LOCK by a known lock-owner through its lock stateid.
func lockExist(lt x.NfsLockType4, off, length uint64, lockSid x.Stateid4) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_LOCK, Oplock: &x.LOCK4args{Locktype: lt, Offset: x.Offset4(off), Length: x.Length4(length),
		Locker: x.Locker4{LockOwner: x.ExistLockOwner4{LockStateid: lockSid}}}}
}

func locktArg(lt x.NfsLockType4, off, length uint64, owner string) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_LOCKT, Oplockt: &x.LOCKT4args{Locktype: lt, Offset: x.Offset4(off), Length: x.Length4(length),
		Owner: x.LockOwner4{Owner: []byte(owner)}}}
}

func lockuArg(lt x.NfsLockType4, sid x.Stateid4, off, length uint64) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_LOCKU, Oplocku: &x.LOCKU4args{Locktype: lt, LockStateid: sid, Offset: x.Offset4(off), Length: x.Length4(length)}}
}

// RFC 8881 §18.10, §18.11, §18.12, §9.4: two clients' locks conflict;
// the DENIED reply of LOCK and LOCKT describes the holder; after LOCKU
// the other client gets the lock.
func TestLockConflict(t *testing.T) {
	f := newFixture(t, "")
	f.seed("f", "data", 0o666, 0)
	a, b := f.newSession(root), f.newSession(root)
	oa := a.open(openName("oa", "f", accBoth, denyNone))
	ob := b.open(openName("ob", "f", accBoth, denyNone))

	res := a.call(opPutfh(oa.fh), lockNew(x.WRITE_LT, 0, 100, oa.sid, "la"))
	f.wantStatus(res, x.NFS4_OK, 3)
	la := res.Resarray[2].Oplock.Resok4.LockStateid
	if la.Seqid != 1 || la.Other == oa.sid.Other {
		t.Fatalf("lock stateid %+v", la)
	}
	wantDenied := x.LOCK4denied{Offset: 0, Length: 100, Locktype: x.WRITE_LT,
		Owner: x.LockOwner4{Clientid: a.cid, Owner: []byte("la")}}
	for _, lt := range []x.NfsLockType4{x.READ_LT, x.WRITEW_LT} {
		res = b.call(opPutfh(ob.fh), lockNew(lt, 50, 10, ob.sid, "lb"))
		f.wantStatus(res, x.NFS4ERR_DENIED, 3)
		if d := res.Resarray[2].Oplock.Denied; !sameDenied(d, wantDenied) {
			t.Errorf("LOCK %v denied %+v, want %+v", lt, d, wantDenied)
		}
		res = b.call(opPutfh(ob.fh), locktArg(lt, 50, 10, "lb"))
		f.wantStatus(res, x.NFS4ERR_DENIED, 3)
		if d := res.Resarray[2].Oplockt.Denied; !sameDenied(d, wantDenied) {
			t.Errorf("LOCKT %v denied %+v, want %+v", lt, d, wantDenied)
		}
	}
	// Beyond the range there is no conflict; LOCKT of the holder itself
	// neither.
	res = b.call(opPutfh(ob.fh), locktArg(x.WRITE_LT, 100, math.MaxUint64, "lb"))
	f.wantStatus(res, x.NFS4_OK, 3)
	res = a.call(opPutfh(oa.fh), locktArg(x.WRITE_LT, 0, 10, "la"))
	f.wantStatus(res, x.NFS4_OK, 3)

	// A known lock-owner locks again through its lock stateid (seqid 2),
	// then unlocks through the current stateid (seqid 3).
	res = a.call(opPutfh(oa.fh), lockExist(x.READ_LT, 200, 10, la), lockuArg(x.READ_LT, currentSid, 0, math.MaxUint64))
	f.wantStatus(res, x.NFS4_OK, 4)
	if got := res.Resarray[2].Oplock.Resok4.LockStateid; got.Other != la.Other || got.Seqid != 2 {
		t.Errorf("second LOCK stateid %+v", got)
	}
	if got := res.Resarray[3].Oplocku.LockStateid; got.Other != la.Other || got.Seqid != 3 {
		t.Errorf("LOCKU stateid %+v", got)
	}
	res = b.call(opPutfh(ob.fh), lockNew(x.WRITE_LT, 50, 10, ob.sid, "lb"))
	f.wantStatus(res, x.NFS4_OK, 3)
	// An old lock stateid is refused (§8.2.2).
	res = a.call(opPutfh(oa.fh), lockuArg(x.READ_LT, la, 0, 1))
	if st := lastStatus(res); st != x.NFS4ERR_OLD_STATEID {
		t.Errorf("LOCKU with seqid 1: %v, want OLD_STATEID", st)
	}
}

func sameDenied(a, b x.LOCK4denied) bool {
	return a.Offset == b.Offset && a.Length == b.Length && a.Locktype == b.Locktype &&
		a.Owner.Clientid == b.Owner.Clientid && string(a.Owner.Owner) == string(b.Owner.Owner)
}

// RFC 8881 §18.10.3, §18.10.4, §18.2.4: LOCK errors.
func TestLockErrors(t *testing.T) {
	f := newFixture(t, "")
	f.seed("f", "data", 0o666, 0)
	s := f.newSession(root)
	ro := s.open(openName("ro", "f", accRead, denyNone))
	tests := []struct {
		name string
		op   x.NfsArgop4
		want x.Nfsstat4
	}{
		{"zero length", lockNew(x.READ_LT, 0, 0, ro.sid, "l"), x.NFS4ERR_INVAL},
		{"overflow", lockNew(x.READ_LT, 10, math.MaxUint64-5, ro.sid, "l"), x.NFS4ERR_INVAL},
		{"bad type", lockNew(9, 0, 1, ro.sid, "l"), x.NFS4ERR_BADXDR},
		{"write lock through read open", lockNew(x.WRITE_LT, 0, 1, ro.sid, "l"), x.NFS4ERR_OPENMODE},
		{"anonymous open stateid", lockNew(x.READ_LT, 0, 1, anonSid, "l"), x.NFS4ERR_BAD_STATEID},
		{"unknown lock stateid", lockExist(x.READ_LT, 0, 1, ro.sid), x.NFS4ERR_BAD_STATEID},
		{"reclaim outside grace", x.NfsArgop4{Argop: x.OP_LOCK, Oplock: &x.LOCK4args{Locktype: x.READ_LT, Reclaim: true, Length: 1,
			Locker: x.Locker4{NewLockOwner: true, OpenOwner: x.OpenToLockOwner4{OpenStateid: ro.sid,
				LockOwner: x.LockOwner4{Owner: []byte("l")}}}}}, x.NFS4ERR_NO_GRACE},
		{"lockt zero length", locktArg(x.READ_LT, 0, 0, "l"), x.NFS4ERR_INVAL},
		{"locku zero length", lockuArg(x.READ_LT, ro.sid, 0, 0), x.NFS4ERR_INVAL},
		{"locku bad type", lockuArg(0, ro.sid, 0, 1), x.NFS4ERR_BADXDR},
		{"locku through open stateid", lockuArg(x.READ_LT, ro.sid, 0, 1), x.NFS4ERR_BAD_STATEID},
	}
	for _, tt := range tests {
		res := s.call(opPutfh(ro.fh), tt.op)
		if st := lastStatus(res); st != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, st, tt.want)
		}
	}
	for _, op := range []x.NfsArgop4{lockNew(x.READ_LT, 0, 1, ro.sid, "l"), locktArg(x.READ_LT, 0, 1, "l"), lockuArg(x.READ_LT, ro.sid, 0, 1)} {
		res := s.call(opPutrootfh(), op)
		if st := lastStatus(res); st != x.NFS4ERR_ISDIR {
			t.Errorf("%v of a directory: %v, want ISDIR", op.Argop, st)
		}
	}
	// CLOSE while the open's lock-owner holds locks (§18.2.4: this server
	// refuses rather than dropping them).
	res := s.call(opPutfh(ro.fh), lockNew(x.READ_LT, 0, 1, ro.sid, "l"), closeArg(ro.sid))
	if st := statuses(res); len(st) != 5 || st[0] != x.NFS4ERR_LOCKS_HELD || st[3] != x.NFS4_OK || st[4] != x.NFS4ERR_LOCKS_HELD {
		t.Errorf("CLOSE with locks: %v, want LOCKS_HELD", st)
	}
}

// RFC 8881 §8.4.2: a lock reclaim in grace is accepted, a new lock is
// NFS4ERR_GRACE.
func TestLockReclaim(t *testing.T) {
	f := newGraceFixture(t)
	f.seed("f", "x", 0o666, 0)
	prev := f.newSessionOwner(root, "prev", x.Verifier4{7})
	reclaim := openArg("o", accBoth, denyNone, noCreate, x.OpenClaim4{Claim: x.CLAIM_PREVIOUS})
	res := prev.call(opPutrootfh(), opLookup("f"), reclaim)
	f.wantStatus(res, x.NFS4_OK, 4)
	sid := res.Resarray[3].Opopen.Resok4.Stateid
	res = prev.call(opPutrootfh(), opLookup("f"), lockNew(x.WRITE_LT, 0, 1, sid, "l"))
	if st := lastStatus(res); st != x.NFS4ERR_GRACE {
		t.Errorf("new LOCK in grace: %v, want GRACE", st)
	}
	res = prev.call(opPutrootfh(), opLookup("f"), locktArg(x.WRITE_LT, 0, 1, "l"))
	if st := lastStatus(res); st != x.NFS4ERR_GRACE {
		t.Errorf("LOCKT in grace: %v, want GRACE", st)
	}
	lk := lockNew(x.WRITE_LT, 0, 1, sid, "l")
	lk.Oplock.Reclaim = true
	res = prev.call(opPutrootfh(), opLookup("f"), lk)
	f.wantStatus(res, x.NFS4_OK, 4)
}

// fakeWaker records the NLM requests the server is told to grant.
type fakeWaker struct {
	mu    sync.Mutex
	woken []*lock.Waiter
}

func (w *fakeWaker) Wake(ws []*lock.Waiter) {
	w.mu.Lock()
	w.woken = append(w.woken, ws...)
	w.mu.Unlock()
}

// newWakerFixture is a fixture whose server hands NLM grants to a
// fakeWaker, as the NLM server would receive them.
func newWakerFixture(t *testing.T) (*fixture, *fakeWaker) {
	f := newFixture(t, "")
	w := &fakeWaker{}
	f.srv = New(f.ns, Options{State: f.state, Store: f.store, Waker: w, Now: f.clock.Now})
	return f, w
}

// DESIGN.md (one lock table), RFC 8881 §9.5: an NLM lock denies an NFSv4
// LOCK and LOCKT, and the holder is shown as "nlm:<host>" with client ID
// 0; an NFSv4 LOCKU grants a queued NLM request (NLM_GRANTED follows).
func TestLockNLMConflict(t *testing.T) {
	f, waker := newWakerFixture(t)
	f.seed("f", "data", 0o666, 0)
	s := f.newSession(root)
	o := s.open(openName("o", "f", accBoth, denyNone))
	e, h, _, err := f.ns.ResolveAny(o.fh)
	if err != nil {
		t.Fatal(err)
	}
	key := nlm.FileKey(e, h)
	nlmOwner := lock.Owner{Kind: lock.NLM, Client: "host3", ID: "svid1"}
	r, _ := lock.RangeNLM(10, 10)
	if conflict, _, err := f.locks.Lock(key, nlmOwner, r, true); conflict != nil || err != nil {
		t.Fatalf("NLM lock: %v %v", conflict, err)
	}
	res := s.call(opPutfh(o.fh), lockNew(x.READ_LT, 0, math.MaxUint64, o.sid, "l"))
	f.wantStatus(res, x.NFS4ERR_DENIED, 3)
	want := x.LOCK4denied{Offset: 10, Length: 10, Locktype: x.WRITE_LT, Owner: x.LockOwner4{Owner: []byte("nlm:host3")}}
	if d := res.Resarray[2].Oplock.Denied; !sameDenied(d, want) {
		t.Errorf("denied %+v, want %+v", d, want)
	}
	res = s.call(opPutfh(o.fh), locktArg(x.WRITE_LT, 15, 1, "l"))
	f.wantStatus(res, x.NFS4ERR_DENIED, 3)
	f.locks.Unlock(key, nlmOwner, r)

	// Now the NFSv4 client holds a lock and an NLM client waits for it.
	res = s.call(opPutfh(o.fh), lockNew(x.WRITE_LT, 0, 100, o.sid, "l"))
	f.wantStatus(res, x.NFS4_OK, 3)
	granted, waiter, _, err := f.locks.Wait(key, nlmOwner, r, true, "cookie")
	if granted || waiter == nil || err != nil {
		t.Fatalf("NLM wait: granted %v waiter %v err %v", granted, waiter, err)
	}
	if len(waker.woken) != 0 {
		t.Fatalf("woken before LOCKU: %v", waker.woken)
	}
	res = s.call(opPutfh(o.fh), lockuArg(x.WRITE_LT, res.Resarray[2].Oplock.Resok4.LockStateid, 0, math.MaxUint64))
	f.wantStatus(res, x.NFS4_OK, 3)
	waker.mu.Lock()
	defer waker.mu.Unlock()
	if len(waker.woken) != 1 || waker.woken[0] != waiter || waker.woken[0].Cookie() != "cookie" {
		t.Errorf("woken %v, want the queued NLM request", waker.woken)
	}
	if locks := f.locks.Locks(key); len(locks) != 1 || locks[0].Owner != nlmOwner {
		t.Errorf("locks after the grant: %+v", locks)
	}
}
