package localfs

import (
	"context"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gonfs/gonfs/vfs"
)

// The optional interfaces of vfs/ext.go, on the system calls that do each
// job: lseek(2) SEEK_DATA/SEEK_HOLE, fallocate(2), copy_file_range(2),
// the FICLONERANGE ioctl, and the *xattr(2) calls.
//
// Data operations work on the node's cached read/write descriptor, as
// Read and Write do, with the same permission decision (perm.go, including
// the owner override) and the same switch to the caller's identity when
// privileges must be dropped from the file.
//
// Extended attribute calls go through /proc/self/fd/N with the calls that
// follow links (getxattr, not lgetxattr): the *xattr system calls refuse
// O_PATH descriptors, and following the magic link reaches the file
// itself. Only regular files and directories get there (user attributes
// exist on nothing else), so no symlink is ever followed. Reading,
// setting and removing run under the caller's identity, so the kernel
// makes the permission checks (read or write permission, and the sticky
// directory rule); listing needs no permission and runs as the process.

var (
	_ vfs.Seeker      = (*FS)(nil)
	_ vfs.Allocator   = (*FS)(nil)
	_ vfs.RangeCopier = (*FS)(nil)
	_ vfs.Cloner      = (*FS)(nil)
	_ vfs.Xattrer     = (*FS)(nil)
)

const maxOff = 1<<63 - 1

// copyChunk bounds one copy_file_range call, so that a cancelled COPY
// stops within one chunk.
const copyChunk = 16 << 20

// ioNode resolves h for I/O by c (write or read), checks c's permission
// as Read and Write do, and returns the node (release it) and how to run
// the system call: as c when the kernel must strip privileges from the
// file, else as the process.
func (fs *FS) ioNode(c *vfs.Cred, h vfs.Handle, write bool) (*node, func(func() error) error, error) {
	n, err := fs.resolve(h)
	if err != nil {
		return nil, nil, err
	}
	if err := fs.ensureIO(n, write); err != nil {
		fs.cache.release(n)
		return nil, nil, err
	}
	as := func(fn func() error) error { return fn() }
	if fs.needsCheck(c) {
		mode := uint32(unix.R_OK)
		if write {
			mode = unix.W_OK
		}
		stx, err := fs.allowedIO(c, n, mode)
		if err != nil {
			fs.cache.release(n)
			return nil, nil, err
		}
		if write && fs.needsPrivDrop(n, stx) {
			as = func(fn func() error) error { return fs.as(c, fn) }
		}
	}
	return n, as, nil
}

// Seek implements vfs.Seeker.
func (fs *FS) Seek(ctx context.Context, c *vfs.Cred, h vfs.Handle, off uint64, whence vfs.SeekWhence) (uint64, error) {
	var w int
	switch whence {
	case vfs.SeekData:
		w = unix.SEEK_DATA
	case vfs.SeekHole:
		w = unix.SEEK_HOLE
	default:
		return 0, unix.EINVAL
	}
	n, _, err := fs.ioNode(c, h, false)
	if err != nil {
		return 0, err
	}
	defer fs.cache.release(n)
	if off > maxOff {
		return 0, unix.ENXIO
	}
	// The descriptor's file position is shared, but nothing else uses
	// it (Read and Write use pread and pwrite), and lseek returns the
	// position it found.
	n.ioMu.RLock()
	defer n.ioMu.RUnlock()
	pos, err := unix.Seek(n.ioFD, int64(off), w)
	if err != nil {
		return 0, err
	}
	return uint64(pos), nil
}

// fallocate runs fallocate(2) with mode on h for c.
func (fs *FS) fallocate(c *vfs.Cred, h vfs.Handle, mode uint32, off, length uint64) error {
	n, as, err := fs.ioNode(c, h, true)
	if err != nil {
		return err
	}
	defer fs.cache.release(n)
	if length == 0 {
		return unix.EINVAL
	}
	if off > maxOff || length > maxOff-off {
		return unix.EFBIG
	}
	return as(func() error {
		n.ioMu.RLock()
		defer n.ioMu.RUnlock()
		for {
			err := unix.Fallocate(n.ioFD, mode, int64(off), int64(length))
			if err != unix.EINTR {
				return err
			}
		}
	})
}

// Allocate implements vfs.Allocator (fallocate mode 0).
func (fs *FS) Allocate(ctx context.Context, c *vfs.Cred, h vfs.Handle, off, length uint64) error {
	return fs.fallocate(c, h, 0, off, length)
}

// Deallocate implements vfs.Allocator (punching a hole, keeping the size).
func (fs *FS) Deallocate(ctx context.Context, c *vfs.Cred, h vfs.Handle, off, length uint64) error {
	return fs.fallocate(c, h, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, length)
}

// rangePair resolves the two files of a copy or clone, src for reading
// and dst for writing. Release both nodes (they may be the same).
func (fs *FS) rangePair(c *vfs.Cred, src, dst vfs.Handle) (s, d *node, as func(func() error) error, err error) {
	s, _, err = fs.ioNode(c, src, false)
	if err != nil {
		return nil, nil, nil, err
	}
	d, as, err = fs.ioNode(c, dst, true)
	if err != nil {
		fs.cache.release(s)
		return nil, nil, nil, err
	}
	return s, d, as, nil
}

// lockPair holds the I/O locks of s and d (once when they are the same
// node: a second RLock by one goroutine could deadlock behind a writer).
func lockPair(s, d *node) (unlock func()) {
	s.ioMu.RLock()
	if d == s {
		return s.ioMu.RUnlock
	}
	d.ioMu.RLock()
	return func() { d.ioMu.RUnlock(); s.ioMu.RUnlock() }
}

// CopyRange implements vfs.RangeCopier with copy_file_range(2), which
// lets the filesystem share or copy extents without the data reaching
// user space; where the kernel cannot (EXDEV, ENOSYS, EOPNOTSUPP) it
// falls back to pread and pwrite.
func (fs *FS) CopyRange(ctx context.Context, c *vfs.Cred, src vfs.Handle, srcOff uint64, dst vfs.Handle, dstOff, length uint64) (uint64, error) {
	s, d, as, err := fs.rangePair(c, src, dst)
	if err != nil {
		return 0, err
	}
	defer fs.cache.release(s)
	defer fs.cache.release(d)
	var st unix.Stat_t
	if err := unix.Fstat(s.ioFD, &st); err != nil {
		return 0, err
	}
	size := uint64(st.Size)
	if srcOff >= size {
		return 0, nil
	}
	if length == 0 || length > size-srcOff {
		length = size - srcOff
	}
	if dstOff > maxOff || length > maxOff-dstOff {
		return 0, unix.EFBIG
	}
	if s.ino == d.ino && srcOff < dstOff+length && dstOff < srcOff+length {
		return 0, unix.EINVAL
	}
	var done uint64
	err = as(func() error {
		unlock := lockPair(s, d)
		defer unlock()
		for done < length {
			if err := ctx.Err(); err != nil {
				return err
			}
			so, do := int64(srcOff+done), int64(dstOff+done)
			m, err := unix.CopyFileRange(s.ioFD, &so, d.ioFD, &do, int(min(length-done, copyChunk)), 0)
			switch err {
			case nil:
			case unix.EINTR:
				continue
			case unix.EXDEV, unix.ENOSYS, unix.EOPNOTSUPP:
				m, err := copyByHand(ctx, s.ioFD, srcOff+done, d.ioFD, dstOff+done, length-done)
				done += m
				return err
			default:
				return err
			}
			if m == 0 {
				return nil // src shrank meanwhile
			}
			done += uint64(m)
		}
		return nil
	})
	return done, err
}

// copyByHand copies with pread and pwrite, for filesystems that refuse
// copy_file_range.
func copyByHand(ctx context.Context, sfd int, soff uint64, dfd int, doff, length uint64) (uint64, error) {
	buf := make([]byte, min(length, 1<<20))
	var done uint64
	for done < length {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		k := min(uint64(len(buf)), length-done)
		m, err := unix.Pread(sfd, buf[:k], int64(soff+done))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return done, err
		}
		if m == 0 {
			return done, nil
		}
		for w := 0; w < m; {
			x, err := unix.Pwrite(dfd, buf[w:m], int64(doff+done)+int64(w))
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return done + uint64(w), err
			}
			w += x
		}
		done += uint64(m)
	}
	return done, nil
}

// Clone implements vfs.Cloner with the FICLONERANGE ioctl, which only
// filesystems with shared extents have (btrfs, xfs with reflink, bcachefs,
// overlayfs over one of those); ext4 and tmpfs answer EOPNOTSUPP, and
// files on different mounts EXDEV.
func (fs *FS) Clone(ctx context.Context, c *vfs.Cred, src vfs.Handle, srcOff uint64, dst vfs.Handle, dstOff, length uint64) error {
	s, d, as, err := fs.rangePair(c, src, dst)
	if err != nil {
		return err
	}
	defer fs.cache.release(s)
	defer fs.cache.release(d)
	if srcOff > maxOff || dstOff > maxOff || length > maxOff {
		return unix.EINVAL
	}
	return as(func() error {
		unlock := lockPair(s, d)
		defer unlock()
		return unix.IoctlFileCloneRange(d.ioFD, &unix.FileCloneRange{
			Src_fd: int64(s.ioFD), Src_offset: srcOff, Src_length: length, Dest_offset: dstOff,
		})
	})
}

// xattrName checks a name without its prefix and returns the name the
// kernel knows.
func xattrName(name string) (string, error) {
	if name == "" || strings.IndexByte(name, 0) >= 0 {
		return "", unix.EINVAL
	}
	if len(name) > vfs.MaxXattrName {
		return "", unix.ENAMETOOLONG
	}
	return "user." + name, nil
}

// xattrNode resolves h and reports whether it can carry user attributes.
func (fs *FS) xattrNode(h vfs.Handle) (*node, bool, error) {
	n, err := fs.resolve(h)
	if err != nil {
		return nil, false, err
	}
	return n, n.typ == vfs.TypeRegular || n.typ == vfs.TypeDirectory, nil
}

// GetXattr implements vfs.Xattrer.
func (fs *FS) GetXattr(ctx context.Context, c *vfs.Cred, h vfs.Handle, name string) ([]byte, error) {
	kname, err := xattrName(name)
	if err != nil {
		return nil, err
	}
	n, ok, err := fs.xattrNode(h)
	if err != nil {
		return nil, err
	}
	defer fs.cache.release(n)
	if !ok {
		return nil, vfs.ErrNoXattr
	}
	var val []byte
	err = fs.as(c, func() (err error) {
		val, err = getxattr(procPath(n.fd), kname)
		return err
	})
	return val, err
}

// getxattr reads a whole value, growing the buffer if the value grows
// between asking its size and reading it.
func getxattr(path, name string) ([]byte, error) {
	for range 8 {
		size, err := unix.Getxattr(path, name, nil)
		if err != nil {
			return nil, err
		}
		if size == 0 {
			return []byte{}, nil
		}
		buf := make([]byte, size)
		m, err := unix.Getxattr(path, name, buf)
		if err == unix.ERANGE {
			continue
		}
		if err != nil {
			return nil, err
		}
		return buf[:m], nil
	}
	return nil, unix.E2BIG
}

// SetXattr implements vfs.Xattrer.
func (fs *FS) SetXattr(ctx context.Context, c *vfs.Cred, h vfs.Handle, name string, value []byte, flags vfs.XattrFlags) error {
	kname, err := xattrName(name)
	if err != nil {
		return err
	}
	if len(value) > vfs.MaxXattrValue {
		return unix.E2BIG
	}
	var kflags int
	if flags&vfs.XattrCreateOnly != 0 {
		kflags |= unix.XATTR_CREATE
	}
	if flags&vfs.XattrReplaceOnly != 0 {
		kflags |= unix.XATTR_REPLACE
	}
	n, ok, err := fs.xattrNode(h)
	if err != nil {
		return err
	}
	defer fs.cache.release(n)
	if !ok {
		return unix.EPERM
	}
	err = fs.as(c, func() error { return unix.Setxattr(procPath(n.fd), kname, value, kflags) })
	if err == unix.ERANGE {
		// The name was checked, so the value is beyond what the
		// filesystem keeps in one attribute.
		err = unix.E2BIG
	}
	return err
}

// ListXattrs implements vfs.Xattrer.
func (fs *FS) ListXattrs(ctx context.Context, c *vfs.Cred, h vfs.Handle) ([]string, error) {
	n, ok, err := fs.xattrNode(h)
	if err != nil {
		return nil, err
	}
	defer fs.cache.release(n)
	if !ok {
		return []string{}, nil
	}
	path := procPath(n.fd)
	var buf []byte
	for range 8 {
		size, err := unix.Listxattr(path, nil)
		if err != nil {
			return nil, err
		}
		buf = make([]byte, size)
		m, err := unix.Listxattr(path, buf)
		if err == unix.ERANGE {
			buf = nil
			continue
		}
		if err != nil {
			return nil, err
		}
		buf = buf[:m]
		break
	}
	if buf == nil {
		return nil, unix.E2BIG
	}
	names := []string{}
	for _, k := range strings.Split(string(buf), "\x00") {
		if name, ok := strings.CutPrefix(k, "user."); ok && name != "" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names, nil
}

// RemoveXattr implements vfs.Xattrer.
func (fs *FS) RemoveXattr(ctx context.Context, c *vfs.Cred, h vfs.Handle, name string) error {
	kname, err := xattrName(name)
	if err != nil {
		return err
	}
	n, ok, err := fs.xattrNode(h)
	if err != nil {
		return err
	}
	defer fs.cache.release(n)
	if !ok {
		return unix.EPERM
	}
	return fs.as(c, func() error { return unix.Removexattr(procPath(n.fd), kname) })
}
