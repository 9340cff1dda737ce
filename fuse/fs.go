package fuse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	"github.com/gonfs/gonfs/client"
)

// Options configure Mount. The zero value works.
type Options struct {
	// Debug logs every FUSE request and reply.
	Debug bool
	// FsName is what mount(8) shows as the source (default "gonfs").
	FsName string
	// AllowOther lets users other than the mounter use the mount.
	AllowOther bool
	// Dir is the directory of the server mounted, an io/fs name below
	// the client's root (default ".", the root).
	Dir string
}

// Mount mounts the client's directory opts.Dir at mountpoint and serves
// it until unmounted. The caller waits with Wait and unmounts with Unmount
// (or fusermount3 -u); the client stays the caller's to close afterwards.
func Mount(mountpoint string, c *client.Client, opts Options) (*gofuse.Server, error) {
	reg, _ := c.CacheTimeouts()
	neg := reg
	name := opts.FsName
	if name == "" {
		name = "gonfs"
	}
	dir := opts.Dir
	if dir == "" || dir == "/" {
		dir = "."
	}
	if !fs.ValidPath(dir) {
		return nil, fmt.Errorf("fuse: invalid directory %q", opts.Dir)
	}
	root := &node{m: &mnt{c: c, dir: dir}}
	return gofs.Mount(mountpoint, root, &gofs.Options{
		MountOptions: gofuse.MountOptions{
			FsName: name, Name: "gonfs", Debug: opts.Debug, AllowOther: opts.AllowOther,
			EnableLocks: true, MaxWrite: 1 << 20,
		},
		EntryTimeout: &reg, AttrTimeout: &reg, NegativeTimeout: &neg,
	})
}

// mnt is what every node of one mount shares.
type mnt struct {
	c   *client.Client
	dir string // the io/fs name of the root
}

// node is a file, directory or symlink at a path of the export.
type node struct {
	gofs.Inode
	m *mnt

	mu     sync.Mutex
	change uint64 // change attribute at the last open, for FOPEN_KEEP_CACHE
	opened bool
}

var (
	_ gofs.NodeLookuper   = (*node)(nil)
	_ gofs.NodeGetattrer  = (*node)(nil)
	_ gofs.NodeSetattrer  = (*node)(nil)
	_ gofs.NodeOpener     = (*node)(nil)
	_ gofs.NodeCreater    = (*node)(nil)
	_ gofs.NodeReader     = (*node)(nil)
	_ gofs.NodeWriter     = (*node)(nil)
	_ gofs.NodeFlusher    = (*node)(nil)
	_ gofs.NodeFsyncer    = (*node)(nil)
	_ gofs.NodeReleaser   = (*node)(nil)
	_ gofs.NodeReaddirer  = (*node)(nil)
	_ gofs.NodeMkdirer    = (*node)(nil)
	_ gofs.NodeMknoder    = (*node)(nil)
	_ gofs.NodeRmdirer    = (*node)(nil)
	_ gofs.NodeUnlinker   = (*node)(nil)
	_ gofs.NodeRenamer    = (*node)(nil)
	_ gofs.NodeSymlinker  = (*node)(nil)
	_ gofs.NodeReadlinker = (*node)(nil)
	_ gofs.NodeLinker     = (*node)(nil)
	_ gofs.NodeStatfser   = (*node)(nil)
	_ gofs.NodeGetlker    = (*node)(nil)
	_ gofs.NodeSetlker    = (*node)(nil)
	_ gofs.NodeSetlkwer   = (*node)(nil)
)

// path returns the io/fs name of the node ("." for the root).
func (n *node) path() string {
	p := n.Path(n.Root())
	switch {
	case p == "":
		return n.m.dir
	case n.m.dir == ".":
		return p
	}
	return n.m.dir + "/" + p
}

// child returns the name of name in directory n.
func (n *node) child(name string) string {
	if p := n.path(); p != "." {
		return p + "/" + name
	}
	return name
}

// errno turns a client error into the errno FUSE answers.
func errno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var e syscall.Errno
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, fs.ErrNotExist):
		return syscall.ENOENT
	case errors.Is(err, fs.ErrExist):
		return syscall.EEXIST
	case errors.Is(err, fs.ErrPermission):
		return syscall.EACCES
	case errors.Is(err, fs.ErrInvalid):
		return syscall.EINVAL
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return syscall.EINTR
	}
	return syscall.EIO
}

// fill sets out from fi.
func fill(fi *client.FileInfo, out *gofuse.Attr) {
	a := fi.Attr()
	out.Ino = a.Fileid
	out.Size = uint64(fi.Size())
	out.Blocks = (a.Used + 511) / 512
	out.Blksize = 4096
	out.Mode = modeBits(fi.Mode())
	out.Nlink = a.Nlink
	out.Owner = gofuse.Owner{Uid: a.Uid, Gid: a.Gid}
	out.Rdev = uint32(a.Rdev[0]<<8 | a.Rdev[1]&0xff)
	at, mt, ct := a.Atime, fi.ModTime(), a.Ctime
	out.SetTimes(&at, &mt, &ct)
}

// modeBits turns an fs.FileMode into st_mode bits.
func modeBits(m fs.FileMode) uint32 {
	bits := client.UnixMode(m)
	switch {
	case m.IsDir():
		bits |= syscall.S_IFDIR
	case m&fs.ModeSymlink != 0:
		bits |= syscall.S_IFLNK
	case m&fs.ModeNamedPipe != 0:
		bits |= syscall.S_IFIFO
	case m&fs.ModeSocket != 0:
		bits |= syscall.S_IFSOCK
	case m&fs.ModeCharDevice != 0:
		bits |= syscall.S_IFCHR
	case m&fs.ModeDevice != 0:
		bits |= syscall.S_IFBLK
	default:
		bits |= syscall.S_IFREG
	}
	return bits
}

// timeouts sets the kernel's entry and attribute timeouts of a reply: the
// client's minimum for the kind of file, so that the kernel never keeps
// attributes longer than the client would.
func (m *mnt) timeouts(fi *client.FileInfo, out *gofuse.EntryOut) {
	reg, dir := m.c.CacheTimeouts()
	t := reg
	if fi.IsDir() {
		t = dir
	}
	out.SetEntryTimeout(t)
	out.SetAttrTimeout(t)
}

// newChild makes (or finds, by fileid) the inode of fi under n.
func (n *node) newChild(ctx context.Context, fi *client.FileInfo, out *gofuse.EntryOut) *gofs.Inode {
	fill(fi, &out.Attr)
	n.m.timeouts(fi, out)
	st := gofs.StableAttr{Mode: modeBits(fi.Mode()) & syscall.S_IFMT, Ino: fi.Attr().Fileid}
	return n.NewInode(ctx, &node{m: n.m}, st)
}

func (n *node) Lookup(ctx context.Context, name string, out *gofuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	fi, err := n.m.c.LstatContext(ctx, n.child(name))
	if err != nil {
		return nil, errno(err)
	}
	return n.newChild(ctx, fi, out), 0
}

func (n *node) Getattr(ctx context.Context, f gofs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	var fi *client.FileInfo
	var err error
	if h, ok := f.(*handle); ok {
		fi, err = h.f.StatContext(ctx)
	} else {
		fi, err = n.m.c.LstatContext(ctx, n.path())
	}
	if err != nil {
		return errno(err)
	}
	fill(fi, &out.Attr)
	reg, dir := n.m.c.CacheTimeouts()
	if fi.IsDir() {
		out.SetTimeout(dir)
	} else {
		out.SetTimeout(reg)
	}
	return 0
}

func (n *node) Setattr(ctx context.Context, f gofs.FileHandle, in *gofuse.SetAttrIn, out *gofuse.AttrOut) syscall.Errno {
	c, p := n.m.c, n.path()
	if size, ok := in.GetSize(); ok {
		var err error
		if h, ok := f.(*handle); ok {
			err = h.f.Truncate(ctx, int64(size))
		} else {
			err = c.Truncate(ctx, p, int64(size))
		}
		if err != nil {
			return errno(err)
		}
	}
	if mode, ok := in.GetMode(); ok {
		if err := c.Chmod(ctx, p, client.PermMode(mode)); err != nil {
			return errno(err)
		}
	}
	uid, uok := in.GetUID()
	gid, gok := in.GetGID()
	if uok || gok {
		u, g := -1, -1
		if uok {
			u = int(uid)
		}
		if gok {
			g = int(gid)
		}
		if err := c.Chown(ctx, p, u, g); err != nil {
			return errno(err)
		}
	}
	atime, aok := in.GetATime()
	mtime, mok := in.GetMTime()
	if aok || mok {
		// What is not set stays: take it from the current attributes.
		fi, err := c.LstatContext(ctx, p)
		if err != nil {
			return errno(err)
		}
		if !aok {
			atime = fi.Attr().Atime
		}
		if !mok {
			mtime = fi.ModTime()
		}
		if in.Valid&gofuse.FATTR_ATIME_NOW != 0 {
			atime = time.Time{}
		}
		if in.Valid&gofuse.FATTR_MTIME_NOW != 0 {
			mtime = time.Time{}
		}
		if err := c.Chtimes(ctx, p, atime, mtime); err != nil {
			return errno(err)
		}
	}
	return n.Getattr(ctx, f, out)
}

// openFlags keeps the flags of open(2) the client understands.
func openFlags(flags uint32) int {
	return int(flags) & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREATE | os.O_EXCL | os.O_TRUNC)
}

// keepCache decides FOPEN_KEEP_CACHE (close-to-open): the kernel's page
// cache of the file is kept only if the change attribute is the one of the
// previous open.
func (n *node) keepCache(ctx context.Context, f *client.File) uint32 {
	fi, err := f.StatContext(ctx)
	if err != nil {
		return 0
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	keep := n.opened && n.change == fi.Attr().Change
	n.change, n.opened = fi.Attr().Change, true
	if keep {
		return gofuse.FOPEN_KEEP_CACHE
	}
	return 0
}

func (n *node) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	f, err := n.m.c.OpenFile(ctx, n.path(), openFlags(flags)&^(os.O_CREATE|os.O_EXCL), 0)
	if err != nil {
		return nil, 0, errno(err)
	}
	return &handle{f: f}, n.keepCache(ctx, f), 0
}

func (n *node) Create(ctx context.Context, name string, flags uint32, mode uint32, out *gofuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	p := n.child(name)
	f, err := n.m.c.OpenFile(ctx, p, openFlags(flags)|os.O_CREATE, client.PermMode(mode))
	if err != nil {
		return nil, nil, 0, errno(err)
	}
	fi, err := f.StatContext(ctx)
	if err != nil {
		f.Close()
		return nil, nil, 0, errno(err)
	}
	ch := n.newChild(ctx, fi, out)
	return ch, &handle{f: f}, ch.Operations().(*node).keepCache(ctx, f), 0
}

// handle is an open file of the mount.
type handle struct {
	f      *client.File
	locked atomic.Bool // a byte-range lock was taken through it
}

func (n *node) Read(ctx context.Context, f gofs.FileHandle, dest []byte, off int64) (gofuse.ReadResult, syscall.Errno) {
	h, ok := f.(*handle)
	if !ok {
		return nil, syscall.EBADF
	}
	k, err := h.f.ReadAtContext(ctx, dest, off)
	if err != nil && err != io.EOF {
		return nil, errno(err)
	}
	return gofuse.ReadResultData(dest[:k]), 0
}

func (n *node) Write(ctx context.Context, f gofs.FileHandle, data []byte, off int64) (uint32, syscall.Errno) {
	h, ok := f.(*handle)
	if !ok {
		return 0, syscall.EBADF
	}
	k, err := h.f.WriteAtContext(ctx, data, off)
	if err != nil {
		return uint32(k), errno(err)
	}
	return uint32(k), 0
}

// Flush runs at every close(2) of a descriptor: the data written through
// it goes to stable storage now, so that close reports write errors and
// another client opening the file next sees it (close-to-open).
func (n *node) Flush(ctx context.Context, f gofs.FileHandle) syscall.Errno {
	h, ok := f.(*handle)
	if !ok {
		return 0
	}
	if h.locked.Load() {
		// The kernel does not track the POSIX locks it forwards to
		// FUSE: the release at close(2) is ours to do here.
		h.f.Unlock(ctx, 0, 0)
	}
	return syncErrno(h.f.SyncContext(ctx))
}

// Fsync writes the file back like Flush, but keeps its locks: fsync(2) is
// not close(2).
func (n *node) Fsync(ctx context.Context, f gofs.FileHandle, flags uint32) syscall.Errno {
	h, ok := f.(*handle)
	if !ok {
		return 0
	}
	return syncErrno(h.f.SyncContext(ctx))
}

// syncErrno is errno for SyncContext, whose EISDIR for a directory
// handle means there was nothing to write back.
func syncErrno(err error) syscall.Errno {
	if errors.Is(err, syscall.EISDIR) {
		return 0
	}
	return errno(err)
}

func (n *node) Release(ctx context.Context, f gofs.FileHandle) syscall.Errno {
	h, ok := f.(*handle)
	if !ok {
		return 0
	}
	// Release comes after the descriptor is gone: nobody waits for its
	// outcome, so it does not use the request's context.
	return errno(h.f.CloseContext(context.Background()))
}

func (n *node) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	ents, err := n.m.c.ReadDirContext(ctx, n.path())
	if err != nil {
		return nil, errno(err)
	}
	out := make([]gofuse.DirEntry, 0, len(ents)+2)
	// The kernel does not make up "." and ".." for FUSE.
	out = append(out, gofuse.DirEntry{Name: ".", Mode: syscall.S_IFDIR}, gofuse.DirEntry{Name: "..", Mode: syscall.S_IFDIR})
	for _, e := range ents {
		de := gofuse.DirEntry{Name: e.Name(), Mode: modeBits(e.Type())}
		if info, err := e.Info(); err == nil {
			if fi, ok := info.(*client.FileInfo); ok {
				de.Ino = fi.Attr().Fileid
			}
		}
		out = append(out, de)
	}
	return gofs.NewListDirStream(out), 0
}

func (n *node) Mkdir(ctx context.Context, name string, mode uint32, out *gofuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if err := n.m.c.Mkdir(ctx, n.child(name), client.PermMode(mode)); err != nil {
		return nil, errno(err)
	}
	return n.Lookup(ctx, name, out)
}

// Mknod creates regular files only: the client library makes no device
// nodes, FIFOs or sockets.
func (n *node) Mknod(ctx context.Context, name string, mode uint32, dev uint32, out *gofuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if mode&syscall.S_IFMT != syscall.S_IFREG && mode&syscall.S_IFMT != 0 {
		return nil, syscall.ENOTSUP
	}
	f, err := n.m.c.OpenFile(ctx, n.child(name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, fs.FileMode(mode&0o777))
	if err != nil {
		return nil, errno(err)
	}
	if err := f.Close(); err != nil {
		return nil, errno(err)
	}
	return n.Lookup(ctx, name, out)
}

func (n *node) Rmdir(ctx context.Context, name string) syscall.Errno {
	return errno(n.m.c.Remove(ctx, n.child(name)))
}

func (n *node) Unlink(ctx context.Context, name string) syscall.Errno {
	return errno(n.m.c.Remove(ctx, n.child(name)))
}

func (n *node) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if flags != 0 {
		return syscall.ENOTSUP // RENAME_NOREPLACE, RENAME_EXCHANGE: not in NFS
	}
	np, ok := newParent.(*node)
	if !ok {
		return syscall.EXDEV
	}
	return errno(n.m.c.Rename(ctx, n.child(name), np.child(newName)))
}

func (n *node) Symlink(ctx context.Context, target, name string, out *gofuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if err := n.m.c.Symlink(ctx, target, n.child(name)); err != nil {
		return nil, errno(err)
	}
	return n.Lookup(ctx, name, out)
}

func (n *node) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	s, err := n.m.c.Readlink(ctx, n.path())
	if err != nil {
		return nil, errno(err)
	}
	return []byte(s), 0
}

func (n *node) Link(ctx context.Context, target gofs.InodeEmbedder, name string, out *gofuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	t, ok := target.(*node)
	if !ok {
		return nil, syscall.EXDEV
	}
	if err := n.m.c.Link(ctx, t.path(), n.child(name)); err != nil {
		return nil, errno(err)
	}
	return n.Lookup(ctx, name, out)
}

// Statfs reports a large, mostly free file system: the client library
// does not fetch the server's space attributes yet, and df or a copy
// tool must not see a full disk.
func (n *node) Statfs(ctx context.Context, out *gofuse.StatfsOut) syscall.Errno {
	const blocks = 1 << 40 / 4096
	*out = gofuse.StatfsOut{Blocks: blocks, Bfree: blocks, Bavail: blocks, Files: 1 << 32, Ffree: 1 << 32, Bsize: 4096, Frsize: 4096, NameLen: 255}
	return 0
}

// Getlk reports a conflicting lock the way the client can find one: by
// trying to take the lock and, if it is free, giving it back at once. The
// conflicting holder is not known; it is reported as the whole range.
func (n *node) Getlk(ctx context.Context, f gofs.FileHandle, owner uint64, lk *gofuse.FileLock, flags uint32, out *gofuse.FileLock) syscall.Errno {
	h, ok := f.(*handle)
	if !ok {
		return syscall.EBADF
	}
	if lk.Typ == syscall.F_UNLCK {
		*out = *lk
		return 0
	}
	off, length := lockRange(lk)
	err := h.f.Lock(ctx, lk.Typ == syscall.F_WRLCK, off, length)
	switch {
	case err == nil:
		h.f.Unlock(ctx, off, length)
		*out = gofuse.FileLock{Typ: syscall.F_UNLCK}
		return 0
	case errors.Is(err, syscall.EAGAIN):
		// The holder is not known: a conflict with a read lock is
		// a write lock, and one with a write lock is reported as one.
		*out = *lk
		out.Typ = syscall.F_WRLCK
		out.Pid = 0
		return 0
	}
	return errno(err)
}

// lockRange turns a FUSE lock's inclusive [Start, End] into an offset and
// length (0: to the end of the file).
func lockRange(lk *gofuse.FileLock) (off, length int64) {
	if lk.End == 1<<63-1 || lk.End == ^uint64(0) {
		return int64(lk.Start), 0
	}
	return int64(lk.Start), int64(lk.End-lk.Start) + 1
}

func (n *node) Setlk(ctx context.Context, f gofs.FileHandle, owner uint64, lk *gofuse.FileLock, flags uint32) syscall.Errno {
	h, ok := f.(*handle)
	if !ok {
		return syscall.EBADF
	}
	off, length := lockRange(lk)
	switch lk.Typ {
	case syscall.F_UNLCK:
		return errno(h.f.Unlock(ctx, off, length))
	case syscall.F_RDLCK, syscall.F_WRLCK:
		h.locked.Store(true)
		return errno(h.f.Lock(ctx, lk.Typ == syscall.F_WRLCK, off, length))
	}
	return syscall.EINVAL
}

// Setlkw does not wait: the client's locks are non-blocking, so a taken
// range is EAGAIN as for F_SETLK.
func (n *node) Setlkw(ctx context.Context, f gofs.FileHandle, owner uint64, lk *gofuse.FileLock, flags uint32) syscall.Errno {
	return n.Setlk(ctx, f, owner, lk, flags)
}
