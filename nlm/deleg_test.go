package nlm

import (
	"errors"
	"sync"
	"testing"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/proto/nlmxdr"
)

// fakeDelegations records what the lock path asks and answers err.
type fakeDelegations struct {
	mu    sync.Mutex
	asked []bool // exclusive, per call
	files []lock.FileKey
	err   error
}

func (f *fakeDelegations) RecallForLock(file lock.FileKey, exclusive bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, exclusive)
	f.files = append(f.files, file)
	return f.err
}

// RFC 8881 §10.4.4: a lock waits for NFSv4 delegations of the file to be
// recalled, answered NLM4_DENIED_GRACE_PERIOD meanwhile (deleg.go says
// why), and is granted once the checker lets it through.
func TestLockRecallsDelegations(t *testing.T) {
	e := newEnv(t, "")
	d := &fakeDelegations{err: errors.New("recall under way")}
	e.s.SetDelegations(d)
	a := e.client("alpha", 7, 1000)
	for _, o := range []lockOpts{excl, shared, {excl: true, block: true}} {
		if st := a.lock(e.fh2, 0, 10, o); st != nlmxdr.NLM4_DENIED_GRACE_PERIOD {
			t.Fatalf("lock %+v during a recall: %v, want NLM4_DENIED_GRACE_PERIOD", o, st)
		}
	}
	if got := e.locks.Locks(e.key(e.fh2)); len(got) != 0 {
		t.Fatalf("locks taken during a recall: %+v", got)
	}
	d.mu.Lock()
	if len(d.asked) != 3 || !d.asked[0] || d.asked[1] || !d.asked[2] || d.files[0] != e.key(e.fh2) {
		t.Errorf("asked %v for %q", d.asked, d.files)
	}
	d.err = nil
	d.mu.Unlock()
	if st := a.lock(e.fh2, 0, 10, excl); st != nlmxdr.NLM4_GRANTED {
		t.Fatalf("lock after the recall: %v", st)
	}
	e.s.SetDelegations(nil)
	if st := a.lock(e.fh2, 20, 10, excl); st != nlmxdr.NLM4_GRANTED {
		t.Fatalf("lock without a checker: %v", st)
	}
}
