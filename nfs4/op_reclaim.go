package nfs4

import (
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/xdr"
)

// opReclaimComplete runs RECLAIM_COMPLETE (RFC 8881 §18.51). With
// rca_one_fs the current filehandle names the file system that is done,
// so one is required (§18.51.3); the state tracks reclaims per client
// only, so it changes nothing then.
func (c *compound) opReclaimComplete(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	var a nfs4xdr.RECLAIM_COMPLETE4args
	if !c.decode(r, w, &a) {
		return nfs4xdr.NFS4ERR_BADXDR
	}
	if a.RcaOneFs {
		if st := c.needFH(); st != nfs4xdr.NFS4_OK {
			return c.fail(w, st)
		}
	}
	eff, st := c.s.state.ReclaimComplete(c.cid, a.RcaOneFs)
	if st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	// The record persisted here is what lets the client reclaim after a
	// restart; it must be durable before the reply says so.
	if err := c.s.apply(eff); err != nil {
		return c.fail(w, nfs4xdr.NFS4ERR_SERVERFAULT)
	}
	res := nfs4xdr.RECLAIM_COMPLETE4res{RcrStatus: nfs4xdr.NFS4_OK}
	res.Encode(w)
	return nfs4xdr.NFS4_OK
}
