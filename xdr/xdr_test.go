package xdr

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

func TestWriterEncodings(t *testing.T) {
	for _, tc := range []struct {
		name string
		enc  func(w *Writer)
		want []byte
	}{
		{"uint32", func(w *Writer) { w.Uint32(0x01020304) }, []byte{1, 2, 3, 4}},
		{"int32 -1", func(w *Writer) { w.Int32(-1) }, []byte{0xff, 0xff, 0xff, 0xff}},
		{"uint64", func(w *Writer) { w.Uint64(0x0102030405060708) }, []byte{1, 2, 3, 4, 5, 6, 7, 8}},
		{"bool", func(w *Writer) { w.Bool(true); w.Bool(false) }, []byte{0, 0, 0, 1, 0, 0, 0, 0}},
		{"float64", func(w *Writer) { w.Float64(1) }, []byte{0x3f, 0xf0, 0, 0, 0, 0, 0, 0}},
		{"opaque pads", func(w *Writer) { w.Opaque([]byte{9}) }, []byte{0, 0, 0, 1, 9, 0, 0, 0}},
		{"opaque aligned", func(w *Writer) { w.Opaque([]byte{1, 2, 3, 4}) }, []byte{0, 0, 0, 4, 1, 2, 3, 4}},
		{"fixed opaque", func(w *Writer) { w.FixedOpaque([]byte{1, 2, 3}) }, []byte{1, 2, 3, 0}},
		{"string", func(w *Writer) { w.String("ab") }, []byte{0, 0, 0, 2, 'a', 'b', 0, 0}},
		{"empty string", func(w *Writer) { w.String("") }, []byte{0, 0, 0, 0}},
		{"reserve and fill", func(w *Writer) { off := w.Reserve(4); w.Uint32(7); w.PutUint32At(off, 1) }, []byte{0, 0, 0, 1, 0, 0, 0, 7}},
	} {
		var w Writer
		tc.enc(&w)
		if !bytes.Equal(w.Bytes(), tc.want) {
			t.Errorf("%s: got %x, want %x", tc.name, w.Bytes(), tc.want)
		}
	}
}

func TestReaderErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		dec  func(r *Reader)
		want error
	}{
		{"short uint32", []byte{1, 2, 3}, func(r *Reader) { r.Uint32() }, ErrShort},
		{"short uint64", []byte{1, 2, 3, 4}, func(r *Reader) { r.Uint64() }, ErrShort},
		{"bool 2", []byte{0, 0, 0, 2}, func(r *Reader) { r.Bool() }, ErrBadValue},
		{"opaque over max", []byte{0, 0, 0, 5, 1, 2, 3, 4, 5, 0, 0, 0}, func(r *Reader) { r.Opaque(4) }, ErrTooLong},
		{"opaque past end", []byte{0, 0, 0, 8, 1, 2, 3, 4}, func(r *Reader) { r.Opaque(Unbounded) }, ErrShort},
		{"opaque 4 GiB claim", []byte{0xff, 0xff, 0xff, 0xff}, func(r *Reader) { r.Opaque(Unbounded) }, ErrShort},
		{"padding missing", []byte{0, 0, 0, 1, 9}, func(r *Reader) { r.Opaque(Unbounded) }, ErrShort},
		{"array over max", []byte{0, 0, 0, 3}, func(r *Reader) { r.ArrayLen(2, 4) }, ErrTooLong},
		{"array past end", []byte{0, 0, 0, 3, 0, 0, 0, 1}, func(r *Reader) { r.ArrayLen(10, 4) }, ErrShort},
		{"array huge claim", []byte{0x7f, 0xff, 0xff, 0xff}, func(r *Reader) { r.ArrayLen(Unbounded, 1) }, ErrShort},
		{"trailing", []byte{0, 0, 0, 1, 0, 0, 0, 2}, func(r *Reader) { r.Uint32() }, ErrTrailing},
		{"bad discriminant", []byte{}, func(r *Reader) { r.BadDiscriminant("u", 9) }, ErrBadValue},
	} {
		r := NewReader(tc.in)
		tc.dec(r)
		if err := r.Done(); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestStickyError: after the first failure every read yields zero and the
// first error stays.
func TestStickyError(t *testing.T) {
	r := NewReader([]byte{0, 0, 0, 2, 0, 0, 0, 7})
	r.Bool()
	if v := r.Uint32(); v != 0 {
		t.Errorf("read after error = %d, want 0", v)
	}
	r.SetErr(ErrShort)
	if !errors.Is(r.Err(), ErrBadValue) {
		t.Errorf("error = %v, want the first one", r.Err())
	}
}

func TestReaderRoundTrip(t *testing.T) {
	var w Writer
	w.Int32(-5)
	w.Uint64(math.MaxUint64)
	w.Float32(1.5)
	w.Opaque([]byte("xyz"))
	w.String("hello")
	w.FixedOpaque([]byte{1, 2, 3, 4, 5})
	r := NewReader(w.Bytes())
	if r.Int32() != -5 || r.Uint64() != math.MaxUint64 || r.Float32() != 1.5 ||
		string(r.Opaque(3)) != "xyz" || r.String(5) != "hello" || !bytes.Equal(r.FixedOpaque(5), []byte{1, 2, 3, 4, 5}) {
		t.Fatal("values changed in a round trip")
	}
	if err := r.Done(); err != nil {
		t.Fatal(err)
	}
}

// TestOpaqueAliases: decoded opaque data is a slice of the record with its
// capacity cut, so appending to it cannot overwrite the record.
func TestOpaqueAliases(t *testing.T) {
	rec := []byte{0, 0, 0, 2, 'a', 'b', 0, 0, 0, 0, 0, 9}
	b := NewReader(rec).Opaque(Unbounded)
	if &b[0] != &rec[4] {
		t.Fatal("opaque was copied")
	}
	_ = append(b, 'z')
	if rec[6] != 0 {
		t.Fatal("append through a decoded slice wrote into the record")
	}
}

func TestOptional(t *testing.T) {
	v := Uint32(7)
	in := Optional[Uint32, *Uint32]{V: &v}
	b := Marshal(nil, &in)
	var out Optional[Uint32, *Uint32]
	if err := Unmarshal(b, &out); err != nil || out.V == nil || *out.V != 7 {
		t.Fatalf("got %v %v", out.V, err)
	}
	var none Optional[Uint32, *Uint32]
	if err := Unmarshal(Marshal(nil, &none), &out); err != nil || out.V != nil {
		t.Fatalf("absent optional decoded as %v %v", out.V, err)
	}
}

func BenchmarkReaderUint32Opaque(b *testing.B) {
	var w Writer
	w.Uint32(1)
	w.Opaque(make([]byte, 32))
	w.Uint64(2)
	rec := w.Bytes()
	b.ReportAllocs()
	var r Reader
	for b.Loop() {
		r.Reset(rec)
		r.Uint32()
		r.Opaque(64)
		r.Uint64()
		if r.Err() != nil {
			b.Fatal(r.Err())
		}
	}
}

func BenchmarkWriter(b *testing.B) {
	w := Writer{Buf: make([]byte, 0, 256)}
	data := make([]byte, 32)
	b.ReportAllocs()
	for b.Loop() {
		w.Buf = w.Buf[:0]
		w.Uint32(1)
		w.Opaque(data)
		w.Uint64(2)
	}
}
