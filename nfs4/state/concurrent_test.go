package state

import (
	"fmt"
	"sync"
	"testing"

	"github.com/gonfs/gonfs/lock"
)

// TestConcurrentClients drives several clients at once so the race
// detector sees every path that shares the Manager and the lock table;
// at the end every open is closed and every lock released.
func TestConcurrentClients(t *testing.T) {
	e := newEnv(t)
	const n, rounds = 4, 50
	ids := make([]ClientID, n)
	sess := make([]SessionID, n)
	for i := range n {
		ids[i], sess[i] = e.mount(fmt.Sprint("host", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			c, s := ids[i], sess[i]
			file := lock.FileKey("shared")
			for r := range rounds {
				seq, st := e.m.Sequence(SequenceArgs{SessionID: s, Slot: 0, Seq: uint32(r + 1)})
				if st != OK {
					errs <- fmt.Errorf("client %d SEQUENCE %d: %v", i, r, st)
					return
				}
				open, _, st := e.m.Open(OpenArgs{ClientID: c, Owner: []byte("o"), File: file, Access: RW})
				if st != OK {
					errs <- fmt.Errorf("client %d OPEN: %v", i, st)
					return
				}
				res, _, st := e.m.Lock(LockArgs{ClientID: c, File: file, Exclusive: true, Offset: uint64(i * 10), Length: 10, NewOwner: true, OpenStateid: open.Stateid, Owner: []byte("l")})
				if st != OK {
					errs <- fmt.Errorf("client %d LOCK: %v", i, st)
					return
				}
				e.m.TestStateids(c, []Stateid{open.Stateid, res.Stateid})
				if _, _, st := e.m.Unlock(c, file, res.Stateid, uint64(i*10), 10); st != OK {
					errs <- fmt.Errorf("client %d LOCKU: %v", i, st)
					return
				}
				if _, _, st := e.m.Close(c, file, open.Stateid); st != OK {
					errs <- fmt.Errorf("client %d CLOSE: %v", i, st)
					return
				}
				e.m.Done(seq.Token, []byte{byte(r)}, true)
				e.m.Snapshot()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := e.locks.Stats(); st.Locks != 0 || st.Shares != 0 || len(e.m.stateids) != 0 {
		t.Errorf("leftovers: %+v, %d stateids", st, len(e.m.stateids))
	}
}
