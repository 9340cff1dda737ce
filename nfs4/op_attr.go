package nfs4

import (
	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/nfs4/fattr"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/xdr"
)

// checkUse checks that the caller may use the current filehandle's export
// at all (a pseudo directory is open to everyone).
func (c *compound) checkUse() nfs4xdr.Nfsstat4 {
	if st := c.needFH(); st != nfs4xdr.NFS4_OK {
		return st
	}
	_, st := c.access()
	return st
}

// GETATTR, RFC 8881 §18.7. Attributes the server does not support are left
// out of the reply and of its bitmap (§18.7.3); rdattr_error only has a
// value in READDIR (§5.8.1.12), so it is left out here too.
func (c *compound) opGetattr(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	req, _ := fattr.DecodeBitmap(r)
	if r.Err() != nil {
		return c.fail(w, nfs4xdr.NFS4ERR_BADXDR)
	}
	if st := c.checkUse(); st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	req.Clear(nfs4xdr.FATTR4_RDATTR_ERROR)
	src, err := c.source(c.cur, c.attrExport(c.cur.e), req)
	if err != nil {
		return c.fail(w, attrStatus(err))
	}
	// Another client's write delegation: its holder has the size and
	// change attribute (CB_GETATTR, RFC 8881 §10.4.3; deleg.go).
	if st := c.delegGetattr(req, &src); st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	start := len(w.Buf)
	w.Uint32(uint32(nfs4xdr.NFS4_OK))
	if _, err := fattr.Encode(w, req, &src); err != nil {
		w.Buf = w.Buf[:start]
		return c.fail(w, attrStatus(err))
	}
	return nfs4xdr.NFS4_OK
}

// SETATTR, RFC 8881 §18.30. SETATTR4res carries attrsset whatever the
// status (c.fail writes it empty); on success it is every attribute asked
// for, since the backend applies a change whole or not at all.
func (c *compound) opSetattr(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	var args nfs4xdr.SETATTR4args
	if !c.decode(r, w, &args) {
		return nfs4xdr.NFS4ERR_BADXDR
	}
	if st := c.needFH(); st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	if c.cur.pseudo() {
		// The pseudo-filesystem is the server's own, read-only (§7.3).
		return c.fail(w, nfs4xdr.NFS4ERR_ROFS)
	}
	acc, st := c.access()
	if st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	set, err := fattr.Decode(&args.ObjAttributes, c.attrExport(c.cur.e), false)
	if err != nil {
		return c.fail(w, attrStatus(err))
	}
	if acc.ReadOnly {
		return c.fail(w, nfs4xdr.NFS4ERR_ROFS)
	}
	// Other clients' delegations are recalled first, so that the recall
	// says whether the file is being truncated (deleg.go).
	if err := c.recallSetattr(&set.Attr); err != nil {
		return c.fail(w, nfs4xdr.NFS4ERR_DELAY)
	}
	if set.Attr.Size != nil {
		// A size change writes the file: it needs a stateid that may
		// write, as WRITE does (§18.30.3, §8.2.2), anonymous included.
		if st := c.checkWrite(args.Stateid); st != nfs4xdr.NFS4_OK {
			return c.fail(w, st)
		}
	}
	if !set.Attr.Empty() {
		if _, err := c.cur.e.FS.SetAttr(c.ctx, &acc.Cred, c.cur.h, set.Attr); err != nil {
			return c.fail(w, errStatus(err))
		}
	}
	w.Uint32(uint32(nfs4xdr.NFS4_OK))
	set.Applied.Encode(w)
	return nfs4xdr.NFS4_OK
}

// checkWrite asks the state manager whether stateid wire may write the
// current file (RFC 8881 §8.2, §9.1.2), substituting the current stateid.
func (c *compound) checkWrite(wire nfs4xdr.Stateid4) nfs4xdr.Nfsstat4 {
	return c.checkStateid(c.cur, wire, lock.ShareWrite)
}

// VERIFY, RFC 8881 §18.31.
func (c *compound) opVerify(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	return c.verify(r, w, true)
}

// NVERIFY, RFC 8881 §18.15.
func (c *compound) opNverify(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	return c.verify(r, w, false)
}

// verify compares the client's attribute values with the current file's:
// VERIFY (same true) goes on when they are equal, else NFS4ERR_NOT_SAME;
// NVERIFY goes on when they differ, else NFS4ERR_SAME.
func (c *compound) verify(r *xdr.Reader, w *xdr.Writer, same bool) nfs4xdr.Nfsstat4 {
	var args nfs4xdr.VERIFY4args // NVERIFY4args has the same shape
	if !c.decode(r, w, &args) {
		return nfs4xdr.NFS4ERR_BADXDR
	}
	if st := c.checkUse(); st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	want := fattr.FromWords(args.ObjAttributes.Attrmask)
	src, err := c.source(c.cur, c.attrExport(c.cur.e), want)
	if err != nil {
		return c.fail(w, attrStatus(err))
	}
	equal, err := fattr.Compare(&args.ObjAttributes, &src)
	switch {
	case err != nil:
		return c.fail(w, attrStatus(err))
	case equal && !same:
		return c.fail(w, nfs4xdr.NFS4ERR_SAME)
	case !equal && same:
		return c.fail(w, nfs4xdr.NFS4ERR_NOT_SAME)
	}
	return c.fail(w, nfs4xdr.NFS4_OK)
}
