package vfs

import (
	"context"
	"time"
)

// MaxHandle is the largest backend handle, in bytes. The NFS layer wraps a
// backend handle with an export id and a MAC, and NFSv3 handles are at most
// 64 bytes (RFC 1813 §2.5), so backends must stay well below that.
const MaxHandle = 40

// Handle identifies one file for the life of the file, across server
// restarts, renames and cache eviction. It is opaque to everything but the
// backend that issued it. Backends must never return a handle longer than
// MaxHandle.
type Handle []byte

// Cred is the identity an operation runs with, after the export's squashing.
type Cred struct {
	UID    uint32
	GID    uint32
	Groups []uint32 // supplementary groups, without GID
}

// RootCred returns the superuser identity.
func RootCred() *Cred { return &Cred{} }

// FileType is the type of a file.
type FileType uint8

// File types, in the order of NFSv3 ftype3 (RFC 1813 §2.5) so the NFS layer
// can convert by value.
const (
	TypeRegular FileType = iota + 1
	TypeDirectory
	TypeBlockDevice
	TypeCharDevice
	TypeSymlink
	TypeSocket
	TypeFIFO
)

func (t FileType) String() string {
	switch t {
	case TypeRegular:
		return "regular"
	case TypeDirectory:
		return "directory"
	case TypeBlockDevice:
		return "block device"
	case TypeCharDevice:
		return "char device"
	case TypeSymlink:
		return "symlink"
	case TypeSocket:
		return "socket"
	case TypeFIFO:
		return "fifo"
	}
	return "unknown"
}

// Attr is what the NFS layer needs to know of a file.
type Attr struct {
	Type   FileType
	Mode   uint32 // permission bits and setuid/setgid/sticky (07777), no type bits
	Nlink  uint32
	UID    uint32
	GID    uint32
	Size   uint64
	Used   uint64 // bytes of storage allocated
	Major  uint32 // device numbers, for TypeBlockDevice and TypeCharDevice
	Minor  uint32
	FSID   uint64 // the backend's filesystem id; the NFS layer may replace it with the export's
	FileID uint64 // inode number: unique within FSID and stable
	Atime  time.Time
	Mtime  time.Time
	Ctime  time.Time
	// Change advances on every change to the file's data or attributes
	// (RFC 8881 §5.8.1.4). Backends without a counter derive it from ctime.
	Change uint64
}

// SetTime says how SetAttr sets a timestamp.
type SetTime uint8

const (
	TimeDontChange SetTime = iota // leave as is
	TimeServer                    // set to the server's current time
	TimeClient                    // set to the value given
)

// SetAttr is a set of attribute changes. Nil pointers leave an attribute
// alone. A size change on a non-regular file is an error (EINVAL, or EISDIR
// on a directory).
type SetAttr struct {
	Mode      *uint32
	UID       *uint32
	GID       *uint32
	Size      *uint64
	Atime     SetTime
	AtimeTime time.Time
	Mtime     SetTime
	MtimeTime time.Time
}

// Empty reports whether s changes nothing.
func (s *SetAttr) Empty() bool {
	return s.Mode == nil && s.UID == nil && s.GID == nil && s.Size == nil &&
		s.Atime == TimeDontChange && s.Mtime == TimeDontChange
}

// Stability is how far a Write must reach before it returns. Its values
// are those of NFSv3's stable_how (RFC 1813 §3.3.7) and NFSv4's
// stable_how4 (RFC 8881 §18.32), so the protocol layers convert by value
// after checking the range.
type Stability uint8

const (
	Unstable Stability = iota // data may stay in memory until Commit
	DataSync                  // data and the metadata needed to read it back are on stable storage
	FileSync                  // data and all metadata are on stable storage
)

// DirEntry is one directory entry as ReadDir yields it.
type DirEntry struct {
	Name   string
	FileID uint64
	// Cookie is the position just after this entry: passing it to ReadDir
	// continues with the next entry. Cookies stay valid while other entries
	// are added and removed (an entry is never skipped or repeated because
	// another one changed), and across server restarts where the backing
	// store allows. 0 is never a cookie (it means "from the start"); the
	// values 1 and 2 are left for "." and "..", which ReadDir does not yield.
	Cookie uint64
	// Handle and Attr are filled only when ReadDir was asked for them
	// (plus == true), and even then Handle may be nil for an entry the
	// backend will not hand out (a mount point it does not cross); the
	// NFS layer then leaves the handle out of the reply. Attr.Type is
	// always filled when the backend knows it cheaply; otherwise it is 0.
	Handle Handle
	Attr   Attr
}

// FSStat is the space and file counts of the filesystem holding a file.
type FSStat struct {
	TotalBytes, FreeBytes, AvailBytes uint64
	TotalFiles, FreeFiles, AvailFiles uint64
}

// Access bits, the same values as NFSv3 ACCESS3_* (RFC 1813 §3.3.4).
const (
	AccessRead    uint32 = 0x0001
	AccessLookup  uint32 = 0x0002
	AccessModify  uint32 = 0x0004
	AccessExtend  uint32 = 0x0008
	AccessDelete  uint32 = 0x0010
	AccessExecute uint32 = 0x0020
)

// FS is a handle-based filesystem. All methods are safe for concurrent use.
// A backend that holds resources (descriptors, an index file) also
// implements io.Closer; the server closes it when it stops serving it.
//
// Errors are syscall.Errno values (possibly wrapped) so that one place, the
// nfserr package, maps them to NFS status codes: ENOENT, EEXIST, ENOTDIR,
// EISDIR, ENOTEMPTY, EACCES, EPERM, ENOSPC, EDQUOT, ENAMETOOLONG, EXDEV,
// EINVAL, EFBIG, EMLINK, EROFS, ENOTSUP, and ESTALE for a handle that no
// longer names a file (or never did). Anything else becomes a server fault.
//
// Names are single path components: never empty, never containing '/' or
// NUL; "." and ".." are given only to Lookup. Implementations must never let a
// name, a handle or a symlink reach outside the tree the FS serves; symlinks
// are never followed by the FS (clients resolve them).
//
// Operations that take a Cred run with that identity: permission checks are
// what the local kernel (or, for in-memory backends, POSIX rules) would do for
// it, and files it creates are owned by it. A Cred is never nil.
type FS interface {
	// Root returns the handle of the tree's root directory.
	Root() Handle

	// GetAttr returns the attributes of h.
	GetAttr(ctx context.Context, h Handle) (Attr, error)

	// SetAttr changes attributes of h and returns the new ones. Ownership
	// changes follow chown(2) rules for c.
	SetAttr(ctx context.Context, c *Cred, h Handle, s SetAttr) (Attr, error)

	// Lookup finds name in dir. ".." of the root is the root itself.
	Lookup(ctx context.Context, c *Cred, dir Handle, name string) (Handle, Attr, error)

	// Access returns the subset of mask that c is granted on h. On a
	// directory READ needs r, LOOKUP x, and MODIFY, EXTEND and DELETE both
	// w and x; on other files READ needs r, MODIFY and EXTEND w, EXECUTE
	// x, and LOOKUP and DELETE are never granted. Root gets read and write
	// on anything and execute only where some x bit is set.
	Access(ctx context.Context, c *Cred, h Handle, mask uint32) (uint32, error)

	// Readlink returns a symlink's target.
	Readlink(ctx context.Context, c *Cred, h Handle) (string, error)

	// Read reads up to len(p) bytes at off. eof reports that the read
	// reached the end of the file. A directory is EISDIR; other
	// non-regular files are EINVAL. The file's owner may read and write
	// it whatever its mode (as knfsd's owner override): the client checked
	// the mode at open, and a process that created a file 0444 still
	// writes through the descriptor it holds (git, tar).
	Read(ctx context.Context, c *Cred, h Handle, off uint64, p []byte) (n int, eof bool, err error)

	// Write writes data at off with the given stability and returns the
	// stability actually reached (at least the one asked for). A directory
	// is EISDIR; other non-regular files are EINVAL.
	Write(ctx context.Context, c *Cred, h Handle, off uint64, data []byte, stable Stability) (n int, got Stability, err error)

	// Commit makes earlier unstable writes to h durable.
	Commit(ctx context.Context, h Handle) error

	// Create makes a regular file. With exclusive it fails with EEXIST if
	// name exists; otherwise an existing regular file is opened and, if
	// s.Size is set, truncated (other attributes are applied only to a new
	// file). created reports whether the file is new. If name exists and
	// is not a regular file, Create fails with EEXIST; it never follows a
	// symlink.
	Create(ctx context.Context, c *Cred, dir Handle, name string, s SetAttr, exclusive bool) (h Handle, a Attr, created bool, err error)

	// Mkdir makes a directory.
	Mkdir(ctx context.Context, c *Cred, dir Handle, name string, s SetAttr) (Handle, Attr, error)

	// Symlink makes a symbolic link to target.
	Symlink(ctx context.Context, c *Cred, dir Handle, name, target string, s SetAttr) (Handle, Attr, error)

	// Mknod makes a device, FIFO or socket node. major and minor apply to
	// devices only.
	Mknod(ctx context.Context, c *Cred, dir Handle, name string, t FileType, s SetAttr, major, minor uint32) (Handle, Attr, error)

	// Link makes name in dir another name of h.
	Link(ctx context.Context, c *Cred, h Handle, dir Handle, name string) error

	// Remove removes a non-directory; a directory is EISDIR (unlink(2)).
	Remove(ctx context.Context, c *Cred, dir Handle, name string) error

	// Rmdir removes an empty directory: a non-directory is ENOTDIR, a
	// non-empty directory ENOTEMPTY.
	Rmdir(ctx context.Context, c *Cred, dir Handle, name string) error

	// Rename moves from/fromName to to/toName, replacing a compatible
	// target as rename(2) does.
	Rename(ctx context.Context, c *Cred, from Handle, fromName string, to Handle, toName string) error

	// ReadDir calls fn for the entries of dir after cookie (0: from the
	// start), in order, until fn returns false or the directory ends.
	// "." and ".." are not yielded. With plus, each entry carries its
	// Handle and full Attr. Backends hold no lock while calling fn, so fn
	// may call other methods of the FS.
	ReadDir(ctx context.Context, c *Cred, dir Handle, cookie uint64, plus bool, fn func(*DirEntry) bool) error

	// StatFS returns the space and file counts of the filesystem of h.
	StatFS(ctx context.Context, h Handle) (FSStat, error)
}

// Info describes fixed properties of a backend, for FSINFO and PATHCONF.
type Info struct {
	MaxName       uint32 // longest name, bytes
	MaxLink       uint32 // most hard links to one file
	MaxFileSize   uint64
	TimeDelta     time.Duration // timestamp granularity
	CaseSensitive bool
	Symlinks      bool
	HardLinks     bool
}

// Informer is implemented by backends that know their limits; the NFS layer
// uses DefaultInfo for those that do not.
type Informer interface {
	Info() Info
}

// DefaultInfo is what a POSIX filesystem on Linux usually has.
var DefaultInfo = Info{
	MaxName:       255,
	MaxLink:       65000,
	MaxFileSize:   1<<63 - 1,
	TimeDelta:     time.Nanosecond,
	CaseSensitive: true,
	Symlinks:      true,
	HardLinks:     true,
}
