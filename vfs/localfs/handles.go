package localfs

import (
	"sync"

	"golang.org/x/sys/unix"

	"github.com/gonfs/gonfs/vfs"
)

// Kernel-handle cache geometry: 16,384 sets of 4 ways, 65,536 handles in
// 4.25 MiB per FS, allocated once in New (kernel mode on a filesystem whose
// handle layout handleIno reads) and never grown. Memory the cache never
// reaches is never touched, so never resident.
const (
	handleWays    = 4
	handleSetBits = 14
)

// handleCache maps a file's identity, (inode number, birth time), to the
// kernel handle name_to_handle_at gave for it, so that a listing of files
// seen before needs one statx per entry instead of statx and
// name_to_handle_at (see the package documentation for why the pair
// names one file, and for the caveat of coarse birth times).
//
// Entries hold the handle's bytes inline: the cache holds no pointers, so
// the garbage collector never scans it, and a hit copies the handle out,
// so callers own what they get. A set is chosen by the inode number,
// mixed so that a run of consecutive numbers (a directory's files often
// have them) fills every set evenly. Within a set a new entry replaces the
// entry of the same inode number (a file that reused the number), else an
// empty way, else the oldest (FIFO). Recency is not worth tracking: a
// listing touches every entry once per pass, and so a hit writes nothing.
//
// One mutex per set, held for a few comparisons and a copy of at most
// vfs.MaxHandle bytes, never over a system call.
type handleCache struct {
	bits uint
	sets []handleSet
}

type handleSet struct {
	mu   sync.Mutex
	next uint8 // the way a new entry replaces when none is free
	e    [handleWays]handleEntry
}

type handleEntry struct {
	ino, btime uint64 // btime: tagOf, never 0 in a used way
	n          uint8  // handle length; 0 for an empty way
	h          [vfs.MaxHandle]byte
}

func newHandleCache(setBits uint) *handleCache {
	return &handleCache{bits: setBits, sets: make([]handleSet, 1<<setBits)}
}

func (c *handleCache) set(ino uint64) *handleSet {
	// Numbers that differ only in their low bits land in distinct sets;
	// each higher block of numbers is shifted by its own offset.
	i := ino + (ino>>c.bits)*0x9e3779b97f4a7c15
	return &c.sets[i&(1<<c.bits-1)]
}

// lookup returns a copy of the handle cached for inode ino and the birth
// time it was cached with.
func (c *handleCache) lookup(ino uint64) (h vfs.Handle, btime uint64, ok bool) {
	s := c.set(ino)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.e {
		if e := &s.e[i]; e.n != 0 && e.ino == ino {
			return append(make(vfs.Handle, 0, e.n), e.h[:e.n]...), e.btime, true
		}
	}
	return nil, 0, false
}

// has reports whether h is the handle cached for (ino, btime).
func (c *handleCache) has(ino, btime uint64, h vfs.Handle) bool {
	s := c.set(ino)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.e {
		if e := &s.e[i]; e.n != 0 && e.ino == ino && e.btime == btime && string(e.h[:e.n]) == string(h) {
			return true
		}
	}
	return false
}

// get returns a copy of the handle cached for (ino, btime), or nil.
func (c *handleCache) get(ino, btime uint64) vfs.Handle {
	if h, bt, ok := c.lookup(ino); ok && bt == btime {
		return h
	}
	return nil
}

// put caches a copy of h as the handle of (ino, btime). Nothing is cached
// for a btime of 0 (no birth time) or a handle of no or too many bytes.
func (c *handleCache) put(ino, btime uint64, h vfs.Handle) {
	if btime == 0 || len(h) == 0 || len(h) > vfs.MaxHandle {
		return
	}
	s := c.set(ino)
	s.mu.Lock()
	defer s.mu.Unlock()
	w := -1
	for i := range s.e {
		e := &s.e[i]
		if e.n != 0 && e.ino == ino {
			w = i // one entry per inode number: the older file is gone
			break
		}
		if e.n == 0 && w < 0 {
			w = i
		}
	}
	if w < 0 {
		w = int(s.next)
		s.next = (s.next + 1) % handleWays
	}
	e := &s.e[w]
	e.ino, e.btime = ino, btime
	e.n = uint8(copy(e.h[:], h))
}

// drop removes the entry of inode ino if its handle is h, or whatever its
// handle when h is nil.
func (c *handleCache) drop(ino uint64, h vfs.Handle) {
	s := c.set(ino)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.e {
		if e := &s.e[i]; e.n != 0 && e.ino == ino && (h == nil || string(e.h[:e.n]) == string(h)) {
			*e = handleEntry{}
		}
	}
}

// handleCacheOn reports whether fs caches kernel handles: in kernel mode,
// on the filesystems whose handles tell their inode number (handleIno),
// so that a cached handle that turns out stale can be found and dropped
// (dropStaleHandle).
func (fs *FS) handleCacheOn() bool {
	return fs.handles != nil && fs.kernel && fs.handleFS != 0
}

// knownHandle returns the cached kernel handle of the file stx describes,
// or nil. Without a birth time there is no identity to match.
func (fs *FS) knownHandle(stx *unix.Statx_t) vfs.Handle {
	if !fs.handleCacheOn() || stx.Mask&unix.STATX_BTIME == 0 {
		return nil
	}
	if tag := tagOf(stx); tag != 0 {
		return fs.handles.get(stx.Ino, tag)
	}
	return nil
}

// isKnownHandle reports whether h is the handle cached for the file stx
// describes.
func (fs *FS) isKnownHandle(stx *unix.Statx_t, h vfs.Handle) bool {
	if !fs.handleCacheOn() || stx.Mask&unix.STATX_BTIME == 0 {
		return false
	}
	tag := tagOf(stx)
	return tag != 0 && fs.handles.has(stx.Ino, tag, h)
}

// rememberHandle caches h, the kernel handle of the file with inode ino
// and tag (its birth time, 0 when it has none: then nothing is cached).
// The caller knows that h names that very file: the kernel made h from a
// descriptor whose statx gave ino and tag, or handleIno(h) is the inode
// number statx gave after name_to_handle_at (plusEntry).
func (fs *FS) rememberHandle(ino, tag uint64, h vfs.Handle) {
	if fs.handleCacheOn() && tag != 0 {
		fs.handles.put(ino, tag, h)
	}
}

// dropStaleHandle forgets h after it failed to resolve: should the cache
// have taken another file for the one h names (see the package
// documentation), the next listing or lookup asks the kernel again.
func (fs *FS) dropStaleHandle(h vfs.Handle) {
	if !fs.handleCacheOn() {
		return
	}
	if ino, ok := fs.handleIno(h); ok {
		fs.handles.drop(ino, h)
	}
}

// dropHandles forgets the cached handle of inode ino, whose last link is
// gone: no file will have its identity again, and one created meanwhile
// with its number in the same clock tick must not be taken for it.
func (fs *FS) dropHandles(ino uint64) {
	if fs.handleCacheOn() {
		fs.handles.drop(ino, nil)
	}
}
