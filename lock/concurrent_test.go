package lock

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
)

// TestConcurrentUse drives one table from several goroutines (run with
// -race) and then checks that its state is consistent and that releasing
// every client leaves it empty.
func TestConcurrentUse(t *testing.T) {
	tb := NewTable(Options{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			o := Owner{Kind: Kind(1 + g%2), Client: "c" + strconv.Itoa(g%3), ID: strconv.Itoa(g)}
			for range 500 {
				f := FileKey(strconv.Itoa(rng.IntN(3)))
				s := rng.Uint64N(100)
				r := span(s, s+rng.Uint64N(20))
				switch rng.IntN(6) {
				case 0, 1:
					tb.Lock(f, o, r, rng.IntN(2) == 0)
				case 2:
					tb.Wait(f, o, r, rng.IntN(2) == 0, nil)
				case 3:
					tb.Unlock(f, o, r)
				case 4:
					tb.CancelWait(f, o, r)
					tb.Test(f, o, r, true)
				case 5:
					tb.Share(f, o, ShareMode(rng.IntN(4)), ShareMode(rng.IntN(4)))
					tb.Locks(f)
					tb.Stats()
				}
			}
		})
	}
	wg.Wait()
	checkInvariants(t, tb)
	for g := range 4 {
		tb.ReleaseClient(Kind(1+g%2), "c"+strconv.Itoa(g%3))
	}
	checkInvariants(t, tb)
	if st := tb.Stats(); st != (Stats{}) {
		t.Fatalf("Stats after releasing everyone = %+v", st)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{NLM: "NLM", NFS4: "NFS4", 0: "Kind(0)", 9: "Kind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, want)
		}
	}
}
