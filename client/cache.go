package client

import (
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Default cache timeouts, as the Linux client's acregmin, acregmax,
// acdirmin and acdirmax (nfs(5)).
const (
	DefaultAcRegMin  = 3 * time.Second
	DefaultAcRegMax  = 60 * time.Second
	DefaultAcDirMin  = 30 * time.Second
	DefaultAcDirMax  = 60 * time.Second
	DefaultCacheSize = 64 << 20
)

// CacheStats counts what the caches did; Client.CacheStats returns them.
type CacheStats struct {
	// Getattrs counts the attribute fetches from the server (GETATTR, or
	// the LOOKUP walk of a path) made for Stat, Lstat and File.Stat.
	Getattrs int64
	// AttrHits counts attribute requests answered from the cache.
	AttrHits int64
	// NegativeHits counts lookups answered "does not exist" from the
	// name cache.
	NegativeHits int64
	// DataHits and DataMisses count file data blocks read from the cache
	// and fetched from the server.
	DataHits, DataMisses int64
	// Invalidations counts data caches dropped because the file's change
	// attribute moved (close-to-open, or an expired attribute).
	Invalidations int64
}

// attrEntry is the cached attributes of one file, by handle.
type attrEntry struct {
	fi      FileInfo
	expires time.Time
}

// nameEntry is a cached path: the handle it leads to, or that it does not
// exist (key "").
type nameEntry struct {
	key     string
	expires time.Time
}

// cache holds the attribute and name caches of a Client and its data
// caches by file handle. Lock order: a fileCache's mu before cache.mu;
// nothing is held across RPCs except fileCache.io.
type cache struct {
	acregmin, acregmax, acdirmin, acdirmax time.Duration
	size                                   int64
	now                                    func() time.Time // tests replace it

	mu    sync.Mutex
	attrs map[string]*attrEntry
	names map[string]nameEntry
	files map[string]*fileCache
	bytes atomic.Int64 // clean and dirty data cached, all files

	getattrs, attrHits, negHits, dataHits, dataMisses, invalidations atomic.Int64
}

func newCache(o *Options) *cache {
	d := func(v, def time.Duration) time.Duration {
		if v <= 0 {
			return def
		}
		return v
	}
	c := &cache{
		acregmin: d(o.AcRegMin, DefaultAcRegMin), acregmax: d(o.AcRegMax, DefaultAcRegMax),
		acdirmin: d(o.AcDirMin, DefaultAcDirMin), acdirmax: d(o.AcDirMax, DefaultAcDirMax),
		size: o.CacheSize, now: time.Now,
		attrs: make(map[string]*attrEntry), names: make(map[string]nameEntry), files: make(map[string]*fileCache),
	}
	if c.size <= 0 {
		c.size = DefaultCacheSize
	}
	c.acregmax = max(c.acregmax, c.acregmin)
	c.acdirmax = max(c.acdirmax, c.acdirmin)
	return c
}

func (c *cache) stats() CacheStats {
	return CacheStats{Getattrs: c.getattrs.Load(), AttrHits: c.attrHits.Load(), NegativeHits: c.negHits.Load(),
		DataHits: c.dataHits.Load(), DataMisses: c.dataMisses.Load(), Invalidations: c.invalidations.Load()}
}

// timeout is how long attributes fetched now stay fresh: a tenth of the
// time since the file last changed, within the regular or directory
// bounds (the Linux client's heuristic: a file that changed recently is
// likely to change again).
func (c *cache) timeout(fi *FileInfo, now time.Time) time.Duration {
	lo, hi := c.acregmin, c.acregmax
	if fi.IsDir() {
		lo, hi = c.acdirmin, c.acdirmax
	}
	return min(max(now.Sub(fi.mtime)/10, lo), hi)
}

// lookup answers a stat of p from the cache: the attributes, or exists
// false for a fresh negative entry. ok false means ask the server.
func (c *cache) lookup(p string) (fi *FileInfo, exists, ok bool) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	n, found := c.names[p]
	if !found || now.After(n.expires) {
		return nil, false, false
	}
	if n.key == "" {
		c.negHits.Add(1)
		return nil, false, true
	}
	a := c.attrs[n.key]
	if a == nil || (now.After(a.expires) && !c.delegatedLocked(n.key)) {
		return nil, false, false
	}
	c.attrHits.Add(1)
	cp := a.fi
	cp.name = baseName(p)
	return &cp, true, true
}

// delegatedLocked reports a file whose data cache holds a delegation: its
// attributes cannot change behind the client's back (RFC 8881 §10.4), so
// they need no revalidation.
func (c *cache) delegatedLocked(key string) bool {
	f := c.files[key]
	return f != nil && f.delegated.Load()
}

// put records fresh attributes of path p (p "-" for a handle's own stat)
// and checks the file's data cache against its change attribute.
func (c *cache) put(p string, fi *FileInfo) {
	if fi.key == "" {
		return
	}
	now := c.now()
	c.mu.Lock()
	c.attrs[fi.key] = &attrEntry{fi: *fi, expires: now.Add(c.timeout(fi, now))}
	if p != "-" {
		c.names[p] = nameEntry{key: fi.key, expires: now.Add(c.acdirmin)}
	}
	f := c.files[fi.key]
	c.mu.Unlock()
	if f != nil {
		f.revalidate(fi.attr.Change)
	}
}

// putNegative records that p does not exist.
func (c *cache) putNegative(p string) {
	now := c.now()
	c.mu.Lock()
	c.names[p] = nameEntry{expires: now.Add(c.acdirmin)}
	c.mu.Unlock()
}

// forgetAttr drops the attributes of a handle (its file changed).
func (c *cache) forgetAttr(key string) {
	c.mu.Lock()
	delete(c.attrs, key)
	c.mu.Unlock()
}

// touched forgets what a change to the names ps made stale: their name
// entries and everything below them, their attributes (ctime, nlink), and
// their directories' attributes.
func (c *cache) touched(ps ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range ps {
		if n, ok := c.names[p]; ok && n.key != "" {
			delete(c.attrs, n.key)
		}
		dir := path.Dir(p)
		if dir == "." {
			dir = ""
		}
		if n, ok := c.names[dir]; ok && n.key != "" {
			delete(c.attrs, n.key)
		}
		delete(c.names, p)
		prefix := p + "/"
		for q := range c.names {
			if p == "" || strings.HasPrefix(q, prefix) {
				delete(c.names, q)
			}
		}
	}
}

// file returns the data cache of a handle, made if need be.
func (c *cache) file(key string, blockSize int) *fileCache {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.files[key]
	if f == nil {
		f = &fileCache{c: c, key: key, bs: int64(blockSize), blocks: make(map[int64][]byte), dirty: make(map[int64]span)}
		c.files[key] = f
	}
	return f
}

// evict drops clean data of other files until the cache is within its
// size, sparing self (whose mu the caller may hold).
func (c *cache) evict(self *fileCache) {
	if c.bytes.Load() <= c.size {
		return
	}
	c.mu.Lock()
	victims := make([]*fileCache, 0, len(c.files))
	for _, f := range c.files {
		if f != self {
			victims = append(victims, f)
		}
	}
	c.mu.Unlock()
	for _, f := range victims {
		if c.bytes.Load() <= c.size {
			return
		}
		if f.mu.TryLock() {
			f.dropCleanLocked(-1)
			f.mu.Unlock()
		}
	}
}

// CacheTimeouts returns the minimum attribute timeouts in force for
// regular files and directories, zero with Options.NoCache. A layer
// caching above the client (FUSE's kernel caches) keeps what it caches no
// longer than this.
func (c *Client) CacheTimeouts() (reg, dir time.Duration) {
	if c.cache == nil {
		return 0, 0
	}
	return c.cache.acregmin, c.cache.acdirmin
}
