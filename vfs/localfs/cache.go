package localfs

import (
	"container/list"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/gonfs/gonfs/vfs"
)

// node is a resolved handle: an open descriptor of the file (O_PATH, or
// O_RDONLY for regular files we created) and what we know of it.
type node struct {
	key    string // cache key (see FS.keyOf)
	handle vfs.Handle
	fd     int
	ino    uint64
	tag    uint64
	typ    vfs.FileType

	// refs, evicted and elem are guarded by cache.mu. A node is closed
	// when it has been evicted and the last user has released it, so a
	// descriptor is never closed (and its number reused) under a user.
	refs    int
	evicted bool
	elem    *list.Element
	sameIno *node // next node of the same inode (cache.byIno chain)

	// ioFD is the read/write descriptor of a regular file, opened on first
	// I/O. I/O holds ioMu for reading; replacing ioFD holds it for writing.
	ioMu sync.RWMutex
	// writeMu lets one pwrite of the file into the kernel at a time
	// (see Write).
	writeMu    sync.Mutex
	ioFD       int
	ioWritable bool

	perm permCache
}

func (n *node) closeFDs() {
	if n.fd >= 0 {
		unix.Close(n.fd)
		n.fd = -1
	}
	if n.ioFD >= 0 {
		unix.Close(n.ioFD)
		n.ioFD = -1
	}
}

// cache is a bounded LRU of resolved nodes. Correctness never depends on
// it: anything evicted is resolved again from its handle.
type cache struct {
	mu  sync.Mutex
	max int
	m   map[string]*node
	lru *list.List // front: most recent
	// byIno chains the nodes of each inode (usually one), so that a
	// removal (evictIno) and a lookup by inode (getIno) need not walk
	// the whole cache.
	byIno map[uint64]*node
}

func newCache(max int) *cache {
	return &cache{max: max, m: make(map[string]*node), lru: list.New(), byIno: make(map[uint64]*node)}
}

// getIno returns a cached node of inode ino with a reference, or nil.
// Every cached node holds a descriptor of its file on the export's device,
// so its inode is alive: any other file of that device seen alive
// meanwhile with number ino (a statx by name, say) is the same file.
func (c *cache) getIno(ino uint64) *node {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.byIno[ino]
	if n == nil {
		return nil
	}
	n.refs++
	c.lru.MoveToFront(n.elem)
	return n
}

// get returns the node for key with a reference, or nil.
func (c *cache) get(key string) *node {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.m[key]
	if n == nil {
		return nil
	}
	n.refs++
	c.lru.MoveToFront(n.elem)
	return n
}

// add inserts n (which holds no reference yet) and returns the node now
// cached for its key, with a reference: n itself, or the node another
// goroutine added first (n is then closed).
func (c *cache) add(n *node) *node {
	c.mu.Lock()
	if old := c.m[n.key]; old != nil {
		old.refs++
		c.lru.MoveToFront(old.elem)
		c.mu.Unlock()
		n.closeFDs()
		return old
	}
	n.refs = 1
	c.m[n.key] = n
	n.elem = c.lru.PushFront(n)
	n.sameIno = c.byIno[n.ino]
	c.byIno[n.ino] = n
	var victims []*node
	for c.lru.Len() > c.max {
		v := c.lru.Remove(c.lru.Back()).(*node)
		if v := c.unlinkLocked(v); v != nil {
			victims = append(victims, v)
		}
	}
	c.mu.Unlock()
	for _, v := range victims {
		v.closeFDs()
	}
	return n
}

// unlinkLocked marks v evicted (v is already out of the list) and returns
// it if it can be closed now.
func (c *cache) unlinkLocked(v *node) *node {
	delete(c.m, v.key)
	if head := c.byIno[v.ino]; head == v {
		if v.sameIno == nil {
			delete(c.byIno, v.ino)
		} else {
			c.byIno[v.ino] = v.sameIno
		}
	} else {
		for p := head; p != nil; p = p.sameIno {
			if p.sameIno == v {
				p.sameIno = v.sameIno
				break
			}
		}
	}
	v.sameIno = nil
	v.evicted = true
	v.elem = nil
	if v.refs == 0 {
		return v
	}
	return nil
}

// release drops a reference taken by get, add or FS.resolve.
func (c *cache) release(n *node) {
	c.mu.Lock()
	n.refs--
	closeIt := n.evicted && n.refs == 0
	c.mu.Unlock()
	if closeIt {
		n.closeFDs()
	}
}

// evictIno drops every node of inode ino: after its last link is removed,
// or when it turned out stale.
func (c *cache) evictIno(ino uint64) {
	var victims []*node
	c.mu.Lock()
	for c.byIno[ino] != nil {
		n := c.byIno[ino]
		c.lru.Remove(n.elem)
		if v := c.unlinkLocked(n); v != nil {
			victims = append(victims, v)
		}
	}
	c.mu.Unlock()
	for _, v := range victims {
		v.closeFDs()
	}
}

// closeAll closes every idle node; used by FS.Close.
func (c *cache) closeAll() {
	c.mu.Lock()
	var victims []*node
	for _, n := range c.m {
		c.lru.Remove(n.elem)
		if v := c.unlinkLocked(n); v != nil {
			victims = append(victims, v)
		}
	}
	c.mu.Unlock()
	for _, v := range victims {
		v.closeFDs()
	}
}

// seenSet remembers kernel handles that were issued for files found by
// name from a verified directory but not cached (ReadDir with plus): a
// later resolution of one needs no confinement check, as a cached node
// would not (see the package documentation). It is bounded by two
// generations of at most max handles; when the newer fills, the older is
// dropped, and a forgotten handle only costs the check again.
type seenSet struct {
	mu       sync.Mutex
	max      int
	cur, old map[string]struct{}
}

func newSeenSet(max int) *seenSet {
	return &seenSet{max: max, cur: make(map[string]struct{})}
}

func (s *seenSet) add(h vfs.Handle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.cur[string(h)]; ok {
		return
	}
	if len(s.cur) >= s.max {
		s.old, s.cur = s.cur, make(map[string]struct{}, s.max)
	}
	s.cur[string(h)] = struct{}{}
}

func (s *seenSet) has(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.cur[key]; ok {
		return true
	}
	_, ok := s.old[key]
	return ok
}
