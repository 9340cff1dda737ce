package bench

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketBounds(t *testing.T) {
	// Every value lands in a bucket whose bounds hold it, buckets are in
	// order, and a bucket is at most 1/32 of its values wide.
	vals := []uint64{0, 1, 31, 63, 64, 65, 127, 128, 1000, 1 << 20, 1<<20 + 12345, 1<<40 - 1, 1 << 62, 1<<64 - 1}
	prev := -1
	for _, v := range vals {
		i := bucket(v)
		if i < prev {
			t.Errorf("bucket(%d) = %d after %d: not monotonic", v, i, prev)
		}
		prev = i
		if i >= numBuckets {
			t.Fatalf("bucket(%d) = %d out of range", v, i)
		}
		hi := bucketMax(i)
		lo := uint64(0)
		if i > 0 {
			lo = bucketMax(i-1) + 1
		}
		if v < lo || v > hi {
			t.Errorf("bucket(%d) = %d holds [%d, %d]", v, i, lo, hi)
		}
		if i >= 2*subCount && float64(hi-lo+1)/float64(lo) > 1.0/subCount+1e-9 {
			t.Errorf("bucket %d [%d, %d] wider than 1/%d", i, lo, hi, subCount)
		}
	}
}

func TestQuantile(t *testing.T) {
	tests := []struct {
		name string
		ds   []time.Duration
		q    float64
		want time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", []time.Duration{time.Millisecond}, 0.999, time.Millisecond},
		{"exact small", []time.Duration{1, 2, 3, 4}, 0.5, 2},
		{"ceil rank", []time.Duration{1, 2, 3, 4}, 0.51, 3},
		{"max clamps", []time.Duration{10, 20, 30}, 1, 30},
		{"negative is zero", []time.Duration{-5}, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Histogram
			for _, d := range tt.ds {
				h.Record(d)
			}
			if got := h.Quantile(tt.q); got != tt.want {
				t.Errorf("Quantile(%v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}

func TestQuantileAccuracy(t *testing.T) {
	// Against the exact quantile of a spread of latencies: the answer is
	// the bucket's upper bound, so never below and at most 1/32 above.
	r := rand.New(rand.NewPCG(1, 2))
	var h, a, b Histogram
	ds := make([]time.Duration, 100000)
	for i := range ds {
		ds[i] = time.Duration(r.ExpFloat64() * float64(200*time.Microsecond))
		h.Record(ds[i])
		if i%2 == 0 {
			a.Record(ds[i])
		} else {
			b.Record(ds[i])
		}
	}
	a.Merge(&b)
	slices.Sort(ds)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := ds[int(q*float64(len(ds)))-1]
		got := h.Quantile(q)
		if got < exact || float64(got) > float64(exact)*(1+1.0/subCount)+1 {
			t.Errorf("q%v = %v, exact %v", q, got, exact)
		}
		if m := a.Quantile(q); m != got {
			t.Errorf("merged q%v = %v, want %v", q, m, got)
		}
	}
	if a.Count() != h.Count() || a.Mean() != h.Mean() || a.Max() != h.Max() {
		t.Errorf("merged count/mean/max %d/%v/%v, want %d/%v/%v", a.Count(), a.Mean(), a.Max(), h.Count(), h.Mean(), h.Max())
	}
}

func BenchmarkRecord(b *testing.B) {
	var h Histogram
	for i := range b.N {
		h.Record(time.Duration(i&0xfffff) * 100)
	}
}
