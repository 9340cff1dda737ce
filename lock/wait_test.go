package lock

import (
	"errors"
	"slices"
	"testing"
)

// mustQueue calls Wait and requires the request to be queued.
func mustQueue(t testing.TB, tb *Table, f FileKey, o Owner, r Range, excl bool, cookie any) *Waiter {
	t.Helper()
	granted, w, woken, err := tb.Wait(f, o, r, excl, cookie)
	if granted || w == nil || woken != nil || err != nil {
		t.Fatalf("Wait(%v, %v, %v) = %v, %v, %v, %v; want queued", o, r, excl, granted, w, woken, err)
	}
	return w
}

func wantWoken(t testing.TB, got []*Waiter, want ...*Waiter) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("woken = %v, want %v", grantedLocks(got), grantedLocks(want))
	}
}

func TestWaitGrantedNow(t *testing.T) {
	tb := NewTable(Options{})
	granted, w, woken, err := tb.Wait(fileA, a1, span(0, 9), true, "c")
	if !granted || w != nil || woken != nil || err != nil {
		t.Fatalf("Wait on free range = %v, %v, %v, %v", granted, w, woken, err)
	}
	if got := tb.Locks(fileA); len(got) != 1 || got[0] != (Lock{a1, span(0, 9), true}) {
		t.Fatalf("locks = %v", got)
	}
}

func TestWaiterAccessors(t *testing.T) {
	tb := NewTable(Options{})
	mustLock(t, tb, fileA, a1, toEOF(0), true)
	w := mustQueue(t, tb, fileA, b1, span(3, 4), false, 42)
	if w.File() != fileA || w.Lock() != (Lock{b1, span(3, 4), false}) || w.Cookie() != 42 {
		t.Fatalf("waiter = %v %v %v", w.File(), w.Lock(), w.Cookie())
	}
	if got := tb.Waiting(fileA); !slices.Equal(got, []*Waiter{w}) {
		t.Fatalf("Waiting = %v", got)
	}
	if st := tb.Stats(); st.Waiters != 1 || st.Locks != 1 || st.Files != 1 || st.Owners != 2 || st.Clients != 2 {
		t.Fatalf("Stats = %+v", st)
	}
}

// TestGrantOnUnlockFIFO: an unlock grants, in queue order, every waiter it
// lets through, and a waiter that conflicts with one granted just before it
// stays queued.
func TestGrantOnUnlockFIFO(t *testing.T) {
	tb := NewTable(Options{})
	mustLock(t, tb, fileA, a1, span(0, 99), true)
	w1 := mustQueue(t, tb, fileA, b1, span(0, 9), true, 1)
	w2 := mustQueue(t, tb, fileA, c1, span(5, 14), true, 2)
	w3 := mustQueue(t, tb, fileA, a2, span(50, 59), false, 3)
	checkInvariants(t, tb)
	wantWoken(t, tb.Unlock(fileA, a1, span(0, 99)), w1, w3)
	checkInvariants(t, tb)
	if got := tb.Waiting(fileA); !slices.Equal(got, []*Waiter{w2}) {
		t.Fatalf("still waiting = %v", grantedLocks(got))
	}
	wantWoken(t, tb.Unlock(fileA, b1, span(0, 9)), w2)
	want := []Lock{{c1, span(5, 14), true}, {a2, span(50, 59), false}}
	if got := tb.Locks(fileA); !slices.Equal(got, want) {
		t.Fatalf("locks = %v, want %v", got, want)
	}
	checkInvariants(t, tb)
}

// TestNoStarvation: once an exclusive request is queued, later shared
// requests that the current holder would allow do not overtake it, whether
// they block or poll.
func TestNoStarvation(t *testing.T) {
	tb := NewTable(Options{})
	mustLock(t, tb, fileA, a1, span(0, 9), false)
	wx := mustQueue(t, tb, fileA, b1, span(0, 9), true, nil)
	reserved := Lock{b1, span(0, 9), true}
	if c := tb.Test(fileA, c1, span(5, 5), false); c == nil || *c != reserved {
		t.Fatalf("Test = %v, want reservation %v", c, reserved)
	}
	if c, _, _ := tb.Lock(fileA, c1, span(5, 5), false); c == nil || *c != reserved {
		t.Fatalf("Lock = %v, want refused by %v", c, reserved)
	}
	ws := mustQueue(t, tb, fileA, c1, span(5, 5), false, nil)
	// A request that does not overlap the reservation is unaffected.
	mustLock(t, tb, fileA, c1, span(10, 19), false)
	checkInvariants(t, tb)
	wantWoken(t, tb.Unlock(fileA, a1, WholeFile()), wx)
	wantWoken(t, tb.Unlock(fileA, b1, WholeFile()), ws)
	checkInvariants(t, tb)
}

// TestLaterCompatibleWaiterDefers: a later waiter compatible with what is
// held still waits behind an earlier conflicting waiter.
func TestLaterCompatibleWaiterDefers(t *testing.T) {
	tb := NewTable(Options{})
	mustLock(t, tb, fileA, a1, span(0, 9), true)
	w1 := mustQueue(t, tb, fileA, b1, span(0, 19), true, nil)
	w2 := mustQueue(t, tb, fileA, c1, span(10, 19), false, nil)
	wantWoken(t, tb.Unlock(fileA, a1, span(0, 9)), w1)
	wantWoken(t, tb.Unlock(fileA, b1, span(0, 19)), w2)
	checkInvariants(t, tb)
}

// TestUpgradeNotBlockedByOwnWaiter: the holder of a shared lock may upgrade
// it while another owner waits for it exclusively; making it wait would
// deadlock, which POSIX locking would not.
func TestUpgradeNotBlockedByOwnWaiter(t *testing.T) {
	tb := NewTable(Options{})
	mustLock(t, tb, fileA, a1, span(0, 9), false)
	w := mustQueue(t, tb, fileA, b1, span(0, 9), true, nil)
	if c := tb.Test(fileA, a1, span(0, 9), true); c != nil {
		t.Fatalf("Test upgrade = %v", c)
	}
	mustLock(t, tb, fileA, a1, span(0, 9), true)
	checkInvariants(t, tb)
	wantWoken(t, tb.Unlock(fileA, a1, span(0, 9)), w)
}

// TestTransitiveExemption: a1 holds [0,9] shared; b1 waits for [0,19]
// exclusive (on a1); c1 waits for [10,19] shared behind b1. a1 extending
// to [10,19] exclusive conflicts with both waiters, but both wait on a1,
// so refusing it could deadlock: it is granted.
func TestTransitiveExemption(t *testing.T) {
	tb := NewTable(Options{})
	mustLock(t, tb, fileA, a1, span(0, 9), false)
	wb := mustQueue(t, tb, fileA, b1, span(0, 19), true, nil)
	wc := mustQueue(t, tb, fileA, c1, span(10, 19), false, nil)
	mustLock(t, tb, fileA, a1, span(10, 19), true)
	// Someone unrelated is still kept out by the reservations.
	if c, _, _ := tb.Lock(fileA, a2, span(5, 5), false); c == nil || *c != wb.Lock() {
		t.Fatalf("unrelated Lock = %v, want refused by %v", c, wb.Lock())
	}
	checkInvariants(t, tb)
	wantWoken(t, tb.UnlockAll(a1), wb)
	wantWoken(t, tb.Unlock(fileA, b1, WholeFile()), wc)
	checkInvariants(t, tb)
}

// TestQueuedUpgradeExempt: the same exemption applies to a request that is
// itself queued. a1 holds [0,9] shared, b1 waits for it exclusively, and
// a1 queues an upgrade to [0,19] behind c1's shared [15,19]. When c1 lets
// go, a1's upgrade is granted although b1 is ahead of it: b1 waits on a1.
func TestQueuedUpgradeExempt(t *testing.T) {
	tb := NewTable(Options{})
	mustLock(t, tb, fileA, a1, span(0, 9), false)
	mustLock(t, tb, fileA, c1, span(15, 19), false)
	wb := mustQueue(t, tb, fileA, b1, span(0, 9), true, nil)
	wa := mustQueue(t, tb, fileA, a1, span(0, 19), true, nil)
	checkInvariants(t, tb)
	wantWoken(t, tb.Unlock(fileA, c1, WholeFile()), wa)
	checkInvariants(t, tb)
	wantWoken(t, tb.Unlock(fileA, a1, WholeFile()), wb)
}

func TestCancelWait(t *testing.T) {
	tb := NewTable(Options{})
	mustLock(t, tb, fileA, a1, span(0, 9), false)
	w1 := mustQueue(t, tb, fileA, b1, span(0, 19), true, nil)
	w2 := mustQueue(t, tb, fileA, c1, span(15, 19), false, nil)
	if ok, woken := tb.CancelWait(fileA, b1, span(0, 18)); ok || woken != nil {
		t.Fatalf("cancel of another range = %v, %v", ok, woken)
	}
	if ok, woken := tb.CancelWait(fileA, a2, span(0, 19)); ok || woken != nil {
		t.Fatalf("cancel by another owner = %v, %v", ok, woken)
	}
	ok, woken := tb.CancelWait(fileA, b1, span(0, 19))
	if !ok {
		t.Fatal("cancel failed")
	}
	// w1's reservation is gone, so w2 is granted.
	wantWoken(t, woken, w2)
	if got := tb.Waiting(fileA); len(got) != 0 {
		t.Fatalf("still waiting: %v", grantedLocks(got))
	}
	// Cancelling a granted request changes nothing.
	if ok, _ := tb.CancelWait(fileA, b1, span(0, 19)); ok {
		t.Fatal("second cancel succeeded")
	}
	_ = w1
	checkInvariants(t, tb)
	tb.Unlock(fileA, a1, WholeFile())
	tb.Unlock(fileA, c1, WholeFile())
	if st := tb.Stats(); st != (Stats{}) {
		t.Fatalf("Stats = %+v", st)
	}
}

// TestWaitRetransmission: an identical blocking request is not queued
// twice.
func TestWaitRetransmission(t *testing.T) {
	tb := NewTable(Options{})
	mustLock(t, tb, fileA, a1, span(0, 9), true)
	w := mustQueue(t, tb, fileA, b1, span(0, 9), true, "first")
	if got := mustQueue(t, tb, fileA, b1, span(0, 9), true, "second"); got != w || got.Cookie() != "first" {
		t.Fatalf("retransmission queued a new waiter %v", got)
	}
	if w2 := mustQueue(t, tb, fileA, b1, span(0, 9), false, nil); w2 == w {
		t.Fatal("different type treated as retransmission")
	}
	if n := len(tb.Waiting(fileA)); n != 2 {
		t.Fatalf("%d waiters, want 2", n)
	}
	checkInvariants(t, tb)
}

// TestDowngradeWakes: turning an exclusive lock shared frees it for shared
// waiters, through Lock and through Wait.
func TestDowngradeWakes(t *testing.T) {
	for _, viaWait := range []bool{false, true} {
		tb := NewTable(Options{})
		mustLock(t, tb, fileA, a1, span(0, 9), true)
		ws := mustQueue(t, tb, fileA, b1, span(0, 4), false, nil)
		wx := mustQueue(t, tb, fileA, c1, span(5, 9), true, nil)
		var woken []*Waiter
		if viaWait {
			granted, w, wk, err := tb.Wait(fileA, a1, span(0, 9), false, nil)
			if !granted || w != nil || err != nil {
				t.Fatalf("downgrade by Wait = %v %v %v", granted, w, err)
			}
			woken = wk
		} else {
			woken = mustLock(t, tb, fileA, a1, span(0, 9), false)
		}
		wantWoken(t, woken, ws)
		checkInvariants(t, tb)
		wantWoken(t, tb.Unlock(fileA, a1, WholeFile()), wx)
	}
}

func TestWaiterLimit(t *testing.T) {
	tb := NewTable(Options{MaxWaitersPerClient: 1})
	mustLock(t, tb, fileA, a1, toEOF(0), true)
	mustQueue(t, tb, fileA, b1, span(0, 0), true, nil)
	granted, w, _, err := tb.Wait(fileA, b1, span(1, 1), true, nil)
	if granted || w != nil || !errors.Is(err, ErrTooManyLocks) {
		t.Fatalf("second waiter = %v, %v, %v; want ErrTooManyLocks", granted, w, err)
	}
	mustQueue(t, tb, fileA, c1, span(1, 1), true, nil)
	checkInvariants(t, tb)
}

// TestOwnWaiterDoesNotBlockOwner: an owner's own queued request never
// stands in its way.
func TestOwnWaiterDoesNotBlockOwner(t *testing.T) {
	tb := NewTable(Options{})
	mustLock(t, tb, fileA, a1, span(0, 9), true)
	mustQueue(t, tb, fileA, b1, span(0, 19), true, nil)
	mustLock(t, tb, fileA, b1, span(10, 19), true)
	checkInvariants(t, tb)
}
