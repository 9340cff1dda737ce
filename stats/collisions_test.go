package stats

import (
	"sync"
	"testing"
)

// TestClientOwnerCollisions: the counter reaches the snapshot, also when
// counted from many goroutines.
func TestClientOwnerCollisions(t *testing.T) {
	s := New(Options{})
	if n := s.Snapshot().ClientOwnerCollisions; n != 0 {
		t.Fatalf("fresh: %d", n)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 10 {
				s.ClientOwnerCollision()
			}
		})
	}
	wg.Wait()
	if n := s.Snapshot().ClientOwnerCollisions; n != 40 {
		t.Errorf("ClientOwnerCollisions %d, want 40", n)
	}
}
