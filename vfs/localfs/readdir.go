package localfs

import (
	"context"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/gonfs/gonfs/vfs"
)

// direntBufs holds getdents buffers: a listing of a large directory
// is many ReadDir calls (one per NFS reply).
var direntBufs = sync.Pool{New: func() any {
	b := make([]byte, 32<<10)
	return &b
}}

// ReadDir implements vfs.FS with getdents64. A cookie is the d_off the
// kernel gave the entry, the position just after it; resuming seeks there
// (see the package documentation for the filesystems where that is
// stable). With plus, entries get handles and attributes only if c may
// also search the directory.
func (fs *FS) ReadDir(ctx context.Context, c *vfs.Cred, dir vfs.Handle, cookie uint64, plus bool, fn func(*vfs.DirEntry) bool) error {
	d, err := fs.resolveDir(dir)
	if err != nil {
		return err
	}
	defer fs.cache.release(d)
	if cookie > 1<<63-1 {
		return unix.EINVAL
	}
	// Reading needs read permission on d, and plus also search
	// permission, as lookup(2) of each entry would; the opens run as the
	// process once c is found allowed (see perm.go).
	search := true
	if fs.needsCheck(c) {
		if _, err := fs.allowed(c, d, unix.R_OK); err != nil {
			return err
		}
		if plus {
			_, err := fs.allowed(c, d, unix.X_OK)
			search = err == nil
		}
	} else if plus {
		search = unix.Faccessat2(d.fd, "", unix.X_OK, unix.AT_EACCESS|unix.AT_EMPTY_PATH) == nil
	}
	fd, err := unix.Openat(d.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if cookie != 0 {
		if _, err := unix.Seek(fd, int64(cookie), 0); err != nil {
			return err
		}
	}
	bufp := direntBufs.Get().(*[]byte)
	defer direntBufs.Put(bufp)
	buf := *bufp
	if plus {
		buf = buf[:4<<10] // each entry costs system calls; fetch what fn likely wants
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		nb, err := unix.Getdents(fd, buf)
		if err != nil {
			return err
		}
		if nb == 0 {
			return nil
		}
		for de := range dirents(buf[:nb]) {
			if de.name == "." || de.name == ".." {
				continue
			}
			e := vfs.DirEntry{Name: de.name, FileID: de.ino, Cookie: de.off}
			e.Attr.Type = direntType(de.typ)
			if plus && search {
				fs.plusEntry(fd, d, &e)
			}
			if !fn(&e) {
				return nil
			}
		}
	}
}

// plusEntry fills the handle and attributes of e, found in directory
// descriptor dirfd of node d, without opening the entry or caching it: a
// listing of 50,000 files must not open 50,000 files and evict the whole
// node cache. The entry is found by name from a verified directory, so it
// is inside the export by construction. An entry that vanished meanwhile,
// or a mount point (which we do not cross), keeps only its name and type
// (and the inode number getdents gave).
//
// With index handles the handle is made of what statx reports (inode and
// birth time), so handle and attributes always agree. A kernel handle
// comes from name_to_handle_at, a second system call, and the name may
// point at another file by then (a rename, or a tight loop of
// RENAME_EXCHANGE that puts the first file back before statx: comparing
// with what getdents saw is not enough). So the handle must say which
// inode it names: where handleIno can read it, it must be the inode statx
// reports. (Should the file the handle names be deleted and its inode
// number reused in between, the handle is stale and every use of it
// fails; cached for the new file, it is given out until its first use
// drops it, see dropStaleHandle.) Otherwise, or when they differ, the entry is opened, as Lookup
// does, so that one descriptor gives both.
//
// A file seen before needs no name_to_handle_at: when the handle cache
// knows the inode number getdents gave, statx comes first, and if it
// reports that inode with the birth time the handle was cached with, the
// cached handle is the file's (see handleCache), and handle and
// attributes agree as with index handles. Otherwise the entry goes the
// way above (one statx more, for a file replaced since).
func (fs *FS) plusEntry(dirfd int, d *node, e *vfs.DirEntry) {
	if fs.kernel && fs.handleFS == 0 {
		// No handle layout to read the inode from: the open is needed
		// anyway, so skip the statx by name.
		fs.plusEntryOpen(dirfd, d, e)
		return
	}
	var h vfs.Handle
	var stx unix.Statx_t
	known := fs.plusKnown(dirfd, e, &stx, &h)
	if known < 0 {
		return // gone
	}
	if known == 0 {
		if fs.kernel {
			var mnt uint64
			var err error
			h, mnt, err = fs.kernelHandleAt(dirfd, e.Name)
			if err != nil || (fs.rootMntKnown && mnt != fs.rootMnt) {
				return // gone, or a mount point (perhaps of a filesystem without handles)
			}
		}
		if statxAt(dirfd, e.Name, 0, &stx) != nil {
			return
		}
	}
	if !fs.inside(&stx) || stx.Nlink == 0 {
		return
	}
	if ph, ok := fs.plainHandle(&stx); ok {
		h = ph
	} else {
		if known == 0 {
			if ino, ok := fs.handleIno(h); !ok || ino != stx.Ino {
				fs.plusEntryOpen(dirfd, d, e)
				return
			}
			fs.rememberHandle(stx.Ino, tagOf(&stx), h)
		}
		fs.seen.add(h)
	}
	fs.fillEntry(d, e, h, &stx)
}

// plainHandle returns the handle of the file stx describes when no kernel
// call is needed to know it: the export root's, or an index handle (inode
// and birth time). ok is false in kernel-handle mode for any other file.
func (fs *FS) plainHandle(stx *unix.Statx_t) (h vfs.Handle, ok bool) {
	switch {
	case stx.Ino == fs.root.ino:
		return fs.rootHandle, true
	case !fs.kernel:
		return indexHandle(stx.Ino, tagOf(stx)), true
	}
	return nil, false
}

// fillEntry gives e the handle h and the attributes stx of the file it
// names in directory d, and tells the index where that file is.
func (fs *FS) fillEntry(d *node, e *vfs.DirEntry, h vfs.Handle, stx *unix.Statx_t) {
	fs.learn(stx.Ino, d, e.Name)
	e.Handle = h
	e.Attr = fs.toAttr(stx)
	e.FileID = stx.Ino
}

// plusKnown tries the handle cache for e: 1 when *h is the cached handle
// of the file *stx now describes, 0 when the entry must be named by the
// kernel, -1 when it is gone.
func (fs *FS) plusKnown(dirfd int, e *vfs.DirEntry, stx *unix.Statx_t, h *vfs.Handle) int {
	if !fs.handleCacheOn() {
		return 0
	}
	cached, btime, ok := fs.handles.lookup(e.FileID)
	if !ok {
		return 0
	}
	if statxAt(dirfd, e.Name, 0, stx) != nil {
		return -1
	}
	if stx.Ino != e.FileID || stx.Mask&unix.STATX_BTIME == 0 || tagOf(stx) != btime {
		return 0
	}
	*h = cached
	return 1
}

// plusEntryOpen fills e as plusEntry does, from one descriptor of the
// entry (which is not cached).
func (fs *FS) plusEntryOpen(dirfd int, d *node, e *vfs.DirEntry) {
	fd, err := unix.Openat(dirfd, e.Name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	var stx unix.Statx_t
	if statx(fd, &stx) != nil || !fs.inside(&stx) || stx.Nlink == 0 {
		return
	}
	h, ok := fs.plainHandle(&stx)
	if !ok {
		if h = fs.knownHandle(&stx); h == nil {
			if h, err = fs.kernelHandle(fd); err != nil {
				return
			}
			fs.rememberHandle(stx.Ino, tagOf(&stx), h)
		}
		fs.seen.add(h)
	}
	fs.fillEntry(d, e, h, &stx)
}
