package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// The pattern must not change silently: the host checks files a guest wrote
// with a binary built at the same commit, but captured sums in logs and
// reports would stop meaning anything.
func TestPatternGolden(t *testing.T) {
	b := make([]byte, 1<<20)
	fillPattern(b, 0)
	got := sha256.Sum256(b)
	const want = "49549f902510fc6e713e323fed8414d9b4eebd808ef738ce4ad10e3220d34793"
	if hex.EncodeToString(got[:]) != want {
		t.Errorf("sha256 of the first MiB = %x, want %s", got, want)
	}
	// SplitMix64's published first output for seed 0, stored little-endian.
	if want := []byte{0xaf, 0xcd, 0x1d, 0x7b, 0x39, 0xa8, 0x20, 0xe2}; !bytes.Equal(b[:8], want) {
		t.Errorf("first word % x, want % x", b[:8], want)
	}
}

// Filling any piece at its own offset gives the same bytes as filling the
// whole, wherever the piece starts or ends (unaligned included).
func TestPatternPieces(t *testing.T) {
	whole := make([]byte, 4096)
	fillPattern(whole, 1000)
	for _, tc := range []struct{ from, to int }{
		{0, 4096}, {0, 1}, {1, 9}, {3, 4}, {7, 8}, {8, 16}, {5, 4093}, {4095, 4096}, {2048, 2048},
	} {
		piece := make([]byte, tc.to-tc.from)
		fillPattern(piece, 1000+int64(tc.from))
		if !bytes.Equal(piece, whole[tc.from:tc.to]) {
			t.Errorf("piece [%d,%d) differs from the whole", tc.from, tc.to)
		}
	}
}

// Blocks at different offsets differ, so a block written or read at the
// wrong place is caught.
func TestPatternPositional(t *testing.T) {
	a, b := make([]byte, 512), make([]byte, 512)
	for _, off := range []int64{512, 4096, 1 << 20, 1 << 30, 1<<30 + 512} {
		fillPattern(a, 0)
		fillPattern(b, off)
		if bytes.Equal(a, b) {
			t.Errorf("block at %d equals block at 0", off)
		}
	}
}

func TestReadPattern(t *testing.T) {
	data := make([]byte, 3*chunk+100)
	fillPattern(data, 0)
	sum := sha256.Sum256(data)
	flipped := bytes.Clone(data)
	flipped[2*chunk+7] ^= 1
	for _, tc := range []struct {
		name    string
		data    []byte
		size    int64
		wantErr bool
	}{
		{"exact", data, int64(len(data)), false},
		{"empty", nil, 0, false},
		{"short", data[:len(data)-1], int64(len(data)), true},
		{"long", data, int64(len(data)) - 1, true},
		{"flipped bit", flipped, int64(len(data)), true},
		{"zeros", make([]byte, 4096), 4096, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readPattern(bytes.NewReader(tc.data), tc.size)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if tc.name == "exact" && !bytes.Equal(got, sum[:]) {
				t.Errorf("sha256 %x, want %x", got, sum)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"4096", 4096, true}, {"1K", 1024, true}, {"256M", 256 << 20, true},
		{"1G", 1 << 30, true}, {"", 0, false}, {"M", 0, false}, {"-1", 0, false}, {"1T", 0, false},
		{"9999999999999G", 0, false},
	} {
		got, err := parseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
