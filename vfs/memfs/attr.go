package memfs

import (
	"context"
	"syscall"

	"github.com/gonfs/gonfs/vfs"
)

// SetAttr changes attributes of h under chown(2), chmod(2), truncate(2)
// and utimensat(2) rules for c.
func (fs *FS) SetAttr(ctx context.Context, c *vfs.Cred, h vfs.Handle, s vfs.SetAttr) (vfs.Attr, error) {
	c = cred(c)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.get(h)
	if err != nil {
		return vfs.Attr{}, err
	}
	if err := checkSetAttr(c, n, &s); err != nil {
		return vfs.Attr{}, err
	}
	fs.applySetAttr(c, n, &s)
	return fs.attr(n), nil
}

// checkSetAttr decides whether c may make the changes s to n, before any
// is made, so a refused SetAttr changes nothing.
func checkSetAttr(c *vfs.Cred, n *inode, s *vfs.SetAttr) error {
	if s.Size != nil {
		switch {
		case n.typ == vfs.TypeDirectory:
			return syscall.EISDIR
		case n.typ != vfs.TypeRegular:
			return syscall.EINVAL
		case *s.Size > maxFileSize:
			return syscall.EFBIG
		}
		if err := check(c, n, permW); err != nil {
			return err
		}
	}
	if s.Mode != nil && !isOwner(c, n) {
		return syscall.EPERM
	}
	// chown(2): only root changes the owner (to anything but itself); the
	// owner may change the group to one it belongs to.
	if s.UID != nil && c.UID != 0 && (c.UID != n.uid || *s.UID != n.uid) {
		return syscall.EPERM
	}
	if s.GID != nil && c.UID != 0 && (c.UID != n.uid || !inGroup(c, *s.GID)) {
		return syscall.EPERM
	}
	// utimensat(2): explicit times need ownership; "now" needs ownership or
	// write permission.
	if s.Atime == vfs.TimeClient || s.Mtime == vfs.TimeClient {
		if !isOwner(c, n) {
			return syscall.EPERM
		}
	} else if s.Atime == vfs.TimeServer || s.Mtime == vfs.TimeServer {
		if !isOwner(c, n) && !may(c, n, permW) {
			return syscall.EACCES
		}
	}
	return nil
}

// applySetAttr makes the changes checkSetAttr allowed.
func (fs *FS) applySetAttr(c *vfs.Cred, n *inode, s *vfs.SetAttr) {
	if s.Empty() {
		return
	}
	if (s.UID != nil && *s.UID != n.uid) || (s.GID != nil && *s.GID != n.gid) {
		// chown of a non-directory drops setuid and setgid, even for root.
		if n.typ != vfs.TypeDirectory {
			n.mode &^= killSUID(n.mode)
		}
	}
	if s.UID != nil {
		n.uid = *s.UID
	}
	if s.GID != nil {
		n.gid = *s.GID
	}
	// knfsd ignores mode changes of symlinks, whose mode Linux keeps 0777.
	if s.Mode != nil && n.typ != vfs.TypeSymlink {
		m := *s.Mode & 0o7777
		// chmod(2): a non-root caller outside the file's group cannot set
		// setgid on it; Linux clears the bit silently.
		if c.UID != 0 && !inGroup(c, n.gid) {
			m &^= 0o2000
		}
		n.mode = m
	}
	now := fs.now()
	if s.Size != nil {
		fs.truncate(n, *s.Size)
		n.mtime = now
	}
	switch s.Atime {
	case vfs.TimeServer:
		n.atime = now
	case vfs.TimeClient:
		n.atime = s.AtimeTime
	}
	switch s.Mtime {
	case vfs.TimeServer:
		n.mtime = now
	case vfs.TimeClient:
		n.mtime = s.MtimeTime
	}
	n.ctime = now
	fs.bump(n)
}

// Access returns the subset of mask that c is granted on h.
func (fs *FS) Access(ctx context.Context, c *vfs.Cred, h vfs.Handle, mask uint32) (uint32, error) {
	c = cred(c)
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	n, err := fs.get(h)
	if err != nil {
		return 0, err
	}
	return accessMask(c, n, mask), nil
}

// Readlink returns a symlink's target; anything else is EINVAL, as for
// readlink(2).
func (fs *FS) Readlink(ctx context.Context, c *vfs.Cred, h vfs.Handle) (string, error) {
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	n, err := fs.get(h)
	if err != nil {
		return "", err
	}
	if n.typ != vfs.TypeSymlink {
		return "", syscall.EINVAL
	}
	return n.target, nil
}
