package nfs4

import (
	"errors"
	"syscall"

	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// recallDelegations recalls the delegations other clients hold on a file
// an operation changes or removes; while recalls are outstanding it
// returns ErrRecallPending and the operation answers NFS4ERR_DELAY
// (RFC 8881 §10.4.4, §18.25.4, §18.26.4; deleg.go).
func (c *compound) recallDelegations(f fileRef) error {
	if c.recallFor(f, true, false) != nfs4xdr.NFS4_OK {
		return ErrRecallPending
	}
	return nil
}

// writable checks that the current filehandle is a file the caller may
// change: not in the pseudo-filesystem, which is the server's own and
// read-only (RFC 8881 §7.3), nor in an export it may only read.
func (c *compound) writable() (namespace.Access, nfs4xdr.Nfsstat4) {
	if st := c.needFH(); st != nfs4xdr.NFS4_OK {
		return namespace.Access{}, st
	}
	if c.cur.pseudo() {
		return namespace.Access{}, nfs4xdr.NFS4ERR_ROFS
	}
	acc, st := c.access()
	if st != nfs4xdr.NFS4_OK {
		return acc, st
	}
	if acc.ReadOnly {
		return acc, nfs4xdr.NFS4ERR_ROFS
	}
	return acc, nfs4xdr.NFS4_OK
}

// writableNames is writable, and checkName for each name the operation
// makes or removes in the current directory.
func (c *compound) writableNames(names ...nfs4xdr.Component4) (namespace.Access, nfs4xdr.Nfsstat4) {
	acc, st := c.writable()
	if st != nfs4xdr.NFS4_OK {
		return acc, st
	}
	for _, n := range names {
		if st := c.checkName(n); st != nfs4xdr.NFS4_OK {
			return acc, st
		}
	}
	return acc, nfs4xdr.NFS4_OK
}

// twoHandles is writableNames for LINK and RENAME, which also use the
// saved filehandle: both must be set (NFS4ERR_NOFILEHANDLE) and in one
// export (NFS4ERR_XDEV, RFC 8881 §18.9.3, §18.26.3). Two pseudo
// directories are one read-only filesystem (NFS4ERR_ROFS).
func (c *compound) twoHandles(names ...nfs4xdr.Component4) (namespace.Access, nfs4xdr.Nfsstat4) {
	if !c.cur.valid() || !c.saved.valid() {
		return namespace.Access{}, nfs4xdr.NFS4ERR_NOFILEHANDLE
	}
	switch {
	case c.cur.pseudo() && c.saved.pseudo():
		return namespace.Access{}, nfs4xdr.NFS4ERR_ROFS
	case c.cur.e != c.saved.e:
		return namespace.Access{}, nfs4xdr.NFS4ERR_XDEV
	}
	return c.writableNames(names...)
}

// LINK, RFC 8881 §18.9: the saved filehandle is the file, the current one
// the directory that gets the new name, and stays current.
func (c *compound) opLink(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	var args nfs4xdr.LINK4args
	if !c.decode(r, w, &args) {
		return nfs4xdr.NFS4ERR_BADXDR
	}
	acc, st := c.twoHandles(args.Newname)
	if st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	if err := c.recallDelegations(c.saved); err != nil {
		return c.fail(w, nfs4xdr.NFS4ERR_DELAY)
	}
	before := c.dirChange(c.cur)
	if err := c.cur.e.FS.Link(c.ctx, &acc.Cred, c.saved.h, c.cur.h, string(args.Newname)); err != nil {
		// link(2) of a directory is EPERM; NFSv4 says NFS4ERR_ISDIR
		// (§18.9.3).
		if a, aerr := c.saved.e.FS.GetAttr(c.ctx, c.saved.h); aerr == nil && a.Type == vfs.TypeDirectory {
			return c.fail(w, nfs4xdr.NFS4ERR_ISDIR)
		}
		return c.fail(w, errStatus(err))
	}
	res := nfs4xdr.LINK4res{Status: nfs4xdr.NFS4_OK, Resok4: nfs4xdr.LINK4resok{Cinfo: changeInfo(before, c.dirChange(c.cur))}}
	res.Encode(w)
	return nfs4xdr.NFS4_OK
}

// REMOVE, RFC 8881 §18.25: a file of any type, or an empty directory. The
// target is looked up first, to know which backend call removes it and
// which file's delegations to recall.
func (c *compound) opRemove(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	var args nfs4xdr.REMOVE4args
	if !c.decode(r, w, &args) {
		return nfs4xdr.NFS4ERR_BADXDR
	}
	acc, st := c.writableNames(args.Target)
	if st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	fs, dir, name := c.cur.e.FS, c.cur.h, string(args.Target)
	h, a, err := fs.Lookup(c.ctx, &acc.Cred, dir, name)
	if err != nil {
		return c.fail(w, errStatus(err))
	}
	if err := c.recallDelegations(fileRef{e: c.cur.e, h: h}); err != nil {
		return c.fail(w, nfs4xdr.NFS4ERR_DELAY)
	}
	before := c.dirChange(c.cur)
	if a.Type == vfs.TypeDirectory {
		err = fs.Rmdir(c.ctx, &acc.Cred, dir, name)
	} else {
		err = fs.Remove(c.ctx, &acc.Cred, dir, name)
		if errors.Is(err, syscall.EISDIR) {
			// Replaced by a directory since the lookup.
			err = fs.Rmdir(c.ctx, &acc.Cred, dir, name)
		}
	}
	if err != nil {
		return c.fail(w, errStatus(err))
	}
	res := nfs4xdr.REMOVE4res{Status: nfs4xdr.NFS4_OK, Resok4: nfs4xdr.REMOVE4resok{Cinfo: changeInfo(before, c.dirChange(c.cur))}}
	res.Encode(w)
	return nfs4xdr.NFS4_OK
}

// RENAME, RFC 8881 §18.26: from the saved directory to the current one.
// Renaming a file onto another name of itself succeeds and does nothing
// (§18.26.4); the backend follows rename(2), which does exactly that.
func (c *compound) opRename(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	var args nfs4xdr.RENAME4args
	if !c.decode(r, w, &args) {
		return nfs4xdr.NFS4ERR_BADXDR
	}
	acc, st := c.twoHandles(args.Oldname, args.Newname)
	if st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	fs, from, to := c.cur.e.FS, c.saved.h, c.cur.h
	oldName, newName := string(args.Oldname), string(args.Newname)
	// The file moved and the one replaced may both be delegated.
	found := 0
	for _, d := range []struct {
		dir  vfs.Handle
		name string
	}{{from, oldName}, {to, newName}} {
		if h, _, err := fs.Lookup(c.ctx, &acc.Cred, d.dir, d.name); err == nil {
			found++
			if err := c.recallDelegations(fileRef{e: c.cur.e, h: h}); err != nil {
				return c.fail(w, nfs4xdr.NFS4ERR_DELAY)
			}
		}
	}
	srcBefore, dstBefore := c.dirChange(c.saved), c.dirChange(c.cur)
	if err := fs.Rename(c.ctx, &acc.Cred, from, oldName, to, newName); err != nil {
		if found == 2 && (errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.ENOTEMPTY)) {
			// rename(2) says why the existing target cannot be
			// replaced; NFSv4 says NFS4ERR_EXIST for all of it: types
			// that do not match, or a directory that is not empty
			// (§18.26.3).
			return c.fail(w, nfs4xdr.NFS4ERR_EXIST)
		}
		return c.fail(w, errStatus(err))
	}
	res := nfs4xdr.RENAME4res{Status: nfs4xdr.NFS4_OK, Resok4: nfs4xdr.RENAME4resok{
		SourceCinfo: changeInfo(srcBefore, c.dirChange(c.saved)),
		TargetCinfo: changeInfo(dstBefore, c.dirChange(c.cur)),
	}}
	res.Encode(w)
	return nfs4xdr.NFS4_OK
}
