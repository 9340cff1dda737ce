package nfs4

import (
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// Extended attributes, RFC 8276: the user namespace of a backend that
// implements vfs.Xattrer. Names travel without the "user." prefix, which
// is how the backend takes them. A backend without vfs.Xattrer, and the
// pseudo-filesystem, answer NFS4ERR_NOTSUPP (xattr_support is false
// there, §8.2). Permission is the backend's to decide for the caller;
// changes need a read-write export (NFS4ERR_ROFS). Values and names over
// the limits of vfs are NFS4ERR_XATTR2BIG and NFS4ERR_NAMETOOLONG, a
// missing attribute NFS4ERR_NOXATTR (both through nfserr).

// xattrAccessBits are the ACCESS bits of RFC 8276 §8.4.1.
const xattrAccessBits = x.ACCESS4_XAREAD | x.ACCESS4_XAWRITE | x.ACCESS4_XALIST

// xattrer returns the current file's backend as a vfs.Xattrer.
func (c *compound) xattrer() (vfs.Xattrer, x.Nfsstat4) {
	if st := c.needFH(); st != x.NFS4_OK {
		return nil, st
	}
	if c.cur.pseudo() {
		return nil, x.NFS4ERR_NOTSUPP
	}
	xa, ok := c.cur.e.FS.(vfs.Xattrer)
	if !ok {
		return nil, x.NFS4ERR_NOTSUPP
	}
	return xa, x.NFS4_OK
}

// ServesXattrs reports whether fs serves extended attributes: the value
// of the xattr_support attribute (RFC 8276 §8.2) for its files.
func ServesXattrs(fs vfs.FS) bool {
	_, ok := fs.(vfs.Xattrer)
	return ok
}

// xattrAccess decides the xattr bits of ACCESS (RFC 8276 §8.4.1) among
// want for the current file, as knfsd does: reading and listing need read
// permission, writing needs write permission and a read-write export, and
// only regular files and directories, the files that carry user
// attributes, get any. It returns the bits the server decides (none when
// the file's backend has no xattrs) and those granted.
func (c *compound) xattrAccess(want uint32) (supported, granted uint32, st x.Nfsstat4) {
	want &= xattrAccessBits
	if want == 0 || c.cur.pseudo() || !ServesXattrs(c.cur.e.FS) {
		return 0, 0, x.NFS4_OK
	}
	acc, st := c.access()
	if st != x.NFS4_OK {
		return 0, 0, st
	}
	a, err := c.cur.e.FS.GetAttr(c.ctx, c.cur.h)
	if err != nil {
		return 0, 0, errStatus(err)
	}
	if a.Type != vfs.TypeRegular && a.Type != vfs.TypeDirectory {
		return want, 0, x.NFS4_OK
	}
	got, err := c.cur.e.FS.Access(c.ctx, &acc.Cred, c.cur.h, vfs.AccessRead|vfs.AccessModify)
	if err != nil {
		return 0, 0, errStatus(err)
	}
	if got&vfs.AccessRead != 0 {
		granted |= x.ACCESS4_XAREAD | x.ACCESS4_XALIST
	}
	if got&vfs.AccessModify != 0 && !acc.ReadOnly {
		granted |= x.ACCESS4_XAWRITE
	}
	return want, granted & want, x.NFS4_OK
}

// GETXATTR, RFC 8276 §8.4.2. A value too large for the session's replies
// becomes NFS4ERR_REP_TOO_BIG in the compound loop.
func (c *compound) opGetxattr(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var args x.GETXATTR4args
	if !c.decode(r, w, &args) {
		return x.NFS4ERR_BADXDR
	}
	xa, st := c.xattrer()
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	acc, st := c.access()
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	v, err := xa.GetXattr(c.ctx, &acc.Cred, c.cur.h, string(args.GxaName))
	if err != nil {
		return c.fail(w, errStatus(err))
	}
	res := x.GETXATTR4res{GxrStatus: x.NFS4_OK, GxrValue: v}
	res.Encode(w)
	return x.NFS4_OK
}

// xattrChange runs a change of the current file's attributes and returns
// the change_info4 around it. The backend gives no atomic before and
// after values, so atomic is false (RFC 8881 §3.3.5).
func (c *compound) xattrChange(change func(xa vfs.Xattrer, cred *vfs.Cred) error) (x.ChangeInfo4, x.Nfsstat4) {
	xa, st := c.xattrer()
	if st != x.NFS4_OK {
		return x.ChangeInfo4{}, st
	}
	acc, st := c.access()
	if st != x.NFS4_OK {
		return x.ChangeInfo4{}, st
	}
	if acc.ReadOnly {
		return x.ChangeInfo4{}, x.NFS4ERR_ROFS
	}
	before, err := c.cur.e.FS.GetAttr(c.ctx, c.cur.h)
	if err != nil {
		return x.ChangeInfo4{}, errStatus(err)
	}
	if err := change(xa, &acc.Cred); err != nil {
		return x.ChangeInfo4{}, errStatus(err)
	}
	after, err := c.cur.e.FS.GetAttr(c.ctx, c.cur.h)
	if err != nil {
		return x.ChangeInfo4{}, errStatus(err)
	}
	return x.ChangeInfo4{Before: x.Changeid4(before.Change), After: x.Changeid4(after.Change)}, x.NFS4_OK
}

// SETXATTR, RFC 8276 §8.4.3: SETXATTR4_CREATE fails with NFS4ERR_EXIST
// on an existing attribute, SETXATTR4_REPLACE with NFS4ERR_NOXATTR on a
// missing one.
func (c *compound) opSetxattr(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var args x.SETXATTR4args
	if !c.decode(r, w, &args) {
		return x.NFS4ERR_BADXDR
	}
	var flags vfs.XattrFlags
	switch args.SxaOption {
	case x.SETXATTR4_EITHER:
	case x.SETXATTR4_CREATE:
		flags = vfs.XattrCreateOnly
	case x.SETXATTR4_REPLACE:
		flags = vfs.XattrReplaceOnly
	default:
		return c.fail(w, x.NFS4ERR_INVAL)
	}
	if len(args.SxaValue) > vfs.MaxXattrValue {
		return c.fail(w, x.NFS4ERR_XATTR2BIG)
	}
	info, st := c.xattrChange(func(xa vfs.Xattrer, cred *vfs.Cred) error {
		return xa.SetXattr(c.ctx, cred, c.cur.h, string(args.SxaKey), args.SxaValue, flags)
	})
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	res := x.SETXATTR4res{SxrStatus: x.NFS4_OK, SxrInfo: info}
	res.Encode(w)
	return x.NFS4_OK
}

// listxattrsFixed is the size of a LISTXATTRS4resok without names: the
// cookie, the array's length and eof. lxa_maxcount bounds the whole
// result, as knfsd counts it.
const listxattrsFixed = 8 + 4 + 4

// LISTXATTRS, RFC 8276 §8.4.4. The cookie is the number of names already
// returned, in the backend's sorted order, so a listing resumes after the
// last name seen; a name removed meanwhile may shift it by one, as with
// any directory-like cookie. A cookie past the end gives an empty, final
// reply. When lxa_maxcount leaves no room for the next name,
// NFS4ERR_TOOSMALL.
func (c *compound) opListxattrs(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var args x.LISTXATTRS4args
	if !c.decode(r, w, &args) {
		return x.NFS4ERR_BADXDR
	}
	xa, st := c.xattrer()
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	acc, st := c.access()
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	names, err := xa.ListXattrs(c.ctx, &acc.Cred, c.cur.h)
	if err != nil {
		return c.fail(w, errStatus(err))
	}
	cookie := uint64(args.LxaCookie)
	if cookie > uint64(len(names)) {
		cookie = uint64(len(names))
	}
	rest := names[cookie:]
	budget := int64(min(uint64(args.LxaMaxcount), maxIO)) - listxattrsFixed
	var out []x.Xattrkey4
	for _, n := range rest {
		size := int64(4 + (len(n)+3)&^3)
		if size > budget {
			break
		}
		budget -= size
		out = append(out, x.Xattrkey4(n))
	}
	if len(out) == 0 && len(rest) > 0 {
		return c.fail(w, x.NFS4ERR_TOOSMALL)
	}
	res := x.LISTXATTRS4res{LxrStatus: x.NFS4_OK, LxrValue: x.LISTXATTRS4resok{
		LxrCookie: x.NfsCookie4(cookie + uint64(len(out))),
		LxrNames:  out,
		LxrEof:    len(out) == len(rest),
	}}
	res.Encode(w)
	return x.NFS4_OK
}

// REMOVEXATTR, RFC 8276 §8.4.5.
func (c *compound) opRemovexattr(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var args x.REMOVEXATTR4args
	if !c.decode(r, w, &args) {
		return x.NFS4ERR_BADXDR
	}
	info, st := c.xattrChange(func(xa vfs.Xattrer, cred *vfs.Cred) error {
		return xa.RemoveXattr(c.ctx, cred, c.cur.h, string(args.RxaName))
	})
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	res := x.REMOVEXATTR4res{RxrStatus: x.NFS4_OK, RxrInfo: info}
	res.Encode(w)
	return x.NFS4_OK
}
