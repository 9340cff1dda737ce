package nfs4

import (
	"github.com/gonfs/gonfs/lock"
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// space runs ALLOCATE or DEALLOCATE on the current file: a stateid that
// allows writing (RFC 7862 §15.1.3, §15.4.3), a backend that implements
// vfs.Allocator (else NFS4ERR_NOTSUPP: space_reserved is not offered
// either), and a range that is not empty and does not wrap
// (NFS4ERR_INVAL).
func (c *compound) space(wire x.Stateid4, off x.Offset4, length x.Length4, dealloc bool) x.Nfsstat4 {
	if _, st := c.ioFile(wire, lock.ShareWrite); st != x.NFS4_OK {
		return st
	}
	al, ok := c.cur.e.FS.(vfs.Allocator)
	if !ok {
		return x.NFS4ERR_NOTSUPP
	}
	if length == 0 || uint64(off) > ^uint64(0)-uint64(length) {
		return x.NFS4ERR_INVAL
	}
	acc, _ := c.access()
	var err error
	if dealloc {
		err = al.Deallocate(c.ctx, &acc.Cred, c.cur.h, uint64(off), uint64(length))
	} else {
		err = al.Allocate(c.ctx, &acc.Cred, c.cur.h, uint64(off), uint64(length))
	}
	return errStatus(err)
}

// ALLOCATE, RFC 7862 §15.1: reserve space, growing the file when the
// range runs past its end.
func (c *compound) opAllocate(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var args x.ALLOCATE4args
	if !c.decode(r, w, &args) {
		return x.NFS4ERR_BADXDR
	}
	if st := c.space(args.AaStateid, args.AaOffset, args.AaLength, false); st != x.NFS4_OK {
		return c.fail(w, st)
	}
	res := x.ALLOCATE4res{ArStatus: x.NFS4_OK}
	res.Encode(w)
	return x.NFS4_OK
}

// DEALLOCATE, RFC 7862 §15.4: punch a hole; the size never changes.
func (c *compound) opDeallocate(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var args x.DEALLOCATE4args
	if !c.decode(r, w, &args) {
		return x.NFS4ERR_BADXDR
	}
	if st := c.space(args.DaStateid, args.DaOffset, args.DaLength, true); st != x.NFS4_OK {
		return c.fail(w, st)
	}
	res := x.DEALLOCATE4res{DrStatus: x.NFS4_OK}
	res.Encode(w)
	return x.NFS4_OK
}
