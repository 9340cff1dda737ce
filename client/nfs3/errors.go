package nfs3

import (
	"fmt"
	"syscall"

	"github.com/gonfs/gonfs/proto/mountxdr"
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/proto/nlmxdr"
)

// Error is a non-OK status from the server. It unwraps to the errno that
// best matches it, so errors.Is(err, fs.ErrNotExist) and the like work.
type Error struct {
	Proc   string // procedure name, e.g. "LOOKUP"
	Status nfs3xdr.Nfsstat3
	// Mount and Lock are set instead of Status for MOUNT and NLM errors.
	Mount mountxdr.Mountstat3
	Lock  nlmxdr.Nlm4Stats
	errno syscall.Errno
}

func (e *Error) Error() string {
	switch {
	case e.Mount != 0:
		return fmt.Sprintf("nfs3: MOUNT %s: %v", e.Proc, e.Mount)
	case e.Lock != 0:
		return fmt.Sprintf("nfs3: NLM %s: %v", e.Proc, e.Lock)
	}
	return fmt.Sprintf("nfs3: %s: %v", e.Proc, e.Status)
}

// Unwrap returns the errno the status corresponds to.
func (e *Error) Unwrap() error { return e.errno }

// statusErr returns nil for NFS3_OK and an *Error otherwise.
func statusErr(proc string, st nfs3xdr.Nfsstat3) error {
	if st == nfs3xdr.NFS3_OK {
		return nil
	}
	return &Error{Proc: proc, Status: st, errno: errnoOf(st)}
}

// errnoOf maps nfsstat3 to errno; most values are errno numbers by
// design (RFC 1813 §2.6).
func errnoOf(st nfs3xdr.Nfsstat3) syscall.Errno {
	switch st {
	case nfs3xdr.NFS3ERR_PERM, nfs3xdr.NFS3ERR_NOENT, nfs3xdr.NFS3ERR_IO, nfs3xdr.NFS3ERR_NXIO,
		nfs3xdr.NFS3ERR_ACCES, nfs3xdr.NFS3ERR_EXIST, nfs3xdr.NFS3ERR_XDEV, nfs3xdr.NFS3ERR_NODEV,
		nfs3xdr.NFS3ERR_NOTDIR, nfs3xdr.NFS3ERR_ISDIR, nfs3xdr.NFS3ERR_INVAL, nfs3xdr.NFS3ERR_FBIG,
		nfs3xdr.NFS3ERR_NOSPC, nfs3xdr.NFS3ERR_ROFS, nfs3xdr.NFS3ERR_MLINK:
		return syscall.Errno(st)
	case nfs3xdr.NFS3ERR_NAMETOOLONG:
		return syscall.ENAMETOOLONG
	case nfs3xdr.NFS3ERR_NOTEMPTY:
		return syscall.ENOTEMPTY
	case nfs3xdr.NFS3ERR_DQUOT:
		return syscall.EDQUOT
	case nfs3xdr.NFS3ERR_STALE, nfs3xdr.NFS3ERR_BADHANDLE:
		return syscall.ESTALE
	case nfs3xdr.NFS3ERR_NOTSUPP, nfs3xdr.NFS3ERR_BADTYPE:
		return syscall.EOPNOTSUPP
	case nfs3xdr.NFS3ERR_JUKEBOX:
		return syscall.EAGAIN
	}
	return syscall.EIO
}

func mountErr(proc string, st mountxdr.Mountstat3) error {
	if st == mountxdr.MNT3_OK {
		return nil
	}
	e := &Error{Proc: proc, Mount: st, errno: syscall.EIO}
	switch st {
	case mountxdr.MNT3ERR_NOENT:
		e.errno = syscall.ENOENT
	case mountxdr.MNT3ERR_ACCES, mountxdr.MNT3ERR_PERM:
		e.errno = syscall.EACCES
	case mountxdr.MNT3ERR_NOTDIR:
		e.errno = syscall.ENOTDIR
	}
	return e
}

func lockErr(proc string, st nlmxdr.Nlm4Stats) error {
	if st == nlmxdr.NLM4_GRANTED {
		return nil
	}
	e := &Error{Proc: proc, Lock: st, errno: syscall.ENOLCK}
	switch st {
	case nlmxdr.NLM4_DENIED, nlmxdr.NLM4_BLOCKED, nlmxdr.NLM4_DENIED_GRACE_PERIOD:
		e.errno = syscall.EAGAIN
	case nlmxdr.NLM4_DEADLCK:
		e.errno = syscall.EDEADLK
	case nlmxdr.NLM4_ROFS:
		e.errno = syscall.EROFS
	case nlmxdr.NLM4_STALE_FH:
		e.errno = syscall.ESTALE
	case nlmxdr.NLM4_FBIG:
		e.errno = syscall.EFBIG
	}
	return e
}
