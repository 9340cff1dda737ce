package sunrpc

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"slices"
)

// Record marking on stream transports (RFC 5531 §11): a record is a
// sequence of fragments, each behind a four-byte header whose top bit marks
// the last fragment and whose other 31 bits give the fragment's length.

const (
	lastFragment = 1 << 31
	markLen      = 4

	// maxFragments bounds the fragments of one record. Real peers send one
	// fragment per record; without a bound a peer could stream empty
	// non-final fragments forever without ever reaching the size limit.
	maxFragments = 1024

	// growStep is the least a record buffer grows by. A buffer never grows
	// by more than the bytes that have already arrived (or growStep), so a
	// fragment header claiming a large length costs memory only as fast as
	// the peer actually sends data.
	growStep = 64 << 10
)

var (
	// ErrRecordTooLarge reports a record whose fragments add up to more
	// than the configured limit.
	ErrRecordTooLarge = errors.New("sunrpc: record exceeds size limit")
	// errTooManyFragments reports a record split into more than
	// maxFragments fragments.
	errTooManyFragments = errors.New("sunrpc: record has too many fragments")
)

// readRecord reads one complete record from br into buf[:0] and returns it.
// It fails with ErrRecordTooLarge as soon as the fragment lengths claimed so
// far exceed limit, before reading or allocating for the fragment that would
// pass it. A clean end of stream before a record starts is io.EOF; an end
// inside a record is io.ErrUnexpectedEOF. started reports whether any byte
// of the record was consumed: if not, a timeout can be retried.
func readRecord(br *bufio.Reader, buf []byte, limit int) (rec []byte, started bool, err error) {
	buf = buf[:0]
	for frags := 0; ; frags++ {
		if frags == maxFragments {
			return buf, true, errTooManyFragments
		}
		hdr, err := br.Peek(markLen)
		if err != nil {
			if err == io.EOF && (frags > 0 || len(hdr) > 0) {
				err = io.ErrUnexpectedEOF
			}
			return buf, frags > 0, err
		}
		mark := binary.BigEndian.Uint32(hdr)
		br.Discard(markLen)
		n := int(mark &^ lastFragment)
		if n > limit-len(buf) {
			return buf, true, ErrRecordTooLarge
		}
		for n > 0 {
			k := n
			if avail := cap(buf) - len(buf); k > avail {
				step := max(len(buf), growStep)
				k = min(k, step)
				if k > avail {
					buf = slices.Grow(buf, k)
				}
			}
			m, err := io.ReadFull(br, buf[len(buf):len(buf)+k])
			buf = buf[:len(buf)+m]
			if err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return buf, true, err
			}
			n -= k
		}
		if mark&lastFragment != 0 {
			return buf, true, nil
		}
	}
}

// setMark fills in the record mark that a reply buffer reserves in its
// first four bytes, making the rest one final fragment.
func setMark(b []byte) {
	binary.BigEndian.PutUint32(b, lastFragment|uint32(len(b)-markLen))
}
