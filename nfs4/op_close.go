package nfs4

import (
	"github.com/gonfs/gonfs/lock"
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/xdr"
)

// openFile checks the current filehandle for an operation on an open
// stateid (CLOSE, OPEN_DOWNGRADE) and returns its lock table key. Only
// files of an export can be open: the pseudo-filesystem has no stateid to
// match (NFS4ERR_BAD_STATEID). Other file types are left to the stateid
// check, which finds no open of theirs.
func (c *compound) openFile() (lock.FileKey, x.Nfsstat4) {
	if st := c.needFH(); st != x.NFS4_OK {
		return "", st
	}
	if c.cur.pseudo() {
		return "", x.NFS4ERR_BAD_STATEID
	}
	if _, st := c.access(); st != x.NFS4_OK {
		return "", st
	}
	return c.fileKey(), x.NFS4_OK
}

// CLOSE, RFC 8881 §18.2. The seqid is NFSv4.0's and is ignored. The reply
// carries the invalid special stateid (§18.2.4), which also becomes the
// current stateid, so that a later use of it in the compound fails.
func (c *compound) opClose(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var args x.CLOSE4args
	if !c.decode(r, w, &args) {
		return x.NFS4ERR_BADXDR
	}
	file, st := c.openFile()
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	sid, st := c.stateid(args.OpenStateid)
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	out, eff, st := c.s.state.Close(c.cid, file, sid)
	_ = c.s.apply(eff) // lock table changes only; apply logs failures
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	res := x.CLOSE4res{Status: x.NFS4_OK, OpenStateid: x.Stateid4(out)}
	res.Encode(w)
	c.setStateid(out)
	return x.NFS4_OK
}

// OPEN_DOWNGRADE, RFC 8881 §18.18. Delegation want bits in share_access
// mean nothing here and are dropped; the rest must name modes the
// open-owner asked for (the state manager checks).
func (c *compound) opOpenDowngrade(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var args x.OPEN_DOWNGRADE4args
	if !c.decode(r, w, &args) {
		return x.NFS4ERR_BADXDR
	}
	file, st := c.openFile()
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	access, deny, _, st := splitShareAccess(args.ShareAccess, args.ShareDeny)
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	sid, st := c.stateid(args.OpenStateid)
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	out, st := c.s.state.OpenDowngrade(c.cid, file, sid, access, deny)
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	res := x.OPEN_DOWNGRADE4res{Status: x.NFS4_OK, Resok4: x.OPEN_DOWNGRADE4resok{OpenStateid: x.Stateid4(out)}}
	res.Encode(w)
	c.setStateid(out)
	return x.NFS4_OK
}
