package vfs

import (
	"context"
	"syscall"
)

// Optional backend interfaces. The NFS layer finds them by type assertion
// on an FS and falls back (or answers NFS4ERR_NOTSUPP) when a backend does
// not implement one, so a backend adds them only where it can honour the
// contract. They serve NFSv4.2 (RFC 7862) and its xattr extension
// (RFC 8276). Like FS methods, every method is safe for concurrent use,
// runs as the given Cred (never nil), and returns syscall.Errno values,
// possibly wrapped.

// SeekWhence says what Seek looks for.
type SeekWhence uint8

const (
	SeekData SeekWhence = iota + 1 // the next byte that holds data (lseek SEEK_DATA)
	SeekHole                       // the next byte in a hole (lseek SEEK_HOLE)
)

// Seeker finds data and holes in sparse regular files (RFC 7862 §15.11).
type Seeker interface {
	// Seek returns the first offset at or after off where whence's kind
	// of content starts. The end of the file counts as a hole, so
	// SeekHole always finds one before the end of a file without holes.
	// An off at or past the end of the file is ENXIO, and so is SeekData
	// when only holes remain after off. A backend that does not track
	// holes reports the whole file as data. Seek needs read permission
	// (EACCES); directories are EISDIR and other non-regular files
	// EINVAL.
	Seek(ctx context.Context, c *Cred, h Handle, off uint64, whence SeekWhence) (uint64, error)
}

// Allocator reserves and releases storage for ranges of a regular file
// (RFC 7862 §15.1, §15.4). Both need write permission (EACCES), and fail
// with ENOTSUP when the store cannot do it; directories are EISDIR and
// other non-regular files EINVAL. length 0 is EINVAL, and a range that
// runs past the largest file size EFBIG.
type Allocator interface {
	// Allocate makes sure that writes to [off, off+length) will not fail
	// for lack of space (fallocate(2) mode 0): the range reads as before
	// (zeros where it was a hole), and the file grows to off+length if it
	// was shorter. ENOSPC when the space is not there.
	Allocate(ctx context.Context, c *Cred, h Handle, off, length uint64) error

	// Deallocate turns [off, off+length) into a hole (fallocate(2) with
	// FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE): it reads as zeros
	// afterwards and its storage is released. The size never changes;
	// the part of the range past the end of the file is ignored.
	Deallocate(ctx context.Context, c *Cred, h Handle, off, length uint64) error
}

// RangeCopier copies byte ranges between regular files of the same FS
// without the data passing through the caller (copy_file_range(2);
// RFC 7862 §15.2).
type RangeCopier interface {
	// CopyRange copies length bytes from src at srcOff to dst at dstOff
	// and returns how many it copied. length 0 means everything from
	// srcOff to the end of src (RFC 7862 §15.2.3). The copy stops early
	// only at the end of src (or when ctx ends: then it returns the bytes
	// copied so far and ctx's error). dst grows as a write would make it.
	// src needs read and dst write permission (EACCES). Overlapping ranges
	// of one file are EINVAL; directories EISDIR, other non-regular files
	// EINVAL.
	CopyRange(ctx context.Context, c *Cred, src Handle, srcOff uint64, dst Handle, dstOff, length uint64) (uint64, error)
}

// Cloner shares storage between ranges of regular files (reflinks,
// FICLONERANGE; RFC 7862 §15.13).
type Cloner interface {
	// Clone makes [dstOff, dstOff+length) of dst share the storage of
	// [srcOff, srcOff+length) of src, so it reads the same; length 0 means
	// to the end of src. It is all or nothing. A store that cannot share
	// storage between these files answers EOPNOTSUPP (ENOTSUP, the same
	// errno on Linux) or EXDEV; offsets and lengths the store cannot
	// clone at (not multiples of its block size, except a range that ends
	// at the end of src), and ranges past the end of src, are EINVAL.
	// Permissions as for CopyRange.
	Clone(ctx context.Context, c *Cred, src Handle, srcOff uint64, dst Handle, dstOff, length uint64) error
}

// XattrFlags says what SetXattr may do with an existing attribute.
type XattrFlags uint8

const (
	XattrCreateOnly  XattrFlags = 1 << iota // fail with EEXIST if the attribute exists (XATTR_CREATE)
	XattrReplaceOnly                        // fail with ErrNoXattr if it does not (XATTR_REPLACE)
)

// ErrNoXattr is the error for an extended attribute that does not exist
// (ENODATA, which Linux also calls ENOATTR).
var ErrNoXattr error = syscall.ENODATA

// Limits of extended attributes, those of Linux: a name of the user
// namespace ("user." and at most MaxXattrName more bytes, XATTR_NAME_MAX
// being 255) and a value of at most MaxXattrValue bytes (XATTR_SIZE_MAX).
const (
	MaxXattrName  = 255 - len("user.")
	MaxXattrValue = 64 << 10
)

// Xattrer serves user extended attributes (RFC 8276). Names are given and
// returned without the "user." prefix: the backend keeps them in the user
// namespace (on Linux, user.NAME), and other namespaces (security,
// trusted, system) are never visible or reachable.
//
// Errors: an empty name or one containing NUL is EINVAL, a longer name
// than MaxXattrName ENAMETOOLONG; a value longer than MaxXattrValue, or
// than the store holds for one attribute, E2BIG; no room left on the file
// for another attribute ENOSPC; a store without user attributes ENOTSUP.
// Backends size their own buffers, so ERANGE never reaches the caller.
//
// Permissions are Linux's for the user namespace: reading a value needs
// read permission on the file, setting and removing need write
// permission (EACCES); listing needs none. Only regular files and
// directories carry user attributes: on other files GetXattr is
// ErrNoXattr, ListXattrs is empty and SetXattr and RemoveXattr are EPERM,
// as are changes to a sticky directory's attributes by anyone but its
// owner or root. Setting or removing an attribute changes the file's
// ctime and Change.
type Xattrer interface {
	// GetXattr returns the value of name; ErrNoXattr if there is none.
	GetXattr(ctx context.Context, c *Cred, h Handle, name string) ([]byte, error)

	// SetXattr sets name to value, as flags allow: XattrCreateOnly fails
	// with EEXIST when name exists, XattrReplaceOnly with ErrNoXattr when
	// it does not, and 0 does either.
	SetXattr(ctx context.Context, c *Cred, h Handle, name string, value []byte, flags XattrFlags) error

	// ListXattrs returns the names of h's attributes, sorted.
	ListXattrs(ctx context.Context, c *Cred, h Handle) ([]string, error)

	// RemoveXattr removes name; ErrNoXattr if there is none.
	RemoveXattr(ctx context.Context, c *Cred, h Handle, name string) error
}

// SpanReader is Read without the copy: it hands out an open descriptor
// and a byte range instead of the bytes, so that a transport can send file
// data straight from the page cache (sendfile(2)) for large READs. It
// checks what Read checks (read permission, EACCES; directories EISDIR,
// other non-regular files EINVAL).
type SpanReader interface {
	// ReadSpan returns the part of [off, off+count) that lies inside the
	// file, as an open descriptor and range, and whether the range ends
	// at the end of the file. The caller must call the Span's Release
	// once it is done with the descriptor.
	ReadSpan(ctx context.Context, c *Cred, h Handle, off uint64, count int) (Span, error)
}

// A Span is a byte range of an open file (see SpanReader).
type Span struct {
	FD  int   // readable with pread(2) until Release; -1 when Len is 0
	Off int64 // where the range starts
	Len int   // its length: 0 at or past the end of the file
	EOF bool  // the range ends at the end of the file

	Release func() // closes FD; nil when there is nothing to release
}
