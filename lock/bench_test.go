package lock

import (
	"fmt"
	"strconv"
	"testing"
)

// benchTable returns a table whose file A holds n exclusive 8-byte locks of
// n different owners, 16 bytes apart, so bytes 16i+8..16i+15 are free.
func benchTable(b *testing.B, n int) *Table {
	tb := NewTable(Options{MaxLocksPerClient: -1})
	for i := range n {
		o := Owner{Kind: NLM, Client: "host" + strconv.Itoa(i%16), ID: strconv.Itoa(i)}
		if c, _, err := tb.Lock(fileA, o, span(uint64(16*i), uint64(16*i+7)), true); c != nil || err != nil {
			b.Fatal(c, err)
		}
	}
	return tb
}

// BenchmarkLockUnlock takes and releases a free range in the middle of a
// file with many locks.
func BenchmarkLockUnlock(b *testing.B) {
	for _, n := range []int{10, 1000, 100000} {
		b.Run(fmt.Sprint("locks=", n), func(b *testing.B) {
			tb := benchTable(b, n)
			o := Owner{Kind: NFS4, Client: "bench", ID: "x"}
			r := span(uint64(16*(n/2)+8), uint64(16*(n/2)+15))
			b.ReportAllocs()
			for b.Loop() {
				if c, _, err := tb.Lock(fileA, o, r, true); c != nil || err != nil {
					b.Fatal(c, err)
				}
				tb.Unlock(fileA, o, r)
			}
		})
	}
}

// BenchmarkLockConflict is a refused request in a file with many locks.
func BenchmarkLockConflict(b *testing.B) {
	for _, n := range []int{10, 1000, 100000} {
		b.Run(fmt.Sprint("locks=", n), func(b *testing.B) {
			tb := benchTable(b, n)
			o := Owner{Kind: NFS4, Client: "bench", ID: "x"}
			r := span(uint64(16*(n/2)+4), uint64(16*(n/2)+4))
			b.ReportAllocs()
			for b.Loop() {
				if c, _, _ := tb.Lock(fileA, o, r, false); c == nil {
					b.Fatal("granted")
				}
			}
		})
	}
}

// BenchmarkSplitMerge has one owner of many locks split one of them in two
// with a downgrade and merge it back.
func BenchmarkSplitMerge(b *testing.B) {
	for _, n := range []int{10, 1000, 100000} {
		b.Run(fmt.Sprint("locks=", n), func(b *testing.B) {
			tb := benchTable(b, n)
			i := n / 2
			o := Owner{Kind: NLM, Client: "host" + strconv.Itoa(i%16), ID: strconv.Itoa(i)}
			mid := span(uint64(16*i+3), uint64(16*i+4))
			b.ReportAllocs()
			for b.Loop() {
				mustLock(b, tb, fileA, o, mid, false)
				mustLock(b, tb, fileA, o, mid, true)
			}
		})
	}
}

// BenchmarkParallelFiles is Lock/Unlock from all Ps on distinct files: it
// measures the cost of the single table mutex.
func BenchmarkParallelFiles(b *testing.B) {
	tb := NewTable(Options{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var k int
		for pb.Next() {
			k++
			f := FileKey(strconv.Itoa(k % 64))
			o := Owner{Kind: NLM, Client: "h", ID: string(f)}
			tb.Lock(f, o, WholeFile(), true)
			tb.Unlock(f, o, WholeFile())
		}
	})
}
