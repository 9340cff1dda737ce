package memfs

import (
	"context"
	"strings"
	"syscall"

	"github.com/gonfs/gonfs/vfs"
)

// Lookup finds name in dir; "." is dir and ".." its parent, the root's
// being the root.
func (fs *FS) Lookup(ctx context.Context, c *vfs.Cred, dir vfs.Handle, name string) (vfs.Handle, vfs.Attr, error) {
	c = cred(c)
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	d, err := fs.getDir(dir)
	if err != nil {
		return nil, vfs.Attr{}, err
	}
	if err := checkLookupName(name); err != nil {
		return nil, vfs.Attr{}, err
	}
	if err := check(c, d, permX); err != nil {
		return nil, vfs.Attr{}, err
	}
	var n *inode
	switch name {
	case ".":
		n = d
	case "..":
		n = d.parent
	default:
		n = d.dir.lookup(name)
	}
	if n == nil {
		return nil, vfs.Attr{}, syscall.ENOENT
	}
	return n.handle(), fs.attr(n), nil
}

// parentFor resolves the directory a new or removed entry name lives in
// and checks c may search it. Write permission is checked by the caller
// after the name is looked up, since Linux reports EEXIST and ENOENT before
// EACCES.
func (fs *FS) parentFor(c *vfs.Cred, dir vfs.Handle, name string) (*inode, error) {
	d, err := fs.getDir(dir)
	if err != nil {
		return nil, err
	}
	if err := checkName(name); err != nil {
		return nil, err
	}
	if err := check(c, d, permX); err != nil {
		return nil, err
	}
	return d, nil
}

// makeNode creates name in d as c, with type t and attributes s; callers
// hold fs.mu exclusively and have checked d with parentFor.
func (fs *FS) makeNode(c *vfs.Cred, d *inode, name string, t vfs.FileType, s vfs.SetAttr, defMode uint32) (*inode, error) {
	if d.dir.lookup(name) != nil {
		return nil, syscall.EEXIST
	}
	if err := check(c, d, permW); err != nil {
		return nil, err
	}
	if fs.full() {
		return nil, syscall.ENOSPC
	}
	if t == vfs.TypeDirectory && d.nlink >= maxLink {
		return nil, syscall.EMLINK
	}
	m := defMode
	if s.Mode != nil {
		m = *s.Mode & 0o7777
	}
	n := fs.newInode(t, m, c)
	// BSD group semantics under a setgid directory, as Linux does: the new
	// node takes the directory's group, and a new directory stays setgid.
	if d.mode&0o2000 != 0 {
		n.gid = d.gid
		if t == vfs.TypeDirectory {
			n.mode |= 0o2000
		}
	}
	// A creator outside the file's group cannot make it setgid.
	if t != vfs.TypeDirectory && c.UID != 0 && !inGroup(c, n.gid) {
		n.mode &^= 0o2000
	}
	rest := s
	rest.Mode, rest.Size = nil, nil
	if err := checkSetAttr(c, n, &rest); err != nil {
		fs.release(n)
		return nil, err
	}
	fs.applySetAttr(c, n, &rest)
	if s.Size != nil && t == vfs.TypeRegular {
		if *s.Size > maxFileSize {
			fs.release(n)
			return nil, syscall.EFBIG
		}
		n.size = *s.Size
	}
	d.dir.add(name, n)
	if t == vfs.TypeDirectory {
		n.parent = d
		d.nlink++
	}
	fs.touchMtime(d)
	return n, nil
}

// Create makes a regular file, or opens an existing one (vfs.FS.Create).
func (fs *FS) Create(ctx context.Context, c *vfs.Cred, dir vfs.Handle, name string, s vfs.SetAttr, exclusive bool) (vfs.Handle, vfs.Attr, bool, error) {
	c = cred(c)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	d, err := fs.parentFor(c, dir, name)
	if err != nil {
		return nil, vfs.Attr{}, false, err
	}
	if old := d.dir.lookup(name); old != nil && !exclusive {
		// Only an existing regular file is opened; anything else, and a
		// symlink in particular, is EEXIST as knfsd answers for UNCHECKED.
		if old.typ != vfs.TypeRegular {
			return nil, vfs.Attr{}, false, syscall.EEXIST
		}
		if s.Size != nil {
			trunc := vfs.SetAttr{Size: s.Size}
			if err := checkSetAttr(c, old, &trunc); err != nil {
				return nil, vfs.Attr{}, false, err
			}
			fs.applySetAttr(c, old, &trunc)
		}
		return old.handle(), fs.attr(old), false, nil
	}
	n, err := fs.makeNode(c, d, name, vfs.TypeRegular, s, 0o644)
	if err != nil {
		return nil, vfs.Attr{}, false, err
	}
	return n.handle(), fs.attr(n), true, nil
}

// Mkdir makes a directory.
func (fs *FS) Mkdir(ctx context.Context, c *vfs.Cred, dir vfs.Handle, name string, s vfs.SetAttr) (vfs.Handle, vfs.Attr, error) {
	return fs.mknode(c, dir, name, vfs.TypeDirectory, s, 0o755, nil)
}

// Symlink makes a symlink. Its mode is always 0777, as on Linux.
func (fs *FS) Symlink(ctx context.Context, c *vfs.Cred, dir vfs.Handle, name, target string, s vfs.SetAttr) (vfs.Handle, vfs.Attr, error) {
	// symlink(2): an empty target is ENOENT, a target longer than PATH_MAX
	// ENAMETOOLONG; a NUL cannot be stored in a path at all.
	switch {
	case target == "":
		return nil, vfs.Attr{}, syscall.ENOENT
	case len(target) > maxSymlink:
		return nil, vfs.Attr{}, syscall.ENAMETOOLONG
	case strings.IndexByte(target, 0) >= 0:
		return nil, vfs.Attr{}, syscall.EINVAL
	}
	s.Mode = nil
	return fs.mknode(c, dir, name, vfs.TypeSymlink, s, 0o777, func(n *inode) { n.target = target })
}

// Mknod makes a FIFO, socket or device node. Devices need root, as mknod(2)
// needs CAP_MKNOD.
func (fs *FS) Mknod(ctx context.Context, c *vfs.Cred, dir vfs.Handle, name string, t vfs.FileType, s vfs.SetAttr, major, minor uint32) (vfs.Handle, vfs.Attr, error) {
	switch t {
	case vfs.TypeFIFO, vfs.TypeSocket:
		major, minor = 0, 0
	case vfs.TypeCharDevice, vfs.TypeBlockDevice:
		if cred(c).UID != 0 {
			return nil, vfs.Attr{}, syscall.EPERM
		}
	default:
		return nil, vfs.Attr{}, syscall.EINVAL
	}
	return fs.mknode(c, dir, name, t, s, 0o644, func(n *inode) { n.major, n.minor = major, minor })
}

// mknode is the locked body of Mkdir, Symlink and Mknod.
func (fs *FS) mknode(c *vfs.Cred, dir vfs.Handle, name string, t vfs.FileType, s vfs.SetAttr, defMode uint32, setup func(*inode)) (vfs.Handle, vfs.Attr, error) {
	c = cred(c)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	d, err := fs.parentFor(c, dir, name)
	if err != nil {
		return nil, vfs.Attr{}, err
	}
	n, err := fs.makeNode(c, d, name, t, s, defMode)
	if err != nil {
		return nil, vfs.Attr{}, err
	}
	if setup != nil {
		setup(n)
	}
	return n.handle(), fs.attr(n), nil
}

// Link makes name in dir another name of h. Directories cannot be linked
// (EPERM, as link(2)); a symlink is linked itself, not its target.
func (fs *FS) Link(ctx context.Context, c *vfs.Cred, h vfs.Handle, dir vfs.Handle, name string) error {
	c = cred(c)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.get(h)
	if err != nil {
		return err
	}
	d, err := fs.parentFor(c, dir, name)
	if err != nil {
		return err
	}
	switch {
	case n.typ == vfs.TypeDirectory:
		return syscall.EPERM
	case d.dir.lookup(name) != nil:
		return syscall.EEXIST
	case !may(c, d, permW):
		return syscall.EACCES
	case n.nlink >= maxLink:
		return syscall.EMLINK
	}
	d.dir.add(name, n)
	n.nlink++
	fs.touchCtime(n)
	fs.touchMtime(d)
	return nil
}

// victim finds the entry Remove or Rmdir would take out of d, checking the
// sticky bit.
func (fs *FS) victim(c *vfs.Cred, d *inode, name string) (*inode, error) {
	n := d.dir.lookup(name)
	if n == nil {
		return nil, syscall.ENOENT
	}
	if err := check(c, d, permW); err != nil {
		return nil, err
	}
	if !stickyOK(c, d, n) {
		return nil, syscall.EPERM
	}
	return n, nil
}

// unlink takes name, naming n, out of d and drops n when no name is left.
func (fs *FS) unlink(d *inode, name string, n *inode) {
	d.dir.remove(name)
	if n.typ == vfs.TypeDirectory {
		d.nlink--
		n.nlink = 0
	} else {
		n.nlink--
	}
	if n.nlink == 0 {
		fs.release(n)
	} else {
		fs.touchCtime(n)
	}
}

// Remove removes a non-directory; a directory is EISDIR, as unlink(2) on
// Linux says.
func (fs *FS) Remove(ctx context.Context, c *vfs.Cred, dir vfs.Handle, name string) error {
	return fs.remove(c, dir, name, func(n *inode) error {
		if n.typ == vfs.TypeDirectory {
			return syscall.EISDIR
		}
		return nil
	})
}

// Rmdir removes an empty directory.
func (fs *FS) Rmdir(ctx context.Context, c *vfs.Cred, dir vfs.Handle, name string) error {
	return fs.remove(c, dir, name, func(n *inode) error {
		switch {
		case n.typ != vfs.TypeDirectory:
			return syscall.ENOTDIR
		case !n.dir.empty():
			return syscall.ENOTEMPTY
		}
		return nil
	})
}

// remove is the body of Remove and Rmdir; fits says whether the entry is
// of the kind the caller removes.
func (fs *FS) remove(c *vfs.Cred, dir vfs.Handle, name string, fits func(*inode) error) error {
	c = cred(c)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	d, err := fs.parentFor(c, dir, name)
	if err != nil {
		return err
	}
	n, err := fs.victim(c, d, name)
	if err != nil {
		return err
	}
	if err := fits(n); err != nil {
		return err
	}
	fs.unlink(d, name, n)
	fs.touchMtime(d)
	return nil
}

// Rename moves an entry as rename(2) does, with its errors.
func (fs *FS) Rename(ctx context.Context, c *vfs.Cred, from vfs.Handle, fromName string, to vfs.Handle, toName string) error {
	c = cred(c)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	src, err := fs.parentFor(c, from, fromName)
	if err != nil {
		return err
	}
	dst, err := fs.parentFor(c, to, toName)
	if err != nil {
		return err
	}
	n, err := fs.victim(c, src, fromName)
	if err != nil {
		return err
	}
	if n.typ == vfs.TypeDirectory {
		// A directory cannot move below itself (EINVAL, rename(2)).
		for p := dst; ; p = p.parent {
			if p == n {
				return syscall.EINVAL
			}
			if p == fs.root {
				break
			}
		}
	}
	old := dst.dir.lookup(toName)
	if err := check(c, dst, permW); err != nil {
		return err
	}
	if old == n {
		return nil // two names of one file: rename(2) does nothing
	}
	if old != nil {
		switch {
		case n.typ == vfs.TypeDirectory && old.typ != vfs.TypeDirectory:
			return syscall.ENOTDIR
		case n.typ != vfs.TypeDirectory && old.typ == vfs.TypeDirectory:
			return syscall.EISDIR
		case old.typ == vfs.TypeDirectory && !old.dir.empty():
			return syscall.ENOTEMPTY
		case !stickyOK(c, dst, old):
			return syscall.EPERM
		}
	}
	moveDir := n.typ == vfs.TypeDirectory && src != dst
	if moveDir {
		// Its ".." changes, which needs write permission on it (Linux).
		if err := check(c, n, permW); err != nil {
			return err
		}
		if old == nil && dst.nlink >= maxLink {
			return syscall.EMLINK
		}
	}
	if old != nil {
		fs.unlink(dst, toName, old)
	}
	src.dir.remove(fromName)
	dst.dir.add(toName, n)
	if moveDir {
		n.parent = dst
		src.nlink--
		dst.nlink++
	}
	fs.touchCtime(n)
	fs.touchMtime(src)
	if dst != src {
		fs.touchMtime(dst)
	}
	return nil
}

// ReadDir yields the entries of dir after cookie in insertion order. The
// lock is taken per batch and released while fn runs.
func (fs *FS) ReadDir(ctx context.Context, c *vfs.Cred, dir vfs.Handle, cookie uint64, plus bool, fn func(*vfs.DirEntry) bool) error {
	c = cred(c)
	for {
		batch, err := fs.readDirBatch(c, dir, cookie, plus)
		if err != nil {
			return err
		}
		for i := range batch {
			if !fn(&batch[i]) {
				return nil
			}
			cookie = batch[i].Cookie
		}
		if len(batch) < readDirBatch {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

func (fs *FS) readDirBatch(c *vfs.Cred, dir vfs.Handle, cookie uint64, plus bool) ([]vfs.DirEntry, error) {
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	d, err := fs.getDir(dir)
	if err != nil {
		return nil, err
	}
	if err := check(c, d, permR); err != nil {
		return nil, err
	}
	ents := d.dir.after(cookie, readDirBatch)
	out := make([]vfs.DirEntry, len(ents))
	for i, e := range ents {
		out[i] = vfs.DirEntry{Name: e.name, FileID: e.n.ino, Cookie: cookieOf(e)}
		if plus {
			out[i].Handle = e.n.handle()
			out[i].Attr = fs.attr(e.n)
		} else {
			out[i].Attr.Type = e.n.typ
		}
	}
	return out, nil
}
