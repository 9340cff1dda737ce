package localfs

import (
	"context"

	"golang.org/x/sys/unix"

	"github.com/gonfs/gonfs/vfs"
)

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
	size := 32 << 10
	if plus {
		size = 4 << 10 // each entry costs system calls; fetch what fn likely wants
	}
	buf := make([]byte, size)
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
// descriptor dirfd of node d. An entry that vanished meanwhile, or a
// mount point (which we do not cross), keeps only its name and type.
func (fs *FS) plusEntry(dirfd int, d *node, e *vfs.DirEntry) {
	cfd, err := unix.Openat(dirfd, e.Name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	n, a, err := fs.adopt(cfd, d, e.Name)
	if err != nil {
		return
	}
	defer fs.cache.release(n)
	e.Handle = n.handle
	e.Attr = a
	e.FileID = a.FileID
}
