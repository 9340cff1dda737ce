// Package nfserr is the one place where errors from backends, file handles
// and access checks become NFS status codes.
//
// Of classifies an error into a version-neutral Code; NFS3 (and, with
// NFSv4, NFS4) turn a Code into the wire status. An error nothing here
// recognises is a server fault: callers log it, since it means a backend
// returned something the protocol has no name for.
package nfserr

import (
	"context"
	"errors"
	"syscall"

	"github.com/gonfs/gonfs/exports"
	"github.com/gonfs/gonfs/fhandle"
	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/proto/mountxdr"
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/proto/nlmxdr"
)

// Code is a version-neutral NFS status.
type Code int

const (
	OK Code = iota
	Perm
	NoEnt
	IO
	NXIO
	Access
	Exist
	XDev
	NoDev
	NotDir
	IsDir
	Inval
	FBig
	NoSpc
	ROFS
	MLink
	NameTooLong
	NotEmpty
	DQuot
	Stale
	BadHandle
	NotSupp
	TooSmall
	Delay // try again later: NFS3ERR_JUKEBOX, NFS4ERR_DELAY
	Symlink
	Denied   // a lock or share reservation conflicts
	NoLocks  // a lock table limit was reached
	BadRange // a byte range that overflows or is empty
	WrongSec // the auth flavor is not one the export allows
	NoXattr  // the extended attribute does not exist (ENODATA, vfs.ErrNoXattr)
	Xattr2Big
	ServerFault
)

var errnoCodes = map[syscall.Errno]Code{
	syscall.EPERM:        Perm,
	syscall.ENOENT:       NoEnt,
	syscall.EIO:          IO,
	syscall.ENXIO:        NXIO,
	syscall.EACCES:       Access,
	syscall.EEXIST:       Exist,
	syscall.EXDEV:        XDev,
	syscall.ENODEV:       NoDev,
	syscall.ENOTDIR:      NotDir,
	syscall.EISDIR:       IsDir,
	syscall.EINVAL:       Inval,
	syscall.EFBIG:        FBig,
	syscall.EOVERFLOW:    FBig,
	syscall.ENOSPC:       NoSpc,
	syscall.EROFS:        ROFS,
	syscall.EMLINK:       MLink,
	syscall.ENAMETOOLONG: NameTooLong,
	syscall.ENOTEMPTY:    NotEmpty,
	syscall.EDQUOT:       DQuot,
	syscall.ESTALE:       Stale,
	syscall.EBADF:        Stale, // a handle whose file vanished under an open fd
	syscall.ENOTSUP:      NotSupp,
	syscall.EAGAIN:       Delay,
	syscall.ETIMEDOUT:    Delay,
	syscall.EINTR:        Delay,
	syscall.ELOOP:        Symlink,
	// ENODATA is vfs.ErrNoXattr; E2BIG only comes from xattr calls (a
	// value larger than the store keeps, vfs.Xattrer).
	syscall.ENODATA: NoXattr,
	syscall.E2BIG:   Xattr2Big,
}

// Of classifies err. nil is OK.
func Of(err error) Code {
	if err == nil {
		return OK
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if c, ok := errnoCodes[errno]; ok {
			return c
		}
		return ServerFault
	}
	switch {
	case errors.Is(err, fhandle.ErrBadHandle):
		return BadHandle
	case errors.Is(err, fhandle.ErrStale), errors.Is(err, namespace.ErrUnknownExport):
		return Stale
	case errors.Is(err, namespace.ErrWrongSec):
		return WrongSec
	case errors.Is(err, exports.ErrDenied), errors.Is(err, exports.ErrInsecurePort),
		errors.Is(err, exports.ErrNotExported):
		return Access
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return Delay
	case errors.Is(err, lock.ErrShareDenied):
		return Denied
	case errors.Is(err, lock.ErrTooManyLocks):
		return NoLocks
	case errors.Is(err, lock.ErrInvalidRange):
		return BadRange
	}
	return ServerFault
}

var v3 = [...]nfs3xdr.Nfsstat3{
	OK:          nfs3xdr.NFS3_OK,
	Perm:        nfs3xdr.NFS3ERR_PERM,
	NoEnt:       nfs3xdr.NFS3ERR_NOENT,
	IO:          nfs3xdr.NFS3ERR_IO,
	NXIO:        nfs3xdr.NFS3ERR_NXIO,
	Access:      nfs3xdr.NFS3ERR_ACCES,
	Exist:       nfs3xdr.NFS3ERR_EXIST,
	XDev:        nfs3xdr.NFS3ERR_XDEV,
	NoDev:       nfs3xdr.NFS3ERR_NODEV,
	NotDir:      nfs3xdr.NFS3ERR_NOTDIR,
	IsDir:       nfs3xdr.NFS3ERR_ISDIR,
	Inval:       nfs3xdr.NFS3ERR_INVAL,
	FBig:        nfs3xdr.NFS3ERR_FBIG,
	NoSpc:       nfs3xdr.NFS3ERR_NOSPC,
	ROFS:        nfs3xdr.NFS3ERR_ROFS,
	MLink:       nfs3xdr.NFS3ERR_MLINK,
	NameTooLong: nfs3xdr.NFS3ERR_NAMETOOLONG,
	NotEmpty:    nfs3xdr.NFS3ERR_NOTEMPTY,
	DQuot:       nfs3xdr.NFS3ERR_DQUOT,
	Stale:       nfs3xdr.NFS3ERR_STALE,
	BadHandle:   nfs3xdr.NFS3ERR_BADHANDLE,
	NotSupp:     nfs3xdr.NFS3ERR_NOTSUPP,
	TooSmall:    nfs3xdr.NFS3ERR_TOOSMALL,
	Delay:       nfs3xdr.NFS3ERR_JUKEBOX,
	// NFSv3 has no symlink-loop status; a symlink where a directory or
	// file was needed is an invalid argument.
	Symlink:  nfs3xdr.NFS3ERR_INVAL,
	Denied:   nfs3xdr.NFS3ERR_ACCES,
	NoLocks:  nfs3xdr.NFS3ERR_JUKEBOX,
	BadRange: nfs3xdr.NFS3ERR_INVAL,
	WrongSec: nfs3xdr.NFS3ERR_ACCES,
	// NFSv3 has no xattrs; should one of these reach it, they are what
	// the errnos mean for a file.
	NoXattr:     nfs3xdr.NFS3ERR_NOENT,
	Xattr2Big:   nfs3xdr.NFS3ERR_FBIG,
	ServerFault: nfs3xdr.NFS3ERR_IO,
}

// NFS3 maps err to an NFSv3 status (RFC 1813 §2.6). Unknown errors become
// NFS3ERR_IO, which the NFSv3 layer logs.
func NFS3(err error) nfs3xdr.Nfsstat3 { return v3[Of(err)] }

// mnt3 holds the MOUNT statuses, a subset of NFSv3's with the same numbers
// (RFC 1813 Appendix I, mountstat3). A stale handle met while walking to a
// mount point means the path is gone; a symlink on the way is not a
// directory.
var mnt3 = map[Code]mountxdr.Mountstat3{
	OK:          mountxdr.MNT3_OK,
	Perm:        mountxdr.MNT3ERR_PERM,
	NoEnt:       mountxdr.MNT3ERR_NOENT,
	IO:          mountxdr.MNT3ERR_IO,
	Access:      mountxdr.MNT3ERR_ACCES,
	NotDir:      mountxdr.MNT3ERR_NOTDIR,
	Inval:       mountxdr.MNT3ERR_INVAL,
	NameTooLong: mountxdr.MNT3ERR_NAMETOOLONG,
	NotSupp:     mountxdr.MNT3ERR_NOTSUPP,
	Stale:       mountxdr.MNT3ERR_NOENT,
	Symlink:     mountxdr.MNT3ERR_NOTDIR,
	WrongSec:    mountxdr.MNT3ERR_ACCES,
}

// MNT3 maps err to a MOUNT v3 status. known is false for errors MOUNT has
// no status for (MNT3ERR_SERVERFAULT), which callers log.
func MNT3(err error) (st mountxdr.Mountstat3, known bool) {
	st, known = mnt3[Of(err)]
	if !known {
		return mountxdr.MNT3ERR_SERVERFAULT, false
	}
	return st, true
}

// NLM4 maps err to an NLM v4 status. NLM has few: a handle that no longer
// names a file is NLM4_STALE_FH, a conflict NLM4_DENIED, a lock table limit
// NLM4_DENIED_NOLOCKS, a bad range NLM4_FBIG; everything else, including
// refused access, is NLM4_FAILED (as knfsd answers). known is false for
// server faults, which callers log.
func NLM4(err error) (st nlmxdr.Nlm4Stats, known bool) {
	switch c := Of(err); c {
	case OK:
		return nlmxdr.NLM4_GRANTED, true
	case Stale, BadHandle, NoEnt:
		return nlmxdr.NLM4_STALE_FH, true
	case Denied:
		return nlmxdr.NLM4_DENIED, true
	case NoLocks:
		return nlmxdr.NLM4_DENIED_NOLOCKS, true
	case BadRange, FBig:
		return nlmxdr.NLM4_FBIG, true
	case ROFS:
		return nlmxdr.NLM4_ROFS, true
	case ServerFault:
		return nlmxdr.NLM4_FAILED, false
	}
	return nlmxdr.NLM4_FAILED, true
}

var v4 = [...]nfs4xdr.Nfsstat4{
	OK:          nfs4xdr.NFS4_OK,
	Perm:        nfs4xdr.NFS4ERR_PERM,
	NoEnt:       nfs4xdr.NFS4ERR_NOENT,
	IO:          nfs4xdr.NFS4ERR_IO,
	NXIO:        nfs4xdr.NFS4ERR_NXIO,
	Access:      nfs4xdr.NFS4ERR_ACCESS,
	Exist:       nfs4xdr.NFS4ERR_EXIST,
	XDev:        nfs4xdr.NFS4ERR_XDEV,
	NoDev:       nfs4xdr.NFS4ERR_IO, // NFSv4 has no ENODEV status
	NotDir:      nfs4xdr.NFS4ERR_NOTDIR,
	IsDir:       nfs4xdr.NFS4ERR_ISDIR,
	Inval:       nfs4xdr.NFS4ERR_INVAL,
	FBig:        nfs4xdr.NFS4ERR_FBIG,
	NoSpc:       nfs4xdr.NFS4ERR_NOSPC,
	ROFS:        nfs4xdr.NFS4ERR_ROFS,
	MLink:       nfs4xdr.NFS4ERR_MLINK,
	NameTooLong: nfs4xdr.NFS4ERR_NAMETOOLONG,
	NotEmpty:    nfs4xdr.NFS4ERR_NOTEMPTY,
	DQuot:       nfs4xdr.NFS4ERR_DQUOT,
	Stale:       nfs4xdr.NFS4ERR_STALE,
	BadHandle:   nfs4xdr.NFS4ERR_BADHANDLE,
	NotSupp:     nfs4xdr.NFS4ERR_NOTSUPP,
	TooSmall:    nfs4xdr.NFS4ERR_TOOSMALL,
	Delay:       nfs4xdr.NFS4ERR_DELAY,
	Symlink:     nfs4xdr.NFS4ERR_SYMLINK,
	Denied:      nfs4xdr.NFS4ERR_SHARE_DENIED,
	// NFS4ERR_RESOURCE is gone from NFSv4.1 (RFC 8881 §15.1.1.8): a full
	// lock table is a transient condition.
	NoLocks:     nfs4xdr.NFS4ERR_DELAY,
	BadRange:    nfs4xdr.NFS4ERR_INVAL,
	WrongSec:    nfs4xdr.NFS4ERR_WRONGSEC,
	NoXattr:     nfs4xdr.NFS4ERR_NOXATTR,   // RFC 8276 §8.3
	Xattr2Big:   nfs4xdr.NFS4ERR_XATTR2BIG, // RFC 8276 §8.3
	ServerFault: nfs4xdr.NFS4ERR_SERVERFAULT,
}

// NFS4 maps err to an NFSv4 status (RFC 8881 §15). Unknown errors become
// NFS4ERR_SERVERFAULT, which callers log.
func NFS4(err error) nfs4xdr.Nfsstat4 { return v4[Of(err)] }
