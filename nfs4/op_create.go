package nfs4

import (
	"github.com/gonfs/gonfs/nfs4/fattr"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// CREATE, RFC 8881 §18.4: directories, symlinks, devices, sockets and
// FIFOs in the current directory, which the new object replaces as the
// current filehandle. Regular files are OPEN's (NFS4ERR_BADTYPE, as are
// the named-attribute types, which the server does not have). The
// pseudo-filesystem is read-only (NFS4ERR_ROFS, §7.3).
func (c *compound) opCreate(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	var args nfs4xdr.CREATE4args
	if !c.decode(r, w, &args) {
		return nfs4xdr.NFS4ERR_BADXDR
	}
	if st := c.needFH(); st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	typ, ok := createType(args.Objtype.Type)
	if !ok {
		return c.fail(w, nfs4xdr.NFS4ERR_BADTYPE)
	}
	if typ == vfs.TypeSymlink && len(args.Objtype.Linkdata) == 0 {
		// symlink(2) refuses an empty target too.
		return c.fail(w, nfs4xdr.NFS4ERR_INVAL)
	}
	acc, st := c.writableNames(args.Objname)
	if st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	set, err := fattr.Decode(&args.Createattrs, c.attrExport(c.cur.e), true)
	if err != nil {
		return c.fail(w, attrStatus(err))
	}
	dir := c.cur
	fs, name, cred := dir.e.FS, string(args.Objname), &acc.Cred
	before := c.dirChange(dir)
	var h vfs.Handle
	switch typ {
	case vfs.TypeDirectory:
		h, _, err = fs.Mkdir(c.ctx, cred, dir.h, name, set.Attr)
	case vfs.TypeSymlink:
		h, _, err = fs.Symlink(c.ctx, cred, dir.h, name, string(args.Objtype.Linkdata), set.Attr)
	default:
		dev := args.Objtype.Devdata
		h, _, err = fs.Mknod(c.ctx, cred, dir.h, name, typ, set.Attr, dev.Specdata1, dev.Specdata2)
	}
	if err != nil {
		return c.fail(w, errStatus(err))
	}
	res := nfs4xdr.CREATE4res{Status: nfs4xdr.NFS4_OK, Resok4: nfs4xdr.CREATE4resok{
		Cinfo:   changeInfo(before, c.dirChange(dir)),
		Attrset: set.Applied.Bitmap4(),
	}}
	res.Encode(w)
	c.putCurrent(fileRef{e: dir.e, h: h})
	return nfs4xdr.NFS4_OK
}

// createType maps the types CREATE makes to the backend's.
func createType(t nfs4xdr.NfsFtype4) (vfs.FileType, bool) {
	switch t {
	case nfs4xdr.NF4DIR:
		return vfs.TypeDirectory, true
	case nfs4xdr.NF4LNK:
		return vfs.TypeSymlink, true
	case nfs4xdr.NF4BLK:
		return vfs.TypeBlockDevice, true
	case nfs4xdr.NF4CHR:
		return vfs.TypeCharDevice, true
	case nfs4xdr.NF4SOCK:
		return vfs.TypeSocket, true
	case nfs4xdr.NF4FIFO:
		return vfs.TypeFIFO, true
	}
	return 0, false
}
