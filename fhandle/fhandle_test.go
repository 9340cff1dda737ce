package fhandle

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gonfs/gonfs/internal/fuzzcorpus"
	"github.com/gonfs/gonfs/vfs"
)

func newCodec(t testing.TB, key string) *Codec {
	c, err := New([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRoundTrip(t *testing.T) {
	c := newCodec(t, "0123456789abcdef0123456789abcdef")
	for _, h := range []vfs.Handle{{}, {1}, bytes.Repeat([]byte{7}, vfs.MaxHandle)} {
		fh := c.Append(nil, 42, h)
		if len(fh) > 64 {
			t.Fatalf("handle of %d bytes exceeds NFSv3's 64", len(fh))
		}
		id, got, err := c.Decode(fh)
		if err != nil || id != 42 || !bytes.Equal(got, h) {
			t.Fatalf("Decode = %d %x %v, want 42 %x", id, got, err, h)
		}
	}
}

func TestRejects(t *testing.T) {
	c := newCodec(t, "0123456789abcdef0123456789abcdef")
	other := newCodec(t, "another key, as after a new state")
	good := c.Append(nil, 1, vfs.Handle("backend"))
	flip := func(i int) []byte { b := bytes.Clone(good); b[i] ^= 1; return b }
	for _, tc := range []struct {
		name string
		fh   []byte
		want error
	}{
		{"empty", nil, ErrBadHandle},
		{"short", good[:5], ErrBadHandle},
		{"truncated", good[:len(good)-1], ErrBadHandle},
		{"too long", make([]byte, 65), ErrBadHandle},
		{"version", flip(0), ErrBadHandle},
		{"length byte", flip(1), ErrBadHandle},
		{"export id changed", flip(3), ErrStale},
		{"backend handle changed", flip(7), ErrStale},
		{"mac changed", flip(len(good) - 1), ErrStale},
		{"other key", other.Append(nil, 1, vfs.Handle("backend")), ErrStale},
	} {
		if _, _, err := c.Decode(tc.fh); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestLoadKeyPersists(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadKey(dir)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second load = %x %v, want the first key %x", k2, err, k1)
	}
}

func FuzzDecode(f *testing.F) {
	c := newCodec(f, "0123456789abcdef0123456789abcdef")
	fuzzcorpus.Add(f, c.Append(nil, 3, vfs.Handle("x")))
	fuzzcorpus.Add(f, []byte{1, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, fh []byte) {
		id, h, err := c.Decode(fh)
		if err != nil {
			return
		}
		if again := c.Append(nil, id, h); !bytes.Equal(again, fh) {
			t.Fatalf("accepted handle %x re-encodes as %x", fh, again)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	c := newCodec(b, "0123456789abcdef0123456789abcdef")
	fh := c.Append(nil, 3, bytes.Repeat([]byte{1}, 20))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.Decode(fh); err != nil {
			b.Fatal(err)
		}
	}
}
