package client

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
)

// dirtyMax bounds the data one file keeps dirty under a write delegation
// before writing it back.
const dirtyMax = 8 << 20

// span is the dirty range [lo, hi) of a block.
type span struct{ lo, hi int64 }

// fileCache is the data cache of one file (by handle), in blocks of bs
// bytes at multiples of bs. A block shorter than bs ends at the end of the
// file as it was when cached. Clean blocks are valid while the file's
// change attribute is the one they were read under (change); dirty blocks
// exist only under a write delegation (RFC 8881 §10.4.1) and are written
// back on close, Sync, Truncate, recall, or when more than dirtyMax pile
// up.
//
// Concurrency: mu guards the maps and counters and is never held across
// an RPC; io serializes the buffered writes and the write-backs of the
// file, and is held across them.
type fileCache struct {
	c   *cache
	key string
	bs  int64

	delegated atomic.Bool // a read or write delegation is held
	wdeleg    atomic.Bool // a write delegation is held: writes are buffered

	io sync.Mutex

	mu      sync.Mutex
	change  uint64
	known   bool
	blocks  map[int64][]byte
	dirty   map[int64]span
	ndirty  int64
	size    int64 // the file's size as this client sees it, while wdeleg
	gen     uint64
	writers int    // open Files that may write
	mods    uint64 // local modifications, for CB_GETATTR
	granted uint64 // mods when the write delegation was granted
	opens   map[*File]struct{}
}

// revalidate checks the data cache against a fresh change attribute
// (close-to-open, RFC 1813 §4 and RFC 8881 §10.3.1): a change that moved
// drops the clean data, unless this client is the writer (it holds a write
// delegation, has the file open for writing, or holds dirty data), in
// which case the change is its own and is taken as the new validator.
func (f *fileCache) revalidate(change uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.known {
		f.change, f.known = change, true
		return
	}
	if change == f.change {
		return
	}
	own := f.wdeleg.Load() || len(f.dirty) > 0 || f.writers > 0
	if !own && len(f.blocks) > 0 {
		f.c.invalidations.Add(1)
		f.dropCleanLocked(-1)
	}
	f.change = change
}

// dropCleanLocked drops every clean block but keep's.
func (f *fileCache) dropCleanLocked(keep int64) {
	for i, b := range f.blocks {
		if _, d := f.dirty[i]; d || i == keep {
			continue
		}
		f.c.bytes.Add(-int64(len(b)))
		delete(f.blocks, i)
	}
	f.gen++
}

// store puts a block read from the server, unless the cache changed since
// the read was sent (gen): a write or an invalidation meanwhile makes it
// stale.
func (f *fileCache) store(idx int64, b []byte, gen uint64) {
	f.mu.Lock()
	if f.gen != gen {
		f.mu.Unlock()
		return
	}
	if _, ok := f.blocks[idx]; ok {
		f.mu.Unlock()
		return
	}
	if f.wdeleg.Load() {
		// The server's copy ends where it ends; this client's writes may
		// have made the file longer, the bytes between being zeros.
		if want := min(f.bs, f.size-idx*f.bs); int64(len(b)) < want {
			b = append(b, make([]byte, want-int64(len(b)))...)
		}
	}
	f.blocks[idx] = b
	f.c.bytes.Add(int64(len(b)))
	f.mu.Unlock()
	f.c.evict(f)
}

// get returns a cached block and the cache generation.
func (f *fileCache) get(idx int64) ([]byte, uint64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.blocks[idx]
	return b, f.gen, ok
}

// fetch reads block idx from the server and caches it.
func (f *fileCache) fetch(ctx context.Context, file *File, idx int64, gen uint64) ([]byte, error) {
	f.c.dataMisses.Add(1)
	buf := make([]byte, f.bs)
	n, err := file.readRaw(ctx, buf, idx*f.bs)
	if err != nil && err != io.EOF {
		return nil, err
	}
	b := buf[:n:n]
	f.store(idx, b, gen)
	if blk, _, ok := f.get(idx); ok {
		return blk, nil
	}
	return b, nil
}

// read serves ReadAt from the cache, fetching the missing blocks (up to
// MaxInFlight at once).
func (f *fileCache) read(ctx context.Context, file *File, p []byte, off int64) (int, error) {
	first, last := off/f.bs, (off+int64(len(p))-1)/f.bs
	blks := make([][]byte, last-first+1)
	var missing []int64
	for i := first; i <= last; i++ {
		b, _, ok := f.get(i)
		if ok {
			f.c.dataHits.Add(1)
			blks[i-first] = b
		} else {
			missing = append(missing, i)
		}
	}
	if len(missing) > 0 {
		errs := make([]error, len(missing))
		sem := make(chan struct{}, file.c.maxInFlight)
		var wg sync.WaitGroup
		for k, i := range missing {
			_, gen, _ := f.get(i)
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				blks[i-first], errs[k] = f.fetch(ctx, file, i, gen)
			}()
		}
		wg.Wait()
		for k, err := range errs {
			if err != nil && (missing[k] == first || len(blks[missing[k]-first-1]) == int(f.bs)) {
				return 0, err
			}
		}
	}
	n := 0
	for i := first; i <= last && n < len(p); i++ {
		b := blks[i-first]
		in := off + int64(n) - i*f.bs
		if in >= int64(len(b)) {
			return n, io.EOF
		}
		n += copy(p[n:], b[in:])
		if int64(len(b)) < f.bs && n < len(p) {
			return n, io.EOF
		}
	}
	return n, nil
}

// wrote brings the cache in step with a write that went to the server:
// cached blocks it lands in (or extends contiguously) take the bytes, the
// others are dropped.
func (f *fileCache) wrote(p []byte, off int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gen++
	f.mods++
	for done := int64(0); done < int64(len(p)); {
		o := off + done
		idx, in := o/f.bs, o%f.bs
		n := min(int64(len(p))-done, f.bs-in)
		if b, ok := f.blocks[idx]; ok {
			if in <= int64(len(b)) {
				nb := b
				if end := in + n; end > int64(len(b)) {
					nb = append(b[:len(b):len(b)], make([]byte, end-int64(len(b)))...)
					f.c.bytes.Add(end - int64(len(b)))
				}
				copy(nb[in:], p[done:done+n])
				f.blocks[idx] = nb
			} else {
				f.c.bytes.Add(-int64(len(b)))
				delete(f.blocks, idx)
			}
		}
		done += n
	}
}

// buffer keeps a write under a write delegation in the cache, as dirty
// data (RFC 8881 §10.4.1: the server need not see it until the delegation
// is returned or the file is closed). The caller holds f.io.
func (f *fileCache) buffer(ctx context.Context, file *File, p []byte, off int64) error {
	for done := int64(0); done < int64(len(p)); {
		o := off + done
		idx, in := o/f.bs, o%f.bs
		n := min(int64(len(p))-done, f.bs-in)
		f.mu.Lock()
		_, ok := f.blocks[idx]
		size, gen := f.size, f.gen
		f.mu.Unlock()
		// A block that holds file data the write does not cover all
		// of is read first.
		if !ok && idx*f.bs < size && !(in == 0 && (n == f.bs || o+n >= size)) {
			if _, err := f.fetch(ctx, file, idx, gen); err != nil {
				return err
			}
		}
		f.mu.Lock()
		b := f.blocks[idx]
		old := int64(len(b))
		if end := in + n; end > old {
			b = append(b[:old:old], make([]byte, end-old)...)
		}
		copy(b[in:], p[done:done+n])
		f.blocks[idx] = b
		f.c.bytes.Add(int64(len(b)) - old)
		d, ok := f.dirty[idx]
		if !ok {
			d = span{in, in + n}
		} else {
			d = span{min(d.lo, in), max(d.hi, in+n)}
		}
		f.ndirty += (d.hi - d.lo) - (f.dirty[idx].hi - f.dirty[idx].lo)
		f.dirty[idx] = d
		if o+n > f.size {
			// The block that held the old end of file now reads zeros
			// up to the new data.
			if lb, ok := f.blocks[f.size/f.bs]; ok && f.size/f.bs != idx {
				want := min(f.bs, o+n-(f.size/f.bs)*f.bs)
				if int64(len(lb)) < want {
					f.c.bytes.Add(want - int64(len(lb)))
					f.blocks[f.size/f.bs] = append(lb[:len(lb):len(lb)], make([]byte, want-int64(len(lb)))...)
				}
			}
			f.size = o + n
		}
		f.gen++
		f.mods++
		over := f.ndirty > dirtyMax
		f.mu.Unlock()
		if over {
			if err := f.flush(ctx, file); err != nil {
				return err
			}
		}
		done += n
	}
	return nil
}

// flush writes the dirty blocks back through file (UNSTABLE WRITEs; the
// caller COMMITs). The caller holds f.io.
func (f *fileCache) flush(ctx context.Context, file *File) error {
	f.mu.Lock()
	type run struct {
		off  int64
		data []byte
	}
	runs := make([]run, 0, len(f.dirty))
	for idx, d := range f.dirty {
		b := f.blocks[idx]
		runs = append(runs, run{idx*f.bs + d.lo, append([]byte(nil), b[d.lo:min(d.hi, int64(len(b)))]...)})
	}
	f.mu.Unlock()
	for _, r := range runs {
		if _, err := file.writeRaw(ctx, r.data, r.off); err != nil {
			return err
		}
	}
	f.mu.Lock()
	clear(f.dirty)
	f.ndirty = 0
	f.mu.Unlock()
	return nil
}

// truncated brings the cache in step with a new size.
func (f *fileCache) truncated(size int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gen++
	f.mods++
	for idx, b := range f.blocks {
		start := idx * f.bs
		switch {
		case start >= size:
			f.c.bytes.Add(-int64(len(b)))
			delete(f.blocks, idx)
			delete(f.dirty, idx)
		case start+int64(len(b)) > size:
			f.c.bytes.Add(size - start - int64(len(b)))
			f.blocks[idx] = b[:size-start]
			if d, ok := f.dirty[idx]; ok {
				d.hi = min(d.hi, size-start)
				if d.hi <= d.lo {
					delete(f.dirty, idx)
				} else {
					f.dirty[idx] = d
				}
			}
		case start+int64(len(b)) < size && int64(len(b)) < f.bs:
			// The block ended the file; it now reads zeros further on.
			f.c.bytes.Add(-int64(len(b)))
			delete(f.blocks, idx)
			delete(f.dirty, idx)
		}
	}
	f.ndirty = 0
	for _, d := range f.dirty {
		f.ndirty += d.hi - d.lo
	}
	f.size = size
}

// anyWriter returns an open File of the file that can write, for a
// write-back from a recall.
func (f *fileCache) anyWriter() *File {
	f.mu.Lock()
	defer f.mu.Unlock()
	for file := range f.opens {
		if file.writable() {
			return file
		}
	}
	return nil
}
