package state

import (
	"testing"
	"time"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

// Delegation scenarios (RFC 8881 §10.2-§10.4), scripted with the fake
// clock.

const exportID = 9

// delegate asks for a delegation after an OPEN with access and want.
func (e *env) delegate(c ClientID, file lock.FileKey, access lock.ShareMode, want uint32) DelegResult {
	e.t.Helper()
	r, st := e.m.Delegate(DelegArgs{ClientID: c, File: file, Export: exportID, FH: []byte("fh-" + string(file)),
		Access: access, Want: want, Allowed: true, Change: 100})
	wantStatus(e.t, "Delegate", st, OK)
	return r
}

func (e *env) mustDelegate(c ClientID, file lock.FileKey, access lock.ShareMode, want uint32, typ DelegType) Stateid {
	e.t.Helper()
	r := e.delegate(c, file, access, want)
	if r.Type != typ {
		e.t.Fatalf("delegation of %s: %+v, want type %d", file, r, typ)
	}
	return r.Stateid
}

func (e *env) openEff(c ClientID, owner string, file lock.FileKey, access, deny lock.ShareMode) (Effects, Status) {
	e.t.Helper()
	_, eff, st := e.m.Open(OpenArgs{ClientID: c, Owner: []byte(owner), File: file, Access: access, Deny: deny})
	return eff, st
}

func wantRecalls(t *testing.T, what string, eff Effects, want ...Recall) {
	t.Helper()
	if len(eff.Recalls) != len(want) {
		t.Fatalf("%s: recalls %+v, want %+v", what, eff.Recalls, want)
	}
	for i := range want {
		g, w := eff.Recalls[i], want[i]
		if g.ClientID != w.ClientID || g.Stateid != w.Stateid || g.Truncate != w.Truncate || string(g.FH) != string(w.FH) {
			t.Fatalf("%s: recall %+v, want %+v", what, g, w)
		}
	}
}

// RFC 8881 §10.4.4, §18.6: another client's OPEN for writing recalls a
// read delegation and gets NFS4ERR_DELAY, without a second CB_RECALL,
// until DELEGRETURN; then it succeeds.
func TestDelegReadRecalledByWriteOpen(t *testing.T) {
	e := newEnv(t)
	a, _ := e.mount("a")
	b, _ := e.mount("b")
	e.mustOpen(a, "oa", "f", R, none)
	d := e.mustDelegate(a, "f", R, nfs4xdr.OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE, DelegRead)

	// Reading does not conflict with a read delegation.
	if eff, st := e.openEff(b, "ob", "f", R, none); st != OK || len(eff.Recalls) != 0 {
		t.Fatalf("read open by another client: %v %+v", st, eff)
	}
	eff, st := e.openEff(b, "ob2", "f", RW, none)
	wantStatus(t, "write open against a read delegation", st, errDelay)
	wantRecalls(t, "first conflict", eff, Recall{ClientID: a, Stateid: d, FH: []byte("fh-f")})
	eff, st = e.openEff(b, "ob2", "f", RW, none)
	wantStatus(t, "retry before DELEGRETURN", st, errDelay)
	wantRecalls(t, "retry", eff)
	// A deny conflicts too.
	_, st = e.openEff(b, "ob3", "f", R, W)
	wantStatus(t, "deny-write open against a recalled read delegation", st, errDelay)

	wantStatus(t, "DELEGRETURN", e.m.DelegReturn(a, "f", d), OK)
	if _, st := e.openEff(b, "ob2", "f", RW, none); st != OK {
		t.Fatalf("write open after return: %v", st)
	}
	wantStatus(t, "second DELEGRETURN", e.m.DelegReturn(a, "f", d), errBadStateid)
	if got := e.m.DelegCounters()[exportID]; got != (DelegCounters{Grants: 1, Recalls: 1, Returns: 1}) {
		t.Errorf("counters %+v", got)
	}
}

// RFC 8881 §10.4: a write delegation conflicts with any OPEN of another
// client, and the holder's own opens never recall its delegation.
func TestDelegWriteRecalledByAnyOpen(t *testing.T) {
	e := newEnv(t)
	a, _ := e.mount("a")
	b, _ := e.mount("b")
	e.mustOpen(a, "oa", "f", RW, none)
	d := e.mustDelegate(a, "f", RW, nfs4xdr.OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE, DelegWrite)
	if eff, st := e.openEff(a, "oa2", "f", R, none); st != OK || len(eff.Recalls) != 0 {
		t.Fatalf("the holder's own open: %v %+v", st, eff)
	}
	eff, st := e.openEff(b, "ob", "f", R, none)
	wantStatus(t, "read open against a write delegation", st, errDelay)
	wantRecalls(t, "write delegation", eff, Recall{ClientID: a, Stateid: d, FH: []byte("fh-f")})
}

// RFC 8881 §10.4.6, §8.2.2, §18.46.3: a recall not answered within a
// lease revokes the delegation; the conflicting request then proceeds,
// the stateid answers NFS4ERR_DELEG_REVOKED and SEQUENCE carries
// SEQ4_STATUS_RECALLABLE_STATE_REVOKED until FREE_STATEID.
func TestDelegRevokedAfterLease(t *testing.T) {
	for _, viaTick := range []bool{true, false} {
		name := "lazily"
		if viaTick {
			name = "by Tick"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			a, sa := e.mount("a")
			b, sb := e.mount("b")
			e.mustOpen(a, "oa", "f", R, none)
			d := e.mustDelegate(a, "f", R, nfs4xdr.OPEN4_SHARE_ACCESS_WANT_READ_DELEG, DelegRead)
			_, st := e.openEff(b, "ob", "f", W, none)
			wantStatus(t, "conflicting open", st, errDelay)

			e.clk.advance(lease) // a lease exactly: not yet
			e.ping(sa)
			e.ping(sb)
			e.m.Tick()
			_, st = e.openEff(b, "ob", "f", W, none)
			wantStatus(t, "open a lease after the recall", st, errDelay)
			e.clk.advance(time.Second)
			e.ping(sa) // the holder renews its lease, which does not save the delegation
			if viaTick {
				e.m.Tick()
			}
			if _, st := e.openEff(b, "ob", "f", W, none); st != OK {
				t.Fatalf("open after revocation: %v", st)
			}
			_, st = e.m.CheckAccess(a, "f", d, R)
			wantStatus(t, "READ with the revoked delegation", st, nfs4xdr.NFS4ERR_DELEG_REVOKED)
			if got := e.m.TestStateids(a, []Stateid{d}); got[0] != nfs4xdr.NFS4ERR_DELEG_REVOKED {
				t.Fatalf("TEST_STATEID: %v", got)
			}
			if f := e.ping(sa).StatusFlags; f != nfs4xdr.SEQ4_STATUS_RECALLABLE_STATE_REVOKED {
				t.Fatalf("status flags %#x, want RECALLABLE_STATE_REVOKED only", f)
			}
			wantStatus(t, "DELEGRETURN of a revoked delegation", e.m.DelegReturn(a, "f", d), nfs4xdr.NFS4ERR_DELEG_REVOKED)
			if _, st := e.m.FreeStateid(a, d); st != OK {
				t.Fatalf("FREE_STATEID: %v", st)
			}
			if f := e.ping(sa).StatusFlags; f != 0 {
				t.Fatalf("status flags %#x after FREE_STATEID", f)
			}
			if got := e.m.TestStateids(a, []Stateid{d}); got[0] != errBadStateid {
				t.Fatalf("TEST_STATEID after FREE_STATEID: %v", got)
			}
			if got := e.m.DelegCounters()[exportID]; got.Revocations != 1 || got.Recalls != 1 {
				t.Errorf("counters %+v", got)
			}
		})
	}
}

// A courtesy client's delegation (its lease ran out) is revoked at once
// on conflict, without a recall (RFC 8881 §8.3, the courteous server).
func TestDelegCourtesyRevokedAtOnce(t *testing.T) {
	e := newEnv(t)
	a, _ := e.mount("a")
	b, _ := e.mount("b")
	e.mustOpen(a, "oa", "f", R, none)
	e.mustDelegate(a, "f", R, 0, DelegRead)
	e.clk.advance(lease + time.Second)
	eff, st := e.m.RecallConflicts(ConflictArgs{ClientID: b, File: "f", Write: true})
	if st != OK || len(eff.Recalls) != 0 {
		t.Fatalf("conflict with a courtesy client's delegation: %v %+v", st, eff)
	}
}

// RFC 8881 §10.2, §10.4.1: the grant policy, and the why-not codes of
// OPEN_DELEGATE_NONE_EXT (§18.16.3).
func TestDelegPolicy(t *testing.T) {
	const (
		noPref = nfs4xdr.OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE
		wRead  = nfs4xdr.OPEN4_SHARE_ACCESS_WANT_READ_DELEG
		wWrite = nfs4xdr.OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG
		wAny   = nfs4xdr.OPEN4_SHARE_ACCESS_WANT_ANY_DELEG
	)
	type setup func(e *env, a, b ClientID)
	tests := []struct {
		name    string
		setup   setup
		access  lock.ShareMode
		want    uint32
		allowed bool
		typ     DelegType
		ext     bool
		why     nfs4xdr.WhyNoDelegation4
	}{
		{name: "read open, no preference", access: R, want: noPref, allowed: true, typ: DelegRead},
		{name: "write open, no preference", access: RW, want: noPref, allowed: true, typ: DelegWrite},
		{name: "write open, wants read", access: RW, want: wRead, allowed: true, typ: DelegRead},
		{name: "read open, wants write", access: R, want: wWrite, allowed: true, typ: DelegWrite},
		{name: "wants none", access: R, want: nfs4xdr.OPEN4_SHARE_ACCESS_WANT_NO_DELEG, allowed: true, ext: true, why: nfs4xdr.WND4_NOT_WANTED},
		{name: "cancel", access: R, want: nfs4xdr.OPEN4_SHARE_ACCESS_WANT_CANCEL, allowed: true, ext: true, why: nfs4xdr.WND4_CANCELLED},
		{name: "export off", access: R, want: wRead, allowed: false, ext: true, why: nfs4xdr.WND4_RESOURCE},
		{name: "export off, no preference", access: R, want: noPref, allowed: false},
		{name: "switched off", access: R, want: wRead, allowed: true, ext: true, why: nfs4xdr.WND4_RESOURCE,
			setup: func(e *env, a, b ClientID) { e.m.SetDelegations(false) }},
		{name: "callback path down", access: R, want: wRead, allowed: true, ext: true, why: nfs4xdr.WND4_RESOURCE,
			setup: func(e *env, a, b ClientID) { e.m.SetCallbackDown(a, true) }},
		{name: "another client writes", access: R, want: wRead, allowed: true, ext: true, why: nfs4xdr.WND4_CONTENTION,
			setup: func(e *env, a, b ClientID) { e.mustOpen(b, "ob", "f", W, none) }},
		{name: "an NLM share writes", access: R, want: wAny, allowed: true, ext: true, why: nfs4xdr.WND4_CONTENTION,
			setup: func(e *env, a, b ClientID) {
				if err := e.locks.Share("f", lock.Owner{Kind: lock.NLM, Client: "h", ID: "x"}, W, none); err != nil {
					e.t.Fatal(err)
				}
			}},
		// An NLM host's locks are invisible to OPEN: a delegation would
		// let the v4 client lock locally past them (interop
		// TestLocksV3V4).
		{name: "an NLM host holds a shared lock: write refused", access: RW, want: wWrite, allowed: true, ext: true, why: nfs4xdr.WND4_CONTENTION,
			setup: func(e *env, a, b ClientID) { nlmLock(e, false) }},
		{name: "an NLM host holds a shared lock: read given", access: R, want: wRead, allowed: true, typ: DelegRead,
			setup: func(e *env, a, b ClientID) { nlmLock(e, false) }},
		{name: "an NLM host holds an exclusive lock: no delegation", access: RW, want: wAny, allowed: true, ext: true, why: nfs4xdr.WND4_CONTENTION,
			setup: func(e *env, a, b ClientID) { nlmLock(e, true) }},
		{name: "another client reads: write refused", access: RW, want: wWrite, allowed: true, ext: true, why: nfs4xdr.WND4_CONTENTION,
			setup: func(e *env, a, b ClientID) { e.mustOpen(b, "ob", "f", R, none) }},
		{name: "another client reads: any gives read", access: RW, want: wAny, allowed: true, typ: DelegRead,
			setup: func(e *env, a, b ClientID) { e.mustOpen(b, "ob", "f", R, none) }},
		{name: "own other open writes", access: R, want: wRead, allowed: true, typ: DelegRead,
			setup: func(e *env, a, b ClientID) { e.mustOpen(a, "oa2", "f", W, none) }},
		{name: "another client holds a read delegation: read shared", access: R, want: wRead, allowed: true, typ: DelegRead,
			setup: func(e *env, a, b ClientID) {
				e.mustOpen(b, "ob", "f", R, none)
				e.mustDelegate(b, "f", R, wRead, DelegRead)
			}},
		{name: "already delegated to this client", access: R, want: wRead, allowed: true, ext: true, why: nfs4xdr.WND4_CONTENTION,
			setup: func(e *env, a, b ClientID) { e.mustDelegate(a, "f", R, wRead, DelegRead) }},
		{name: "recalled within the cool-down", access: R, want: wRead, allowed: true, ext: true, why: nfs4xdr.WND4_CONTENTION,
			setup: func(e *env, a, b ClientID) {
				d := e.mustDelegate(a, "f", R, wRead, DelegRead)
				e.m.RecallConflicts(ConflictArgs{File: "f", Write: true})
				e.m.DelegReturn(a, "f", d)
				e.clk.advance(defCooldown - time.Second)
			}},
		{name: "recalled before the cool-down", access: R, want: wRead, allowed: true, typ: DelegRead,
			setup: func(e *env, a, b ClientID) {
				d := e.mustDelegate(a, "f", R, wRead, DelegRead)
				e.m.RecallConflicts(ConflictArgs{File: "f", Write: true})
				e.m.DelegReturn(a, "f", d)
				e.clk.advance(defCooldown)
				e.m.Tick()
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			a, _ := e.mount("a")
			b, _ := e.mount("b")
			if tt.setup != nil {
				tt.setup(e, a, b)
			}
			e.mustOpen(a, "oa", "f", tt.access, none)
			r, _ := e.m.Delegate(DelegArgs{ClientID: a, File: "f", Export: exportID, Access: tt.access, Want: tt.want, Allowed: tt.allowed})
			if r.Type != tt.typ || r.Ext != tt.ext || (tt.ext && r.Why != tt.why) {
				t.Fatalf("got %+v, want type %d ext %v why %v", r, tt.typ, tt.ext, tt.why)
			}
		})
	}
}

// RFC 8881 §8.4.2: no new delegations during grace; a reclaimed one
// (CLAIM_PREVIOUS with delegate_type, §9.11) is granted, with the recall
// flag when the server would not grant it now.
func TestDelegGraceAndReclaim(t *testing.T) {
	e := newEnv(t, ClientRecord{Owner: []byte("a"), Principal: "sys:0"}, ClientRecord{Owner: []byte("z"), Principal: "sys:0"})
	r := e.exchange("a", verf(1), "sys:0")
	e.createSession(r, "sys:0")
	a := r.ClientID
	if _, _, st := e.m.Open(OpenArgs{ClientID: a, Owner: []byte("o"), File: "f", Access: R, Reclaim: true}); st != OK {
		t.Fatalf("reclaim open: %v", st)
	}
	if got := e.delegate(a, "f", R, nfs4xdr.OPEN4_SHARE_ACCESS_WANT_READ_DELEG); got.Type != DelegNone || got.Why != nfs4xdr.WND4_RESOURCE {
		t.Fatalf("new delegation during grace: %+v", got)
	}
	got, st := e.m.Delegate(DelegArgs{ClientID: a, File: "f", Export: exportID, Access: R, Allowed: true, Reclaim: DelegWrite})
	if st != OK || got.Type != DelegWrite || got.Recall {
		t.Fatalf("reclaimed delegation: %+v %v", got, st)
	}
	e.m.SetCallbackDown(a, true)
	got, st = e.m.Delegate(DelegArgs{ClientID: a, File: "g", Export: exportID, Access: R, Allowed: true, Reclaim: DelegRead})
	if st != OK || got.Type != DelegRead || !got.Recall {
		t.Fatalf("reclaimed delegation with the callback path down: %+v %v", got, st)
	}
	// A client that was not there before the restart may not reclaim.
	rb := e.exchange("b", verf(1), "sys:0")
	e.createSession(rb, "sys:0")
	_, st = e.m.Delegate(DelegArgs{ClientID: rb.ClientID, File: "h", Export: exportID, Access: R, Allowed: true, Reclaim: DelegRead})
	wantStatus(t, "reclaim by a new client", st, errReclaimBad)
	// Nor may anyone once grace is over.
	e.clk.advance(lease + time.Second)
	e.m.Tick()
	_, st = e.m.Delegate(DelegArgs{ClientID: a, File: "h", Export: exportID, Access: R, Allowed: true, Reclaim: DelegRead})
	wantStatus(t, "reclaim after grace", st, errNoGrace)
}

// RFC 8881 §10.4.4: requests that change a file or its name without an
// open (SETATTR, REMOVE, RENAME, LINK; NFSv3 and NLM, client 0) recall
// every delegation of other clients; reads recall only write delegations;
// I/O with the anonymous stateid goes through the same check.
func TestDelegRecallConflicts(t *testing.T) {
	e := newEnv(t)
	a, _ := e.mount("a")
	b, _ := e.mount("b")
	e.mustOpen(a, "oa", "r", R, none)
	rd := e.mustDelegate(a, "r", R, 0, DelegRead)
	e.mustOpen(a, "oa", "w", RW, none)
	wd := e.mustDelegate(a, "w", RW, 0, DelegWrite)

	if eff, st := e.m.RecallConflicts(ConflictArgs{ClientID: a, File: "r", Write: true}); st != OK || len(eff.Recalls) != 0 {
		t.Fatalf("the holder's own change: %v %+v", st, eff)
	}
	if eff, st := e.m.RecallConflicts(ConflictArgs{File: "r"}); st != OK || len(eff.Recalls) != 0 {
		t.Fatalf("a read against a read delegation: %v %+v", st, eff)
	}
	if eff, st := e.m.CheckAccess(b, "r", AnonymousStateid, R); st != OK || len(eff.Recalls) != 0 {
		t.Fatalf("anonymous READ against a read delegation: %v %+v", st, eff)
	}
	eff, st := e.m.CheckAccess(b, "w", AnonymousStateid, R)
	wantStatus(t, "anonymous READ against a write delegation", st, errDelay)
	wantRecalls(t, "anonymous READ", eff, Recall{ClientID: a, Stateid: wd, FH: []byte("fh-w")})

	eff, st = e.m.RecallConflicts(ConflictArgs{File: "r", Write: true, Truncate: true})
	wantStatus(t, "NFSv3 truncation against a read delegation", st, errDelay)
	wantRecalls(t, "truncation", eff, Recall{ClientID: a, Stateid: rd, Truncate: true, FH: []byte("fh-r")})
	_, st = e.m.CheckAccess(b, "r", AnonymousStateid, W)
	wantStatus(t, "anonymous WRITE against a recalled delegation", st, errDelay)

	// The holder still uses its delegation stateid for I/O while recalled;
	// a read delegation does not allow writing.
	_, st = e.m.CheckAccess(a, "r", rd, R)
	wantStatus(t, "READ with the read delegation", st, OK)
	_, st = e.m.CheckAccess(a, "r", rd, W)
	wantStatus(t, "WRITE with the read delegation", st, errOpenmode)
	_, st = e.m.CheckAccess(a, "w", wd, W)
	wantStatus(t, "WRITE with the write delegation", st, OK)
	_, st = e.m.CheckAccess(b, "w", wd, R)
	wantStatus(t, "another client using the delegation stateid", st, errBadStateid)
}

// RFC 8881 §18.38.3, §18.50.3: a live delegation is state held: not freed
// by FREE_STATEID, and it keeps DESTROY_CLIENTID from succeeding. An
// evicted client's delegations stop conflicting.
func TestDelegHeldState(t *testing.T) {
	e := newEnv(t)
	a, sa := e.mount("a")
	b, _ := e.mount("b")
	d := e.mustDelegate(a, "f", 0, nfs4xdr.OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG, DelegWrite)
	_, st := e.m.FreeStateid(a, d)
	wantStatus(t, "FREE_STATEID of a live delegation", st, errLocksHeld)
	e.m.DestroySession(sa)
	_, st = e.m.DestroyClientID(a)
	wantStatus(t, "DESTROY_CLIENTID with a delegation", st, errClientIDBusy)
	snap := e.m.Snapshot()
	if len(snap.Delegations) != 1 || snap.Delegations[0].Stateid != d || snap.Delegations[0].Type != DelegWrite ||
		snap.DelegCounters[exportID].Grants != 1 {
		t.Fatalf("snapshot %+v %+v", snap.Delegations, snap.DelegCounters)
	}
	e.m.Evict(a)
	if _, st := e.openEff(b, "ob", "f", R, none); st != OK {
		t.Fatalf("open after the holder was evicted: %v", st)
	}
	if snap := e.m.Snapshot(); len(snap.Delegations) != 0 {
		t.Fatalf("delegations after eviction: %+v", snap.Delegations)
	}
}

// RFC 8881 §10.4.3: CB_GETATTR answers decide what another client's
// GETATTR reports for a file under a write delegation.
func TestDelegGetattrReply(t *testing.T) {
	e := newEnv(t)
	a, _ := e.mount("a")
	b, _ := e.mount("b")
	e.mustOpen(a, "oa", "f", RW, none)
	d := e.mustDelegate(a, "f", RW, 0, DelegWrite) // change 100 at grant
	if _, ok := e.m.WriteDelegated(a, "f"); ok {
		t.Fatal("the holder is asked about its own delegation")
	}
	q, ok := e.m.WriteDelegated(b, "f")
	if !ok || q.Holder != a || q.Stateid != d || string(q.FH) != "fh-f" {
		t.Fatalf("query %+v %v", q, ok)
	}
	steps := []struct {
		holderChange, holderSize uint64
		change, size             uint64
	}{
		{100, 7, 100, 50}, // unchanged: the server's values
		{101, 7, 101, 7},  // modified: the holder's size, change moves
		{101, 9, 101, 9},  // still modified since the grant
		{105, 12, 102, 12},
	}
	for i, s := range steps {
		c, sz := e.m.GetattrReply(q, 100, 50, s.holderChange, s.holderSize)
		if c != s.change || sz != s.size {
			t.Errorf("step %d: change %d size %d, want %d %d", i, c, sz, s.change, s.size)
		}
	}
	eff := e.m.RecallDelegation(d)
	wantRecalls(t, "recall after a failed CB_GETATTR", eff, Recall{ClientID: a, Stateid: d, FH: []byte("fh-f")})
	if eff := e.m.RecallDelegation(d); len(eff.Recalls) != 0 {
		t.Fatalf("second recall %+v", eff)
	}
}

// nlmLock takes bytes 0-99 of "f" for an NLM host in the shared table.
func nlmLock(e *env, exclusive bool) {
	r, _ := lock.RangeNLM(0, 100)
	if c, _, err := e.locks.Lock("f", lock.Owner{Kind: lock.NLM, Client: "v3host", ID: "1"}, r, exclusive); c != nil || err != nil {
		e.t.Fatalf("NLM lock: %v %v", c, err)
	}
}
