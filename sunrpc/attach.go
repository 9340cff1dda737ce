package sunrpc

import (
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/gonfs/gonfs/xdr"
)

// A FileSpan is a byte range of an open file that a reply carries without
// the bytes passing through the server's memory: on TCP the connection
// sends it with sendfile(2), so file data goes from the page cache to the
// socket without the two copies of pread(2) into a buffer and write(2)
// out of it. That is what makes large NFS READs cheap (see AttachFile).
type FileSpan struct {
	// FD is an open descriptor of the file, readable with pread, that
	// stays open until Release is called.
	FD int
	// Off and Len are the range to send.
	Off int64
	Len int
	// Release is called exactly once when the span has been sent or the
	// reply dropped (nil: nothing to do). It typically closes FD.
	Release func()
}

// attachment is a FileSpan placed in a reply at offset at of w.Buf.
type attachment struct {
	span   FileSpan
	at     int
	active bool
}

// errShortFile reports a file that ended before its span was sent: the
// reply already promised the bytes, so the connection cannot continue.
var errShortFile = errors.New("sunrpc: file shrank while its data was being sent")

// MinAttach is the least span worth attaching: below it the system calls
// a span costs (a dup and close of the descriptor, a separate send of the
// bytes before it) cost more than copying the data into the reply saves.
const MinAttach = 32 << 10

// CanAttach reports whether AttachFile would accept a span of n bytes for
// this call, so that a handler asks its backend for a descriptor only when
// it will be used. Only TCP connections of a Server take attachments (and
// only those Options.Sendfile allows), only for calls the duplicate
// request cache does not keep (its cache holds reply bytes), only while no
// Tap must see the reply's bytes, one span per reply, of MinAttach bytes
// or more.
func (c *Call) CanAttach(n int) bool { return c.attachable && !c.att.active && n >= MinAttach }

// AttachFile makes span part of the reply at the current end of w: the
// reply sends w's bytes up to here, then span.Len bytes of the file, then
// whatever the handler appends to w afterwards (XDR padding, further
// results). The handler must already have written the length the data
// has in its results, and must count span.Len in any size it checks. It
// reports false (and does not call Release) when the call cannot take an
// attachment (see CanAttach); the handler then copies the data into w
// itself. A reply that is not sent with Success, or that the handler cuts
// back to before the attachment point (see DetachFile), releases the span
// without sending it.
//
// The span is read when the reply is written, after ServeRPC returns: a
// file that is written meanwhile sends its newer bytes, as a read that
// came a moment later would; one that shrinks below the span makes the
// server close the connection (the reply cannot be completed), and the
// client retransmits the call on a new one.
func (c *Call) AttachFile(w *xdr.Writer, span FileSpan) bool {
	if !c.CanAttach(span.Len) {
		return false
	}
	c.att = attachment{span: span, at: len(w.Buf), active: true}
	return true
}

// Attached returns the length of the span attached to this call's reply
// (0 when none), for handlers that bound the size of their replies.
func (c *Call) Attached() int {
	if !c.att.active {
		return 0
	}
	return c.att.span.Len
}

// DetachFile releases the attached span, if any, without sending it. A
// handler calls it when it replaces the results the span belonged to.
func (c *Call) DetachFile() { c.releaseAttachment() }

// AttachedAt returns where in w.Buf the attached span goes (-1: none).
func (c *Call) AttachedAt() int {
	if !c.att.active {
		return -1
	}
	return c.att.at
}

func (c *Call) releaseAttachment() {
	if !c.att.active {
		return
	}
	if f := c.att.span.Release; f != nil {
		f()
	}
	c.att = attachment{}
}

// sendAttached writes a reply record made of b[:at], the span and b[at:],
// with one record mark covering all three, under the connection's write
// lock (held by the caller).
func (c *Conn) sendAttached(b []byte, a *attachment) error {
	binary.BigEndian.PutUint32(b, lastFragment|uint32(len(b)-markLen+a.span.Len))
	rc, err := c.rawConn()
	if err != nil {
		return err
	}
	head, tail := b[:a.at], b[a.at:]
	// The head goes with MSG_MORE so that it leaves in the same segment
	// as the start of the file's data rather than as a tiny packet.
	if err := writeRaw(rc, head, unix.MSG_MORE); err != nil {
		return err
	}
	if err := c.sendSpan(rc, &a.span, len(tail) > 0); err != nil {
		return err
	}
	if len(tail) > 0 {
		return writeRaw(rc, tail, 0)
	}
	return nil
}

// rawConn returns the connection's syscall.RawConn, whose Write waits
// for the socket with the runtime's poller and honours write deadlines.
func (c *Conn) rawConn() (syscall.RawConn, error) {
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return nil, errors.ErrUnsupported
	}
	return sc.SyscallConn()
}

// writeRaw writes all of p to the socket with send(2) flags.
func writeRaw(rc syscall.RawConn, p []byte, flags int) error {
	var werr error
	err := rc.Write(func(fd uintptr) bool {
		for len(p) > 0 {
			n, err := unix.SendmsgN(int(fd), p, nil, nil, flags|unix.MSG_NOSIGNAL)
			switch err {
			case nil:
				p = p[n:]
			case unix.EINTR:
			case unix.EAGAIN:
				return false // wait until writable
			default:
				werr = err
				return true
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	return werr
}

// sendSpan sends the span with sendfile(2). A file whose filesystem
// cannot splice (EINVAL or ENOSYS before anything was sent) is copied
// through a buffer instead.
func (c *Conn) sendSpan(rc syscall.RawConn, s *FileSpan, more bool) error {
	off, left := s.Off, s.Len
	var serr error
	fallback := false
	err := rc.Write(func(fd uintptr) bool {
		for left > 0 {
			n, err := unix.Sendfile(int(fd), s.FD, &off, min(left, 1<<30))
			switch {
			case err == nil && n == 0:
				serr = errShortFile
				return true
			case err == nil || (err == unix.EAGAIN && n > 0):
				left -= n
			case err == unix.EINTR:
			case err == unix.EAGAIN:
				return false
			case (err == unix.EINVAL || err == unix.ENOSYS) && off == s.Off:
				fallback = true
				return true
			default:
				serr = err
				return true
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	if serr != nil || !fallback {
		return serr
	}
	return copySpan(rc, s.FD, off, left, more)
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// copySpan sends n bytes of fd at off through a pooled buffer.
func copySpan(rc syscall.RawConn, fd int, off int64, n int, more bool) error {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	for n > 0 {
		buf := (*bp)[:min(n, len(*bp))]
		m, err := unix.Pread(fd, buf, off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if m == 0 {
			return errShortFile
		}
		flags := 0
		if more || m < n {
			flags = unix.MSG_MORE
		}
		if err := writeRaw(rc, buf[:m], flags); err != nil {
			return err
		}
		off += int64(m)
		n -= m
	}
	return nil
}

// tapIdle reports whether t records nothing now (see IdleTap).
func tapIdle(t Tap) bool {
	if t == nil {
		return true
	}
	it, ok := t.(IdleTap)
	return ok && it.Idle()
}

// tapAttached gives t the whole reply record, the span read back from the
// file, for a capture that started after the call was dispatched. A read
// that fails leaves the span's bytes zero in the capture only.
func (c *Conn) tapAttached(t Tap, b []byte, a *attachment) {
	rec := make([]byte, 0, len(b)-markLen+a.span.Len)
	rec = append(rec, b[markLen:a.at]...)
	data := rec[len(rec) : len(rec)+a.span.Len]
	for got := 0; got < len(data); {
		n, err := unix.Pread(a.span.FD, data[got:], a.span.Off+int64(got))
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			break
		}
		got += n
	}
	rec = append(rec[:len(rec)+a.span.Len], b[a.at:]...)
	t.Record(c.local, c.remote, "tcp", false, rec)
}

// connSupportsAttach reports whether nc can send spans: a socket the
// runtime polls (net.TCPConn, net.UnixConn), not a wrapper or a pipe.
func connSupportsAttach(nc net.Conn) bool {
	switch nc.(type) {
	case *net.TCPConn, *net.UnixConn:
		return true
	}
	return false
}
