package stats

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// NumBuckets is the number of latency buckets. Bucket k < NumBuckets-1
// holds durations d with 2^(k-1) µs < d <= 2^k µs (bucket 0: d <= 1 µs);
// the last bucket holds everything longer than 2^(NumBuckets-2) µs
// (about 16.8 s). Powers of two make the bucket one bit-length away from
// the duration, and cover loopback cache hits and stalled disks alike.
const NumBuckets = 26

// BucketBound returns the inclusive upper bound of bucket k, or a negative
// duration for the last bucket, which has none.
func BucketBound(k int) time.Duration {
	if k >= NumBuckets-1 {
		return -1
	}
	return time.Microsecond << k
}

// bucketOf returns the bucket of d.
func bucketOf(d time.Duration) int {
	if d <= time.Microsecond {
		return 0
	}
	// (d-1)/1µs has bit length k exactly when 2^(k-1) µs < d <= 2^k µs.
	k := bits.Len64(uint64(d-1) / uint64(time.Microsecond))
	return min(k, NumBuckets-1)
}

// histogram counts durations. The number of durations is the sum of the
// buckets: one atomic add per bucket, none for a separate count.
type histogram struct {
	buckets [NumBuckets]atomic.Uint64
	sum     atomic.Uint64 // nanoseconds
}

func (h *histogram) observe(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.buckets[bucketOf(d)].Add(1)
	h.sum.Add(uint64(d))
}

func (h *histogram) snapshot() Histogram {
	var s Histogram
	for i := range h.buckets {
		s.Buckets[i] = h.buckets[i].Load()
	}
	s.Sum = time.Duration(h.sum.Load())
	return s
}

// Histogram is a copy of a latency histogram.
type Histogram struct {
	// Buckets counts durations per bucket (not cumulative); see NumBuckets.
	Buckets [NumBuckets]uint64
	// Sum is the total of the durations.
	Sum time.Duration
}

// Count returns the number of durations.
func (h *Histogram) Count() uint64 {
	var n uint64
	for _, b := range h.Buckets {
		n += b
	}
	return n
}

// Mean returns the average duration (0 when empty).
func (h *Histogram) Mean() time.Duration {
	if n := h.Count(); n > 0 {
		return h.Sum / time.Duration(n)
	}
	return 0
}

// Quantile returns an upper bound of quantile q (0 < q <= 1): the bound of
// the bucket the q-th duration falls in, which overstates it by less than
// a factor of two. For the last bucket, which has no bound, it returns the
// bound below it. 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.Count()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.5)
	rank = max(min(rank, n), 1)
	var seen uint64
	for k, b := range h.Buckets {
		seen += b
		if seen >= rank {
			if k == NumBuckets-1 {
				return BucketBound(k - 1)
			}
			return BucketBound(k)
		}
	}
	return BucketBound(NumBuckets - 2)
}
