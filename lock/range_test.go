package lock

import (
	"errors"
	"math"
	"testing"
)

const max64 = math.MaxUint64

func TestRangeConstructors(t *testing.T) {
	type ctor func(off, length uint64) (Range, error)
	nlm, nfs4 := ctor(RangeNLM), ctor(RangeNFS4)
	tests := []struct {
		name        string
		fn          ctor
		off, length uint64
		start, end  uint64
		bad         bool
	}{
		{"NLM one byte", nlm, 0, 1, 0, 0, false},
		{"NLM plain", nlm, 10, 5, 10, 14, false},
		{"NLM zero length is EOF", nlm, 7, 0, 7, max64, false},
		{"NLM zero length at zero is whole file", nlm, 0, 0, 0, max64, false},
		{"NLM last byte exactly", nlm, max64, 1, max64, max64, false},
		{"NLM ends on last byte", nlm, 1, max64, 1, max64, false},
		{"NLM whole space", nlm, 0, max64, 0, max64 - 1, false},
		{"NLM overflow by one", nlm, 2, max64, 0, 0, true},
		{"NLM overflow at end", nlm, max64, 2, 0, 0, true},
		{"NLM overflow large", nlm, 1 << 63, 1<<63 + 1, 0, 0, true},

		{"NFS4 one byte", nfs4, 0, 1, 0, 0, false},
		{"NFS4 plain", nfs4, 10, 5, 10, 14, false},
		{"NFS4 all ones is EOF", nfs4, 7, max64, 7, max64, false},
		{"NFS4 all ones at max offset", nfs4, max64, max64, max64, max64, false},
		{"NFS4 zero length invalid", nfs4, 7, 0, 0, 0, true},
		{"NFS4 zero length at zero invalid", nfs4, 0, 0, 0, 0, true},
		{"NFS4 sum exactly 2^64-1", nfs4, 1, max64 - 1, 1, max64 - 1, false},
		// RFC 8881 §18.10.3: the sum must fit in 64 bits, so a range that
		// would end on the last byte without saying all-ones is invalid.
		{"NFS4 sum 2^64 invalid", nfs4, 2, max64 - 1, 0, 0, true},
		{"NFS4 last byte without all-ones", nfs4, max64, 1, 0, 0, true},
		{"NFS4 overflow large", nfs4, 1 << 63, 1 << 63, 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := tc.fn(tc.off, tc.length)
			if tc.bad {
				if !errors.Is(err, ErrInvalidRange) {
					t.Fatalf("(%d, %d) = %v, %v; want ErrInvalidRange", tc.off, tc.length, r, err)
				}
				return
			}
			if err != nil || r.Start() != tc.start || r.End() != tc.end {
				t.Fatalf("(%d, %d) = %v, %v; want [%d,%d]", tc.off, tc.length, r, err, tc.start, tc.end)
			}
		})
	}
}

func TestSpan(t *testing.T) {
	if _, err := Span(5, 4); !errors.Is(err, ErrInvalidRange) {
		t.Errorf("Span(5, 4) error = %v, want ErrInvalidRange", err)
	}
	for _, c := range [][2]uint64{{0, 0}, {5, 5}, {0, max64}, {max64, max64}} {
		r, err := Span(c[0], c[1])
		if err != nil || r.Start() != c[0] || r.End() != c[1] {
			t.Errorf("Span(%d, %d) = %v, %v", c[0], c[1], r, err)
		}
	}
}

// TestRangeWire checks the conversions back to the wire forms used to
// report a holder, including that they invert the constructors.
func TestRangeWire(t *testing.T) {
	tests := []struct {
		r                Range
		nlmOff, nlmLen   uint64
		nfs4Off, nfs4Len uint64
		str              string
	}{
		{span(0, 0), 0, 1, 0, 1, "[0,0]"},
		{span(10, 14), 10, 5, 10, 5, "[10,14]"},
		{toEOF(7), 7, 0, 7, max64, "[7,EOF]"},
		{WholeFile(), 0, 0, 0, max64, "[0,EOF]"},
		{span(0, max64-1), 0, max64, 0, max64, "[0,18446744073709551614]"},
	}
	for _, tc := range tests {
		if off, n := tc.r.NLM(); off != tc.nlmOff || n != tc.nlmLen {
			t.Errorf("%v.NLM() = %d, %d; want %d, %d", tc.r, off, n, tc.nlmOff, tc.nlmLen)
		} else if back, err := RangeNLM(off, n); err != nil || back != tc.r {
			t.Errorf("RangeNLM(%v.NLM()) = %v, %v", tc.r, back, err)
		}
		if off, n := tc.r.NFS4(); off != tc.nfs4Off || n != tc.nfs4Len {
			t.Errorf("%v.NFS4() = %d, %d; want %d, %d", tc.r, off, n, tc.nfs4Off, tc.nfs4Len)
		}
		if s := tc.r.String(); s != tc.str {
			t.Errorf("String() = %q, want %q", s, tc.str)
		}
	}
	// [0, 2^64-2] has NFSv4 length 2^64-1, which reads back as EOF: the
	// one range NFSv4 cannot express exactly. Callers report it as EOF.
	if back, _ := RangeNFS4(span(0, max64-1).NFS4()); back != WholeFile() {
		t.Errorf("RangeNFS4 of [0,max-1] = %v, want whole file", back)
	}
}

func TestRangeOverlapsContains(t *testing.T) {
	tests := []struct {
		a, b               Range
		overlaps, contains bool
	}{
		{span(0, 9), span(10, 19), false, false},
		{span(0, 10), span(10, 19), true, false},
		{span(0, 19), span(5, 9), true, true},
		{toEOF(5), span(100, 200), true, true},
		{toEOF(5), span(0, 4), false, false},
		{span(max64, max64), toEOF(0), true, false},
	}
	for _, tc := range tests {
		if got := tc.a.Overlaps(tc.b); got != tc.overlaps {
			t.Errorf("%v.Overlaps(%v) = %v", tc.a, tc.b, got)
		}
		if got := tc.b.Overlaps(tc.a); got != tc.overlaps {
			t.Errorf("%v.Overlaps(%v) = %v", tc.b, tc.a, got)
		}
		if got := tc.a.Contains(tc.b); got != tc.contains {
			t.Errorf("%v.Contains(%v) = %v", tc.a, tc.b, got)
		}
	}
}
