package sunrpc

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"math/bits"
	"net"
	"os"
	"sync"
	"time"
)

// The client's receive path. The server reads records with readRecord,
// which grows its buffer only as fast as data arrives, because its peers
// are strangers. The client's peer is the server it chose to call, so it
// takes a fragment header's length at its word, up to
// ClientOptions.MaxRecordSize, and reads each fragment into a buffer
// allocated (or taken from a pool) at its final size: no growth copies. It
// also reads a reply's first bytes before choosing where the rest goes, so
// that bulk data (READ) can land straight in the caller's buffer (Sink).

// headLen is how much of a record the reader takes before it decides
// where the rest goes: room for a reply header with the largest verifier
// (RFC 5531 §8.2: 400 bytes of body) and the results up to the data of an
// NFSv3 READ or of a READ in an NFSv4.1 COMPOUND (about 100 bytes each).
const headLen = 512

// directRead is the least a read must ask for to bypass the bufio.Reader
// when it holds nothing: large reads go from the socket to their place.
const directRead = 4 << 10

// errEndOfRecord is what recvStream.read returns at the end of a record.
var errEndOfRecord = errors.New("sunrpc: end of record")

// recvStream reads records from a stream transport a fragment at a time
// (RFC 5531 §11). It belongs to the client's reading goroutine.
type recvStream struct {
	br    *bufio.Reader // over retryConn{nc}
	nc    net.Conn      // under br: read directly when br is empty
	limit int           // ClientOptions.MaxRecordSize
	left  int           // bytes of the current fragment not yet read
	last  bool          // the current fragment ends the record
	total int           // the record's length as announced so far
	frags int
}

// begin starts the next record by reading its first fragment header; a
// stream that ends cleanly before it gives io.EOF.
func (s *recvStream) begin() error {
	s.left, s.last, s.total, s.frags = 0, false, 0, 0
	return s.nextFragment()
}

// nextFragment reads the header of the record's next fragment, refusing
// one that takes the record past the limit before anything is read or
// allocated for it (as readRecord does).
func (s *recvStream) nextFragment() error {
	if s.frags == maxFragments {
		return errTooManyFragments
	}
	hdr, err := s.br.Peek(markLen)
	if err != nil {
		if err == io.EOF && (s.frags > 0 || len(hdr) > 0) {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	mark := binary.BigEndian.Uint32(hdr)
	s.br.Discard(markLen)
	n := int(mark &^ lastFragment)
	if n > s.limit-s.total {
		return ErrRecordTooLarge
	}
	s.frags++
	s.total += n
	s.left = n
	s.last = mark&lastFragment != 0
	return nil
}

// newRecvStream returns a recvStream over nc.
func newRecvStream(nc net.Conn, limit int) *recvStream {
	return &recvStream{br: bufio.NewReaderSize(retryConn{nc}, 32<<10), nc: nc, limit: limit}
}

// read reads record bytes into p, no further than the current fragment,
// moving to the next fragment when this one is used up. At the end of the
// record it returns errEndOfRecord; a stream that ends inside a record
// gives io.ErrUnexpectedEOF.
func (s *recvStream) read(p []byte) (int, error) { return s.readInto(p, false) }

// readSink is read for a Sink's buffer: whatever the bufio.Reader holds,
// else straight from the socket, so that nothing beyond p is read ahead.
// A read that a poke interrupted (see pendingCall.abandon) returns 0 and
// no error, so that the caller looks again whether to go on.
func (s *recvStream) readSink(p []byte) (int, error) { return s.readInto(p, true) }

func (s *recvStream) readInto(p []byte, sink bool) (int, error) {
	for s.left == 0 {
		if s.last {
			return 0, errEndOfRecord
		}
		if err := s.nextFragment(); err != nil {
			return 0, err
		}
	}
	if len(p) > s.left {
		p = p[:s.left]
	}
	var n int
	var err error
	switch {
	case s.br.Buffered() > 0:
		n, err = s.br.Read(p)
	case sink:
		n, err = s.nc.Read(p)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			s.nc.SetReadDeadline(time.Time{})
			err = nil
		}
	case len(p) >= directRead:
		n, err = retryConn{s.nc}.Read(p)
	default:
		n, err = s.br.Read(p)
	}
	s.left -= n
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if n > 0 {
		// An error with data comes back on the next read.
		err = nil
	}
	return n, err
}

// fill reads until p is full or the record ends: n < len(p) with a nil
// error means the record had no more.
func (s *recvStream) fill(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k, err := s.read(p[n:])
		n += k
		if err == errEndOfRecord {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// skip discards up to n bytes of the record and returns how many it
// discarded: fewer than n with a nil error means the record ended.
func (s *recvStream) skip(n int) (int, error) {
	done := 0
	for done < n {
		for s.left == 0 {
			if s.last {
				return done, nil
			}
			if err := s.nextFragment(); err != nil {
				return done, err
			}
		}
		k, err := s.br.Discard(min(n-done, s.left))
		s.left -= k
		done += k
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return done, err
		}
	}
	return done, nil
}

// skipRest discards the rest of the record.
func (s *recvStream) skipRest() error {
	for {
		if s.left > 0 {
			k, err := s.br.Discard(s.left)
			s.left -= k
			if err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return err
			}
		}
		if s.last {
			return nil
		}
		if err := s.nextFragment(); err != nil {
			return err
		}
	}
}

// readRest appends the rest of the record to b, making room a whole
// fragment at a time.
func (s *recvStream) readRest(b *recBuf) error {
	for {
		for s.left > 0 {
			b.reserve(s.left)
			n, err := s.read(b.b[len(b.b) : len(b.b)+s.left])
			b.b = b.b[:len(b.b)+n]
			if err != nil {
				return err
			}
		}
		if s.last {
			return nil
		}
		if err := s.nextFragment(); err != nil {
			return err
		}
	}
}

// retryConn reads from a connection, retrying a read that a deadline
// interrupted after clearing it: the client sets no deadlines of its own,
// so one can only be a poke that pendingCall.abandon gave a read into a
// Sink's buffer, which may land on any read.
type retryConn struct{ nc net.Conn }

func (r retryConn) Read(p []byte) (int, error) {
	for {
		n, err := r.nc.Read(p)
		if n > 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
			return n, err
		}
		r.nc.SetReadDeadline(time.Time{})
	}
}

// Record buffers come from pools by size class, powers of two from
// 1<<minRecClass to 1<<maxRecClass bytes; larger records get a buffer of
// their own. A buffer is pooled only for a call that gives it back (a
// Transient call, see CallOptions).
const (
	minRecClass = 10 // 1 KiB
	maxRecClass = 23 // 8 MiB, above DefaultMaxRecordSize
)

var recPools [maxRecClass - minRecClass + 1]sync.Pool

// recClass returns the index of the smallest class holding n bytes, or -1
// if none does.
func recClass(n int) int {
	if n <= 1<<minRecClass {
		return 0
	}
	if n > 1<<maxRecClass {
		return -1
	}
	return bits.Len(uint(n-1)) - minRecClass
}

// recBuf is a record being read. box, if not nil, is the pool box of b's
// array: the buffer goes back to its pool on release.
type recBuf struct {
	b   []byte
	box *[]byte
}

// newRecBuf returns an empty record buffer with room for n bytes, from a
// pool if pooled.
func newRecBuf(n int, pooled bool) recBuf {
	k := recClass(n)
	if !pooled || k < 0 {
		return recBuf{b: make([]byte, 0, n)}
	}
	if v := recPools[k].Get(); v != nil {
		box := v.(*[]byte)
		return recBuf{b: (*box)[:0], box: box}
	}
	b := make([]byte, 0, 1<<(k+minRecClass))
	return recBuf{b: b, box: &b}
}

// reserve makes room for n more bytes, keeping what b holds.
func (r *recBuf) reserve(n int) {
	if cap(r.b)-len(r.b) >= n {
		return
	}
	nb := newRecBuf(len(r.b)+n, r.box != nil)
	nb.b = append(nb.b, r.b...)
	r.release()
	*r = nb
}

// release gives a pooled buffer back; b must not be used afterwards.
func (r *recBuf) release() {
	if r.box != nil {
		box := r.box
		*box = r.b[:0]
		recPools[recClass(cap(*box))].Put(box)
	}
	*r = recBuf{}
}
