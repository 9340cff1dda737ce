package lock

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"sync"
)

// ErrTooManyLocks reports that a client reached Options.MaxLocksPerClient or
// Options.MaxWaitersPerClient. NLM maps it to NLM4_DENIED_NOLOCKS, NFSv4 to
// NFS4ERR_RESOURCE (4.0) or NFS4ERR_DELAY.
var ErrTooManyLocks = errors.New("lock: too many locks for this client")

// Kind says which protocol an owner speaks. Owners of different kinds are
// always different owners, even with equal Client and ID strings.
type Kind uint8

// Owner kinds.
const (
	NLM  Kind = iota + 1 // NLM v4, on behalf of an NFSv3 client
	NFS4                 // NFSv4.x
)

func (k Kind) String() string {
	switch k {
	case NLM:
		return "NLM"
	case NFS4:
		return "NFS4"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// FileKey identifies a file, opaquely: for example fsid and fileid bytes.
// Two keys name the same file exactly when they are equal.
type FileKey string

// Owner is a lock owner. It is comparable and is used as a map key.
type Owner struct {
	Kind Kind
	// Client is the client the owner belongs to; ReleaseClient drops
	// everything of one (Kind, Client). NLM: caller_name or a host key.
	// NFSv4: the clientid.
	Client string
	// ID names the owner within its client. NLM: svid and oh. NFSv4: the
	// lock-owner (or open-owner, for shares).
	ID string
}

// Lock is a held lock, or a request, as reported to callers.
type Lock struct {
	Owner     Owner
	Range     Range
	Exclusive bool
}

// FileLock is a Lock together with the file it is on.
type FileLock struct {
	File FileKey
	Lock
}

// Options tune a Table. The zero value works.
type Options struct {
	// MaxLocksPerClient bounds the lock ranges one client may hold across
	// all files, so one client cannot grow the table without bound. Zero
	// means 65536; negative means no limit. Unlock never fails because of
	// it, even when splitting a range adds one.
	MaxLocksPerClient int
	// MaxWaitersPerClient bounds the blocking requests one client may have
	// queued. Zero means 1024; negative means no limit.
	MaxWaitersPerClient int
}

// Stats counts what a Table holds.
type Stats struct {
	Files   int // files with any lock, waiter or share
	Owners  int
	Clients int
	Locks   int // lock ranges; a split range counts twice
	Waiters int
	Shares  int
}

// Table is the lock table. See the package documentation for the
// concurrency model: one mutex guards everything.
type Table struct {
	maxLocks, maxWaiters int

	mu      sync.Mutex
	files   map[FileKey]*file
	owners  map[Owner]*owner
	clients map[clientKey]*client
	nlocks  int
	nwait   int
	nshares int
	ed      edit // scratch space for setLock and removeLocks
}

type clientKey struct {
	kind Kind
	name string
}

type client struct {
	key     clientKey
	owners  map[*owner]struct{}
	locks   int
	waiters int
}

// owner is the interned form of an Owner: entries point to it so that an
// entry stays small and owner comparison is a pointer comparison.
type owner struct {
	id     Owner
	client *client
	// refs counts, per file, this owner's locks, waiters and shares there,
	// so that UnlockAll and ReleaseClient visit only the files concerned and
	// the owner is forgotten when nothing of it is left.
	refs map[*file]int
}

// NewTable returns an empty table.
func NewTable(opts Options) *Table {
	lim := func(v, def int) int {
		switch {
		case v == 0:
			return def
		case v < 0:
			return int(^uint(0) >> 1)
		}
		return v
	}
	return &Table{
		maxLocks:   lim(opts.MaxLocksPerClient, 65536),
		maxWaiters: lim(opts.MaxWaitersPerClient, 1024),
		files:      make(map[FileKey]*file),
		owners:     make(map[Owner]*owner),
		clients:    make(map[clientKey]*client),
	}
}

// ownerFor returns the interned owner, creating it (and its client) if
// needed. A created owner with no state is dropped again by release.
func (t *Table) ownerFor(id Owner) *owner {
	if o := t.owners[id]; o != nil {
		return o
	}
	ck := clientKey{id.Kind, id.Client}
	c := t.clients[ck]
	if c == nil {
		c = &client{key: ck, owners: make(map[*owner]struct{})}
		t.clients[ck] = c
	}
	o := &owner{id: id, client: c, refs: make(map[*file]int)}
	c.owners[o] = struct{}{}
	t.owners[id] = o
	return o
}

// fileFor returns the state of key, creating it if needed. A created file
// with no state is dropped again by release.
func (t *Table) fileFor(key FileKey) *file {
	if f := t.files[key]; f != nil {
		return f
	}
	f := &file{key: key}
	t.files[key] = f
	return f
}

// ref adjusts o's reference count on f by d.
func (t *Table) ref(o *owner, f *file, d int) {
	n := o.refs[f] + d
	if n == 0 {
		delete(o.refs, f)
	} else {
		o.refs[f] = n
	}
}

// release forgets o and f if nothing refers to them any more. Every public
// method that may have created or emptied either calls it before returning.
func (t *Table) release(o *owner, f *file) {
	if f != nil && len(f.locks) == 0 && len(f.waiters) == 0 && len(f.shares) == 0 && t.files[f.key] == f {
		delete(t.files, f.key)
	}
	if o != nil && len(o.refs) == 0 && t.owners[o.id] == o {
		delete(t.owners, o.id)
		c := o.client
		delete(c.owners, o)
		if len(c.owners) == 0 {
			delete(t.clients, c.key)
		}
	}
}

// Stats returns the current counts.
func (t *Table) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return Stats{
		Files:   len(t.files),
		Owners:  len(t.owners),
		Clients: len(t.clients),
		Locks:   t.nlocks,
		Waiters: t.nwait,
		Shares:  t.nshares,
	}
}

// Locks lists the locks held on file, ordered by start offset.
func (t *Table) Locks(key FileKey) []Lock {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.files[key]
	if f == nil {
		return nil
	}
	out := make([]Lock, 0, len(f.locks))
	for _, e := range f.locks {
		out = append(out, e.lock())
	}
	return out
}

// OwnerLocks lists the locks held by owner, ordered by file then offset.
func (t *Table) OwnerLocks(id Owner) []FileLock {
	t.mu.Lock()
	defer t.mu.Unlock()
	o := t.owners[id]
	if o == nil {
		return nil
	}
	var out []FileLock
	for f := range o.refs {
		for _, e := range f.locks {
			if e.owner == o {
				out = append(out, FileLock{File: f.key, Lock: e.lock()})
			}
		}
	}
	slices.SortFunc(out, func(a, b FileLock) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Range.start, b.Range.start))
	})
	return out
}

// All lists every lock held, of every protocol, ordered by file then
// offset, for the admin view. It copies the whole table under the lock:
// an admin call, not a request path.
func (t *Table) All() []FileLock {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]FileLock, 0, t.nlocks)
	for _, f := range t.files {
		for _, e := range f.locks {
			out = append(out, FileLock{File: f.key, Lock: e.lock()})
		}
	}
	slices.SortFunc(out, func(a, b FileLock) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Range.start, b.Range.start))
	})
	return out
}

// Waiting lists the requests queued on file, in queue order.
func (t *Table) Waiting(key FileKey) []*Waiter {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.files[key]
	if f == nil {
		return nil
	}
	return slices.Clone(f.waiters)
}

// ReleaseClient drops every lock, queued request and share of every owner of
// the client (kind, name): NLM FREE_ALL and SM_NOTIFY after a client reboot,
// or NFSv4 lease expiry. It returns the files that held any of them, sorted,
// and the waiters of other clients granted as a result.
func (t *Table) ReleaseClient(kind Kind, name string) (files []FileKey, woken []*Waiter) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.clients[clientKey{kind, name}]
	if c == nil {
		return nil, nil
	}
	touched := make(map[*file]struct{})
	for o := range c.owners {
		for f := range o.refs {
			touched[f] = struct{}{}
			t.dropOwner(f, o)
		}
	}
	fs := make([]*file, 0, len(touched))
	for f := range touched {
		fs = append(fs, f)
	}
	slices.SortFunc(fs, func(a, b *file) int { return cmp.Compare(a.key, b.key) })
	for _, f := range fs {
		files = append(files, f.key)
		woken = append(woken, t.wake(f)...)
		t.release(nil, f)
	}
	for o := range c.owners {
		t.release(o, nil)
	}
	return files, woken
}

// UnlockAll drops every lock and queued request of owner on every file (but
// not its shares; see Unshare): NFSv4 RELEASE_LOCKOWNER or a lock-owner
// whose state is freed. It returns the waiters granted as a result, file by
// file in key order.
func (t *Table) UnlockAll(id Owner) (woken []*Waiter) {
	t.mu.Lock()
	defer t.mu.Unlock()
	o := t.owners[id]
	if o == nil {
		return nil
	}
	fs := make([]*file, 0, len(o.refs))
	for f := range o.refs {
		fs = append(fs, f)
	}
	slices.SortFunc(fs, func(a, b *file) int { return cmp.Compare(a.key, b.key) })
	for _, f := range fs {
		t.removeLocks(f, o, WholeFile())
		t.removeWaiters(f, func(w *Waiter) bool { return w.owner == o })
		woken = append(woken, t.wake(f)...)
		t.release(nil, f)
	}
	t.release(o, nil)
	return woken
}

// dropOwner removes all of o's state on f, without waking anyone.
func (t *Table) dropOwner(f *file, o *owner) {
	t.removeLocks(f, o, WholeFile())
	t.removeWaiters(f, func(w *Waiter) bool { return w.owner == o })
	t.removeShare(f, o)
}
