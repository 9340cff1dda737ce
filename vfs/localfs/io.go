package localfs

import (
	"context"

	"golang.org/x/sys/unix"

	"github.com/gonfs/gonfs/vfs"
)

// ioType refuses I/O on what is not a regular file.
func ioType(n *node) error {
	switch n.typ {
	case vfs.TypeRegular:
		return nil
	case vfs.TypeDirectory:
		return unix.EISDIR
	}
	return unix.EINVAL
}

// ensureIO opens n's read/write descriptor as the process, through
// /proc/self/fd so that no name is walked: O_RDWR when possible, else
// O_RDONLY (unless write is needed). A read-only descriptor is upgraded
// when a write comes, since the file's mode may have changed since.
func (fs *FS) ensureIO(n *node, write bool) error {
	n.ioMu.RLock()
	ok := n.ioFD >= 0 && (!write || n.ioWritable)
	n.ioMu.RUnlock()
	if ok {
		return nil
	}
	if err := ioType(n); err != nil {
		return err
	}
	n.ioMu.Lock()
	defer n.ioMu.Unlock()
	if n.ioFD >= 0 && (!write || n.ioWritable) {
		return nil
	}
	const flags = unix.O_CLOEXEC | unix.O_NOCTTY | unix.O_NONBLOCK
	writable := true
	fd, err := unix.Open(procPath(n.fd), unix.O_RDWR|flags, 0)
	if err != nil && !write && n.ioFD < 0 {
		writable = false
		fd, err = unix.Open(procPath(n.fd), unix.O_RDONLY|flags, 0)
	}
	if err != nil {
		return err
	}
	if n.ioFD >= 0 {
		unix.Close(n.ioFD) // no I/O holds it: we hold ioMu for writing
	}
	n.ioFD, n.ioWritable = fd, writable
	return nil
}

// needsCheck reports whether an operation done as the process must first
// check c's permission (see perm.go). Root may read and write anything
// (its execute and search rules are asked of the kernel directly);
// without identity switching everything runs as the process and the
// kernel checks the process.
func (fs *FS) needsCheck(c *vfs.Cred) bool {
	return fs.switchID && c != nil && c.UID != 0
}

// Read implements vfs.FS.
func (fs *FS) Read(ctx context.Context, c *vfs.Cred, h vfs.Handle, off uint64, p []byte) (int, bool, error) {
	n, _, err := fs.ioNode(c, h, false)
	if err != nil {
		return 0, false, err
	}
	defer fs.cache.release(n)
	if off > 1<<63-1 {
		return 0, true, nil
	}
	n.ioMu.RLock()
	defer n.ioMu.RUnlock()
	got := 0
	for got < len(p) {
		m, err := unix.Pread(n.ioFD, p[got:], int64(off)+int64(got))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return got, false, err
		}
		if m == 0 {
			return got, true, nil
		}
		got += m
	}
	// A full buffer may still end exactly at the end of the file.
	var st unix.Stat_t
	if err := unix.Fstat(n.ioFD, &st); err != nil {
		return got, false, err
	}
	return got, off+uint64(got) >= uint64(st.Size), nil
}

// Write implements vfs.FS.
func (fs *FS) Write(ctx context.Context, c *vfs.Cred, h vfs.Handle, off uint64, data []byte, stable vfs.Stability) (int, vfs.Stability, error) {
	// The write runs as the process unless privileges must be dropped
	// from the file, which the kernel does only for a writer without
	// CAP_FSETID: then ioNode has it run under c's identity.
	n, as, err := fs.ioNode(c, h, true)
	if err != nil {
		return 0, 0, err
	}
	defer fs.cache.release(n)
	if off > 1<<63-1 || off+uint64(len(data)) > 1<<63-1 {
		return 0, 0, unix.EFBIG
	}
	got := 0
	err = as(func() error {
		n.ioMu.RLock()
		defer n.ioMu.RUnlock()
		// Buffered writes of one file are serialized by the kernel
		// anyway (the inode lock); waiting here parks the goroutine
		// instead of leaving a thread spinning on that lock, which cost
		// a fifth of the CPU of 16 concurrent 1 MiB writes to one file.
		n.writeMu.Lock()
		defer n.writeMu.Unlock()
		for got < len(data) {
			m, err := unix.Pwrite(n.ioFD, data[got:], int64(off)+int64(got))
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return err
			}
			got += m
		}
		switch stable {
		case vfs.DataSync:
			return unix.Fdatasync(n.ioFD)
		case vfs.FileSync:
			return unix.Fsync(n.ioFD)
		}
		return nil
	})
	if err != nil {
		return got, 0, err
	}
	if stable > vfs.FileSync {
		stable = vfs.FileSync
	}
	return got, stable, nil
}

// Commit implements vfs.FS: fsync the file (RFC 1813 §3.3.21 asks for
// data and metadata). Other types have nothing we buffer.
func (fs *FS) Commit(ctx context.Context, h vfs.Handle) error {
	n, err := fs.resolve(h)
	if err != nil {
		return err
	}
	defer fs.cache.release(n)
	switch n.typ {
	case vfs.TypeRegular:
		if err := fs.ensureIO(n, false); err != nil {
			return err
		}
		n.ioMu.RLock()
		defer n.ioMu.RUnlock()
		return unix.Fsync(n.ioFD)
	case vfs.TypeDirectory:
		fd, err := unix.Openat(n.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return unix.Fsync(fd)
	}
	return nil
}
