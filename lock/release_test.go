package lock

import (
	"slices"
	"testing"
)

// TestReleaseClient: FREE_ALL / SM_NOTIFY / lease expiry drops every lock,
// waiter and share of every owner of one client, on every file, and grants
// what that frees, across protocols.
func TestReleaseClient(t *testing.T) {
	tb := NewTable(Options{})
	// hostA (NLM) has two owners on two files, a queued request and a share.
	mustLock(t, tb, fileA, a1, span(0, 9), true)
	mustLock(t, tb, fileB, a2, toEOF(0), false)
	mustLock(t, tb, "C", c1, span(0, 0), true)
	mustQueue(t, tb, "C", a1, span(0, 0), true, nil)
	if err := tb.Share(fileA, a2, ShareRead, ShareWrite); err != nil {
		t.Fatal(err)
	}
	// The NFSv4 owner with the same client string is another client.
	mustLock(t, tb, fileB, v4, span(100, 109), false)
	// Others wait on hostA's locks.
	wc := mustQueue(t, tb, fileA, c1, span(5, 5), true, "c1")
	wb := mustQueue(t, tb, fileB, b1, span(0, 0), true, "b1")
	wb2 := mustQueue(t, tb, fileB, b1, span(100, 100), true, "blocked by v4")
	checkInvariants(t, tb)

	files, woken := tb.ReleaseClient(NLM, "hostA")
	if want := []FileKey{fileA, fileB, "C"}; !slices.Equal(files, want) {
		t.Fatalf("files = %v, want %v", files, want)
	}
	wantWoken(t, woken, wc, wb)
	checkInvariants(t, tb)
	for _, o := range []Owner{a1, a2} {
		if got := tb.OwnerLocks(o); got != nil {
			t.Fatalf("%v still holds %v", o, got)
		}
	}
	if got := tb.Shares(fileA); len(got) != 0 {
		t.Fatalf("shares = %v", got)
	}
	if got := tb.Waiting("C"); len(got) != 0 {
		t.Fatalf("C waiting = %v", grantedLocks(got))
	}
	if got := tb.Waiting(fileB); !slices.Equal(got, []*Waiter{wb2}) {
		t.Fatalf("B waiting = %v", grantedLocks(got))
	}
	if files, woken := tb.ReleaseClient(NLM, "hostA"); files != nil || woken != nil {
		t.Fatalf("second release = %v, %v", files, woken)
	}
	files, woken = tb.ReleaseClient(NFS4, "hostA")
	if !slices.Equal(files, []FileKey{fileB}) {
		t.Fatalf("v4 release files = %v", files)
	}
	wantWoken(t, woken, wb2)
	for _, c := range []struct {
		k Kind
		n string
	}{{NFS4, "clientC"}, {NLM, "hostB"}} {
		tb.ReleaseClient(c.k, c.n)
	}
	checkInvariants(t, tb)
	if st := tb.Stats(); st != (Stats{}) {
		t.Fatalf("Stats after releasing everyone = %+v", st)
	}
}

// TestUnlockAll drops one owner's locks and waiters everywhere but leaves
// its shares and its client's other owners alone.
func TestUnlockAll(t *testing.T) {
	tb := NewTable(Options{})
	mustLock(t, tb, fileA, a1, span(0, 9), true)
	mustLock(t, tb, fileA, a1, span(20, 29), false)
	mustLock(t, tb, fileB, a1, span(0, 9), true)
	mustLock(t, tb, fileB, a2, span(50, 59), true)
	mustLock(t, tb, "C", b1, span(0, 0), true)
	mustQueue(t, tb, "C", a1, span(0, 0), true, nil)
	if err := tb.Share(fileA, a1, ShareBoth, ShareNone); err != nil {
		t.Fatal(err)
	}
	wB := mustQueue(t, tb, fileB, b1, span(0, 0), false, nil)
	wA := mustQueue(t, tb, fileA, c1, span(25, 25), true, nil)
	wantWoken(t, tb.UnlockAll(a1), wA, wB)
	checkInvariants(t, tb)
	if got := tb.OwnerLocks(a1); got != nil {
		t.Fatalf("a1 holds %v", got)
	}
	if got := tb.OwnerLocks(a2); len(got) != 1 {
		t.Fatalf("a2 holds %v", got)
	}
	if got := tb.Shares(fileA); len(got) != 1 || got[0].Owner != a1 {
		t.Fatalf("shares = %v", got)
	}
	if got := tb.Waiting("C"); len(got) != 0 {
		t.Fatalf("a1 still waiting: %v", grantedLocks(got))
	}
	if got := tb.UnlockAll(Owner{Kind: NLM, Client: "nobody"}); got != nil {
		t.Fatalf("UnlockAll(unknown) = %v", got)
	}
}
