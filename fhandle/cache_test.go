package fhandle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/gonfs/gonfs/vfs"
)

const testKey = "0123456789abcdef0123456789abcdef"

func newSizedT(t testing.TB, key string, setBits int) *Codec {
	t.Helper()
	c, err := newSized([]byte(key), setBits)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// has reports whether fh is cached, without marking it used.
func (v *verified) has(fh []byte) bool {
	s := v.set(fh)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range cacheWays {
		if int(s.n[i]) == len(fh) && bytes.Equal(s.fh[i][:len(fh)], fh) {
			return true
		}
	}
	return false
}

// len returns how many handles are cached.
func (v *verified) len() int {
	n := 0
	for i := range v.sets {
		s := &v.sets[i]
		s.mu.Lock()
		for _, l := range s.n {
			if l != 0 {
				n++
			}
		}
		s.mu.Unlock()
	}
	return n
}

// handleN is a valid handle of c whose backend handle encodes i.
func handleN(c *Codec, i int) []byte {
	h := make([]byte, 12)
	binary.BigEndian.PutUint64(h, uint64(i))
	return c.Append(nil, 7, vfs.Handle(h))
}

// uncached decodes fh with a Codec of the same key whose cache is empty,
// so the answer comes from the MAC alone.
func uncached(t *testing.T, fh []byte) (uint32, vfs.Handle, error) {
	return newSizedT(t, testKey, 0).Decode(fh)
}

// TestCacheBitFlips decodes a cached handle with each single bit flipped:
// every variant must get the answer the MAC gives (ErrBadHandle for the
// header, ErrStale elsewhere), must not be cached, and must not evict the
// good handle.
func TestCacheBitFlips(t *testing.T) {
	c := newSizedT(t, testKey, 0) // one set: every variant probes the good handle's set
	good := handleN(c, 1)
	if _, _, err := c.Decode(good); err != nil {
		t.Fatal(err)
	}
	if !c.seen.has(good) {
		t.Fatal("a verified handle was not cached")
	}
	for bit := range len(good) * 8 {
		fh := bytes.Clone(good)
		fh[bit/8] ^= 1 << (bit % 8)
		_, _, want := uncached(t, fh)
		if want == nil {
			t.Fatalf("bit %d: flipped handle verifies by MAC", bit)
		}
		if _, _, err := c.Decode(fh); !errors.Is(err, want) {
			t.Errorf("bit %d: Decode = %v, want %v", bit, err, want)
		}
		if c.seen.has(fh) {
			t.Errorf("bit %d: a handle that failed was cached", bit)
		}
	}
	if n := c.seen.len(); n != 1 {
		t.Errorf("cache holds %d handles, want only the good one", n)
	}
	if id, h, err := c.Decode(good); err != nil || id != 7 || !bytes.Equal(h, good[header:len(good)-macSize]) {
		t.Errorf("good handle after the forgeries: %d %x %v", id, h, err)
	}
}

// TestCacheForgedFlood: forged handles with any MAC bytes, including the
// ones of cached handles (so they land in a cached handle's set), are
// refused and leave the cache as it was.
func TestCacheForgedFlood(t *testing.T) {
	c := newSizedT(t, testKey, 2)
	var good [][]byte
	for i := range 4 {
		fh := handleN(c, i)
		if _, _, err := c.Decode(fh); err != nil {
			t.Fatal(err)
		}
		good = append(good, fh)
	}
	before := c.seen.len()
	for i := range 2000 {
		fh := handleN(c, 1000+i)
		// Borrow the MAC of a cached handle, or make one up.
		if i%2 == 0 {
			copy(fh[len(fh)-macSize:], good[i%len(good)][len(good[0])-macSize:])
		} else {
			binary.BigEndian.PutUint64(fh[len(fh)-macSize:], uint64(i)*0x9e3779b97f4a7c15)
		}
		if _, _, err := c.Decode(fh); !errors.Is(err, ErrStale) {
			t.Fatalf("forged handle %x: %v, want ErrStale", fh, err)
		}
	}
	if n := c.seen.len(); n != before {
		t.Errorf("cache holds %d handles after the flood, want %d", n, before)
	}
	for _, fh := range good {
		if !c.seen.has(fh) {
			t.Errorf("good handle %x evicted by forged ones", fh)
		}
	}
}

// TestCacheEviction checks the bound and the CLOCK's second chance in a
// cache of one set.
func TestCacheEviction(t *testing.T) {
	c := newSizedT(t, testKey, 0)
	fhs := make([][]byte, 6)
	for i := range fhs {
		fhs[i] = handleN(c, i)
	}
	decode := func(i int) {
		t.Helper()
		id, h, err := c.Decode(fhs[i])
		want := fhs[i][header : len(fhs[i])-macSize]
		if err != nil || id != 7 || !bytes.Equal(h, want) {
			t.Fatalf("Decode(handle %d) = %d %x %v", i, id, h, err)
		}
	}
	for i := range cacheWays {
		decode(i)
	}
	decode(0) // a hit: handle 0 is now in use
	decode(4) // evicts: handle 0 gets its second chance, handle 1 goes
	for i, want := range []bool{true, false, true, true, true, false} {
		if got := c.seen.has(fhs[i]); got != want {
			t.Errorf("handle %d cached = %v, want %v", i, got, want)
		}
	}
	// Evicted handles still verify, by MAC.
	decode(1)
	decode(5)
	if n := c.seen.len(); n != cacheWays {
		t.Errorf("cache holds %d, want %d", n, cacheWays)
	}

	// The default size is bounded too.
	big := newSizedT(t, testKey, cacheSetBits)
	for i := range 3 * cacheSets * cacheWays {
		if _, _, err := big.Decode(handleN(big, i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := big.seen.len(); n > cacheSets*cacheWays || n < cacheSets*cacheWays/2 {
		t.Errorf("default cache holds %d handles, want at most %d and most of them used", n, cacheSets*cacheWays)
	}
}

// TestCachePerKey: a handle cached by one Codec is refused by a Codec
// with another key, and the other way round, as without a cache.
func TestCachePerKey(t *testing.T) {
	oldKey := newSizedT(t, "the key of the old state directory", 0)
	newKey := newSizedT(t, testKey, 0)
	fhOld := handleN(oldKey, 1)
	fhNew := handleN(newKey, 1)
	for _, step := range []struct {
		c    *Codec
		fh   []byte
		want error
	}{
		{oldKey, fhOld, nil},
		{newKey, fhNew, nil},
		{newKey, fhOld, ErrStale},
		{oldKey, fhNew, ErrStale},
		{oldKey, fhOld, nil},
		{newKey, fhOld, ErrStale},
	} {
		if _, _, err := step.c.Decode(step.fh); !errors.Is(err, step.want) {
			t.Errorf("Decode(%x) = %v, want %v", step.fh, err, step.want)
		}
	}
}

// TestCacheResultAliasesRequest: on a hit the backend handle still aliases
// the caller's bytes, not the cache, whose ways are overwritten later.
func TestCacheResultAliasesRequest(t *testing.T) {
	c := newSizedT(t, testKey, 0)
	orig := handleN(c, 1)
	if _, _, err := c.Decode(orig); err != nil {
		t.Fatal(err)
	}
	fh := bytes.Clone(orig)
	_, h, err := c.Decode(fh) // a hit
	if err != nil || !c.seen.has(fh) {
		t.Fatalf("second Decode: %v, cached %v", err, c.seen.has(fh))
	}
	for i := range 2 * cacheWays {
		if _, _, err := c.Decode(handleN(c, 100+i)); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(h, orig[header:len(orig)-macSize]) {
		t.Fatalf("backend handle changed to %x by evictions", h)
	}
	fh[header] ^= 0xff
	if h[0] != fh[header] {
		t.Fatal("backend handle does not alias the request's bytes")
	}
}

// TestCacheConcurrent decodes valid and forged handles from many
// goroutines into a small cache, so hits, misses and evictions race
// (run with -race); every answer must be the MAC's.
func TestCacheConcurrent(t *testing.T) {
	c := newSizedT(t, testKey, 1)
	const n = 64
	valid := make([][]byte, n)
	forged := make([][]byte, n)
	for i := range n {
		valid[i] = handleN(c, i)
		forged[i] = bytes.Clone(valid[i])
		forged[i][len(forged[i])-1-i%macSize] ^= 0x10
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for k := range 2000 {
				i := (k*7 + g*13) % n
				id, h, err := c.Decode(valid[i])
				if err != nil || id != 7 || binary.BigEndian.Uint64(h) != uint64(i) {
					errs <- fmt.Errorf("valid handle %d: %d %x %v", i, id, h, err)
					return
				}
				if _, _, err := c.Decode(forged[i]); !errors.Is(err, ErrStale) {
					errs <- fmt.Errorf("forged handle %d: %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := c.seen.len(); got > 2*cacheWays {
		t.Errorf("cache holds %d, more than its %d ways", got, 2*cacheWays)
	}
	for i := range n {
		if c.seen.has(forged[i]) {
			t.Errorf("forged handle %d cached", i)
		}
	}
}
