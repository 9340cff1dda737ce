// Package xdrtest checks generated XDR types: round trips of random values,
// truncation at every prefix, and a fuzz target that decodes arbitrary bytes
// as every type. The generated *_xdr_test.go files call it.
package xdrtest

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gonfs/gonfs/xdr"
)

// Rand makes random values within XDR bounds, small enough to keep tests fast.
type Rand struct{ r *rand.Rand }

// NewRand returns a deterministic generator.
func NewRand(seed uint64) *Rand { return &Rand{rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))} }

func (g *Rand) Int32() int32     { return int32(g.r.Uint32()) }
func (g *Rand) Uint32() uint32   { return g.r.Uint32() }
func (g *Rand) Int64() int64     { return int64(g.r.Uint64()) }
func (g *Rand) Uint64() uint64   { return g.r.Uint64() }
func (g *Rand) Bool() bool       { return g.r.IntN(2) == 1 }
func (g *Rand) Float32() float32 { return g.r.Float32() }
func (g *Rand) Float64() float64 { return g.r.Float64() }

// Intn returns a number in [0, n).
func (g *Rand) Intn(n int) int { return g.r.IntN(n) }

// Fill fills b with random bytes.
func (g *Rand) Fill(b []byte) {
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
}

func (g *Rand) n(max uint32, limit int) int {
	m := uint32(limit)
	if max < m {
		m = max
	}
	return g.r.IntN(int(m) + 1)
}

// Bytes returns up to min(max, 24) random bytes.
func (g *Rand) Bytes(max uint32) []byte {
	b := make([]byte, g.n(max, 24))
	g.Fill(b)
	return b
}

// String returns up to min(max, 16) printable characters.
func (g *Rand) String(max uint32) string {
	b := make([]byte, g.n(max, 16))
	for i := range b {
		b[i] = byte('a' + g.r.IntN(26))
	}
	return string(b)
}

// Len is the length of a variable-length array: short, and empty once the
// value is deeply nested.
func (g *Rand) Len(max uint32, depth int) int {
	if depth > 4 {
		return 0
	}
	return g.n(max, 3)
}

// Opt decides whether an optional item is present.
func (g *Rand) Opt(depth int) bool { return depth < 5 && g.Bool() }

// Case is one generated type.
type Case struct {
	Name string
	New  func() xdr.Codec
	Rand func(*Rand) xdr.Codec
}

// RoundTrip encodes random values of every case, decodes them, and checks
// that the decoded value encodes to the same bytes and that every strict
// prefix of the encoding fails with xdr.ErrShort.
func RoundTrip(t *testing.T, cases []Case) {
	g := NewRand(1)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			for range 20 {
				b := xdr.Marshal(nil, c.Rand(g))
				got := c.New()
				if err := xdr.Unmarshal(b, got); err != nil {
					t.Fatalf("decode of %x: %v", b, err)
				}
				if b2 := xdr.Marshal(nil, got); !bytes.Equal(b, b2) {
					t.Fatalf("round trip changed the encoding:\n got %x\nwant %x", b2, b)
				}
				if len(b)%4 != 0 {
					t.Fatalf("encoding of %d bytes is not a multiple of 4", len(b))
				}
				for n := range len(b) {
					if err := xdr.Unmarshal(b[:n], c.New()); !errors.Is(err, xdr.ErrShort) {
						t.Fatalf("prefix of %d/%d bytes: got %v, want ErrShort", n, len(b), err)
					}
				}
			}
		})
	}
}

// Fuzz decodes arbitrary input as the case its first two bytes select, and
// checks that whatever decodes re-encodes canonically. Seeds are random
// values of every case. With XDRTEST_WRITE_CORPUS=1 the seeds are also
// written to testdata/fuzz/<target>/, the committed seed corpus.
func Fuzz(f *testing.F, cases []Case) {
	g := NewRand(2)
	var seeds [][]byte
	for i, c := range cases {
		for range 2 {
			seeds = append(seeds, append([]byte{byte(i >> 8), byte(i)}, xdr.Marshal(nil, c.Rand(g))...))
		}
	}
	for _, s := range seeds {
		f.Add(s)
	}
	if os.Getenv("XDRTEST_WRITE_CORPUS") == "1" {
		if err := writeCorpus(filepath.Join("testdata", "fuzz", f.Name()), seeds); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 {
			return
		}
		c := cases[int(binary.BigEndian.Uint16(data))%len(cases)]
		body := data[2:]
		v := c.New()
		r := xdr.NewReader(body)
		v.Decode(r)
		if r.Err() != nil {
			return
		}
		b := xdr.Marshal(nil, v)
		if len(b) != r.Offset() {
			t.Fatalf("%s: decoded %d bytes, re-encoded %d", c.Name, r.Offset(), len(b))
		}
		v2 := c.New()
		if err := xdr.Unmarshal(b, v2); err != nil {
			t.Fatalf("%s: own encoding does not decode: %v", c.Name, err)
		}
		if b2 := xdr.Marshal(nil, v2); !bytes.Equal(b, b2) {
			t.Fatalf("%s: encoding not stable", c.Name)
		}
	})
}

func writeCorpus(dir string, seeds [][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i, s := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%04d", i)), []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Golden is a value and its encoding worked out by hand from the RFCs,
// independent of the generator. A row with Err set holds bytes the
// definition forbids: decoding them must fail with Err.
type Golden struct {
	Name string
	V    xdr.Codec
	Hex  string // spaces are ignored
	Err  error
}

// Unhex decodes hex with spaces.
func Unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex in test: %v", err)
	}
	return b
}

// GoldenRow is any struct type shaped like Golden, so that a package can
// declare its own row type and keep positional literals (vet refuses
// unkeyed literals of another package's struct).
type GoldenRow interface {
	~struct {
		Name string
		V    xdr.Codec
		Hex  string
		Err  error
	}
}

// CheckGolden encodes each value and compares with the hand-made bytes,
// then decodes those bytes into a fresh value and checks it encodes the
// same, so both directions are pinned to the wire format.
func CheckGolden[R GoldenRow](t *testing.T, rows []R) {
	t.Helper()
	for _, row := range rows {
		tc := Golden(row)
		t.Run(tc.Name, func(t *testing.T) {
			want := Unhex(t, tc.Hex)
			dec := reflect.New(reflect.TypeOf(tc.V).Elem()).Interface().(xdr.Codec)
			if tc.Err != nil {
				if err := xdr.Unmarshal(want, dec); !errors.Is(err, tc.Err) {
					t.Fatalf("decode: got %v, want %v", err, tc.Err)
				}
				return
			}
			if got := xdr.Marshal(nil, tc.V); !bytes.Equal(got, want) {
				t.Fatalf("encode:\n got %x\nwant %x", got, want)
			}
			if err := xdr.Unmarshal(want, dec); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if got := xdr.Marshal(nil, dec); !bytes.Equal(got, want) {
				t.Fatalf("decode then encode:\n got %x\nwant %x", got, want)
			}
		})
	}
}
