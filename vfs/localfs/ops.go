package localfs

import (
	"context"

	"golang.org/x/sys/unix"

	"github.com/gonfs/gonfs/vfs"
)

// resolveDir resolves h and requires a directory.
func (fs *FS) resolveDir(h vfs.Handle) (*node, error) {
	d, err := fs.resolve(h)
	if err != nil {
		return nil, err
	}
	if d.typ != vfs.TypeDirectory {
		fs.cache.release(d)
		return nil, unix.ENOTDIR
	}
	return d, nil
}

// adopt turns fd, just opened as name in directory d, into a cached node
// with a reference, and records the link in the index. A file of another
// device or mount is a mount point, which we do not cross.
func (fs *FS) adopt(fd int, d *node, name string) (*node, vfs.Attr, error) {
	var stx unix.Statx_t
	if err := statx(fd, &stx); err != nil {
		unix.Close(fd)
		return nil, vfs.Attr{}, err
	}
	if !fs.inside(&stx) {
		unix.Close(fd)
		return nil, vfs.Attr{}, unix.EACCES
	}
	if stx.Ino == fs.root.ino {
		unix.Close(fd)
		n, err := fs.resolve(fs.rootHandle)
		return n, fs.toAttr(&stx), err
	}
	n, err := fs.newNodeStat(fd, &stx, nil)
	if err != nil {
		unix.Close(fd)
		return nil, vfs.Attr{}, err
	}
	n = fs.cache.add(n)
	fs.learn(n.ino, d, name)
	return n, fs.toAttr(&stx), nil
}

// learn records in the index (index mode) that ino is name in d.
func (fs *FS) learn(ino uint64, d *node, name string) {
	if fs.idx != nil && name != "." && name != ".." {
		fs.idx.put(ino, d.ino, name)
	}
}

// Lookup implements vfs.FS.
func (fs *FS) Lookup(ctx context.Context, c *vfs.Cred, dir vfs.Handle, name string) (vfs.Handle, vfs.Attr, error) {
	if err := checkName(name, true); err != nil {
		return nil, vfs.Attr{}, err
	}
	d, err := fs.resolveDir(dir)
	if err != nil {
		return nil, vfs.Attr{}, err
	}
	defer fs.cache.release(d)
	if name == ".." && d == fs.root {
		name = "." // ".." of the root is the root
	}
	// Search permission on d is all lookup(2) asks of c; the open itself
	// runs as the process (see perm.go).
	if fs.needsCheck(c) {
		if _, err := fs.allowed(c, d, unix.X_OK); err != nil {
			return nil, vfs.Attr{}, err
		}
	}
	if name != ".." {
		if h, a, ok, err := fs.lookupStat(d, name); ok || err != nil {
			return h, a, err
		}
	}
	fd, err := unix.Openat(d.fd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, vfs.Attr{}, err
	}
	// d is inside the export, so its parent is too, unless d was moved
	// out behind our back while cached: check rather than trust.
	if name == ".." && !fs.dotdotReachesRoot(fd) {
		unix.Close(fd)
		return nil, vfs.Attr{}, unix.ESTALE
	}
	n, a, err := fs.adopt(fd, d, name)
	if err != nil {
		return nil, vfs.Attr{}, err
	}
	defer fs.cache.release(n)
	return n.handle, a, nil
}

// lookupStat is Lookup without opening the file, when one statx of the
// name is enough to know its handle: always with index handles (inode
// and birth time), and with kernel handles when a node of that inode is
// cached (see cache.getIno: it is then the same file). ok is false when
// Lookup must open the file and adopt it instead; that also caches it for
// the operations on the handle that usually follow a first lookup.
func (fs *FS) lookupStat(d *node, name string) (h vfs.Handle, a vfs.Attr, ok bool, err error) {
	var stx unix.Statx_t
	if err := statxAt(d.fd, name, 0, &stx); err != nil {
		return nil, vfs.Attr{}, false, err
	}
	if !fs.inside(&stx) {
		return nil, vfs.Attr{}, false, unix.EACCES
	}
	if stx.Nlink == 0 {
		return nil, vfs.Attr{}, false, nil // being removed: let the open decide
	}
	if h, ok = fs.plainHandle(&stx); !ok {
		if h = fs.knownHandle(&stx); h == nil {
			n := fs.cache.getIno(stx.Ino)
			if n == nil {
				return nil, vfs.Attr{}, false, nil
			}
			h = n.handle
			fs.cache.release(n)
		}
	}
	fs.learn(stx.Ino, d, name)
	return h, fs.toAttr(&stx), true, nil
}

// Access implements vfs.FS. The answer follows knfsd's tables: on
// directories Lookup needs search, and Modify, Extend and Delete need write
// and search; on other files Modify and Extend need write, Execute needs
// execute, and Delete is never granted (it is about directory entries).
func (fs *FS) Access(ctx context.Context, c *vfs.Cred, h vfs.Handle, mask uint32) (uint32, error) {
	n, err := fs.resolve(h)
	if err != nil {
		return 0, err
	}
	defer fs.cache.release(n)
	check := func(m uint32) bool {
		if fs.needsCheck(c) {
			_, err := fs.allowed(c, n, m)
			return err == nil
		}
		// Root, or every operation runs as the process: ask for it.
		err := unix.Faccessat2(n.fd, "", m, unix.AT_EACCESS|unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW)
		if err == unix.ENOSYS {
			return fs.modeAllows(c, n, m)
		}
		return err == nil
	}
	var r, w, x bool
	if mask&vfs.AccessRead != 0 {
		r = check(unix.R_OK)
	}
	if mask&(vfs.AccessModify|vfs.AccessExtend|vfs.AccessDelete) != 0 {
		w = check(unix.W_OK)
	}
	if mask&(vfs.AccessLookup|vfs.AccessExecute|vfs.AccessModify|vfs.AccessExtend|vfs.AccessDelete) != 0 {
		x = check(unix.X_OK)
	}
	var got uint32
	if r {
		got |= vfs.AccessRead
	}
	if n.typ == vfs.TypeDirectory {
		if x {
			got |= vfs.AccessLookup
		}
		if w && x {
			got |= vfs.AccessModify | vfs.AccessExtend | vfs.AccessDelete
		}
	} else {
		if w {
			got |= vfs.AccessModify | vfs.AccessExtend
		}
		if x {
			got |= vfs.AccessExecute
		}
	}
	return got & mask, nil
}

// modeAllows decides access from the mode bits, for kernels without
// faccessat2 (Linux < 5.8). Root may read and write anything, and execute
// what has an execute bit (or is a directory).
func (fs *FS) modeAllows(c *vfs.Cred, n *node, m uint32) bool {
	var stx unix.Statx_t
	if statx(n.fd, &stx) != nil {
		return false
	}
	mode := uint32(stx.Mode)
	if c == nil || c.UID == 0 {
		return m&unix.X_OK == 0 || mode&0o111 != 0 || n.typ == vfs.TypeDirectory
	}
	var bits uint32
	switch {
	case stx.Uid == c.UID:
		bits = mode >> 6
	case stx.Gid == c.GID || containsGID(c.Groups, stx.Gid):
		bits = mode >> 3
	default:
		bits = mode
	}
	return bits&m&7 == m
}

func containsGID(groups []uint32, g uint32) bool {
	for _, x := range groups {
		if x == g {
			return true
		}
	}
	return false
}

// Readlink implements vfs.FS.
func (fs *FS) Readlink(ctx context.Context, c *vfs.Cred, h vfs.Handle) (string, error) {
	n, err := fs.resolve(h)
	if err != nil {
		return "", err
	}
	defer fs.cache.release(n)
	if n.typ != vfs.TypeSymlink {
		return "", unix.EINVAL
	}
	buf := make([]byte, 256)
	for {
		// readlinkat with an empty name reads the link fd itself.
		m, err := unix.Readlinkat(n.fd, "", buf)
		if err != nil {
			return "", err
		}
		if m < len(buf) {
			return string(buf[:m]), nil
		}
		if len(buf) >= 1<<16 {
			return "", unix.ENAMETOOLONG
		}
		buf = make([]byte, 2*len(buf))
	}
}

// setAttrAs applies s to n as c. A root-opened descriptor is prepared
// first for the owner override of truncation, since it cannot be opened
// once the identity is switched.
func (fs *FS) setAttrAs(c *vfs.Cred, n *node, s vfs.SetAttr) error {
	if s.Size != nil && n.typ == vfs.TypeRegular {
		_ = fs.ensureIO(n, true) // best effort; truncate reports its own error
	}
	err := fs.as(c, func() error { return fs.setAttr(c, n, s) })
	if err == errTouchAsRoot {
		return setTimes(n.fd, s)
	}
	return err
}

// SetAttr implements vfs.FS.
func (fs *FS) SetAttr(ctx context.Context, c *vfs.Cred, h vfs.Handle, s vfs.SetAttr) (vfs.Attr, error) {
	n, err := fs.resolve(h)
	if err != nil {
		return vfs.Attr{}, err
	}
	defer fs.cache.release(n)
	if err := fs.setAttrAs(c, n, s); err != nil {
		return vfs.Attr{}, err
	}
	return fs.attrOf(n)
}

// finish gives a node just made with mode m the mode exactly (the process
// umask may have cleared bits) and applies the other attributes of s.
func (fs *FS) finish(c *vfs.Cred, n *node, a vfs.Attr, m uint32, s vfs.SetAttr) (vfs.Attr, error) {
	s.Mode = nil
	if n.typ != vfs.TypeSymlink && a.Mode != m {
		if n.typ == vfs.TypeDirectory {
			m |= a.Mode & unix.S_ISGID // inherited from a setgid parent
		}
		if a.Mode != m {
			s.Mode = &m
		}
	}
	if s.Empty() {
		return a, nil
	}
	if err := fs.setAttrAs(c, n, s); err != nil {
		return vfs.Attr{}, err
	}
	return fs.attrOf(n)
}

func modeOr(s vfs.SetAttr, def uint32) uint32 {
	if s.Mode != nil {
		return *s.Mode & 0o7777
	}
	return def
}

// Create implements vfs.FS.
func (fs *FS) Create(ctx context.Context, c *vfs.Cred, dir vfs.Handle, name string, s vfs.SetAttr, exclusive bool) (vfs.Handle, vfs.Attr, bool, error) {
	if err := checkName(name, false); err != nil {
		return nil, vfs.Attr{}, false, err
	}
	d, err := fs.resolveDir(dir)
	if err != nil {
		return nil, vfs.Attr{}, false, err
	}
	defer fs.cache.release(d)
	m := modeOr(s, 0o644)
	fd := -1
	err = fs.as(c, func() (err error) {
		fd, err = unix.Openat(d.fd, name, unix.O_CREAT|unix.O_EXCL|unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, m)
		return err
	})
	if err == unix.EEXIST && !exclusive {
		return fs.createExisting(c, d, name, s)
	}
	if err != nil {
		return nil, vfs.Attr{}, false, err
	}
	n, a, err := fs.adopt(fd, d, name)
	if err != nil {
		return nil, vfs.Attr{}, false, err
	}
	defer fs.cache.release(n)
	a, err = fs.finish(c, n, a, m, s)
	if err != nil {
		return nil, vfs.Attr{}, false, err
	}
	return n.handle, a, true, nil
}

// createExisting is the unchecked Create of an existing name: a regular
// file is opened (and truncated if s.Size is set); anything else, a
// symlink in particular, is EEXIST and never followed.
func (fs *FS) createExisting(c *vfs.Cred, d *node, name string, s vfs.SetAttr) (vfs.Handle, vfs.Attr, bool, error) {
	fd := -1
	err := fs.as(c, func() (err error) {
		fd, err = unix.Openat(d.fd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return nil, vfs.Attr{}, false, err
	}
	n, a, err := fs.adopt(fd, d, name)
	if err != nil {
		return nil, vfs.Attr{}, false, err
	}
	defer fs.cache.release(n)
	if n.typ != vfs.TypeRegular {
		return nil, vfs.Attr{}, false, unix.EEXIST
	}
	if s.Size != nil {
		if err := fs.setAttrAs(c, n, vfs.SetAttr{Size: s.Size}); err != nil {
			return nil, vfs.Attr{}, false, err
		}
		if a, err = fs.attrOf(n); err != nil {
			return nil, vfs.Attr{}, false, err
		}
	}
	return n.handle, a, false, nil
}

// makeNode runs mk (which creates name in d) and opens the result, both
// as c, then adopts it and applies s with mode m.
func (fs *FS) makeNode(c *vfs.Cred, d *node, name string, m uint32, s vfs.SetAttr, want vfs.FileType, mk func() error) (vfs.Handle, vfs.Attr, error) {
	fd := -1
	err := fs.as(c, func() (err error) {
		if err := mk(); err != nil {
			return err
		}
		fd, err = unix.Openat(d.fd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return nil, vfs.Attr{}, err
	}
	n, a, err := fs.adopt(fd, d, name)
	if err != nil {
		return nil, vfs.Attr{}, err
	}
	defer fs.cache.release(n)
	if n.typ != want {
		// Replaced between creation and open: report the race rather
		// than hand out the wrong file.
		return nil, vfs.Attr{}, unix.EEXIST
	}
	a, err = fs.finish(c, n, a, m, s)
	if err != nil {
		return nil, vfs.Attr{}, err
	}
	return n.handle, a, nil
}

// Mkdir implements vfs.FS.
func (fs *FS) Mkdir(ctx context.Context, c *vfs.Cred, dir vfs.Handle, name string, s vfs.SetAttr) (vfs.Handle, vfs.Attr, error) {
	if err := checkName(name, false); err != nil {
		return nil, vfs.Attr{}, err
	}
	d, err := fs.resolveDir(dir)
	if err != nil {
		return nil, vfs.Attr{}, err
	}
	defer fs.cache.release(d)
	m := modeOr(s, 0o755)
	return fs.makeNode(c, d, name, m, s, vfs.TypeDirectory, func() error {
		return unix.Mkdirat(d.fd, name, m)
	})
}

// Symlink implements vfs.FS.
func (fs *FS) Symlink(ctx context.Context, c *vfs.Cred, dir vfs.Handle, name, target string, s vfs.SetAttr) (vfs.Handle, vfs.Attr, error) {
	if err := checkName(name, false); err != nil {
		return nil, vfs.Attr{}, err
	}
	d, err := fs.resolveDir(dir)
	if err != nil {
		return nil, vfs.Attr{}, err
	}
	defer fs.cache.release(d)
	return fs.makeNode(c, d, name, 0o777, s, vfs.TypeSymlink, func() error {
		return unix.Symlinkat(target, d.fd, name)
	})
}

// Mknod implements vfs.FS.
func (fs *FS) Mknod(ctx context.Context, c *vfs.Cred, dir vfs.Handle, name string, t vfs.FileType, s vfs.SetAttr, major, minor uint32) (vfs.Handle, vfs.Attr, error) {
	var ifmt uint32
	var dev uint64
	switch t {
	case vfs.TypeFIFO:
		ifmt = unix.S_IFIFO
	case vfs.TypeSocket:
		ifmt = unix.S_IFSOCK
	case vfs.TypeCharDevice, vfs.TypeBlockDevice:
		ifmt = unix.S_IFCHR
		if t == vfs.TypeBlockDevice {
			ifmt = unix.S_IFBLK
		}
		dev = unix.Mkdev(major, minor)
		// CAP_MKNOD survives the fsuid switch, so refuse here what
		// mknod(2) refuses a non-root user.
		if fs.switchID && c != nil && c.UID != 0 {
			return nil, vfs.Attr{}, unix.EPERM
		}
	default:
		return nil, vfs.Attr{}, unix.EINVAL
	}
	if err := checkName(name, false); err != nil {
		return nil, vfs.Attr{}, err
	}
	d, err := fs.resolveDir(dir)
	if err != nil {
		return nil, vfs.Attr{}, err
	}
	defer fs.cache.release(d)
	m := modeOr(s, 0o644)
	return fs.makeNode(c, d, name, m, s, t, func() error {
		return unix.Mknodat(d.fd, name, ifmt|m, int(dev))
	})
}

// Link implements vfs.FS. linkat with AT_EMPTY_PATH would need
// CAP_DAC_READ_SEARCH, which the fsuid switch drops; linking the
// /proc/self/fd magic link with AT_SYMLINK_FOLLOW names the same inode
// and works in every mode.
func (fs *FS) Link(ctx context.Context, c *vfs.Cred, h vfs.Handle, dir vfs.Handle, name string) error {
	if err := checkName(name, false); err != nil {
		return err
	}
	n, err := fs.resolve(h)
	if err != nil {
		return err
	}
	defer fs.cache.release(n)
	if n.typ == vfs.TypeDirectory {
		return unix.EPERM
	}
	d, err := fs.resolveDir(dir)
	if err != nil {
		return err
	}
	defer fs.cache.release(d)
	err = fs.as(c, func() error {
		return unix.Linkat(unix.AT_FDCWD, procPath(n.fd), d.fd, name, unix.AT_SYMLINK_FOLLOW)
	})
	if err == nil && fs.idx != nil {
		fs.idx.put(n.ino, d.ino, name)
	}
	return err
}

// victim is what a name pointed at before it was removed or replaced.
type victim struct {
	ok    bool
	ino   uint64
	nlink uint32
	dir   bool
}

func (fs *FS) statName(d *node, name string) victim {
	var stx unix.Statx_t
	if unix.Statx(d.fd, name, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_INO|unix.STATX_NLINK|unix.STATX_TYPE, &stx) != nil {
		return victim{}
	}
	return victim{ok: true, ino: stx.Ino, nlink: stx.Nlink, dir: typeOf(stx.Mode) == vfs.TypeDirectory}
}

// forget drops what we know of a link that was removed: cached nodes
// when it was the last link (their handles are now stale), and the index
// entry if it pointed at this name.
func (fs *FS) forget(v victim, parent uint64, name string) {
	if !v.ok {
		return
	}
	if v.dir || v.nlink <= 1 {
		fs.cache.evictIno(v.ino)
		fs.dropHandles(v.ino)
	}
	if fs.idx != nil {
		fs.idx.remove(v.ino, parent, name)
	}
}

// Remove implements vfs.FS.
func (fs *FS) Remove(ctx context.Context, c *vfs.Cred, dir vfs.Handle, name string) error {
	return fs.unlink(c, dir, name, 0)
}

// Rmdir implements vfs.FS.
func (fs *FS) Rmdir(ctx context.Context, c *vfs.Cred, dir vfs.Handle, name string) error {
	return fs.unlink(c, dir, name, unix.AT_REMOVEDIR)
}

func (fs *FS) unlink(c *vfs.Cred, dir vfs.Handle, name string, flags int) error {
	if err := checkName(name, false); err != nil {
		return err
	}
	d, err := fs.resolveDir(dir)
	if err != nil {
		return err
	}
	defer fs.cache.release(d)
	v := fs.statName(d, name)
	err = fs.as(c, func() error { return unix.Unlinkat(d.fd, name, flags) })
	if err != nil {
		return err
	}
	fs.forget(v, d.ino, name)
	return nil
}

// Rename implements vfs.FS.
func (fs *FS) Rename(ctx context.Context, c *vfs.Cred, from vfs.Handle, fromName string, to vfs.Handle, toName string) error {
	if err := checkName(fromName, false); err != nil {
		return err
	}
	if err := checkName(toName, false); err != nil {
		return err
	}
	fd, err := fs.resolveDir(from)
	if err != nil {
		return err
	}
	defer fs.cache.release(fd)
	td, err := fs.resolveDir(to)
	if err != nil {
		return err
	}
	defer fs.cache.release(td)
	src := fs.statName(fd, fromName)
	dst := fs.statName(td, toName)
	err = fs.as(c, func() error { return unix.Renameat(fd.fd, fromName, td.fd, toName) })
	if err != nil {
		return err
	}
	if dst.ok && dst.ino != src.ino {
		fs.forget(dst, td.ino, toName)
	}
	if fs.idx != nil && src.ok {
		fs.idx.put(src.ino, td.ino, toName)
	}
	return nil
}
