package fhandle

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"sync"
)

// Cache geometry, allocated once in New and never grown.
//
// The verified-handle cache (Decode) holds 4,096 handles in about 240 KiB:
// a random-read workload repeats a few handles, and a server with more
// hot handles than this still verifies the rest with the MAC, only slower.
//
// The issued-handle cache (Append) holds 65,536 handles in about 3.75 MiB:
// READDIRPLUS gives out one handle per entry, and an "ls -l" repeated over
// a 20,000-entry directory should find all of them again. Memory a cache
// never reaches is never touched, so never resident.
const (
	cacheWays     = 4
	cacheSetBits  = 10
	cacheSets     = 1 << cacheSetBits
	issuedSetBits = 14
)

// verified remembers wire handles whose MAC verified under the Codec that
// owns it, so that a handle seen again is accepted by comparing bytes
// instead of computing HMAC-SHA-256 again.
//
// Only handles that verified are ever stored, whole (MAC included), and a
// hit needs every byte of the request's handle to equal a stored one: the
// same bytes verified before under the same key, so they verify now, and
// Decode's answer is the one the MAC would give. Nothing is keyed by a
// hash alone.
//
// The set is chosen by bits of the handle's own MAC, a keyed hash of its
// body: uniform over valid handles and costing nothing to compute. A
// client that chooses the MAC bytes of a forged handle chooses only which
// set it misses in.
type verified struct {
	sets []cacheSet
}

func newVerified(setBits int) *verified {
	return &verified{sets: make([]cacheSet, 1<<setBits)}
}

// set returns the set of fh, a handle of at least minSize bytes.
func (v *verified) set(fh []byte) *cacheSet {
	tag := binary.LittleEndian.Uint64(fh[len(fh)-macSize:])
	return &v.sets[tag&uint64(len(v.sets)-1)]
}

// contains reports whether fh verified before, and marks it used.
func (v *verified) contains(fh []byte) bool {
	s := v.set(fh)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.find(fh, len(fh)) >= 0
}

// add stores fh, which has just verified, copying it: the caller's buffer
// is reused for the next request.
func (v *verified) add(fh []byte) {
	v.set(fh).store(fh)
}

// issued remembers wire handles this Codec made, so that Append of the
// same export and backend handle again copies the MAC it computed then
// instead of computing HMAC-SHA-256 again.
//
// A wire handle is its body (version, backend handle length, export id,
// backend handle) followed by the MAC of that body. Only handles Append
// made are stored, and a hit needs every byte of the new body, and its
// length, to equal a stored handle's body: the MAC of the same bytes
// under the same key is the same MAC, so Append's answer is the one the
// MAC would give. Nothing is keyed by a hash alone.
//
// The set is chosen by a hash of the body with a seed of this Codec's
// own, so that the files a client creates (and so the backend handles it
// is given) cannot be aimed at one set; a collision only costs a MAC.
type issued struct {
	seed maphash.Seed
	sets []cacheSet
}

func newIssued(setBits int) *issued {
	return &issued{seed: maphash.MakeSeed(), sets: make([]cacheSet, 1<<setBits)}
}

func (c *issued) set(body []byte) *cacheSet {
	return &c.sets[maphash.Bytes(c.seed, body)&uint64(len(c.sets)-1)]
}

// mac copies into m the MAC of the handle whose body is body, if this
// cache holds it, and marks it used.
func (c *issued) mac(body []byte, m *[macSize]byte) bool {
	s := c.set(body)
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.find(body, len(body)+macSize)
	if i < 0 {
		return false
	}
	copy(m[:], s.fh[i][len(body):])
	return true
}

// add stores fh, a handle Append has just made, copying it: it lies in
// the caller's buffer.
func (c *issued) add(fh []byte) {
	c.set(fh[:len(fh)-macSize]).store(fh)
}

// cacheSet is one set of either cache: cacheWays whole handles under one
// mutex, so a hit takes one uncontended lock and requests for different
// handles rarely meet on the same one. Replacement is CLOCK (second
// chance), so a handle in use survives a burst of handles used once.
type cacheSet struct {
	mu   sync.Mutex
	hand uint8                    // next way the CLOCK looks at
	used [cacheWays]bool          // referenced since the hand last passed
	n    [cacheWays]uint8         // handle length; 0 for an empty way
	fh   [cacheWays][MaxSize]byte // the handle, MAC included
}

// find returns the way holding a handle of size bytes that begins with
// prefix (all of it, for Decode; its body, for Append) and marks it used,
// or -1. s.mu is held.
func (s *cacheSet) find(prefix []byte, size int) int {
	for i := range cacheWays {
		if int(s.n[i]) == size && bytes.Equal(s.fh[i][:len(prefix)], prefix) {
			s.used[i] = true
			return i
		}
	}
	return -1
}

// store copies fh into the set unless it is there already (another
// request may have stored the same handle meanwhile).
func (s *cacheSet) store(fh []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range cacheWays {
		if int(s.n[i]) == len(fh) && bytes.Equal(s.fh[i][:len(fh)], fh) {
			return
		}
	}
	// CLOCK: take the first empty way, or the first one not used since the
	// hand last passed it, clearing marks on the way; after one full turn
	// every mark is clear, so this ends within 2*cacheWays steps.
	for {
		i := s.hand
		s.hand = (s.hand + 1) % cacheWays
		if s.n[i] == 0 || !s.used[i] {
			s.n[i] = uint8(copy(s.fh[i][:], fh))
			s.used[i] = false
			return
		}
		s.used[i] = false
	}
}
