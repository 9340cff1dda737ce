// Package xdr is the External Data Representation runtime (RFC 4506) that the
// generated wire types in proto/... are built on.
//
// Encoding appends to a byte slice held by a Writer; decoding walks a Reader
// over a complete record. The Reader keeps one sticky error: after the first
// failure every further call returns a zero value and the error stays, so
// generated decoders are flat sequences of calls with a single check at the
// end. Variable-length items are bounded twice, by the limit in the XDR
// definition and by the bytes that remain, so no length a peer sends can make
// the decoder allocate more than the record it already holds.
//
// Neither type is safe for concurrent use; each request owns its own.
package xdr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrShort reports a record that ended before the item being decoded.
var ErrShort = errors.New("xdr: record truncated")

// ErrTooLong reports a variable-length item longer than its XDR limit.
var ErrTooLong = errors.New("xdr: item exceeds its declared maximum")

// ErrBadValue reports a value the definition does not allow (a bool other
// than 0 or 1, an undeclared union arm, an unknown enum where it matters).
var ErrBadValue = errors.New("xdr: invalid value")

// ErrTrailing reports bytes left over after a complete item where the
// caller demanded the record end.
var ErrTrailing = errors.New("xdr: trailing bytes after item")

// Unbounded is the limit used for variable-length items declared without one
// (opaque x<>). The remaining-bytes check still bounds them.
const Unbounded = math.MaxUint32

// pad returns the number of zero bytes that follow n bytes of opaque data.
func pad(n int) int { return (4 - n&3) & 3 }

// Writer appends XDR encodings to Buf. The zero value is ready to use;
// reuse a Writer (set Buf = Buf[:0]) to avoid allocations.
type Writer struct {
	Buf []byte
}

// NewWriter returns a Writer appending to buf.
func NewWriter(buf []byte) *Writer { return &Writer{Buf: buf} }

// Bytes returns the encoded bytes.
func (w *Writer) Bytes() []byte { return w.Buf }

// Len returns the number of encoded bytes.
func (w *Writer) Len() int { return len(w.Buf) }

// Uint32 appends an unsigned int.
func (w *Writer) Uint32(v uint32) { w.Buf = binary.BigEndian.AppendUint32(w.Buf, v) }

// Int32 appends an int.
func (w *Writer) Int32(v int32) { w.Uint32(uint32(v)) }

// Uint64 appends an unsigned hyper.
func (w *Writer) Uint64(v uint64) { w.Buf = binary.BigEndian.AppendUint64(w.Buf, v) }

// Int64 appends a hyper.
func (w *Writer) Int64(v int64) { w.Uint64(uint64(v)) }

// Bool appends a bool as 0 or 1.
func (w *Writer) Bool(v bool) {
	if v {
		w.Uint32(1)
	} else {
		w.Uint32(0)
	}
}

// Float32 appends a float.
func (w *Writer) Float32(v float32) { w.Uint32(math.Float32bits(v)) }

// Float64 appends a double.
func (w *Writer) Float64(v float64) { w.Uint64(math.Float64bits(v)) }

// FixedOpaque appends opaque[n] (n = len(b)) with its padding.
func (w *Writer) FixedOpaque(b []byte) {
	w.Buf = append(w.Buf, b...)
	w.Buf = append(w.Buf, zeros[:pad(len(b))]...)
}

// Opaque appends opaque<> : a length and the bytes, padded.
func (w *Writer) Opaque(b []byte) {
	w.Uint32(uint32(len(b)))
	w.FixedOpaque(b)
}

// String appends string<> : a length and the bytes, padded.
func (w *Writer) String(s string) {
	w.Uint32(uint32(len(s)))
	w.Buf = append(w.Buf, s...)
	w.Buf = append(w.Buf, zeros[:pad(len(s))]...)
}

// Reserve appends n zero bytes and returns their offset, so a caller can
// fill in a value (a length, a count) once it is known.
func (w *Writer) Reserve(n int) int {
	off := len(w.Buf)
	w.Buf = append(w.Buf, zeros[:n]...)
	return off
}

// PutUint32At overwrites the four bytes at off (from Reserve).
func (w *Writer) PutUint32At(off int, v uint32) { binary.BigEndian.PutUint32(w.Buf[off:], v) }

var zeros [8]byte

// Reader decodes XDR from a complete record held in memory. Byte slices it
// returns alias the record; copy them if they must outlive it.
type Reader struct {
	buf []byte
	off int
	err error
}

// NewReader returns a Reader over b.
func NewReader(b []byte) *Reader { return &Reader{buf: b} }

// Reset points r at a new record and clears its error.
func (r *Reader) Reset(b []byte) { *r = Reader{buf: b} }

// Err returns the first error met, or nil.
func (r *Reader) Err() error { return r.err }

// SetErr records err unless an error is already recorded. Generated code uses
// it for value errors (bad union arm, bad bool).
func (r *Reader) SetErr(err error) {
	if r.err == nil {
		r.err = err
	}
}

// Remaining returns the number of bytes not yet decoded.
func (r *Reader) Remaining() int { return len(r.buf) - r.off }

// Offset returns how many bytes have been decoded.
func (r *Reader) Offset() int { return r.off }

// Rest returns the undecoded bytes without consuming them.
func (r *Reader) Rest() []byte { return r.buf[r.off:] }

// Done returns the sticky error, or ErrTrailing if bytes remain.
func (r *Reader) Done() error {
	if r.err != nil {
		return r.err
	}
	if r.off != len(r.buf) {
		return ErrTrailing
	}
	return nil
}

// take consumes n bytes, or records ErrShort and returns nil.
func (r *Reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.buf)-r.off {
		r.err = ErrShort
		r.off = len(r.buf)
		return nil
	}
	b := r.buf[r.off : r.off+n : r.off+n]
	r.off += n
	return b
}

// Uint32 decodes an unsigned int.
func (r *Reader) Uint32() uint32 {
	b := r.take(4)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

// Int32 decodes an int.
func (r *Reader) Int32() int32 { return int32(r.Uint32()) }

// Uint64 decodes an unsigned hyper.
func (r *Reader) Uint64() uint64 {
	b := r.take(8)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// Int64 decodes a hyper.
func (r *Reader) Int64() int64 { return int64(r.Uint64()) }

// Float32 decodes a float.
func (r *Reader) Float32() float32 { return math.Float32frombits(r.Uint32()) }

// Float64 decodes a double.
func (r *Reader) Float64() float64 { return math.Float64frombits(r.Uint64()) }

// Bool decodes a bool; values other than 0 and 1 are an error (RFC 4506 §4.4).
func (r *Reader) Bool() bool {
	v := r.Uint32()
	if v > 1 {
		r.SetErr(fmt.Errorf("%w: bool %d", ErrBadValue, v))
		return false
	}
	return v == 1
}

// FixedOpaque decodes opaque[n] and returns it as a slice of the record.
func (r *Reader) FixedOpaque(n int) []byte {
	b := r.take(n + pad(n))
	if b == nil {
		return nil
	}
	return b[:n:n]
}

// FixedOpaqueInto decodes opaque[len(dst)] into dst.
func (r *Reader) FixedOpaqueInto(dst []byte) {
	copy(dst, r.FixedOpaque(len(dst)))
}

// Opaque decodes opaque<max> and returns it as a slice of the record
// (nil-safe: a zero length yields an empty, non-nil slice only if the record
// had one, which callers must not rely on).
func (r *Reader) Opaque(max uint32) []byte {
	n := r.length(max)
	if r.err != nil {
		return nil
	}
	return r.FixedOpaque(n)
}

// String decodes string<max>. It allocates the returned string.
func (r *Reader) String(max uint32) string {
	return string(r.Opaque(max))
}

// length decodes a length prefix bounded by max and by the bytes left.
func (r *Reader) length(max uint32) int {
	n := r.Uint32()
	if r.err != nil {
		return 0
	}
	if n > max {
		r.err = fmt.Errorf("%w: length %d > %d", ErrTooLong, n, max)
		return 0
	}
	if uint64(n) > uint64(len(r.buf)-r.off) {
		r.err = ErrShort
		r.off = len(r.buf)
		return 0
	}
	return int(n)
}

// ArrayLen decodes the count of a variable-length array bounded by max and
// by the remaining bytes divided by minSize, the smallest encoding of one
// element (at least 1; 4 for any element that is not empty). The result is
// safe to pass to make.
func (r *Reader) ArrayLen(max uint32, minSize int) int {
	n := r.Uint32()
	if r.err != nil {
		return 0
	}
	if n > max {
		r.err = fmt.Errorf("%w: array length %d > %d", ErrTooLong, n, max)
		return 0
	}
	if minSize < 1 {
		minSize = 1
	}
	if uint64(n)*uint64(minSize) > uint64(len(r.buf)-r.off) {
		r.err = ErrShort
		r.off = len(r.buf)
		return 0
	}
	return int(n)
}

// BadDiscriminant records that union has no arm for the discriminant v.
func (r *Reader) BadDiscriminant(union string, v int64) {
	r.SetErr(fmt.Errorf("%w: %s has no arm for discriminant %d", ErrBadValue, union, v))
}

// Skip consumes n bytes (plus nothing else; callers add padding).
func (r *Reader) Skip(n int) { r.take(n) }

// Marshaler is implemented by every generated type.
type Marshaler interface {
	Encode(w *Writer)
}

// Unmarshaler is implemented by pointers to every generated type.
type Unmarshaler interface {
	Decode(r *Reader)
}

// Marshal appends the encoding of v to buf and returns it.
func Marshal(buf []byte, v Marshaler) []byte {
	w := Writer{Buf: buf}
	v.Encode(&w)
	return w.Buf
}

// Unmarshal decodes v from all of b; bytes left over are an error.
func Unmarshal(b []byte, v Unmarshaler) error {
	r := Reader{buf: b}
	v.Decode(&r)
	return r.Done()
}

// Codec is a type that both encodes and decodes itself: every pointer to a
// generated type.
type Codec interface {
	Marshaler
	Unmarshaler
}

// Void is the empty XDR item, for procedures that take or return nothing.
type Void struct{}

// Encode writes nothing.
func (*Void) Encode(*Writer) {}

// Decode reads nothing.
func (*Void) Decode(*Reader) {}

// Base-type values, for procedures whose argument or result is a bare XDR
// base type (portmap GETPORT returns an unsigned int, SET a bool).
type (
	Int32  int32
	Uint32 uint32
	Int64  int64
	Uint64 uint64
	Bool   bool
	String string
)

func (v *Int32) Encode(w *Writer)  { w.Int32(int32(*v)) }
func (v *Int32) Decode(r *Reader)  { *v = Int32(r.Int32()) }
func (v *Uint32) Encode(w *Writer) { w.Uint32(uint32(*v)) }
func (v *Uint32) Decode(r *Reader) { *v = Uint32(r.Uint32()) }
func (v *Int64) Encode(w *Writer)  { w.Int64(int64(*v)) }
func (v *Int64) Decode(r *Reader)  { *v = Int64(r.Int64()) }
func (v *Uint64) Encode(w *Writer) { w.Uint64(uint64(*v)) }
func (v *Uint64) Decode(r *Reader) { *v = Uint64(r.Uint64()) }
func (v *Bool) Encode(w *Writer)   { w.Bool(bool(*v)) }
func (v *Bool) Decode(r *Reader)   { *v = Bool(r.Bool()) }
func (v *String) Encode(w *Writer) { w.String(string(*v)) }
func (v *String) Decode(r *Reader) { *v = String(r.String(Unbounded)) }

// Optional is an XDR optional-data item (T *x, RFC 4506 §4.19) standing
// alone, for procedures whose argument or result is a typedef of one (the
// linked lists of MOUNT DUMP and EXPORT, portmap DUMP).
type Optional[T any, P interface {
	*T
	Codec
}] struct {
	V *T
}

// Encode writes the presence flag and, if present, the value.
func (o *Optional[T, P]) Encode(w *Writer) {
	if o.V == nil {
		w.Bool(false)
		return
	}
	w.Bool(true)
	P(o.V).Encode(w)
}

// Decode reads the presence flag and, if present, the value.
func (o *Optional[T, P]) Decode(r *Reader) {
	if !r.Bool() {
		o.V = nil
		return
	}
	o.V = new(T)
	P(o.V).Decode(r)
}
