package nfs4

import (
	"errors"
	"syscall"

	"github.com/gonfs/gonfs/lock"
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// CLONE, RFC 7862 §15.13: share the storage of a range of the saved file
// (source) with the current file (destination). Only a backend that
// implements vfs.Cloner can, and only on a store with shared extents:
// EOPNOTSUPP or EXDEV from it is NFS4ERR_NOTSUPP, which tells the client
// to fall back to COPY or READ and WRITE. Files of different exports are
// NFS4ERR_XDEV. Ranges the store cannot clone at (alignment, past the end
// of the source) are the backend's EINVAL, NFS4ERR_INVAL.
func (c *compound) opClone(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var args x.CLONE4args
	if !c.decode(r, w, &args) {
		return x.NFS4ERR_BADXDR
	}
	if st := c.needFH(); st != x.NFS4_OK {
		return c.fail(w, st)
	}
	if _, _, st := c.savedFile(args.ClSrcStateid, lock.ShareRead); st != x.NFS4_OK {
		return c.fail(w, st)
	}
	if _, st := c.ioFile(args.ClDstStateid, lock.ShareWrite); st != x.NFS4_OK {
		return c.fail(w, st)
	}
	if c.saved.e != c.cur.e {
		return c.fail(w, x.NFS4ERR_XDEV)
	}
	cl, ok := c.cur.e.FS.(vfs.Cloner)
	if !ok {
		return c.fail(w, x.NFS4ERR_NOTSUPP)
	}
	acc, _ := c.access()
	err := cl.Clone(c.ctx, &acc.Cred, c.saved.h, uint64(args.ClSrcOffset), c.cur.h, uint64(args.ClDstOffset), uint64(args.ClCount))
	switch {
	case errors.Is(err, syscall.EOPNOTSUPP), errors.Is(err, syscall.EXDEV):
		return c.fail(w, x.NFS4ERR_NOTSUPP)
	case err != nil:
		return c.fail(w, errStatus(err))
	}
	res := x.CLONE4res{ClStatus: x.NFS4_OK}
	res.Encode(w)
	return x.NFS4_OK
}
