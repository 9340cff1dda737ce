package localfs

import (
	"context"

	"golang.org/x/sys/unix"

	"github.com/gonfs/gonfs/vfs"
)

// ReadSpan implements vfs.SpanReader. The span's descriptor is a
// duplicate of the node's cached read descriptor, so that the node can be
// evicted or its descriptor upgraded while the span is still being sent.
// The range is cut to the size fstat(2) gives; a file that shrinks before
// the span is sent is the transport's to notice (sunrpc closes the
// connection rather than send bytes that are no longer there).
func (fs *FS) ReadSpan(ctx context.Context, c *vfs.Cred, h vfs.Handle, off uint64, count int) (vfs.Span, error) {
	none := vfs.Span{FD: -1, Off: int64(min(off, 1<<63-1))}
	n, _, err := fs.ioNode(c, h, false)
	if err != nil {
		return none, err
	}
	defer fs.cache.release(n)
	if off > 1<<63-1 || count <= 0 {
		none.EOF = off > 1<<63-1
		return none, nil
	}
	n.ioMu.RLock()
	defer n.ioMu.RUnlock()
	var st unix.Stat_t
	if err := unix.Fstat(n.ioFD, &st); err != nil {
		return none, err
	}
	size := uint64(st.Size)
	if off >= size {
		none.EOF = true
		return none, nil
	}
	length := min(uint64(count), size-off)
	fd, err := unix.FcntlInt(uintptr(n.ioFD), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return none, err
	}
	return vfs.Span{
		FD:      fd,
		Off:     int64(off),
		Len:     int(length),
		EOF:     off+length >= size,
		Release: func() { unix.Close(fd) },
	}, nil
}
