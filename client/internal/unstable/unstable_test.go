package unstable

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// TestCommitResendsChangedVerifier: RFC 1813 §3.3.21 — writes whose
// verifier differs from COMMIT's are sent again; the others are not.
func TestCommitResendsChangedVerifier(t *testing.T) {
	old, cur := Verifier{1}, Verifier{2}
	for _, tc := range []struct {
		name       string
		verfs      []Verifier
		commitErr  error
		resendErr  error
		wantResent []uint64
		wantLeft   int
	}{
		{name: "same verifier", verfs: []Verifier{cur, cur}, wantResent: nil},
		{name: "server restarted", verfs: []Verifier{old, cur, old}, wantResent: []uint64{0, 20}},
		{name: "commit fails", verfs: []Verifier{old}, commitErr: errors.New("down"), wantLeft: 10},
		{name: "resend fails", verfs: []Verifier{old, old}, resendErr: errors.New("down"), wantResent: []uint64{0}, wantLeft: 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tr Tracker
			for i, v := range tc.verfs {
				tr.Add(uint64(i*10), make([]byte, 10), v)
			}
			var resent []uint64
			err := tr.Commit(context.Background(),
				func(context.Context) (Verifier, error) { return cur, tc.commitErr },
				func(_ context.Context, off uint64, data []byte) error {
					resent = append(resent, off)
					return tc.resendErr
				})
			if (err != nil) != (tc.commitErr != nil || tc.resendErr != nil) {
				t.Fatalf("Commit: %v", err)
			}
			if !slices.Equal(resent, tc.wantResent) {
				t.Errorf("resent %v, want %v", resent, tc.wantResent)
			}
			if got := tr.Uncommitted(); got != tc.wantLeft {
				t.Errorf("uncommitted %d, want %d", got, tc.wantLeft)
			}
		})
	}
}
