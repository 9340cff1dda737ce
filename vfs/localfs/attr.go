package localfs

import (
	"errors"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gonfs/gonfs/vfs"
)

// statxMask asks for the mount ID too (Linux 5.8): it costs nothing and
// tells a bind mount of the export's own filesystem from a directory.
const statxMask = unix.STATX_BASIC_STATS | unix.STATX_BTIME | unix.STATX_MNT_ID

// statx stats fd itself (which may be an O_PATH descriptor of a symlink).
func statx(fd int, stx *unix.Statx_t) error {
	return statxAt(fd, "", unix.AT_EMPTY_PATH, stx)
}

// statxAt stats name in directory dirfd without following a symlink or
// triggering an automount (a listing must not mount every automount point
// it meets; we do not cross mounts anyway); flags may add AT_EMPTY_PATH.
// It is statx(2) without the allocation of unix.Statx, for the per-entry
// path of listings and lookups.
func statxAt(dirfd int, name string, flags int, stx *unix.Statx_t) error {
	var buf [256]byte
	p, err := cString(name, &buf)
	if err != nil {
		return err
	}
	flags |= unix.AT_SYMLINK_NOFOLLOW | unix.AT_NO_AUTOMOUNT | unix.AT_STATX_SYNC_AS_STAT
	_, _, e := unix.Syscall6(unix.SYS_STATX, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(flags),
		uintptr(statxMask), uintptr(unsafe.Pointer(stx)), 0)
	if e != 0 {
		return e
	}
	return nil
}

// cString returns name NUL-terminated, in buf when it fits (any name a
// directory can hold does: NAME_MAX is 255).
func cString(name string, buf *[256]byte) (*byte, error) {
	if len(name) >= len(buf) {
		return unix.BytePtrFromString(name)
	}
	if strings.IndexByte(name, 0) >= 0 {
		return nil, unix.EINVAL
	}
	copy(buf[:], name)
	buf[len(name)] = 0
	return &buf[0], nil
}

func devOf(stx *unix.Statx_t) uint64 { return unix.Mkdev(stx.Dev_major, stx.Dev_minor) }

// inside reports whether a file reached by walking names from a verified
// directory is on the export's own mount: neither on another device nor
// under a mount point (a bind mount of the same filesystem has the same
// device but another mount ID), which we do not cross.
func (fs *FS) inside(stx *unix.Statx_t) bool {
	if devOf(stx) != fs.rootDev {
		return false
	}
	return !fs.rootMntKnown || stx.Mask&unix.STATX_MNT_ID == 0 || stx.Mnt_id == fs.rootMnt
}

// tagOf is the birth time in nanoseconds, which tells a file from a later
// one that reuses its inode number; 0 where the filesystem has none.
func tagOf(stx *unix.Statx_t) uint64 {
	if stx.Mask&unix.STATX_BTIME == 0 {
		return 0
	}
	return uint64(stx.Btime.Sec)*1e9 + uint64(stx.Btime.Nsec)
}

func typeOf(mode uint16) vfs.FileType {
	switch uint32(mode) & unix.S_IFMT {
	case unix.S_IFREG:
		return vfs.TypeRegular
	case unix.S_IFDIR:
		return vfs.TypeDirectory
	case unix.S_IFLNK:
		return vfs.TypeSymlink
	case unix.S_IFBLK:
		return vfs.TypeBlockDevice
	case unix.S_IFCHR:
		return vfs.TypeCharDevice
	case unix.S_IFIFO:
		return vfs.TypeFIFO
	case unix.S_IFSOCK:
		return vfs.TypeSocket
	}
	return 0
}

func direntType(t uint8) vfs.FileType {
	switch t {
	case unix.DT_REG:
		return vfs.TypeRegular
	case unix.DT_DIR:
		return vfs.TypeDirectory
	case unix.DT_LNK:
		return vfs.TypeSymlink
	case unix.DT_BLK:
		return vfs.TypeBlockDevice
	case unix.DT_CHR:
		return vfs.TypeCharDevice
	case unix.DT_FIFO:
		return vfs.TypeFIFO
	case unix.DT_SOCK:
		return vfs.TypeSocket
	}
	return 0
}

func ts(t unix.StatxTimestamp) time.Time { return time.Unix(t.Sec, int64(t.Nsec)) }

func (fs *FS) toAttr(stx *unix.Statx_t) vfs.Attr {
	a := vfs.Attr{
		Type:   typeOf(stx.Mode),
		Mode:   uint32(stx.Mode) & 0o7777,
		Nlink:  stx.Nlink,
		UID:    stx.Uid,
		GID:    stx.Gid,
		Size:   stx.Size,
		Used:   stx.Blocks * 512,
		FSID:   fs.fsid,
		FileID: stx.Ino,
		Atime:  ts(stx.Atime),
		Mtime:  ts(stx.Mtime),
		Ctime:  ts(stx.Ctime),
		// The kernel's i_version is not exported to user space; ctime
		// is the best change indicator we have (RFC 7862 §12.2.3 calls
		// this NFS4_CHANGE_TYPE_IS_TIME_METADATA).
		Change: uint64(stx.Ctime.Sec)*1e9 + uint64(stx.Ctime.Nsec),
	}
	if a.Type == vfs.TypeBlockDevice || a.Type == vfs.TypeCharDevice {
		a.Major, a.Minor = stx.Rdev_major, stx.Rdev_minor
	}
	return a
}

// setAttr applies s to n. It must run under the caller's identity so
// that the kernel applies chown/chmod/utimes rules for it. Ownership goes
// first because chown clears setuid/setgid bits that a mode change in the
// same request may set again.
func (fs *FS) setAttr(c *vfs.Cred, n *node, s vfs.SetAttr) error {
	if s.Size != nil {
		switch n.typ {
		case vfs.TypeRegular:
		case vfs.TypeDirectory:
			return unix.EISDIR
		default:
			return unix.EINVAL
		}
	}
	if s.UID != nil || s.GID != nil {
		uid, gid := -1, -1
		if s.UID != nil {
			uid = int(*s.UID)
		}
		if s.GID != nil {
			gid = int(*s.GID)
		}
		if err := unix.Fchownat(n.fd, "", uid, gid, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
	}
	// Linux has no modes on symlinks; like knfsd, ignore mode changes
	// to them rather than fail the whole request.
	if s.Mode != nil && n.typ != vfs.TypeSymlink {
		if err := unix.Fchmodat(n.fd, "", *s.Mode&0o7777, unix.AT_EMPTY_PATH); err != nil {
			if err != unix.ENOSYS && err != unix.EOPNOTSUPP {
				return err
			}
			// No fchmodat2 (Linux < 6.6): chmod through /proc.
			if err := unix.Chmod(procPath(n.fd), *s.Mode&0o7777); err != nil {
				return err
			}
		}
	}
	if s.Size != nil {
		if err := fs.truncate(c, n, *s.Size); err != nil {
			return err
		}
	}
	if s.Atime != vfs.TimeDontChange || s.Mtime != vfs.TimeDontChange {
		err := setTimes(n.fd, s)
		if err == unix.EPERM && s.Atime != vfs.TimeClient && s.Mtime != vfs.TimeClient {
			// Setting one time to now: utimensat asks for ownership
			// unless both are set to now, but NFS (like knfsd) lets
			// anyone who may write the file do it.
			if err := unix.Faccessat2(n.fd, "", unix.W_OK, unix.AT_EACCESS|unix.AT_EMPTY_PATH); err != nil {
				return err
			}
			return errTouchAsRoot
		}
		return err
	}
	return nil
}

// errTouchAsRoot asks the caller of setAttr to set the times of s as the
// process: the caller was found allowed to.
var errTouchAsRoot = errors.New("localfs: touch as root")

func setTimes(fd int, s vfs.SetAttr) error {
	t := [2]unix.Timespec{utime(s.Atime, s.AtimeTime), utime(s.Mtime, s.MtimeTime)}
	return unix.UtimesNanoAt(fd, "", t[:], unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW)
}

func utime(how vfs.SetTime, t time.Time) unix.Timespec {
	switch how {
	case vfs.TimeServer:
		return unix.Timespec{Nsec: unix.UTIME_NOW}
	case vfs.TimeClient:
		return unix.NsecToTimespec(t.UnixNano())
	}
	return unix.Timespec{Nsec: unix.UTIME_OMIT}
}

// truncate sets the size of regular file n. It opens n for writing
// under the caller's identity (O_PATH descriptors cannot be truncated),
// which is where the kernel checks write permission; the owner may
// truncate regardless of mode, as knfsd allows.
func (fs *FS) truncate(c *vfs.Cred, n *node, size uint64) error {
	if size > 1<<63-1 {
		return unix.EFBIG
	}
	fd, err := unix.Open(procPath(n.fd), unix.O_WRONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err == unix.EACCES && fs.isOwner(c, n) {
		// Owner override: ftruncate on the cached root-opened fd.
		if err := fs.ensureIO(n, true); err != nil {
			return err
		}
		n.ioMu.RLock()
		defer n.ioMu.RUnlock()
		return unix.Ftruncate(n.ioFD, int64(size))
	}
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Ftruncate(fd, int64(size))
}

// isOwner reports whether c owns n (for knfsd's owner override).
func (fs *FS) isOwner(c *vfs.Cred, n *node) bool {
	if c == nil {
		return false
	}
	var stx unix.Statx_t
	return statx(n.fd, &stx) == nil && stx.Uid == c.UID
}
