package bench

import (
	"math/bits"
	"time"
)

// subBits is the number of bits of resolution kept below the leading bit:
// 2^subBits linear sub-buckets per power of two, so that a bucket's width
// is at most 1/32 of its lower bound (as HdrHistogram does with two
// significant decimal digits, in binary).
const subBits = 5

const (
	subCount   = 1 << subBits
	numBuckets = (64 - subBits + 1) * subCount
)

// Histogram counts durations in log-linear buckets from 1 ns to hours. It
// is not safe for concurrent use: give each goroutine its own and Merge
// them.
type Histogram struct {
	counts [numBuckets]uint64
	n      uint64
	sum    time.Duration
	min    time.Duration
	max    time.Duration
}

// bucket returns the index of v (nanoseconds). Values below subCount*2 have
// a bucket each; above, the bucket is the leading subBits+1 bits and the
// shift that brings them down.
func bucket(v uint64) int {
	if v < 2*subCount {
		return int(v)
	}
	shift := bits.Len64(v) - (subBits + 1)
	top := v >> shift // in [subCount, 2*subCount)
	return (shift+1)*subCount + int(top-subCount)
}

// bucketMax returns the largest value that falls in bucket i.
func bucketMax(i int) uint64 {
	if i < 2*subCount {
		return uint64(i)
	}
	shift := i/subCount - 1
	top := uint64(i%subCount + subCount)
	return (top+1)<<shift - 1
}

// Record adds one duration (negative ones count as zero).
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucket(uint64(d))]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += d
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// Count returns the number of durations recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Mean returns the average duration, 0 when empty.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// Max returns the longest duration recorded.
func (h *Histogram) Max() time.Duration { return h.max }

// Quantile returns the q-quantile (0 < q <= 1): the upper bound of the
// bucket holding the ceil(q*n)-th smallest duration, never more than the
// largest one recorded. 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q * float64(h.n))
	if float64(rank) < q*float64(h.n) {
		rank++
	}
	rank = max(min(rank, h.n), 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(time.Duration(bucketMax(i)), h.max)
		}
	}
	return h.max
}
