// Package unstable keeps the UNSTABLE writes of one file until a COMMIT
// makes them safe, for NFSv3 (RFC 1813 §3.3.7, §3.3.21) and NFSv4 (RFC 8881
// §18.32, §18.3) alike: each write is kept with the write verifier of its
// reply; when COMMIT returns a verifier some writes did not get, the server
// restarted since them and may have lost them, so exactly those are sent
// again, stable, before the commit counts as done.
//
// Concurrency: a Tracker is safe for concurrent use. Commit may run
// concurrently with Add; writes added during a Commit wait for the next.
package unstable

import (
	"context"
	"sync"
)

// Verifier is a write verifier (writeverf3, verifier4).
type Verifier = [8]byte

// Tracker holds the uncommitted writes of one file.
type Tracker struct {
	mu      sync.Mutex
	pending []span
	bytes   int
}

type span struct {
	off  uint64
	data []byte
	verf Verifier
}

// Add records a write the server answered UNSTABLE (or DATA_SYNC) with
// verifier verf; data is copied. It returns the bytes now uncommitted.
func (t *Tracker) Add(off uint64, data []byte, verf Verifier) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pending = append(t.pending, span{off: off, data: append([]byte(nil), data...), verf: verf})
	t.bytes += len(data)
	return t.bytes
}

// Uncommitted returns the bytes written but not committed.
func (t *Tracker) Uncommitted() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.bytes
}

// Commit calls commit and then resend (a stable write) for every write
// whose verifier differs from the one commit returned. On failure the
// writes not yet known safe stay pending.
func (t *Tracker) Commit(ctx context.Context, commit func(context.Context) (Verifier, error), resend func(ctx context.Context, off uint64, data []byte) error) error {
	t.mu.Lock()
	todo := t.pending
	t.pending, t.bytes = nil, 0
	t.mu.Unlock()
	if len(todo) == 0 {
		return nil
	}
	verf, err := commit(ctx)
	if err != nil {
		t.requeue(todo)
		return err
	}
	for i, s := range todo {
		if s.verf == verf {
			continue
		}
		if err := resend(ctx, s.off, s.data); err != nil {
			t.requeue(todo[i:])
			return err
		}
	}
	return nil
}

func (t *Tracker) requeue(spans []span) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pending = append(spans, t.pending...)
	for _, s := range spans {
		t.bytes += len(s.data)
	}
}
