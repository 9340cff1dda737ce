package lock

import (
	"errors"
	"slices"
	"testing"
)

const fileA, fileB FileKey = "A", "B"

// TestConflicts checks the conflict rule between one held lock and one
// request: overlap, different owner, at least one exclusive.
func TestConflicts(t *testing.T) {
	tests := []struct {
		name       string
		held       Owner
		heldR      Range
		heldExcl   bool
		req        Owner
		reqR       Range
		reqExcl    bool
		wantDenied bool
	}{
		{"shared/shared", a1, span(0, 9), false, b1, span(0, 9), false, false},
		{"shared/excl", a1, span(0, 9), false, b1, span(5, 5), true, true},
		{"excl/shared", a1, span(0, 9), true, b1, span(9, 20), false, true},
		{"excl/excl", a1, span(0, 9), true, b1, span(0, 9), true, true},
		{"adjacent before", a1, span(10, 19), true, b1, span(0, 9), true, false},
		{"adjacent after", a1, span(10, 19), true, b1, span(20, 29), true, false},
		{"same owner excl/excl", a1, span(0, 9), true, a1, span(0, 9), true, false},
		{"same client other owner", a1, span(0, 9), true, a2, span(0, 9), false, true},
		{"NLM vs NFS4 same strings", a1, span(0, 9), true, v4, span(0, 9), false, true},
		{"NFS4 holds, NLM asks", c1, toEOF(100), true, b1, span(1000, 1000), false, true},
		{"EOF lock vs last byte", a1, toEOF(0), true, b1, span(max64, max64), false, true},
		{"EOF lock vs below start", a1, toEOF(100), true, b1, span(0, 99), true, false},
		{"both EOF shared", a1, toEOF(5), false, b1, toEOF(0), false, false},
		{"both EOF one excl", a1, toEOF(5), false, b1, toEOF(1 << 40), true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := NewTable(Options{})
			if c, _, err := tb.Lock(fileA, tc.held, tc.heldR, tc.heldExcl); c != nil || err != nil {
				t.Fatalf("first lock: %v, %v", c, err)
			}
			want := Lock{Owner: tc.held, Range: tc.heldR, Exclusive: tc.heldExcl}
			got := tb.Test(fileA, tc.req, tc.reqR, tc.reqExcl)
			if (got != nil) != tc.wantDenied || (got != nil && *got != want) {
				t.Fatalf("Test = %v, want denied=%v by %v", got, tc.wantDenied, want)
			}
			// Another file never conflicts.
			if c := tb.Test(fileB, tc.req, tc.reqR, tc.reqExcl); c != nil {
				t.Fatalf("Test on other file = %v", c)
			}
			c, _, err := tb.Lock(fileA, tc.req, tc.reqR, tc.reqExcl)
			if err != nil || (c != nil) != tc.wantDenied || (c != nil && *c != want) {
				t.Fatalf("Lock = %v, %v; want denied=%v by %v", c, err, tc.wantDenied, want)
			}
			checkInvariants(t, tb)
		})
	}
}

// TestTestReportsFirst checks that the first conflicting lock by offset is
// the one reported.
func TestTestReportsFirst(t *testing.T) {
	tb := NewTable(Options{})
	mustLock(t, tb, fileA, c1, span(50, 59), true)
	mustLock(t, tb, fileA, b1, span(20, 29), false)
	mustLock(t, tb, fileA, a2, span(30, 39), true)
	got := tb.Test(fileA, a1, toEOF(0), true)
	if want := (Lock{b1, span(20, 29), false}); got == nil || *got != want {
		t.Fatalf("Test = %v, want %v", got, want)
	}
	got = tb.Test(fileA, a1, toEOF(0), false)
	if want := (Lock{a2, span(30, 39), true}); got == nil || *got != want {
		t.Fatalf("shared Test = %v, want %v", got, want)
	}
}

type op struct {
	unlock bool
	r      Range
	excl   bool
}

func lk(s, e uint64, excl bool) op { return op{r: span(s, e), excl: excl} }
func ul(s, e uint64) op            { return op{unlock: true, r: span(s, e)} }

// TestMergeSplit applies one owner's operations and checks the exact
// resulting ranges, POSIX style.
func TestMergeSplit(t *testing.T) {
	const X, S = true, false
	L := func(s, e uint64, excl bool) Lock { return Lock{a1, span(s, e), excl} }
	tests := []struct {
		name string
		ops  []op
		want []Lock
	}{
		{"single", []op{lk(10, 19, X)}, []Lock{L(10, 19, X)}},
		{"relock same", []op{lk(10, 19, X), lk(10, 19, X)}, []Lock{L(10, 19, X)}},
		{"merge overlapping", []op{lk(10, 19, S), lk(15, 29, S)}, []Lock{L(10, 29, S)}},
		{"merge adjacent", []op{lk(10, 19, S), lk(20, 29, S)}, []Lock{L(10, 29, S)}},
		{"merge adjacent before", []op{lk(20, 29, X), lk(10, 19, X)}, []Lock{L(10, 29, X)}},
		{"bridge two", []op{lk(0, 9, X), lk(20, 29, X), lk(10, 19, X)}, []Lock{L(0, 29, X)}},
		{"cover many", []op{lk(0, 1, S), lk(5, 6, S), lk(9, 9, S), lk(0, 20, S)}, []Lock{L(0, 20, S)}},
		{"gap stays", []op{lk(0, 9, S), lk(11, 19, S)}, []Lock{L(0, 9, S), L(11, 19, S)}},
		{"adjacent other type not merged", []op{lk(0, 9, S), lk(10, 19, X)}, []Lock{L(0, 9, S), L(10, 19, X)}},
		{"unlock middle splits", []op{lk(0, 99, X), ul(40, 59)}, []Lock{L(0, 39, X), L(60, 99, X)}},
		{"unlock head", []op{lk(0, 99, X), ul(0, 9)}, []Lock{L(10, 99, X)}},
		{"unlock tail", []op{lk(0, 99, X), ul(90, 200)}, []Lock{L(0, 89, X)}},
		{"unlock all of it", []op{lk(0, 99, X), ul(0, 99)}, nil},
		{"unlock across two", []op{lk(0, 9, X), lk(20, 29, S), ul(5, 24)}, []Lock{L(0, 4, X), L(25, 29, S)}},
		{"unlock nothing there", []op{lk(0, 9, X), ul(10, 19)}, []Lock{L(0, 9, X)}},
		{"downgrade middle", []op{lk(0, 99, X), lk(40, 59, S)}, []Lock{L(0, 39, X), L(40, 59, S), L(60, 99, X)}},
		{"upgrade middle", []op{lk(0, 99, S), lk(40, 59, X)}, []Lock{L(0, 39, S), L(40, 59, X), L(60, 99, S)}},
		{"upgrade head", []op{lk(0, 99, S), lk(0, 9, X)}, []Lock{L(0, 9, X), L(10, 99, S)}},
		{"upgrade whole", []op{lk(10, 19, S), lk(0, 29, X)}, []Lock{L(0, 29, X)}},
		{"upgrade then merge back", []op{lk(0, 99, S), lk(40, 59, X), lk(40, 59, S)}, []Lock{L(0, 99, S)}},
		{"relock over mixed", []op{lk(0, 9, S), lk(10, 19, X), lk(20, 29, S), lk(5, 24, S)}, []Lock{L(0, 29, S)}},
		{"EOF lock", []op{lk(100, max64, X)}, []Lock{L(100, max64, X)}},
		{"EOF unlock middle", []op{lk(0, max64, X), ul(10, 19)}, []Lock{L(0, 9, X), L(20, max64, X)}},
		{"EOF unlock to EOF", []op{lk(0, max64, X), ul(10, max64)}, []Lock{L(0, 9, X)}},
		{"EOF merge", []op{lk(0, 9, S), lk(10, max64, S)}, []Lock{L(0, max64, S)}},
		{"EOF downgrade tail", []op{lk(0, max64, X), lk(50, max64, S)}, []Lock{L(0, 49, X), L(50, max64, S)}},
		{"last byte", []op{lk(max64, max64, X), lk(max64-1, max64-1, X)}, []Lock{L(max64-1, max64, X)}},
		{"first byte", []op{lk(0, 0, X), lk(1, 1, X), ul(0, 0)}, []Lock{L(1, 1, X)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := NewTable(Options{})
			// The owner's lock on another file must not interfere.
			mustLock(t, tb, fileB, a1, span(0, 1000), true)
			for _, o := range tc.ops {
				if o.unlock {
					tb.Unlock(fileA, a1, o.r)
				} else if c, _, err := tb.Lock(fileA, a1, o.r, o.excl); c != nil || err != nil {
					t.Fatalf("Lock(%v): %v, %v", o.r, c, err)
				}
				checkInvariants(t, tb)
			}
			got := tb.Locks(fileA)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("locks = %v\nwant    %v", got, tc.want)
			}
			var fl []Lock
			for _, l := range tb.OwnerLocks(a1) {
				if l.File == fileA {
					fl = append(fl, l.Lock)
				}
			}
			if !slices.Equal(fl, tc.want) {
				t.Fatalf("OwnerLocks = %v\nwant         %v", fl, tc.want)
			}
			if st := tb.Stats(); st.Locks != len(tc.want)+1 {
				t.Fatalf("Stats.Locks = %d, want %d", st.Locks, len(tc.want)+1)
			}
		})
	}
}

func TestOwnerLocksAcrossFiles(t *testing.T) {
	tb := NewTable(Options{})
	mustLock(t, tb, fileB, a1, span(5, 5), true)
	mustLock(t, tb, fileA, a1, span(7, 8), false)
	mustLock(t, tb, fileA, a1, span(1, 2), true)
	mustLock(t, tb, fileA, b1, span(3, 3), true)
	want := []FileLock{
		{fileA, Lock{a1, span(1, 2), true}},
		{fileA, Lock{a1, span(7, 8), false}},
		{fileB, Lock{a1, span(5, 5), true}},
	}
	if got := tb.OwnerLocks(a1); !slices.Equal(got, want) {
		t.Fatalf("OwnerLocks = %v, want %v", got, want)
	}
	if got := tb.OwnerLocks(c1); got != nil {
		t.Fatalf("OwnerLocks(unknown) = %v", got)
	}
}

// TestEmptyStateForgotten checks that unlocking everything leaves nothing
// behind, so a long-running server does not grow with dead owners.
func TestEmptyStateForgotten(t *testing.T) {
	tb := NewTable(Options{})
	mustLock(t, tb, fileA, a1, span(0, 9), true)
	mustLock(t, tb, fileB, a2, span(0, 9), true)
	if c, _, _ := tb.Lock(fileA, b1, span(0, 0), true); c == nil {
		t.Fatal("conflicting lock granted")
	}
	tb.Unlock(fileA, a1, WholeFile())
	tb.Unlock(fileB, a2, span(0, 9))
	tb.Unlock(fileB, c1, span(0, 9)) // unknown owner: no-op
	checkInvariants(t, tb)
	if st := tb.Stats(); st != (Stats{}) {
		t.Fatalf("Stats after unlocking everything = %+v", st)
	}
}

func TestLockLimit(t *testing.T) {
	tb := NewTable(Options{MaxLocksPerClient: 3})
	mustLock(t, tb, fileA, a1, span(0, 0), true)
	mustLock(t, tb, fileA, a2, span(2, 2), true)
	mustLock(t, tb, fileB, a1, span(0, 0), true)
	// A fourth range for the same client (another owner too) is refused.
	if c, _, err := tb.Lock(fileB, a2, span(9, 9), true); c != nil || !errors.Is(err, ErrTooManyLocks) {
		t.Fatalf("fourth lock: %v, %v; want ErrTooManyLocks", c, err)
	}
	// Merging with an existing range adds none, so it is allowed.
	mustLock(t, tb, fileA, a1, span(1, 1), true)
	// Another client has its own allowance.
	mustLock(t, tb, fileB, b1, span(9, 9), true)
	// Unlock that splits may exceed the limit: it must never fail.
	mustLock(t, tb, fileA, a1, span(0, 1), true)
	tb.Unlock(fileA, a1, span(1, 1))
	tb.Unlock(fileA, a2, span(2, 2))
	mustLock(t, tb, fileA, a1, span(5, 9), true)
	tb.Unlock(fileA, a1, span(7, 7))
	if got := len(tb.OwnerLocks(a1)); got != 4 {
		t.Fatalf("a1 holds %d ranges, want 4", got)
	}
	checkInvariants(t, tb)
	if c, _, err := tb.Lock(fileA, a2, span(20, 20), false); !errors.Is(err, ErrTooManyLocks) {
		t.Fatalf("over limit: %v, %v", c, err)
	}
	checkInvariants(t, tb)
	if _, _, err := NewTable(Options{MaxLocksPerClient: -1}).Lock(fileA, a1, span(0, 0), true); err != nil {
		t.Fatalf("unlimited table: %v", err)
	}
}

func mustLock(t testing.TB, tb *Table, f FileKey, o Owner, r Range, excl bool) []*Waiter {
	t.Helper()
	c, woken, err := tb.Lock(f, o, r, excl)
	if c != nil || err != nil {
		t.Fatalf("Lock(%q, %v, %v, %v) = %v, %v", f, o, r, excl, c, err)
	}
	return woken
}

func TestAll(t *testing.T) {
	tb := NewTable(Options{})
	a := Owner{Kind: NLM, Client: "h", ID: "1"}
	b := Owner{Kind: NFS4, Client: "c", ID: "2"}
	r1, _ := RangeNLM(10, 5)
	r2, _ := RangeNLM(0, 5)
	r3, _ := RangeNFS4(0, 1)
	for _, tc := range []struct {
		f FileKey
		o Owner
		r Range
	}{{"y", a, r1}, {"y", a, r2}, {"x", b, r3}} {
		if c, _, err := tb.Lock(tc.f, tc.o, tc.r, true); c != nil || err != nil {
			t.Fatalf("lock: %v %v", c, err)
		}
	}
	all := tb.All()
	if len(all) != 3 || all[0].File != "x" || all[1].Range.Start() != 0 || all[2].Range.Start() != 10 || all[1].Owner != a {
		t.Fatalf("All = %+v", all)
	}
}
