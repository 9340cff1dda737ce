package state

import (
	"testing"
	"time"

	"github.com/gonfs/gonfs/lock"
	"pgregory.net/rapid"
)

// newBudgetEnv is newEnv with a reply cache budget of budget bytes.
func newBudgetEnv(t *testing.T, budget int64) *env {
	t.Helper()
	clk := &clock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	locks := lock.NewTable(lock.Options{})
	m := New(Options{Now: clk.now, Lease: lease, Locks: locks, BootEpoch: epoch, MaxSlots: 8, MaxCachedReplyBytes: budget})
	return &env{t: t, clk: clk, locks: locks, m: m}
}

// cached checks the reply cache counter against the sessions it counts
// and the budget, and returns it as the snapshot shows it.
func (e *env) cached() int64 {
	e.t.Helper()
	var sum int64
	for _, s := range e.m.sessions {
		sum += s.cachedBytes()
	}
	snap := e.m.Snapshot()
	var listed int64
	for _, c := range snap.Clients {
		for _, s := range c.Sessions {
			listed += s.CachedBytes
		}
	}
	if e.m.replyBytes != sum || snap.CachedReplyBytes != sum || listed != sum {
		e.t.Fatalf("reply cache counter %d, snapshot %d, per session %d; the sessions hold %d",
			e.m.replyBytes, snap.CachedReplyBytes, listed, sum)
	}
	if sum < 0 || sum > e.m.opts.MaxCachedReplyBytes {
		e.t.Fatalf("reply cache holds %d bytes, outside [0, %d]", sum, e.m.opts.MaxCachedReplyBytes)
	}
	return sum
}

// seq runs SEQUENCE and fails the test unless it succeeds.
func (e *env) seq(s SessionID, slot, n uint32, cacheThis bool) SequenceResult {
	e.t.Helper()
	res, st := e.m.Sequence(SequenceArgs{SessionID: s, Slot: slot, Seq: n, HighestSlot: slot, CacheThis: cacheThis, Conn: 1})
	if st != OK {
		e.t.Fatalf("SEQUENCE slot %d seq %d: %v", slot, n, st)
	}
	return res
}

// TestReplyCacheAccounting follows the counter through the life of one
// session's slots: reservation at SEQUENCE with sa_cachethis, the actual
// reply at Done, replacement by the next request, and DESTROY_SESSION
// with a request still running (RFC 8881 §2.10.6.1, §2.10.6.1.3).
func TestReplyCacheAccounting(t *testing.T) {
	e := newBudgetEnv(t, 1<<20)
	_, s := e.mount("host")
	room := int64(fore.MaxResponseSizeCached)
	var tok Token
	reply := func(n int) []byte { return make([]byte, n) }
	steps := []struct {
		name string
		do   func()
		want int64
	}{
		{"a new session holds nothing", func() {}, 0},
		{"sa_cachethis reserves ca_maxresponsesize_cached", func() { tok = e.seq(s, 0, 1, true).Token }, room},
		{"Done counts the reply instead", func() { e.m.Done(tok, reply(100), true) }, 100},
		{"a replay changes nothing", func() {
			if r := e.seq(s, 0, 1, false); len(r.Replay) != 100 {
				t.Fatalf("replay of %d bytes", len(r.Replay))
			}
		}, 100},
		{"the next request gives the old reply back", func() { tok = e.seq(s, 0, 2, false).Token }, 0},
		{"an uncached reply counts nothing", func() { e.m.Done(tok, reply(100), false) }, 0},
		{"a lone SEQUENCE kept without sa_cachethis", func() { e.m.Done(e.seq(s, 1, 1, false).Token, reply(60), true) }, 60},
		{"sa_cachethis on another slot", func() { tok = e.seq(s, 2, 1, true).Token }, 60 + room},
		{"a reply over ca_maxresponsesize_cached is not kept", func() { e.m.Done(tok, reply(int(room)+1), true) }, 60},
		{"a kept reply replaced by a larger one", func() { tok = e.seq(s, 1, 2, true).Token; e.m.Done(tok, reply(int(room)), true) }, room},
		{"a second Done for a token counts nothing", func() { e.m.Done(tok, reply(10), true) }, room},
		{"a request running at DESTROY_SESSION", func() { tok = e.seq(s, 3, 1, true).Token }, 2 * room},
		{"DESTROY_SESSION gives everything back", func() { wantStatus(t, "DESTROY_SESSION", e.m.DestroySession(s), OK) }, 0},
		{"Done after DESTROY_SESSION counts nothing", func() { e.m.Done(tok, reply(50), true) }, 0},
	}
	for _, st := range steps {
		st.do()
		if got := e.cached(); got != st.want {
			t.Fatalf("%s: %d bytes cached, want %d", st.name, got, st.want)
		}
	}
}

// TestReplyCacheClientsGoAway: every way a client's sessions end gives
// their cached replies back, with the injected clock for leases.
func TestReplyCacheClientsGoAway(t *testing.T) {
	tests := []struct {
		name  string
		state bool // the client holds an open (a courtesy client on expiry)
		end   func(e *env, c ClientID, s SessionID)
	}{
		{"DESTROY_SESSION and DESTROY_CLIENTID", false, func(e *env, c ClientID, s SessionID) {
			wantStatus(t, "DESTROY_SESSION", e.m.DestroySession(s), OK)
			_, st := e.m.DestroyClientID(c)
			wantStatus(t, "DESTROY_CLIENTID", st, OK)
		}},
		{"lease expiry without state", false, func(e *env, c ClientID, s SessionID) {
			e.clk.advance(lease + time.Second)
			e.m.Tick()
		}},
		{"courtesy client past CourtesyLimit", true, func(e *env, c ClientID, s SessionID) {
			e.clk.advance(lease + time.Second)
			e.m.Tick()
			if e.m.clients[c] == nil || e.cached() == 0 {
				t.Fatal("a courtesy client keeps its sessions and their replies")
			}
			e.clk.advance(defCourtesy)
			e.m.Tick()
		}},
		{"client restart (new verifier, CREATE_SESSION)", true, func(e *env, c ClientID, s SessionID) {
			r := e.exchange("host", verf(2), "sys:0")
			e.createSession(r, "sys:0")
		}},
		{"admin eviction", true, func(e *env, c ClientID, s SessionID) { e.m.Evict(c) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newBudgetEnv(t, 1<<20)
			c, s := e.mount("host")
			if tt.state {
				e.mustOpen(c, "o", "f", lock.ShareRead, lock.ShareNone)
			}
			e.m.Done(e.seq(s, 0, 1, true).Token, make([]byte, 300), true)
			e.m.Done(e.seq(s, 1, 1, true).Token, make([]byte, 500), true)
			if got := e.cached(); got != 800 {
				t.Fatalf("before: %d bytes cached, want 800", got)
			}
			tt.end(e, c, s)
			if e.m.clients[c] != nil || e.m.sessions[s] != nil {
				t.Fatal("the client or its session is still there")
			}
			if got := e.cached(); got != 0 {
				t.Fatalf("after: %d bytes cached, want 0", got)
			}
		})
	}
}

// TestReplyCacheBudget: at the budget a request asking for its reply to
// be cached gets NFS4ERR_DELAY and the slot is left as it was, so the same
// slot and sequence ID succeed once there is room; requests that did not
// ask (sa_cachethis false) run as before, and their optional caching
// waits for room (RFC 8881 §2.10.6.1, §2.10.6.1.3, §2.10.6.4).
func TestReplyCacheBudget(t *testing.T) {
	room := int64(fore.MaxResponseSizeCached)
	e := newBudgetEnv(t, 2*room+100)
	_, a := e.mount("a")
	_, b := e.mount("b")
	ta := e.seq(a, 0, 1, true).Token
	e.seq(b, 0, 1, true)
	if got := e.cached(); got != 2*room {
		t.Fatalf("two running cachethis requests hold %d, want %d", got, 2*room)
	}

	_, st := e.m.Sequence(SequenceArgs{SessionID: a, Slot: 1, Seq: 1, CacheThis: true, Conn: 1})
	wantStatus(t, "cachethis beyond the budget", st, errDelay)
	if sl := e.m.sessions[a].slots[1]; sl.used || sl.busy || sl.seq != 0 {
		t.Fatalf("refused SEQUENCE changed the slot: %+v", sl)
	}

	// Idempotent requests are not affected.
	r := e.seq(a, 2, 1, false)
	e.m.Done(r.Token, make([]byte, 200), false)
	// A lone SEQUENCE's optional caching finds 100 bytes free: not kept.
	r = e.seq(a, 3, 1, false)
	e.m.Done(r.Token, make([]byte, 200), true)
	_, st = e.m.Sequence(SequenceArgs{SessionID: a, Slot: 3, Seq: 1, Conn: 1})
	wantStatus(t, "retry of a reply not kept for lack of room", st, errRetryUncached)
	if got := e.cached(); got != 2*room {
		t.Fatalf("after uncached requests: %d, want %d", got, 2*room)
	}

	// Room comes back at Done; the refused request is retried as it was.
	e.m.Done(ta, make([]byte, 100), true)
	r = e.seq(a, 1, 1, true)
	if got := e.cached(); got != 2*room+100 {
		t.Fatalf("after the retry: %d, want %d", got, 2*room+100)
	}
	e.m.Done(r.Token, make([]byte, 100), true)
	snap := e.m.Snapshot()
	if snap.CachedReplyRefused != 1 || snap.CachedReplyLimit != 2*room+100 || snap.CachedReplyBytes != room+200 {
		t.Errorf("snapshot: refused %d limit %d bytes %d", snap.CachedReplyRefused, snap.CachedReplyLimit, snap.CachedReplyBytes)
	}
}

// TestReplyCacheTargetSlot: sr_target_highest_slotid is the session's
// highest slot up to three quarters of the budget, then falls to 0 at the
// full budget (RFC 8881 §2.10.6.1, §18.46.3).
func TestReplyCacheTargetSlot(t *testing.T) {
	const budget = 16 << 10
	m := New(Options{MaxCachedReplyBytes: budget})
	for _, tc := range []struct {
		used int64
		want uint32
	}{
		{0, 63},
		{budget * 3 / 4, 63},
		{budget*3/4 + 1, 62},
		{budget * 7 / 8, 31},
		{budget - 1, 0},
		{budget, 0},
	} {
		m.replyBytes = tc.used
		if got := m.targetHighestSlot(63); got != tc.want {
			t.Errorf("%d of %d bytes used: target %d, want %d", tc.used, budget, got, tc.want)
		}
	}

	// Through SEQUENCE: the target drops, every slot stays usable.
	room := int64(fore.MaxResponseSizeCached)
	e := newBudgetEnv(t, 4*room)
	_, a := e.mount("a")
	_, b := e.mount("b")
	e.seq(b, 0, 1, true)
	e.seq(b, 1, 1, true)
	e.seq(b, 2, 1, true)
	if r := e.seq(a, 0, 1, false); r.TargetHighestSlot != 3 || r.HighestSlot != 3 {
		t.Errorf("at 3/4 of the budget: target %d highest %d, want 3 and 3", r.TargetHighestSlot, r.HighestSlot)
	}
	if r := e.seq(a, 3, 1, true); r.HighestSlot != 3 || r.TargetHighestSlot != 0 {
		t.Errorf("full budget: target %d highest %d, want 0 and 3", r.TargetHighestSlot, r.HighestSlot)
	}
}

// TestReplyCacheModel drives random SEQUENCE, Done, DESTROY_SESSION and
// CREATE_SESSION calls against a small budget: the counter always equals
// what the sessions hold, never passes the budget, a request is refused
// only when its reservation would not fit, and everything comes back when
// the sessions go.
func TestReplyCacheModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		room := int64(fore.MaxResponseSizeCached)
		e := newBudgetEnv(t, 3*room)
		var sessions []SessionID
		for _, owner := range []string{"a", "b", "c"} {
			_, s := e.mount(owner)
			sessions = append(sessions, s)
		}
		var running []Token
		for range rapid.IntRange(1, 80).Draw(rt, "steps") {
			i := rapid.IntRange(0, len(sessions)-1).Draw(rt, "session")
			s := sessions[i]
			switch rapid.IntRange(0, 9).Draw(rt, "op") {
			case 0: // DESTROY_SESSION, then a new one for the same client
				if e.m.sessions[s] == nil {
					continue
				}
				wantStatus(t, "DESTROY_SESSION", e.m.DestroySession(s), OK)
				r := e.m.clients[s.ClientID()]
				res, _, st := e.m.CreateSession(CreateSessionArgs{ClientID: r.id, Sequence: r.cs.seq + 1, Fore: fore, Back: fore, Principal: "sys:0", Conn: 1})
				wantStatus(t, "CREATE_SESSION", st, OK)
				sessions[i] = res.SessionID
			case 1, 2, 3, 4: // Done of a running request
				if len(running) == 0 {
					continue
				}
				k := rapid.IntRange(0, len(running)-1).Draw(rt, "running")
				n := rapid.IntRange(0, int(room)+10).Draw(rt, "reply")
				e.m.Done(running[k], make([]byte, n), rapid.Bool().Draw(rt, "keep"))
				running = append(running[:k], running[k+1:]...)
			default: // SEQUENCE, new request
				sess := e.m.sessions[s]
				slot := uint32(rapid.IntRange(0, len(sess.slots)-1).Draw(rt, "slot"))
				cache := rapid.Bool().Draw(rt, "cachethis")
				sl := sess.slots[slot]
				free := e.m.opts.MaxCachedReplyBytes - e.m.replyBytes + sess.slotBytes(&sl)
				res, st := e.m.Sequence(SequenceArgs{SessionID: s, Slot: slot, Seq: sl.seq + 1, CacheThis: cache, Conn: 1})
				switch {
				case sl.busy:
					wantStatus(t, "SEQUENCE on a busy slot", st, errDelay)
				case cache && free < room:
					wantStatus(t, "SEQUENCE without room", st, errDelay)
				default:
					wantStatus(t, "SEQUENCE", st, OK)
					running = append(running, res.Token)
				}
			}
			e.cached()
		}
		for _, s := range sessions {
			wantStatus(t, "DESTROY_SESSION", e.m.DestroySession(s), OK)
		}
		for _, tok := range running {
			e.m.Done(tok, make([]byte, 10), true)
		}
		if got := e.cached(); got != 0 {
			t.Fatalf("%d bytes cached with no session left", got)
		}
	})
}
