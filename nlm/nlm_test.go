package nlm

import (
	"bytes"
	"context"
	"testing"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/proto/nlmxdr"
	"github.com/gonfs/gonfs/proto/nsmxdr"
	"github.com/gonfs/gonfs/xdr"
)

var (
	shared = lockOpts{}
	excl   = lockOpts{excl: true}
)

// Locks of two owners conflict when they overlap and one is exclusive;
// TEST names the holder (RFC 1813 Appendix II, nlm4_testres).
func TestConflictAndTest(t *testing.T) {
	tests := []struct {
		name         string
		first        lockOpts
		off, n       uint64
		second       lockOpts
		off2, n2     uint64
		want         nlmxdr.Nlm4Stats
		wantOff, wLn uint64
	}{
		{"exclusive blocks shared", excl, 0, 10, shared, 5, 1, nlmxdr.NLM4_DENIED, 0, 10},
		{"shared blocks exclusive", shared, 0, 0, excl, 100, 1, nlmxdr.NLM4_DENIED, 0, 0},
		{"shared with shared", shared, 0, 10, shared, 0, 10, nlmxdr.NLM4_GRANTED, 0, 0},
		{"disjoint ranges", excl, 0, 10, excl, 10, 10, nlmxdr.NLM4_GRANTED, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "")
			a := e.client("alpha", 7, 1000)
			b := e.client("beta", 9, 1000)
			if st := a.lock(e.fh2, tt.off, tt.n, tt.first); st != nlmxdr.NLM4_GRANTED {
				t.Fatalf("first lock: %v", st)
			}
			tr := b.test(e.fh2, tt.off2, tt.n2, tt.second.excl)
			if tr.Stat != tt.want {
				t.Fatalf("TEST: %v, want %v", tr.Stat, tt.want)
			}
			if tt.want == nlmxdr.NLM4_DENIED {
				h := tr.Holder
				if h.Svid != 7 || !bytes.Equal(h.Oh, a.oh) || h.LOffset != tt.wantOff || h.LLen != tt.wLn || h.Exclusive != tt.first.excl {
					t.Errorf("holder %+v, want svid 7 oh %q [%d,+%d] excl %v", h, a.oh, tt.wantOff, tt.wLn, tt.first.excl)
				}
			}
			if st := b.lock(e.fh2, tt.off2, tt.n2, tt.second); st != tt.want {
				t.Errorf("LOCK: %v, want %v", st, tt.want)
			}
		})
	}
}

// One owner's locks never conflict with each other: re-locking merges and
// converts (POSIX), and a process of the same client with another svid is
// another owner.
func TestSameOwnerRelock(t *testing.T) {
	e := newEnv(t, "")
	a := e.client("alpha", 1, 1000)
	for _, r := range [][2]uint64{{0, 10}, {10, 10}, {5, 10}} {
		if st := a.lock(e.fh2, r[0], r[1], excl); st != nlmxdr.NLM4_GRANTED {
			t.Fatalf("lock %v: %v", r, st)
		}
	}
	got := e.locks.Locks(e.key(e.fh2))
	if len(got) != 1 || got[0].Range.Start() != 0 || got[0].Range.End() != 19 {
		t.Fatalf("locks after merge: %+v, want one [0,19]", got)
	}
	if st := a.lock(e.fh2, 0, 20, shared); st != nlmxdr.NLM4_GRANTED {
		t.Fatalf("downgrade: %v", st)
	}
	other := e.client("alpha", 2, 1000)
	if st := other.lock(e.fh2, 0, 1, excl); st != nlmxdr.NLM4_DENIED {
		t.Fatalf("other svid of the same client: %v, want DENIED", st)
	}
	if st := a.unlock(e.fh2, 0, 0); st != nlmxdr.NLM4_GRANTED {
		t.Fatalf("unlock: %v", st)
	}
	if st := other.lock(e.fh2, 0, 1, excl); st != nlmxdr.NLM4_GRANTED {
		t.Fatalf("after unlock: %v", st)
	}
}

// A blocking LOCK that conflicts is answered BLOCKED; when the holder
// unlocks, the server calls NLM_GRANTED on the client's lock manager with
// the request's cookie and lock.
func TestBlockingGrantedByCallback(t *testing.T) {
	e := newEnv(t, "")
	a := e.client("alpha", 1, 1000)
	b := e.client("beta", 2, 1000)
	if st := a.lock(e.fh2, 0, 0, excl); st != nlmxdr.NLM4_GRANTED {
		t.Fatal(st)
	}
	if st := b.lock(e.fh2, 0, 100, lockOpts{excl: true, block: true}); st != nlmxdr.NLM4_BLOCKED {
		t.Fatalf("blocking lock: %v, want BLOCKED", st)
	}
	if st := a.unlock(e.fh2, 0, 0); st != nlmxdr.NLM4_GRANTED {
		t.Fatal(st)
	}
	c := e.fake.next(t)
	if c.prog != nlmxdr.NLM_PROG || c.proc != nlmxdr.NLMPROC4_GRANTED {
		t.Fatalf("callback prog %d proc %d, want NLM GRANTED", c.prog, c.proc)
	}
	var args nlmxdr.Nlm4Testargs
	if err := xdr.Unmarshal(c.args, &args); err != nil {
		t.Fatal(err)
	}
	if string(args.Cookie) != "ck-beta" || !args.Exclusive || args.Alock.Svid != 2 || args.Alock.CallerName != "beta" ||
		!bytes.Equal(args.Alock.Fh, e.fh2) || args.Alock.LLen != 100 {
		t.Errorf("GRANTED args %+v", args)
	}
	// The lock is held by beta and stays held: the client said GRANTED.
	e.waitFor("callback to finish", func() bool {
		e.s.mu.Lock()
		defer e.s.mu.Unlock()
		return len(e.s.blocked) == 0
	})
	if tr := a.test(e.fh2, 0, 1, false); tr.Stat != nlmxdr.NLM4_DENIED || tr.Holder.Svid != 2 {
		t.Errorf("after grant TEST: %+v, want DENIED by svid 2", tr)
	}
}

// A client that answers the GRANTED callback with anything but GRANTED
// does not get the lock: it is released again.
func TestRefusedCallbackReleases(t *testing.T) {
	e := newEnv(t, "")
	e.fake.setGrantStat(nlmxdr.NLM4_DENIED)
	a := e.client("alpha", 1, 1000)
	b := e.client("beta", 2, 1000)
	a.lock(e.fh2, 0, 0, excl)
	if st := b.lock(e.fh2, 0, 0, lockOpts{excl: true, block: true}); st != nlmxdr.NLM4_BLOCKED {
		t.Fatal(st)
	}
	a.unlock(e.fh2, 0, 0)
	if c := e.fake.next(t); c.proc != nlmxdr.NLMPROC4_GRANTED {
		t.Fatalf("proc %d", c.proc)
	}
	key := e.key(e.fh2)
	e.waitFor("refused lock to be released", func() bool { return len(e.locks.Locks(key)) == 0 })
}

// CANCEL takes a queued request out of the queue: a later unlock grants
// nothing and calls nobody back.
func TestCancelRemovesWaiter(t *testing.T) {
	e := newEnv(t, "")
	a := e.client("alpha", 1, 1000)
	b := e.client("beta", 2, 1000)
	a.lock(e.fh2, 0, 0, excl)
	if st := b.lock(e.fh2, 0, 0, lockOpts{excl: true, block: true}); st != nlmxdr.NLM4_BLOCKED {
		t.Fatal(st)
	}
	key := e.key(e.fh2)
	if n := len(e.locks.Waiting(key)); n != 1 {
		t.Fatalf("%d waiters, want 1", n)
	}
	if st := b.cancel(e.fh2, 0, 0, true); st != nlmxdr.NLM4_GRANTED {
		t.Fatalf("CANCEL: %v", st)
	}
	if n := len(e.locks.Waiting(key)); n != 0 {
		t.Fatalf("%d waiters after CANCEL, want 0", n)
	}
	a.unlock(e.fh2, 0, 0)
	if got := e.locks.Locks(key); len(got) != 0 {
		t.Fatalf("locks after unlock: %+v", got)
	}
	e.s.mu.Lock()
	nb, nh := len(e.s.blocked), len(e.s.hosts)
	e.s.mu.Unlock()
	if nb != 0 || nh != 0 {
		t.Errorf("server still tracks %d blocked requests and %d hosts", nb, nh)
	}
	select {
	case c := <-e.fake.calls:
		t.Errorf("unexpected callback proc %d", c.proc)
	default:
	}
}

// The _MSG procedures answer with an empty reply and deliver their result
// as the matching _RES call to the client's lock manager.
func TestMsgDeliversRes(t *testing.T) {
	e := newEnv(t, "")
	a := e.client("alpha", 1, 1000)
	b := e.client("beta", 2, 1000)
	a.lock(e.fh2, 0, 5, lockOpts{excl: true, proc: nlmxdr.NLMPROC4_LOCK_MSG})
	c := e.fake.next(t)
	var lr nlmxdr.Nlm4Res
	if c.proc != nlmxdr.NLMPROC4_LOCK_RES || xdr.Unmarshal(c.args, &lr) != nil || string(lr.Cookie) != "ck-alpha" || lr.Stat.Stat != nlmxdr.NLM4_GRANTED {
		t.Fatalf("after LOCK_MSG: proc %d res %+v", c.proc, lr)
	}
	ta := nlmxdr.Nlm4Testargs{Cookie: []byte("tm"), Exclusive: true, Alock: b.alock(e.fh2, 0, 1)}
	b.call(nlmxdr.NLMPROC4_TEST_MSG, &ta, nil)
	c = e.fake.next(t)
	var tr nlmxdr.Nlm4Testres
	if c.proc != nlmxdr.NLMPROC4_TEST_RES || xdr.Unmarshal(c.args, &tr) != nil {
		t.Fatalf("after TEST_MSG: proc %d", c.proc)
	}
	if string(tr.Cookie) != "tm" || tr.Stat.Stat != nlmxdr.NLM4_DENIED || tr.Stat.Holder.Svid != 1 || tr.Stat.Holder.LLen != 5 {
		t.Errorf("TEST_RES %+v", tr)
	}
}

// A blocked LOCK_MSG is granted with GRANTED_MSG; the client's GRANTED_RES
// (matched by our cookie) completes it, and a refusal releases the lock.
func TestGrantedMsgAndRes(t *testing.T) {
	for _, tt := range []struct {
		name string
		res  nlmxdr.Nlm4Stats
		held bool
	}{{"accepted", nlmxdr.NLM4_GRANTED, true}, {"refused", nlmxdr.NLM4_DENIED, false}} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "")
			a := e.client("alpha", 1, 1000)
			b := e.client("beta", 2, 1000)
			a.lock(e.fh2, 0, 0, excl)
			b.lock(e.fh2, 0, 0, lockOpts{excl: true, block: true, proc: nlmxdr.NLMPROC4_LOCK_MSG})
			if c := e.fake.next(t); c.proc != nlmxdr.NLMPROC4_LOCK_RES {
				t.Fatalf("proc %d, want LOCK_RES", c.proc)
			}
			a.unlock(e.fh2, 0, 0)
			c := e.fake.next(t)
			var ga nlmxdr.Nlm4Testargs
			if c.proc != nlmxdr.NLMPROC4_GRANTED_MSG || xdr.Unmarshal(c.args, &ga) != nil {
				t.Fatalf("proc %d, want GRANTED_MSG", c.proc)
			}
			b.call(nlmxdr.NLMPROC4_GRANTED_RES, &nlmxdr.Nlm4Res{Cookie: ga.Cookie, Stat: nlmxdr.Nlm4Stat{Stat: tt.res}}, nil)
			e.waitFor("grant to complete", func() bool {
				e.s.mu.Lock()
				defer e.s.mu.Unlock()
				return len(e.s.blocked) == 0 && len(e.s.pending) == 0
			})
			if held := len(e.locks.Locks(e.key(e.fh2))) == 1; held != tt.held {
				t.Errorf("lock held %v, want %v", held, tt.held)
			}
		})
	}
}

// FREE_ALL releases every lock and share of the named client and grants
// what was waiting on them.
func TestFreeAll(t *testing.T) {
	e := newEnv(t, "")
	a := e.client("alpha", 1, 1000)
	b := e.client("beta", 2, 1000)
	a.lock(e.fh2, 0, 10, excl)
	a.lock(e.fh, 0, 0, shared)
	a.share(nlmxdr.NLMPROC4_SHARE, e.fh2, nlmxdr.Fsa_R, nlmxdr.Fsm_DW, false)
	if st := b.lock(e.fh2, 0, 1, lockOpts{excl: true, block: true}); st != nlmxdr.NLM4_BLOCKED {
		t.Fatal(st)
	}
	a.call(nlmxdr.NLMPROC4_FREE_ALL, &nlmxdr.Nlm4Notify{Name: "alpha", State: 3}, nil)
	if c := e.fake.next(t); c.proc != nlmxdr.NLMPROC4_GRANTED {
		t.Fatalf("proc %d, want GRANTED for beta", c.proc)
	}
	if got := e.locks.OwnerLocks(owner(nil, "alpha", 1, a.oh)); len(got) != 0 {
		t.Errorf("alpha still holds %+v", got)
	}
	if st := b.share(nlmxdr.NLMPROC4_SHARE, e.fh2, nlmxdr.Fsa_RW, nlmxdr.Fsm_DN, false); st != nlmxdr.NLM4_GRANTED {
		t.Errorf("share after FREE_ALL: %v", st)
	}
}

// SM_NOTIFY from a rebooted client releases its locks, matched by
// mon_name or, failing that, by the address the locks came from.
func TestSMNotifyReleases(t *testing.T) {
	for _, tt := range []struct{ name, monName string }{
		{"by name", "alpha"},
		{"by address", "alpha.example.com"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "")
			a := e.client("alpha", 1, 1000)
			a.lock(e.fh2, 0, 0, excl)
			sm := nsmxdr.StatChge{MonName: tt.monName, State: 5}
			if err := a.c.Call(context.Background(), nsmxdr.SM_PROG, nsmxdr.SM_VERS, nsmxdr.SM_NOTIFY, &sm, nil); err != nil {
				t.Fatal(err)
			}
			if got := e.locks.Locks(e.key(e.fh2)); len(got) != 0 {
				t.Errorf("locks after SM_NOTIFY: %+v", got)
			}
		})
	}
}

// SHARE reservations conflict by the DOS rules; UNSHARE lifts them.
func TestShare(t *testing.T) {
	e := newEnv(t, "")
	a := e.client("alpha", 1, 1000)
	b := e.client("beta", 2, 1000)
	steps := []struct {
		c      *client
		proc   uint32
		access nlmxdr.Fsh4Access
		mode   nlmxdr.Fsh4Mode
		want   nlmxdr.Nlm4Stats
	}{
		{a, nlmxdr.NLMPROC4_SHARE, nlmxdr.Fsa_R, nlmxdr.Fsm_DW, nlmxdr.NLM4_GRANTED},
		{b, nlmxdr.NLMPROC4_SHARE, nlmxdr.Fsa_W, nlmxdr.Fsm_DN, nlmxdr.NLM4_DENIED},
		{b, nlmxdr.NLMPROC4_SHARE, nlmxdr.Fsa_R, nlmxdr.Fsm_DN, nlmxdr.NLM4_GRANTED},
		{b, nlmxdr.NLMPROC4_SHARE, nlmxdr.Fsa_R, nlmxdr.Fsm_DR, nlmxdr.NLM4_DENIED},
		{a, nlmxdr.NLMPROC4_UNSHARE, 0, 0, nlmxdr.NLM4_GRANTED},
		{b, nlmxdr.NLMPROC4_SHARE, nlmxdr.Fsa_RW, nlmxdr.Fsm_DR, nlmxdr.NLM4_GRANTED},
		{a, nlmxdr.NLMPROC4_SHARE, nlmxdr.Fsa_R, nlmxdr.Fsm_DN, nlmxdr.NLM4_DENIED},
		{a, nlmxdr.NLMPROC4_SHARE, 7, nlmxdr.Fsm_DN, nlmxdr.NLM4_FAILED},
	}
	for i, s := range steps {
		if st := s.c.share(s.proc, e.fh2, s.access, s.mode, false); st != s.want {
			t.Errorf("step %d (%s %d access %v mode %v): %v, want %v", i, s.c.name, s.proc, s.access, s.mode, st, s.want)
		}
	}
}

// Handles that do not verify are NLM4_STALE_FH; ranges past 2^64 are
// NLM4_FBIG; an exclusive lock needs write permission (or ownership).
func TestChecks(t *testing.T) {
	e := newEnv(t, "")
	bad := bytes.Clone(e.fh)
	bad[len(bad)-1] ^= 1
	owner := e.client("alpha", 1, 1000)
	other := e.client("beta", 2, 1001)
	tests := []struct {
		name string
		c    *client
		fh   []byte
		off  uint64
		n    uint64
		o    lockOpts
		want nlmxdr.Nlm4Stats
	}{
		{"stale handle", owner, bad, 0, 0, excl, nlmxdr.NLM4_STALE_FH},
		{"garbage handle", owner, []byte{1, 2, 3}, 0, 0, excl, nlmxdr.NLM4_STALE_FH},
		{"range overflow", owner, e.fh, 1<<63 + 1, 1 << 63, excl, nlmxdr.NLM4_FBIG},
		{"exclusive without write permission", other, e.fh, 0, 0, excl, nlmxdr.NLM4_FAILED},
		{"shared with read permission", other, e.fh, 0, 1, shared, nlmxdr.NLM4_GRANTED},
		{"exclusive by the file's owner", owner, e.fh, 10, 1, excl, nlmxdr.NLM4_GRANTED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if st := tt.c.lock(tt.fh, tt.off, tt.n, tt.o); st != tt.want {
				t.Errorf("LOCK: %v, want %v", st, tt.want)
			}
		})
	}
	if st := owner.unlock(bad, 0, 0); st != nlmxdr.NLM4_STALE_FH {
		t.Errorf("UNLOCK with a stale handle: %v", st)
	}
}

// FileKey is the export id followed by the backend handle.
func TestFileKey(t *testing.T) {
	e := newEnv(t, "")
	ex, h, err := e.ns.Resolve(e.fh)
	if err != nil {
		t.Fatal(err)
	}
	k := FileKey(ex, h)
	if len(k) != 4+len(h) || string(k[4:]) != string(h) {
		t.Errorf("FileKey %x for handle %x", k, h)
	}
	_, h2, _ := e.ns.Resolve(e.fh2)
	if FileKey(ex, h2) == k {
		t.Error("two files share a key")
	}
	var _ lock.FileKey = k
}
