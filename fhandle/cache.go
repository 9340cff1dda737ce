package fhandle

import (
	"bytes"
	"encoding/binary"
	"sync"
)

// Cache geometry: cacheSets sets of cacheWays handles, 4,096 handles in
// about 240 KiB per Codec, allocated once in New and never grown. A
// random-read workload repeats a few handles; a server with more hot
// handles than this still verifies the rest with the MAC, only slower.
const (
	cacheWays    = 4
	cacheSetBits = 10
	cacheSets    = 1 << cacheSetBits
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
// set it misses in. Within a set, replacement is CLOCK (second chance), so
// a handle in use survives a burst of handles used once.
//
// One mutex per set: a hit takes one uncontended lock, and requests for
// different handles rarely meet on the same one.
type verified struct {
	sets []cacheSet
}

type cacheSet struct {
	mu   sync.Mutex
	hand uint8                    // next way the CLOCK looks at
	used [cacheWays]bool          // referenced since the hand last passed
	n    [cacheWays]uint8         // handle length; 0 for an empty way
	fh   [cacheWays][MaxSize]byte // the handle, MAC included
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
	for i := range cacheWays {
		if int(s.n[i]) == len(fh) && bytes.Equal(s.fh[i][:len(fh)], fh) {
			s.used[i] = true
			return true
		}
	}
	return false
}

// add stores fh, which has just verified, copying it: the caller's buffer
// is reused for the next request.
func (v *verified) add(fh []byte) {
	s := v.set(fh)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range cacheWays {
		// Another request may have verified the same handle meanwhile.
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
