package lock

import (
	"errors"
	"slices"
	"testing"
)

func TestShareConflicts(t *testing.T) {
	const (
		N = ShareNone
		R = ShareRead
		W = ShareWrite
		B = ShareBoth
	)
	tests := []struct {
		name                 string
		heldAccess, heldDeny ShareMode
		access, deny         ShareMode
		denied               bool
	}{
		{"read/read deny none", R, N, R, N, false},
		{"both deny none / both deny none", B, N, B, N, false},
		{"read denied by deny read", W, R, R, N, true},
		{"write denied by deny write", R, W, W, N, true},
		{"read allowed under deny write", R, W, R, N, false},
		{"deny read refused while someone reads", R, N, W, R, true},
		{"deny write refused while someone writes", W, N, R, W, true},
		{"deny write allowed while others read", R, N, R, W, false},
		{"deny both vs anything", R, B, W, N, true},
		{"request deny both vs reader", R, N, R, B, true},
		{"no access no deny vs deny both", B, B, N, N, false},
		{"deny none access none vs writer", W, N, N, N, false},
		{"deny read with no access vs writer", W, N, N, R, false},
		{"deny read with no access vs reader", R, N, N, R, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := NewTable(Options{})
			if err := tb.Share(fileA, a1, tc.heldAccess, tc.heldDeny); err != nil {
				t.Fatal(err)
			}
			err := tb.Share(fileA, b1, tc.access, tc.deny)
			if tc.denied != errors.Is(err, ErrShareDenied) || (!tc.denied && err != nil) {
				t.Fatalf("Share = %v, want denied=%v", err, tc.denied)
			}
			// The same owner never conflicts with itself: it replaces.
			if err := tb.Share(fileA, a1, tc.access, tc.deny); err != nil && !tc.denied {
				t.Fatalf("own replace: %v", err)
			}
			// Another file is unaffected.
			if err := tb.Share(fileB, b1, tc.access, tc.deny); err != nil {
				t.Fatalf("other file: %v", err)
			}
			checkInvariants(t, tb)
		})
	}
}

func TestShareReplaceAndUnshare(t *testing.T) {
	tb := NewTable(Options{})
	if err := tb.Share(fileA, a1, ShareBoth, ShareWrite); err != nil {
		t.Fatal(err)
	}
	if err := tb.Share(fileA, b1, ShareWrite, ShareNone); !errors.Is(err, ErrShareDenied) {
		t.Fatalf("writer under deny write: %v", err)
	}
	// a1 relaxes its reservation: replaced, not added.
	if err := tb.Share(fileA, a1, ShareRead, ShareNone); err != nil {
		t.Fatal(err)
	}
	if err := tb.Share(fileA, b1, ShareWrite, ShareNone); err != nil {
		t.Fatalf("writer after relax: %v", err)
	}
	want := []Share{{a1, ShareRead, ShareNone}, {b1, ShareWrite, ShareNone}}
	if got := tb.Shares(fileA); !slices.Equal(got, want) {
		t.Fatalf("Shares = %v, want %v", got, want)
	}
	// A refused change leaves the old reservation in place.
	if err := tb.Share(fileA, a1, ShareRead, ShareWrite); !errors.Is(err, ErrShareDenied) {
		t.Fatalf("deny write while b1 writes: %v", err)
	}
	if got := tb.Shares(fileA); !slices.Equal(got, want) {
		t.Fatalf("Shares after refusal = %v", got)
	}
	if !tb.Unshare(fileA, a1) || tb.Unshare(fileA, a1) || tb.Unshare(fileB, b1) {
		t.Fatal("Unshare results wrong")
	}
	if st := tb.Stats(); st.Shares != 1 || st.Owners != 1 {
		t.Fatalf("Stats = %+v", st)
	}
	tb.Unshare(fileA, b1)
	checkInvariants(t, tb)
	if st := tb.Stats(); st != (Stats{}) {
		t.Fatalf("Stats = %+v", st)
	}
}

func TestShareInvalid(t *testing.T) {
	tb := NewTable(Options{})
	for _, m := range [][2]ShareMode{{4, 0}, {0, 4}, {ShareRead, 8}, {255, 255}} {
		if err := tb.Share(fileA, a1, m[0], m[1]); !errors.Is(err, ErrInvalidShare) {
			t.Errorf("Share(%d, %d) = %v, want ErrInvalidShare", m[0], m[1], err)
		}
	}
	if st := tb.Stats(); st != (Stats{}) {
		t.Fatalf("Stats = %+v", st)
	}
}

// TestSharesIndependentOfLocks: share reservations and byte-range locks
// are separate tables.
func TestSharesIndependentOfLocks(t *testing.T) {
	tb := NewTable(Options{})
	if err := tb.Share(fileA, a1, ShareBoth, ShareBoth); err != nil {
		t.Fatal(err)
	}
	mustLock(t, tb, fileA, b1, WholeFile(), true)
	checkInvariants(t, tb)
}
