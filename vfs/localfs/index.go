package localfs

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// index maps inode → (parent inode, name) for index handles. It is a hint
// that every use verifies, so it may lag behind the tree: writes are
// batched in memory and flushed to bbolt by a background goroutine, and
// losing the tail of them in a crash only costs scans later.
type index struct {
	mu      sync.Mutex
	pending map[uint64]*link // nil value: delete
	mem     map[uint64]link  // the whole index when there is no db

	db      *bolt.DB
	kick    chan struct{}
	done    chan struct{}
	stopped chan struct{}
}

type link struct {
	parent uint64
	name   string
}

var bucket = []byte("links")

// memLimit bounds the in-memory index (no StateDir); past it, entries are
// dropped at random and the scan finds them again.
const memLimit = 1 << 20

// openIndex opens the index of the tree whose root has inode rootIno and
// tag rootTag. Its file is named after the root so that exports sharing a
// state directory do not share an index.
func openIndex(stateDir string, rootIno, rootTag uint64) (*index, error) {
	x := &index{pending: make(map[uint64]*link)}
	if stateDir == "" {
		x.mem = make(map[uint64]link)
		return x, nil
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("localfs: state dir: %w", err)
	}
	path := filepath.Join(stateDir, fmt.Sprintf("localfs-%x-%x.db", rootIno, rootTag))
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("localfs: index %s: %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("localfs: index %s: %w", path, err)
	}
	x.db = db
	x.kick = make(chan struct{}, 1)
	x.done = make(chan struct{})
	x.stopped = make(chan struct{})
	go x.flusher()
	return x, nil
}

func key(ino uint64) []byte { return binary.BigEndian.AppendUint64(nil, ino) }

func (x *index) get(ino uint64) (parent uint64, name string, ok bool) {
	x.mu.Lock()
	if l, found := x.pending[ino]; found {
		x.mu.Unlock()
		if l == nil {
			return 0, "", false
		}
		return l.parent, l.name, true
	}
	if x.db == nil {
		l, found := x.mem[ino]
		x.mu.Unlock()
		return l.parent, l.name, found
	}
	x.mu.Unlock()
	_ = x.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucket).Get(key(ino))
		if len(v) > 8 {
			parent, name, ok = binary.BigEndian.Uint64(v), string(v[8:]), true
		}
		return nil
	})
	return parent, name, ok
}

// put records that ino is name in parent. It writes only if that is news,
// so lookups of known files cost one read.
func (x *index) put(ino, parent uint64, name string) {
	if p, n, ok := x.get(ino); ok && p == parent && n == name {
		return
	}
	x.mu.Lock()
	if x.db == nil {
		if len(x.mem) >= memLimit {
			for k := range x.mem {
				delete(x.mem, k)
				break
			}
		}
		x.mem[ino] = link{parent, name}
		x.mu.Unlock()
		return
	}
	x.pending[ino] = &link{parent, name}
	x.mu.Unlock()
	x.signal()
}

// remove forgets ino if its entry is name in parent (another link of ino
// may have been recorded since).
func (x *index) remove(ino, parent uint64, name string) {
	if p, n, ok := x.get(ino); !ok || p != parent || n != name {
		return
	}
	x.mu.Lock()
	if x.db == nil {
		delete(x.mem, ino)
		x.mu.Unlock()
		return
	}
	x.pending[ino] = nil
	x.mu.Unlock()
	x.signal()
}

func (x *index) signal() {
	select {
	case x.kick <- struct{}{}:
	default:
	}
}

// flusher writes pending entries in batches: one bbolt transaction (and
// fsync) per batch rather than per operation.
func (x *index) flusher() {
	defer close(x.stopped)
	for {
		select {
		case <-x.kick:
		case <-x.done:
			x.flush()
			return
		}
		// Let a burst (a ReadDir plus, an untar) gather into one batch.
		select {
		case <-time.After(20 * time.Millisecond):
		case <-x.done:
		}
		x.flush()
	}
}

func (x *index) flush() {
	x.mu.Lock()
	batch := make(map[uint64]*link, len(x.pending))
	for ino, l := range x.pending {
		batch[ino] = l
	}
	x.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	// Entries stay in pending (and visible to get) until they are in the
	// db; a put that replaces one meanwhile is written next time.
	err := x.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		for ino, l := range batch {
			var err error
			if l == nil {
				err = b.Delete(key(ino))
			} else {
				err = b.Put(key(ino), append(key(l.parent), l.name...))
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return // kept pending; the next flush retries
	}
	x.mu.Lock()
	for ino, l := range batch {
		if x.pending[ino] == l {
			delete(x.pending, ino)
		}
	}
	x.mu.Unlock()
}

func (x *index) close() error {
	if x.db == nil {
		return nil
	}
	close(x.done)
	<-x.stopped
	return x.db.Close()
}
