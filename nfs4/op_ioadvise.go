package nfs4

import (
	"github.com/gonfs/gonfs/lock"
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/xdr"
)

// IO_ADVISE, RFC 7862 §15.5: hints about future I/O. The hints are
// advisory and the reply lists the ones the server will act on (§15.5.3);
// we act on none, so the reply's bitmap is empty, which tells the client
// not to bother. The stateid is checked as for READ (any open, or a
// special stateid, will do), so that advice about a file the client may
// not read is refused as a READ would be.
func (c *compound) opIoAdvise(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var args x.IO_ADVISE4args
	if !c.decode(r, w, &args) {
		return x.NFS4ERR_BADXDR
	}
	if _, st := c.ioFile(args.IaaStateid, lock.ShareRead); st != x.NFS4_OK {
		return c.fail(w, st)
	}
	res := x.IO_ADVISE4res{IorStatus: x.NFS4_OK, Resok4: x.IO_ADVISE4resok{IorHints: x.Bitmap4{}}}
	res.Encode(w)
	return x.NFS4_OK
}
