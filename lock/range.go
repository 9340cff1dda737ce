package lock

import (
	"errors"
	"fmt"
	"math"
)

// ErrInvalidRange reports a byte range that cannot be represented: a zero
// NFSv4 length, or an offset plus length beyond 2^64-1. NFSv4 maps it to
// NFS4ERR_INVAL (RFC 8881 §18.10.3, §18.11.3, §18.12.3); NLM to
// NLM4_FBIG.
var ErrInvalidRange = errors.New("lock: invalid byte range")

// eof is the End of a range that runs to end of file.
const eof = math.MaxUint64

// Range is a byte range [Start, End], both inclusive. End == math.MaxUint64
// means the range runs to end of file, whatever the file's size becomes.
// The zero Range is the single byte at offset 0. Fields are unexported so
// that every Range in existence satisfies Start <= End.
type Range struct {
	start, end uint64
}

// WholeFile returns the range covering every byte of a file.
func WholeFile() Range { return Range{0, eof} }

// Span returns the inclusive range [start, end]; end == math.MaxUint64
// means to end of file.
func Span(start, end uint64) (Range, error) {
	if end < start {
		return Range{}, fmt.Errorf("%w: end %d before start %d", ErrInvalidRange, end, start)
	}
	return Range{start, end}, nil
}

// RangeNLM converts an NLM4 (offset, length) pair: length 0 means to end of
// file (RFC 1813 Appendix II, nlm4_lock). A length whose last byte would lie
// beyond 2^64-1 is an error rather than silently clamped, so the NLM layer
// can answer NLM4_FBIG.
func RangeNLM(off, length uint64) (Range, error) {
	if length == 0 {
		return Range{off, eof}, nil
	}
	if length-1 > eof-off {
		return Range{}, fmt.Errorf("%w: offset %d + length %d overflows", ErrInvalidRange, off, length)
	}
	return Range{off, off + length - 1}, nil
}

// RangeNFS4 converts an NFSv4 (offset, length) pair: length all-ones means to
// end of file, length 0 is invalid, and so is any other length whose sum with
// offset exceeds 2^64-1 (RFC 8881 §18.10.3; RFC 7530 §16.10.4).
func RangeNFS4(off, length uint64) (Range, error) {
	switch {
	case length == 0:
		return Range{}, fmt.Errorf("%w: zero length", ErrInvalidRange)
	case length == math.MaxUint64:
		return Range{off, eof}, nil
	case length > eof-off:
		return Range{}, fmt.Errorf("%w: offset %d + length %d overflows", ErrInvalidRange, off, length)
	}
	return Range{off, off + length - 1}, nil
}

// Start is the first byte of the range.
func (r Range) Start() uint64 { return r.start }

// End is the last byte of the range, math.MaxUint64 if it runs to EOF.
func (r Range) End() uint64 { return r.end }

// ToEOF reports whether the range runs to end of file.
func (r Range) ToEOF() bool { return r.end == eof }

// NLM returns the range as an NLM4 (offset, length) pair, length 0 for a
// range to EOF (for the holder in NLM4_TEST and NLM4_DENIED replies).
func (r Range) NLM() (off, length uint64) {
	if r.end == eof {
		return r.start, 0
	}
	return r.start, r.end - r.start + 1
}

// NFS4 returns the range as an NFSv4 (offset, length) pair, length all-ones
// for a range to EOF (for LOCK4denied).
func (r Range) NFS4() (off, length uint64) {
	if r.end == eof {
		return r.start, math.MaxUint64
	}
	return r.start, r.end - r.start + 1
}

// Overlaps reports whether r and o share at least one byte.
func (r Range) Overlaps(o Range) bool { return r.start <= o.end && o.start <= r.end }

// Contains reports whether every byte of o is in r.
func (r Range) Contains(o Range) bool { return r.start <= o.start && o.end <= r.end }

func (r Range) String() string {
	if r.end == eof {
		return fmt.Sprintf("[%d,EOF]", r.start)
	}
	return fmt.Sprintf("[%d,%d]", r.start, r.end)
}
