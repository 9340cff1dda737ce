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
	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/proto/nfs3xdr"
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

// TestEveryCodeMapped guards against a Code added without a v3 status.
func TestEveryCodeMapped(t *testing.T) {
	for c := OK; c <= ServerFault; c++ {
		if c != OK && v3[c] == nfs3xdr.NFS3_OK {
			t.Errorf("code %d maps to NFS3_OK", c)
		}
	}
}
