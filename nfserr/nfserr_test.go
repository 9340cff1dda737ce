package nfserr

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"

	"github.com/gonfs/gonfs/exports"
	"github.com/gonfs/gonfs/fhandle"
	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/proto/mountxdr"
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/proto/nlmxdr"
)

func TestNFS3(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want nfs3xdr.Nfsstat3
	}{
		{nil, nfs3xdr.NFS3_OK},
		{syscall.EPERM, nfs3xdr.NFS3ERR_PERM},
		{syscall.ENOENT, nfs3xdr.NFS3ERR_NOENT},
		{&fs.PathError{Op: "open", Path: "x", Err: syscall.ENOENT}, nfs3xdr.NFS3ERR_NOENT},
		{fmt.Errorf("wrapped: %w", syscall.EACCES), nfs3xdr.NFS3ERR_ACCES},
		{syscall.EIO, nfs3xdr.NFS3ERR_IO},
		{syscall.ENXIO, nfs3xdr.NFS3ERR_NXIO},
		{syscall.EEXIST, nfs3xdr.NFS3ERR_EXIST},
		{syscall.EXDEV, nfs3xdr.NFS3ERR_XDEV},
		{syscall.ENODEV, nfs3xdr.NFS3ERR_NODEV},
		{syscall.ENOTDIR, nfs3xdr.NFS3ERR_NOTDIR},
		{syscall.EISDIR, nfs3xdr.NFS3ERR_ISDIR},
		{syscall.EINVAL, nfs3xdr.NFS3ERR_INVAL},
		{syscall.EFBIG, nfs3xdr.NFS3ERR_FBIG},
		{syscall.EOVERFLOW, nfs3xdr.NFS3ERR_FBIG},
		{syscall.ENOSPC, nfs3xdr.NFS3ERR_NOSPC},
		{syscall.EROFS, nfs3xdr.NFS3ERR_ROFS},
		{syscall.EMLINK, nfs3xdr.NFS3ERR_MLINK},
		{syscall.ENAMETOOLONG, nfs3xdr.NFS3ERR_NAMETOOLONG},
		{syscall.ENOTEMPTY, nfs3xdr.NFS3ERR_NOTEMPTY},
		{syscall.EDQUOT, nfs3xdr.NFS3ERR_DQUOT},
		{syscall.ESTALE, nfs3xdr.NFS3ERR_STALE},
		{syscall.EBADF, nfs3xdr.NFS3ERR_STALE},
		{syscall.ENOTSUP, nfs3xdr.NFS3ERR_NOTSUPP},
		{syscall.EAGAIN, nfs3xdr.NFS3ERR_JUKEBOX},
		{syscall.ETIMEDOUT, nfs3xdr.NFS3ERR_JUKEBOX},
		{syscall.EINTR, nfs3xdr.NFS3ERR_JUKEBOX},
		{syscall.ELOOP, nfs3xdr.NFS3ERR_INVAL},
		{syscall.ENODATA, nfs3xdr.NFS3ERR_NOENT},
		{syscall.E2BIG, nfs3xdr.NFS3ERR_FBIG},
		{syscall.ECHILD, nfs3xdr.NFS3ERR_IO}, // an errno with no NFS meaning
		{fhandle.ErrBadHandle, nfs3xdr.NFS3ERR_BADHANDLE},
		{fhandle.ErrStale, nfs3xdr.NFS3ERR_STALE},
		{namespace.ErrUnknownExport, nfs3xdr.NFS3ERR_STALE},
		{exports.ErrDenied, nfs3xdr.NFS3ERR_ACCES},
		{exports.ErrInsecurePort, nfs3xdr.NFS3ERR_ACCES},
		{namespace.ErrWrongSec, nfs3xdr.NFS3ERR_ACCES},
		{context.DeadlineExceeded, nfs3xdr.NFS3ERR_JUKEBOX},
		{errors.New("something odd"), nfs3xdr.NFS3ERR_IO},
	} {
		if got := NFS3(tc.err); got != tc.want {
			t.Errorf("NFS3(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestEveryCodeMapped guards against a Code added without a status.
func TestEveryCodeMapped(t *testing.T) {
	for c := OK; c <= ServerFault; c++ {
		if c != OK && v3[c] == nfs3xdr.NFS3_OK {
			t.Errorf("code %d maps to NFS3_OK", c)
		}
		if c != OK && v4[c] == nfs4xdr.NFS4_OK {
			t.Errorf("code %d maps to NFS4_OK", c)
		}
	}
}

func TestNFS4(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want nfs4xdr.Nfsstat4
	}{
		{nil, nfs4xdr.NFS4_OK},
		{syscall.ENOENT, nfs4xdr.NFS4ERR_NOENT},
		{syscall.EACCES, nfs4xdr.NFS4ERR_ACCESS},
		{syscall.ELOOP, nfs4xdr.NFS4ERR_SYMLINK},
		{syscall.ENODEV, nfs4xdr.NFS4ERR_IO},
		{syscall.EAGAIN, nfs4xdr.NFS4ERR_DELAY},
		{fhandle.ErrStale, nfs4xdr.NFS4ERR_STALE},
		{fhandle.ErrBadHandle, nfs4xdr.NFS4ERR_BADHANDLE},
		{namespace.ErrWrongSec, nfs4xdr.NFS4ERR_WRONGSEC},
		{exports.ErrDenied, nfs4xdr.NFS4ERR_ACCESS},
		{lock.ErrShareDenied, nfs4xdr.NFS4ERR_SHARE_DENIED},
		{lock.ErrTooManyLocks, nfs4xdr.NFS4ERR_DELAY},
		{lock.ErrInvalidRange, nfs4xdr.NFS4ERR_INVAL},
		{syscall.ENODATA, nfs4xdr.NFS4ERR_NOXATTR},
		{fmt.Errorf("getxattr: %w", syscall.ENODATA), nfs4xdr.NFS4ERR_NOXATTR},
		{syscall.E2BIG, nfs4xdr.NFS4ERR_XATTR2BIG},
		{syscall.ENXIO, nfs4xdr.NFS4ERR_NXIO},
		{syscall.EOPNOTSUPP, nfs4xdr.NFS4ERR_NOTSUPP},
		{errors.New("odd"), nfs4xdr.NFS4ERR_SERVERFAULT},
	} {
		if got := NFS4(tc.err); got != tc.want {
			t.Errorf("NFS4(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestMNT3(t *testing.T) {
	for _, tc := range []struct {
		err   error
		want  mountxdr.Mountstat3
		known bool
	}{
		{nil, mountxdr.MNT3_OK, true},
		{syscall.ENOENT, mountxdr.MNT3ERR_NOENT, true},
		{syscall.ENOTDIR, mountxdr.MNT3ERR_NOTDIR, true},
		{syscall.ELOOP, mountxdr.MNT3ERR_NOTDIR, true},
		{syscall.EACCES, mountxdr.MNT3ERR_ACCES, true},
		{exports.ErrDenied, mountxdr.MNT3ERR_ACCES, true},
		{syscall.ESTALE, mountxdr.MNT3ERR_NOENT, true},
		{syscall.ENAMETOOLONG, mountxdr.MNT3ERR_NAMETOOLONG, true},
		{syscall.ENOSPC, mountxdr.MNT3ERR_SERVERFAULT, false},
		{errors.New("odd"), mountxdr.MNT3ERR_SERVERFAULT, false},
	} {
		if got, known := MNT3(tc.err); got != tc.want || known != tc.known {
			t.Errorf("MNT3(%v) = %v %v, want %v %v", tc.err, got, known, tc.want, tc.known)
		}
	}
}

func TestNLM4(t *testing.T) {
	for _, tc := range []struct {
		err   error
		want  nlmxdr.Nlm4Stats
		known bool
	}{
		{nil, nlmxdr.NLM4_GRANTED, true},
		{fhandle.ErrStale, nlmxdr.NLM4_STALE_FH, true},
		{fhandle.ErrBadHandle, nlmxdr.NLM4_STALE_FH, true},
		{syscall.ENOENT, nlmxdr.NLM4_STALE_FH, true},
		{lock.ErrShareDenied, nlmxdr.NLM4_DENIED, true},
		{lock.ErrTooManyLocks, nlmxdr.NLM4_DENIED_NOLOCKS, true},
		{lock.ErrInvalidRange, nlmxdr.NLM4_FBIG, true},
		{syscall.EROFS, nlmxdr.NLM4_ROFS, true},
		{exports.ErrDenied, nlmxdr.NLM4_FAILED, true},
		{errors.New("odd"), nlmxdr.NLM4_FAILED, false},
	} {
		if got, known := NLM4(tc.err); got != tc.want || known != tc.known {
			t.Errorf("NLM4(%v) = %v %v, want %v %v", tc.err, got, known, tc.want, tc.known)
		}
	}
}
