package fhandle

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/gonfs/gonfs/vfs"
)

const testKey = "0123456789abcdef0123456789abcdef"

// newSizedT is a Codec with a Decode cache of 1<<setBits sets and an
// Append cache of 1<<madeBits sets.
func newSizedT(t testing.TB, key string, setBits, madeBits int) *Codec {
	t.Helper()
	c, err := newSized([]byte(key), setBits, madeBits)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// holds reports whether s holds a handle of size bytes that begins with
// prefix, without marking it used.
func (s *cacheSet) holds(prefix []byte, size int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range cacheWays {
		if int(s.n[i]) == size && bytes.Equal(s.fh[i][:len(prefix)], prefix) {
			return true
		}
	}
	return false
}

// countHandles returns how many handles sets hold.
func countHandles(sets []cacheSet) int {
	n := 0
	for i := range sets {
		s := &sets[i]
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

// has reports whether fh is cached, without marking it used.
func (v *verified) has(fh []byte) bool { return v.set(fh).holds(fh, len(fh)) }

// len returns how many handles are cached.
func (v *verified) len() int { return countHandles(v.sets) }

// handleN is a valid handle of c whose backend handle encodes i.
func handleN(c *Codec, i int) []byte {
	h := make([]byte, 12)
	binary.BigEndian.PutUint64(h, uint64(i))
	return c.Append(nil, 7, vfs.Handle(h))
}

// uncached decodes fh with a Codec of the same key whose cache is empty,
// so the answer comes from the MAC alone.
func uncached(t *testing.T, fh []byte) (uint32, vfs.Handle, error) {
	return newSizedT(t, testKey, 0, 0).Decode(fh)
}

// TestCacheBitFlips decodes a cached handle with each single bit flipped:
// every variant must get the answer the MAC gives (ErrBadHandle for the
// header, ErrStale elsewhere), must not be cached, and must not evict the
// good handle.
func TestCacheBitFlips(t *testing.T) {
	c := newSizedT(t, testKey, 0, 0) // one set: every variant probes the good handle's set
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
	c := newSizedT(t, testKey, 2, 2)
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
	c := newSizedT(t, testKey, 0, 0)
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
	big := newSizedT(t, testKey, cacheSetBits, cacheSetBits)
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
	oldKey := newSizedT(t, "the key of the old state directory", 0, 0)
	newKey := newSizedT(t, testKey, 0, 0)
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
	c := newSizedT(t, testKey, 0, 0)
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

// hammer runs work in 8 goroutines at once (numbered 0-7) and reports
// what they return.
func hammer(t *testing.T, work func(g int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			if err := work(g); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestCacheConcurrent decodes valid and forged handles from many
// goroutines into a small cache, so hits, misses and evictions race
// (run with -race); every answer must be the MAC's.
func TestCacheConcurrent(t *testing.T) {
	c := newSizedT(t, testKey, 1, 1)
	const n = 64
	valid := make([][]byte, n)
	forged := make([][]byte, n)
	for i := range n {
		valid[i] = handleN(c, i)
		forged[i] = bytes.Clone(valid[i])
		forged[i][len(forged[i])-1-i%macSize] ^= 0x10
	}
	hammer(t, func(g int) error {
		for k := range 2000 {
			i := (k*7 + g*13) % n
			id, h, err := c.Decode(valid[i])
			if err != nil || id != 7 || binary.BigEndian.Uint64(h) != uint64(i) {
				return fmt.Errorf("valid handle %d: %d %x %v", i, id, h, err)
			}
			if _, _, err := c.Decode(forged[i]); !errors.Is(err, ErrStale) {
				return fmt.Errorf("forged handle %d: %v", i, err)
			}
		}
		return nil
	})
	if got := c.seen.len(); got > 2*cacheWays {
		t.Errorf("cache holds %d, more than its %d ways", got, 2*cacheWays)
	}
	for i := range n {
		if c.seen.has(forged[i]) {
			t.Errorf("forged handle %d cached", i)
		}
	}
}

// refAppend is Append computed from the layout in doc.go with no cache:
// the oracle the Append cache must agree with.
func refAppend(key string, dst []byte, export uint32, h vfs.Handle) []byte {
	start := len(dst)
	dst = append(dst, version, byte(len(h)))
	dst = binary.BigEndian.AppendUint32(dst, export)
	dst = append(dst, h...)
	m := hmac.New(sha256.New, []byte(key))
	m.Write(dst[start:])
	return append(dst, m.Sum(nil)[:macSize]...)
}

// has reports whether c made a handle with this body, without marking
// it used.
func (c *issued) has(body []byte) bool { return c.set(body).holds(body, len(body)+macSize) }

// len returns how many handles are cached.
func (c *issued) len() int { return countHandles(c.sets) }

// appendInputs are (export, backend handle) pairs that differ from one
// another in as little as possible: one byte of the export id, one byte
// of the handle, a handle that is a prefix of another, empty handles, the
// largest handle.
func appendInputs() []struct {
	export uint32
	h      vfs.Handle
} {
	long := bytes.Repeat([]byte{0xa5}, vfs.MaxHandle)
	return []struct {
		export uint32
		h      vfs.Handle
	}{
		{1, vfs.Handle{}},
		{2, vfs.Handle{}},
		{1, vfs.Handle{0}},
		{1, vfs.Handle{0, 0}},
		{1, vfs.Handle{1, 2, 3}},
		{1, vfs.Handle{1, 2}},
		{1, vfs.Handle{1, 2, 4}},
		{1 << 24, vfs.Handle{1, 2, 3}},
		{1, long},
		{1, long[:vfs.MaxHandle-1]},
		{0xffffffff, long},
	}
}

// TestAppendCacheMatchesMAC appends near-identical inputs, in several
// rounds, into caches of one set (every input competes for the same four
// ways, so hits, misses and evictions mix) and of the default size: every
// handle must be the one the MAC gives, byte for byte.
func TestAppendCacheMatchesMAC(t *testing.T) {
	ins := appendInputs()
	for _, bits := range []int{0, issuedSetBits} {
		c := newSizedT(t, testKey, 0, bits)
		for round := range 4 {
			for k, in := range ins {
				// Rounds visit the inputs in different orders.
				if round%2 == 1 {
					in = ins[len(ins)-1-k]
				}
				got := c.Append(nil, in.export, in.h)
				if want := refAppend(testKey, nil, in.export, in.h); !bytes.Equal(got, want) {
					t.Fatalf("bits %d round %d: Append(%d, %x) = %x, want %x", bits, round, in.export, in.h, got, want)
				}
				if !c.made.has(got[:len(got)-macSize]) {
					t.Fatalf("bits %d: the handle just made is not cached", bits)
				}
			}
		}
		if n := c.made.len(); n > len(c.made.sets)*cacheWays {
			t.Errorf("bits %d: cache holds %d handles, more than its %d ways", bits, n, len(c.made.sets)*cacheWays)
		}
	}
}

// TestAppendCacheIsUsed: a handle made before is taken from the cache,
// not from the MAC. Poisoning the cached MAC shows which one answered
// (the cache only ever holds what Append made, so this cannot happen
// outside a test).
func TestAppendCacheIsUsed(t *testing.T) {
	c := newSizedT(t, testKey, 0, 0)
	h := vfs.Handle{9, 9, 9}
	fh := c.Append(nil, 5, h)
	s := c.made.set(fh[:len(fh)-macSize])
	s.mu.Lock()
	i := s.find(fh[:len(fh)-macSize], len(fh))
	if i < 0 {
		s.mu.Unlock()
		t.Fatal("handle not cached")
	}
	s.fh[i][len(fh)-1] ^= 0xff
	s.mu.Unlock()
	again := c.Append(nil, 5, h)
	if again[len(again)-1] != fh[len(fh)-1]^0xff {
		t.Fatalf("second Append = %x: the cache was not consulted", again)
	}
}

// TestAppendCacheCopies: Append appends after what dst holds, leaves it
// alone, and neither keeps the caller's memory (the backend handle and
// the buffer are reused by callers) nor lends out its own.
func TestAppendCacheCopies(t *testing.T) {
	c := newSizedT(t, testKey, 0, 0)
	h := vfs.Handle{1, 2, 3, 4}
	want := refAppend(testKey, nil, 8, h)
	prefix := []byte("reply so far")
	out := c.Append(bytes.Clone(prefix), 8, h)
	if !bytes.Equal(out[:len(prefix)], prefix) || !bytes.Equal(out[len(prefix):], want) {
		t.Fatalf("Append after a prefix = %x", out)
	}
	// Scribble over everything the caller owns, then ask again (a hit).
	for i := range out {
		out[i] = 0xee
	}
	orig := bytes.Clone(h)
	h[0] = 0xee
	buf := make([]byte, 0, MaxSize)
	hit := c.Append(buf, 8, orig)
	if !bytes.Equal(hit, want) {
		t.Fatalf("Append after the caller's buffers changed = %x, want %x", hit, want)
	}
	if &hit[0] != &buf[:1][0] {
		t.Fatal("Append did not append into the caller's buffer")
	}
	for i := range hit {
		hit[i] = 0xdd
	}
	if got := c.Append(nil, 8, orig); !bytes.Equal(got, want) {
		t.Fatalf("Append after its result changed = %x, want %x", got, want)
	}
	if got := c.Append(nil, 8, h); !bytes.Equal(got, refAppend(testKey, nil, 8, h)) {
		t.Fatalf("Append of the changed handle = %x", got)
	}
}

// TestAppendCachePerKey: two Codecs with different keys make different
// handles for the same input, however often it repeats, and each handle
// decodes only under its own Codec.
func TestAppendCachePerKey(t *testing.T) {
	const otherKey = "the key of the old state directory"
	a := newSizedT(t, testKey, 0, 0)
	b := newSizedT(t, otherKey, 0, 0)
	h := vfs.Handle{4, 5, 6}
	for range 3 {
		fa, fb := a.Append(nil, 1, h), b.Append(nil, 1, h)
		if !bytes.Equal(fa, refAppend(testKey, nil, 1, h)) || !bytes.Equal(fb, refAppend(otherKey, nil, 1, h)) {
			t.Fatalf("handles %x and %x are not their keys' MACs", fa, fb)
		}
		if _, _, err := a.Decode(fb); !errors.Is(err, ErrStale) {
			t.Errorf("the other key's handle decoded: %v", err)
		}
		if _, _, err := b.Decode(fb); err != nil {
			t.Errorf("own handle refused: %v", err)
		}
	}
}

// TestAppendCacheConcurrent appends overlapping inputs from many
// goroutines into a cache of two sets, so hits, misses and evictions race
// (run with -race); every handle must be the MAC's.
func TestAppendCacheConcurrent(t *testing.T) {
	c := newSizedT(t, testKey, 0, 1)
	const n = 64
	want := make([][]byte, n)
	for i := range n {
		want[i] = refAppend(testKey, nil, uint32(i%3), vfs.Handle(binary.BigEndian.AppendUint64(nil, uint64(i))))
	}
	hammer(t, func(g int) error {
		buf := make([]byte, 0, MaxSize)
		h := make(vfs.Handle, 8)
		for k := range 2000 {
			i := (k*7 + g*13) % n
			binary.BigEndian.PutUint64(h, uint64(i))
			buf = c.Append(buf[:0], uint32(i%3), h)
			if !bytes.Equal(buf, want[i]) {
				return fmt.Errorf("input %d: %x, want %x", i, buf, want[i])
			}
		}
		return nil
	})
	if got := c.made.len(); got > 2*cacheWays {
		t.Errorf("cache holds %d, more than its %d ways", got, 2*cacheWays)
	}
}
