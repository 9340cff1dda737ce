package fhandle

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/gonfs/gonfs/vfs"
)

// benchHandles returns n distinct valid handles with 20-byte backend
// handles, the size localfs produces for ext4 and xfs kernel handles.
func benchHandles(c *Codec, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		h := bytes.Repeat([]byte{1}, 20)
		binary.BigEndian.PutUint32(h, uint32(i))
		out[i] = c.Append(nil, 3, vfs.Handle(h))
	}
	return out
}

// BenchmarkDecodeHot decodes the same few handles over and over: random
// reads over a handful of files, where every request repeats a handle.
func BenchmarkDecodeHot(b *testing.B) {
	c := newCodec(b, "0123456789abcdef0123456789abcdef")
	fhs := benchHandles(c, 64)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := c.Decode(fhs[i&63]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkDecodeCold cycles through more distinct handles than the cache
// holds, so every Decode misses: the cost the cache adds to a miss.
func BenchmarkDecodeCold(b *testing.B) {
	c := newCodec(b, "0123456789abcdef0123456789abcdef")
	const n = 1 << 16
	fhs := benchHandles(c, n)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := c.Decode(fhs[i&(n-1)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkDecodeForged decodes handles whose MAC is wrong: the cost of a
// flood of forged handles, which must never be served from the cache.
func BenchmarkDecodeForged(b *testing.B) {
	c := newCodec(b, "0123456789abcdef0123456789abcdef")
	fh := c.Append(nil, 3, bytes.Repeat([]byte{1}, 20))
	if _, _, err := c.Decode(fh); err != nil {
		b.Fatal(err)
	}
	fh[len(fh)-1] ^= 1
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.Decode(fh); err != ErrStale {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeHotParallel is BenchmarkDecodeHot from every P at once:
// how the cache's locks behave under the server's concurrency.
func BenchmarkDecodeHotParallel(b *testing.B) {
	c := newCodec(b, "0123456789abcdef0123456789abcdef")
	fhs := benchHandles(c, 64)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, _, err := c.Decode(fhs[i&63]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

func BenchmarkAppend(b *testing.B) {
	c := newCodec(b, "0123456789abcdef0123456789abcdef")
	h := vfs.Handle(bytes.Repeat([]byte{1}, 20))
	buf := make([]byte, 0, MaxSize)
	b.ReportAllocs()
	for b.Loop() {
		buf = c.Append(buf[:0], 3, h)
	}
}

// appendCycle appends the wire handles of n distinct 20-byte backend
// handles in turn, as repeated listings of an n-entry directory do.
func appendCycle(b *testing.B, n int) {
	c := newCodec(b, "0123456789abcdef0123456789abcdef")
	hs := make([]vfs.Handle, n)
	for i := range hs {
		h := bytes.Repeat([]byte{1}, 20)
		binary.BigEndian.PutUint32(h, uint32(i))
		hs[i] = h
	}
	buf := make([]byte, 0, MaxSize)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		buf = c.Append(buf[:0], 3, hs[i%n])
		i++
	}
}

// BenchmarkAppendListing gives out the handles of a 20,000-entry
// directory again and again (READDIRPLUS of the same directory).
func BenchmarkAppendListing(b *testing.B) { appendCycle(b, 20000) }

// BenchmarkAppendCold cycles through more distinct handles than any cache
// holds, so every Append computes the MAC: the cost a cache adds to a miss.
func BenchmarkAppendCold(b *testing.B) { appendCycle(b, 1<<18) }

// BenchmarkAppendHotParallel appends a few handles from every P at once.
func BenchmarkAppendHotParallel(b *testing.B) {
	c := newCodec(b, "0123456789abcdef0123456789abcdef")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 0, MaxSize)
		h := vfs.Handle(bytes.Repeat([]byte{1}, 20))
		i := 0
		for pb.Next() {
			h[0] = byte(i & 63)
			buf = c.Append(buf[:0], 3, h)
			i++
		}
	})
}
