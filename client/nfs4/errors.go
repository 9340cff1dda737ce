package nfs4

import (
	"fmt"
	"syscall"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
)

// Error is a non-OK status of an operation in a COMPOUND. It unwraps to the
// errno that best matches it, so errors.Is(err, fs.ErrNotExist) works.
type Error struct {
	Op     x.NfsOpnum4
	Status x.Nfsstat4
}

func (e *Error) Error() string { return fmt.Sprintf("nfs4: %v: %v", e.Op, e.Status) }

// Unwrap returns the errno the status corresponds to.
func (e *Error) Unwrap() error { return errnoOf(e.Status) }

// errnoOf maps nfsstat4 to errno: the low values are errno numbers
// (RFC 8881 §15.1), the rest are mapped by meaning.
func errnoOf(st x.Nfsstat4) syscall.Errno {
	switch st {
	case x.NFS4ERR_PERM, x.NFS4ERR_NOENT, x.NFS4ERR_IO, x.NFS4ERR_NXIO, x.NFS4ERR_ACCESS, x.NFS4ERR_EXIST,
		x.NFS4ERR_XDEV, x.NFS4ERR_NOTDIR, x.NFS4ERR_ISDIR, x.NFS4ERR_INVAL, x.NFS4ERR_FBIG,
		x.NFS4ERR_NOSPC, x.NFS4ERR_ROFS, x.NFS4ERR_MLINK:
		// The values shared with Linux errno (RFC 8881 §15.1 took
		// them from Unix); 63, 66, 69 and 70 follow BSD numbering and
		// are mapped below.
		return syscall.Errno(st)
	case x.NFS4ERR_STALE, x.NFS4ERR_BADHANDLE, x.NFS4ERR_FHEXPIRED:
		return syscall.ESTALE
	case x.NFS4ERR_DENIED, x.NFS4ERR_LOCKED, x.NFS4ERR_SHARE_DENIED, x.NFS4ERR_DELAY, x.NFS4ERR_GRACE:
		return syscall.EAGAIN
	case x.NFS4ERR_NOTSUPP, x.NFS4ERR_ATTRNOTSUPP, x.NFS4ERR_OP_ILLEGAL:
		return syscall.EOPNOTSUPP
	case x.NFS4ERR_NOTEMPTY:
		return syscall.ENOTEMPTY
	case x.NFS4ERR_NAMETOOLONG:
		return syscall.ENAMETOOLONG
	case x.NFS4ERR_DQUOT:
		return syscall.EDQUOT
	case x.NFS4ERR_NOXATTR:
		return syscall.ENODATA
	case x.NFS4ERR_DEADLOCK:
		return syscall.EDEADLK
	case x.NFS4ERR_BADNAME, x.NFS4ERR_BADCHAR, x.NFS4ERR_BADTYPE:
		return syscall.EINVAL
	case x.NFS4ERR_SYMLINK:
		return syscall.ELOOP
	case x.NFS4ERR_WRONG_TYPE:
		return syscall.EINVAL
	}
	return syscall.EIO
}

// statusErr returns nil for NFS4_OK.
func statusErr(op x.NfsOpnum4, st x.Nfsstat4) error {
	if st == x.NFS4_OK {
		return nil
	}
	return &Error{Op: op, Status: st}
}
