package nfs4

import (
	"errors"
	"syscall"
	"unicode/utf8"

	"github.com/gonfs/gonfs/exports"
	"github.com/gonfs/gonfs/fhandle"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// PUTFH, RFC 8881 §18.19. Access to the export is checked when the file
// is used, not here: a PUTFH followed by SECINFO must not fail with
// NFS4ERR_WRONGSEC (§2.6.3.1.1).
func (c *compound) opPutfh(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	var args nfs4xdr.PUTFH4args
	if !c.decode(r, w, &args) {
		return nfs4xdr.NFS4ERR_BADXDR
	}
	e, h, p, err := c.s.ns.ResolveAny(args.Object)
	if err != nil {
		if errors.Is(err, fhandle.ErrBadHandle) {
			return c.fail(w, nfs4xdr.NFS4ERR_BADHANDLE)
		}
		return c.fail(w, nfs4xdr.NFS4ERR_STALE)
	}
	// The handle aliases the request record, which outlives the compound.
	c.putCurrent(fileRef{e: e, h: h, p: p})
	return c.fail(w, nfs4xdr.NFS4_OK)
}

// putCurrent makes f the current filehandle. The current stateid is
// cleared: it belongs to the old file (RFC 8881 §16.2.3.1.2).
func (c *compound) putCurrent(f fileRef) {
	c.cur = f
	c.curSidSet = false
	c.accErr = nil
	c.accFor = nil
}

// PUTROOTFH, RFC 8881 §18.21.
func (c *compound) opPutrootfh(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	c.putCurrent(enterNode(c.s.ns.PseudoRoot()))
	return c.fail(w, nfs4xdr.NFS4_OK)
}

// PUTPUBFH, RFC 8881 §18.20: the public filehandle is the root here.
func (c *compound) opPutpubfh(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	return c.opPutrootfh(r, w)
}

// GETFH, RFC 8881 §18.8.
func (c *compound) opGetfh(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	if st := c.needFH(); st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	res := nfs4xdr.GETFH4res{Status: nfs4xdr.NFS4_OK, Resok4: nfs4xdr.GETFH4resok{Object: c.s.wire(c.cur)}}
	res.Encode(w)
	return nfs4xdr.NFS4_OK
}

// SAVEFH, RFC 8881 §18.32: the current stateid is saved with the handle.
func (c *compound) opSavefh(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	if st := c.needFH(); st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	c.saved, c.savedSid, c.savedSidSet = c.cur, c.curSid, c.curSidSet
	return c.fail(w, nfs4xdr.NFS4_OK)
}

// RESTOREFH, RFC 8881 §18.27. With nothing saved the error is
// NFS4ERR_RESTOREFH (§15.1), not NOFILEHANDLE: the current
// filehandle is not what is missing.
func (c *compound) opRestorefh(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	if !c.saved.valid() {
		return c.fail(w, nfs4xdr.NFS4ERR_RESTOREFH)
	}
	c.putCurrent(c.saved)
	c.curSid, c.curSidSet = c.savedSid, c.savedSidSet
	return c.fail(w, nfs4xdr.NFS4_OK)
}

// checkName applies the component rules of RFC 8881 §14.2 (as knfsd
// does): empty or not UTF-8 is NFS4ERR_INVAL, "." and ".." are
// NFS4ERR_BADNAME, '/' or NUL is NFS4ERR_BADCHAR, too long
// NFS4ERR_NAMETOOLONG.
func (c *compound) checkName(name []byte) nfs4xdr.Nfsstat4 {
	switch {
	case len(name) == 0 || !utf8.Valid(name):
		return nfs4xdr.NFS4ERR_INVAL
	case string(name) == "." || string(name) == "..":
		return nfs4xdr.NFS4ERR_BADNAME
	}
	for _, b := range name {
		if b == '/' || b == 0 {
			return nfs4xdr.NFS4ERR_BADCHAR
		}
	}
	max := uint32(vfs.DefaultInfo.MaxName)
	if c.cur.e != nil {
		max = c.cur.e.Info.MaxName
	}
	if uint32(len(name)) > max {
		return nfs4xdr.NFS4ERR_NAMETOOLONG
	}
	return nfs4xdr.NFS4_OK
}

// notDirStatus is the status for using f as a directory when it is not
// one: NFS4ERR_SYMLINK for a symlink (RFC 8881 §18.13.3), else NOTDIR.
func (c *compound) notDirStatus(f fileRef) nfs4xdr.Nfsstat4 {
	if f.e != nil {
		if a, err := f.e.FS.GetAttr(c.ctx, f.h); err == nil && a.Type == vfs.TypeSymlink {
			return nfs4xdr.NFS4ERR_SYMLINK
		}
	}
	return nfs4xdr.NFS4ERR_NOTDIR
}

// LOOKUP, RFC 8881 §18.15. In the pseudo-filesystem a name leads to a
// pseudo directory or an export's root; in an export the backend decides.
func (c *compound) opLookup(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	var args nfs4xdr.LOOKUP4args
	if !c.decode(r, w, &args) {
		return nfs4xdr.NFS4ERR_BADXDR
	}
	if st := c.needFH(); st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	if st := c.checkName(args.Objname); st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	if c.cur.pseudo() {
		child, ok := c.cur.p.Child(string(args.Objname))
		if !ok {
			return c.fail(w, nfs4xdr.NFS4ERR_NOENT)
		}
		c.putCurrent(enterNode(child))
		return c.fail(w, nfs4xdr.NFS4_OK)
	}
	acc, st := c.access()
	if st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	name := string(args.Objname)
	// A nested export's root covers the directory it is mounted on.
	mount := c.mountAt(c.cur.e, c.cur.h, name)
	if mount != nil && mount.Export != nil {
		// Crossing needs what looking the name up would: search
		// permission on the directory.
		got, err := c.cur.e.FS.Access(c.ctx, &acc.Cred, c.cur.h, vfs.AccessLookup)
		if err != nil {
			return c.fail(w, errStatus(err))
		}
		if got&vfs.AccessLookup == 0 {
			return c.fail(w, nfs4xdr.NFS4ERR_ACCESS)
		}
		c.putCurrent(enterNode(mount))
		return c.fail(w, nfs4xdr.NFS4_OK)
	}
	h, _, err := c.cur.e.FS.Lookup(c.ctx, &acc.Cred, c.cur.h, name)
	switch {
	case errors.Is(err, syscall.ENOENT) && mount != nil:
		// The backend lacks a directory on the way to a nested export:
		// the pseudo directory stands in for it.
		c.putCurrent(fileRef{p: mount})
		return c.fail(w, nfs4xdr.NFS4_OK)
	case errors.Is(err, syscall.ENOTDIR):
		return c.fail(w, c.notDirStatus(c.cur))
	case err != nil:
		return c.fail(w, errStatus(err))
	}
	e := c.cur.e
	c.putCurrent(fileRef{e: e, h: h})
	return c.fail(w, nfs4xdr.NFS4_OK)
}

// LOOKUPP, RFC 8881 §18.14. From an export's root the parent is the
// directory it is mounted on: a pseudo directory, or a directory of the
// export it is nested in; the root of everything has none (NFS4ERR_NOENT).
func (c *compound) opLookupp(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	if st := c.needFH(); st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	var node = c.cur.p
	if c.cur.isExportRoot() {
		node = c.cur.e.Mount
	}
	if node != nil {
		if node.Parent == nil {
			return c.fail(w, nfs4xdr.NFS4ERR_NOENT)
		}
		c.putCurrent(c.nodeRef(node.Parent))
		return c.fail(w, nfs4xdr.NFS4_OK)
	}
	acc, st := c.access()
	if st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	h, _, err := c.cur.e.FS.Lookup(c.ctx, &acc.Cred, c.cur.h, "..")
	if err != nil {
		if errors.Is(err, syscall.ENOTDIR) {
			return c.fail(w, c.notDirStatus(c.cur))
		}
		return c.fail(w, errStatus(err))
	}
	e := c.cur.e
	c.putCurrent(fileRef{e: e, h: h})
	return c.fail(w, nfs4xdr.NFS4_OK)
}

// READLINK, RFC 8881 §18.24.
func (c *compound) opReadlink(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	if st := c.needFH(); st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	if c.cur.pseudo() {
		return c.fail(w, nfs4xdr.NFS4ERR_INVAL)
	}
	acc, st := c.access()
	if st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	target, err := c.cur.e.FS.Readlink(c.ctx, &acc.Cred, c.cur.h)
	if err != nil {
		return c.fail(w, errStatus(err))
	}
	res := nfs4xdr.READLINK4res{Status: nfs4xdr.NFS4_OK, Resok4: nfs4xdr.READLINK4resok{Link: nfs4xdr.Linktext4(target)}}
	res.Encode(w)
	return nfs4xdr.NFS4_OK
}

// The ACCESS4 bits this server decides (RFC 8881 §18.1); the xattr bits
// of RFC 8276 are added when xattrs are served.
const accessBits = nfs4xdr.ACCESS4_READ | nfs4xdr.ACCESS4_LOOKUP | nfs4xdr.ACCESS4_MODIFY |
	nfs4xdr.ACCESS4_EXTEND | nfs4xdr.ACCESS4_DELETE | nfs4xdr.ACCESS4_EXECUTE

// The ACCESS4 bits decided for directories and for other files.
const (
	dirAccessBits = nfs4xdr.ACCESS4_READ | nfs4xdr.ACCESS4_LOOKUP | nfs4xdr.ACCESS4_MODIFY |
		nfs4xdr.ACCESS4_EXTEND | nfs4xdr.ACCESS4_DELETE
	fileAccessBits = nfs4xdr.ACCESS4_READ | nfs4xdr.ACCESS4_MODIFY | nfs4xdr.ACCESS4_EXTEND |
		nfs4xdr.ACCESS4_EXECUTE
)

// ACCESS, RFC 8881 §18.1. Pseudo directories can be read and searched by
// everyone and changed by no one.
func (c *compound) opAccess(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	var args nfs4xdr.ACCESS4args
	if !c.decode(r, w, &args) {
		return nfs4xdr.NFS4ERR_BADXDR
	}
	if st := c.needFH(); st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	want := args.Access & accessBits
	var got uint32
	if c.cur.pseudo() {
		want &= dirAccessBits
		got = want & (nfs4xdr.ACCESS4_READ | nfs4xdr.ACCESS4_LOOKUP)
	} else {
		acc, st := c.access()
		if st != nfs4xdr.NFS4_OK {
			return c.fail(w, st)
		}
		a, err := c.cur.e.FS.GetAttr(c.ctx, c.cur.h)
		if err != nil {
			return c.fail(w, errStatus(err))
		}
		// The server decides only the rights that mean something for
		// the file's type (as knfsd): LOOKUP and DELETE for
		// directories, EXECUTE for the rest (RFC 8881 §18.1.3).
		if a.Type == vfs.TypeDirectory {
			want &= dirAccessBits
		} else {
			want &= fileAccessBits
		}
		got, err = c.cur.e.FS.Access(c.ctx, &acc.Cred, c.cur.h, want)
		if err != nil {
			return c.fail(w, errStatus(err))
		}
		if acc.ReadOnly {
			got &^= nfs4xdr.ACCESS4_MODIFY | nfs4xdr.ACCESS4_EXTEND | nfs4xdr.ACCESS4_DELETE
		}
	}
	supported := want
	if c.minor >= 2 {
		// RFC 8276 §8.2: the xattr bits, for exports that serve xattrs.
		xsup, xgot, st := c.xattrAccess(args.Access)
		if st != nfs4xdr.NFS4_OK {
			return c.fail(w, st)
		}
		supported, got, want = supported|xsup, got|xgot, want|xsup
	}
	res := nfs4xdr.ACCESS4res{Status: nfs4xdr.NFS4_OK, Resok4: nfs4xdr.ACCESS4resok{Supported: supported, Access: got & want}}
	res.Encode(w)
	return nfs4xdr.NFS4_OK
}

// secinfoOf lists the flavors of f's export in the administrator's order
// (RFC 8881 §18.29). Kerberos flavors are left out until RPCSEC_GSS is
// served: listing them would send clients to a flavor we cannot answer.
func (c *compound) secinfoOf(f fileRef) nfs4xdr.SECINFO4resok {
	if f.e == nil {
		return nfs4xdr.SECINFO4resok{{Flavor: uint32(exports.FlavorSys)}}
	}
	var out nfs4xdr.SECINFO4resok
	d, err := f.e.Config.Access(c.ctx, c.call.Remote)
	if err != nil {
		return out
	}
	for _, fl := range d.Sec {
		if fl == exports.FlavorSys || fl == exports.FlavorNone {
			out = append(out, nfs4xdr.Secinfo4{Flavor: uint32(fl)})
		}
	}
	return out
}

// SECINFO, RFC 8881 §18.29. It consumes the current filehandle
// (§2.6.3.1.1.8).
func (c *compound) opSecinfo(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	var args nfs4xdr.SECINFO4args
	if !c.decode(r, w, &args) {
		return nfs4xdr.NFS4ERR_BADXDR
	}
	if st := c.needFH(); st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	if st := c.checkName(args.Name); st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	target := c.cur
	if c.cur.pseudo() {
		child, ok := c.cur.p.Child(string(args.Name))
		if !ok {
			return c.fail(w, nfs4xdr.NFS4ERR_NOENT)
		}
		target = enterNode(child)
	} else {
		acc, st := c.access()
		switch st {
		case nfs4xdr.NFS4_OK:
		case nfs4xdr.NFS4ERR_WRONGSEC:
			// SECINFO is how a client learns the right flavor, so it
			// answers under any (§2.6.3.1.1); the name is looked up as the
			// export's anonymous user, never with the zero Cred (root).
			d, err := c.cur.e.Config.Access(c.ctx, c.call.Remote)
			if err != nil {
				return c.fail(w, errStatus(err))
			}
			o := d.Options()
			acc.Cred = vfs.Cred{UID: o.AnonUID, GID: o.AnonGID}
		default:
			return c.fail(w, st)
		}
		name := string(args.Name)
		if n := c.mountAt(c.cur.e, c.cur.h, name); n != nil && n.Export != nil {
			target = enterNode(n)
		} else if _, _, err := c.cur.e.FS.Lookup(c.ctx, &acc.Cred, c.cur.h, name); err != nil {
			return c.fail(w, errStatus(err))
		}
	}
	res := nfs4xdr.SECINFO4res{Status: nfs4xdr.NFS4_OK, Resok4: c.secinfoOf(target)}
	res.Encode(w)
	c.putCurrent(fileRef{})
	return nfs4xdr.NFS4_OK
}

// SECINFO_NO_NAME, RFC 8881 §18.45: the current filehandle or its parent.
func (c *compound) opSecinfoNoName(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	var style nfs4xdr.SecinfoStyle4
	if !c.decode(r, w, &style) {
		return nfs4xdr.NFS4ERR_BADXDR
	}
	if st := c.needFH(); st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	target := c.cur
	switch style {
	case nfs4xdr.SECINFO_STYLE4_CURRENT_FH:
	case nfs4xdr.SECINFO_STYLE4_PARENT:
		node := c.cur.p
		if c.cur.isExportRoot() {
			node = c.cur.e.Mount
		}
		switch {
		case node != nil && node.Parent == nil:
			return c.fail(w, nfs4xdr.NFS4ERR_NOENT)
		case node != nil:
			target = c.nodeRef(node.Parent)
		}
	default:
		return c.fail(w, nfs4xdr.NFS4ERR_INVAL)
	}
	res := nfs4xdr.SECINFO4res{Status: nfs4xdr.NFS4_OK, Resok4: c.secinfoOf(target)}
	res.Encode(w)
	c.putCurrent(fileRef{})
	return nfs4xdr.NFS4_OK
}
