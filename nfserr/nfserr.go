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
	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/proto/nfs3xdr"
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
	case errors.Is(err, exports.ErrDenied), errors.Is(err, exports.ErrInsecurePort),
		errors.Is(err, namespace.ErrWrongSec), errors.Is(err, exports.ErrNotExported):
		return Access
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return Delay
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
	Symlink:     nfs3xdr.NFS3ERR_INVAL,
	ServerFault: nfs3xdr.NFS3ERR_IO,
}

// NFS3 maps err to an NFSv3 status (RFC 1813 §2.6). Unknown errors become
// NFS3ERR_IO, which the NFSv3 layer logs.
func NFS3(err error) nfs3xdr.Nfsstat3 { return v3[Of(err)] }
