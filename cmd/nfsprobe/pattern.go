package main

import "encoding/binary"

// The pattern is a pure function of the file offset: the 8-byte little-endian
// word at offset 8k is mix(k). A block written to the wrong offset, a stale
// page or a zero-filled gap therefore never matches, and the host can check
// what the server stored without any state shared with the guest.

// mix is the SplitMix64 finaliser: cheap, and every bit of k reaches the output.
func mix(k uint64) uint64 {
	z := k + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// fillPattern fills b with the pattern bytes that belong at file offset off.
func fillPattern(b []byte, off int64) {
	for len(b) > 0 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], mix(uint64(off)/8))
		n := copy(b, w[off%8:])
		b = b[n:]
		off += int64(n)
	}
}
