package nfs3

import (
	"time"

	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// created is the common tail of CREATE, MKDIR, SYMLINK and MKNOD replies.
type created struct {
	obj    nfs3xdr.PostOpFh3
	attrs  nfs3xdr.PostOpAttr
	dirWcc nfs3xdr.WccData
}

// makeEntry runs the checks every creating procedure shares, then mk, and
// fills the reply's handle, attributes and the directory's wcc data.
func (s *Server) makeEntry(rq *request, where *nfs3xdr.Diropargs3, mk func(dir vfs.Handle, name string) (vfs.Handle, vfs.Attr, error)) (created, error) {
	var c created
	dir, err := s.file(rq, &where.Dir)
	var before nfs3xdr.PreOpAttr
	if err == nil {
		before = s.preOp(rq, dir)
		err = rq.writable()
	}
	if err == nil {
		err = s.checkNewName(rq, where.Name)
	}
	if err == nil {
		// A new name changes the directory, and CREATE UNCHECKED over an
		// existing file truncates it: either may need a delegation
		// recalled first.
		err = s.checkNameChange(rq, dir, string(where.Name))
	}
	if err == nil {
		var h vfs.Handle
		var a vfs.Attr
		if h, a, err = mk(dir, string(where.Name)); err == nil {
			c.obj = nfs3xdr.PostOpFh3{HandleFollows: true, Handle: nfs3xdr.NfsFh3{Data: s.ns.Handle(nil, rq.e, h)}}
			c.attrs = postOp(rq.e, &a, true)
		}
	}
	c.dirWcc = s.wcc(rq, dir, before)
	return c, err
}

// CREATE, RFC 1813 §3.3.8. An EXCLUSIVE create stores the client's
// verifier in the new file's atime and mtime, as knfsd does, so that a
// retransmitted CREATE finds the file it made and succeeds, while another
// client's CREATE of the same name gets NFS3ERR_EXIST. The client follows
// up with a SETATTR that sets the real times.
func (s *Server) create(rq *request, r *xdr.Reader, w *xdr.Writer) sunrpc.Status {
	var args nfs3xdr.CREATE3args
	if args.Decode(r); r.Done() != nil {
		return sunrpc.GarbageArgs
	}
	var res nfs3xdr.CREATE3res
	c, err := s.makeEntry(rq, &args.Where, func(dir vfs.Handle, name string) (vfs.Handle, vfs.Attr, error) {
		switch args.How.Mode {
		case nfs3xdr.UNCHECKED, nfs3xdr.GUARDED:
			set := setAttr(&args.How.ObjAttributes)
			if set.Mode == nil {
				m := uint32(0o644)
				set.Mode = &m
			}
			h, a, _, err := rq.e.FS.Create(rq.ctx, &rq.acc.Cred, dir, name, set, args.How.Mode == nfs3xdr.GUARDED)
			return h, a, err
		case nfs3xdr.EXCLUSIVE:
			return s.createExclusive(rq, dir, name, args.How.Verf)
		}
		return nil, vfs.Attr{}, errInval
	})
	res.Status = s.status(rq, err)
	res.Resok.Obj, res.Resok.ObjAttributes = c.obj, c.attrs
	res.Resok.DirWcc, res.Resfail.DirWcc = c.dirWcc, c.dirWcc
	res.Encode(w)
	return sunrpc.Success
}

// verfTimes turns a create verifier into the atime and mtime that hold it.
func verfTimes(v nfs3xdr.Createverf3) (atime, mtime time.Time) {
	a := uint32(v[0])<<24 | uint32(v[1])<<16 | uint32(v[2])<<8 | uint32(v[3])
	m := uint32(v[4])<<24 | uint32(v[5])<<16 | uint32(v[6])<<8 | uint32(v[7])
	return time.Unix(int64(a), 0), time.Unix(int64(m), 0)
}

func (s *Server) createExclusive(rq *request, dir vfs.Handle, name string, verf nfs3xdr.Createverf3) (vfs.Handle, vfs.Attr, error) {
	atime, mtime := verfTimes(verf)
	mode := uint32(0o600)
	set := vfs.SetAttr{Mode: &mode}
	h, _, _, err := rq.e.FS.Create(rq.ctx, &rq.acc.Cred, dir, name, set, true)
	if errIs(err, errExist) {
		// A retransmission of our own CREATE finds its verifier.
		h2, a, lerr := rq.e.FS.Lookup(rq.ctx, &rq.acc.Cred, dir, name)
		if lerr == nil && a.Type == vfs.TypeRegular && a.Atime.Unix() == atime.Unix() && a.Mtime.Unix() == mtime.Unix() {
			return h2, a, nil
		}
		return nil, vfs.Attr{}, err
	}
	if err != nil {
		return nil, vfs.Attr{}, err
	}
	a, err := rq.e.FS.SetAttr(rq.ctx, &rq.acc.Cred, h, vfs.SetAttr{
		Atime: vfs.TimeClient, AtimeTime: atime, Mtime: vfs.TimeClient, MtimeTime: mtime})
	return h, a, err
}

// MKDIR, RFC 1813 §3.3.9.
func (s *Server) mkdir(rq *request, r *xdr.Reader, w *xdr.Writer) sunrpc.Status {
	var args nfs3xdr.MKDIR3args
	if args.Decode(r); r.Done() != nil {
		return sunrpc.GarbageArgs
	}
	var res nfs3xdr.MKDIR3res
	c, err := s.makeEntry(rq, &args.Where, func(dir vfs.Handle, name string) (vfs.Handle, vfs.Attr, error) {
		set := setAttr(&args.Attributes)
		if set.Mode == nil {
			m := uint32(0o755)
			set.Mode = &m
		}
		return rq.e.FS.Mkdir(rq.ctx, &rq.acc.Cred, dir, name, set)
	})
	res.Status = s.status(rq, err)
	res.Resok.Obj, res.Resok.ObjAttributes = c.obj, c.attrs
	res.Resok.DirWcc, res.Resfail.DirWcc = c.dirWcc, c.dirWcc
	res.Encode(w)
	return sunrpc.Success
}

// SYMLINK, RFC 1813 §3.3.10. The target is stored as given; the server
// never follows it.
func (s *Server) symlink(rq *request, r *xdr.Reader, w *xdr.Writer) sunrpc.Status {
	var args nfs3xdr.SYMLINK3args
	if args.Decode(r); r.Done() != nil {
		return sunrpc.GarbageArgs
	}
	var res nfs3xdr.SYMLINK3res
	c, err := s.makeEntry(rq, &args.Where, func(dir vfs.Handle, name string) (vfs.Handle, vfs.Attr, error) {
		if len(args.Symlink.SymlinkData) == 0 {
			return nil, vfs.Attr{}, errInval
		}
		set := setAttr(&args.Symlink.SymlinkAttributes)
		set.Mode = nil // a symlink's mode means nothing on Linux
		return rq.e.FS.Symlink(rq.ctx, &rq.acc.Cred, dir, name, string(args.Symlink.SymlinkData), set)
	})
	res.Status = s.status(rq, err)
	res.Resok.Obj, res.Resok.ObjAttributes = c.obj, c.attrs
	res.Resok.DirWcc, res.Resfail.DirWcc = c.dirWcc, c.dirWcc
	res.Encode(w)
	return sunrpc.Success
}

// MKNOD, RFC 1813 §3.3.11: devices, sockets and FIFOs; other types are
// NFS3ERR_BADTYPE.
func (s *Server) mknod(rq *request, r *xdr.Reader, w *xdr.Writer) sunrpc.Status {
	var args nfs3xdr.MKNOD3args
	if args.Decode(r); r.Done() != nil {
		return sunrpc.GarbageArgs
	}
	var res nfs3xdr.MKNOD3res
	badType := false
	c, err := s.makeEntry(rq, &args.Where, func(dir vfs.Handle, name string) (vfs.Handle, vfs.Attr, error) {
		var sattr *nfs3xdr.Sattr3
		var major, minor uint32
		switch args.What.Type {
		case nfs3xdr.NF3CHR, nfs3xdr.NF3BLK:
			sattr = &args.What.Device.DevAttributes
			major, minor = args.What.Device.Spec.Specdata1, args.What.Device.Spec.Specdata2
		case nfs3xdr.NF3SOCK, nfs3xdr.NF3FIFO:
			sattr = &args.What.PipeAttributes
		default:
			badType = true
			return nil, vfs.Attr{}, errInval
		}
		set := setAttr(sattr)
		if set.Mode == nil {
			m := uint32(0o644)
			set.Mode = &m
		}
		return rq.e.FS.Mknod(rq.ctx, &rq.acc.Cred, dir, name, vfs.FileType(args.What.Type), set, major, minor)
	})
	res.Status = s.status(rq, err)
	if badType {
		res.Status = nfs3xdr.NFS3ERR_BADTYPE
	}
	res.Resok.Obj, res.Resok.ObjAttributes = c.obj, c.attrs
	res.Resok.DirWcc, res.Resfail.DirWcc = c.dirWcc, c.dirWcc
	res.Encode(w)
	return sunrpc.Success
}
