package nfs3

import (
	"syscall"

	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

var errXDev = syscall.EXDEV

// unlinkEntry is REMOVE and RMDIR: the same checks, a different backend call.
func (s *Server) unlinkEntry(rq *request, obj *nfs3xdr.Diropargs3, rm func(dir vfs.Handle, name string) error) (nfs3xdr.WccData, error) {
	dir, err := s.file(rq, &obj.Dir)
	var before nfs3xdr.PreOpAttr
	if err == nil {
		before = s.preOp(rq, dir)
		err = rq.writable()
	}
	if err == nil {
		err = s.checkName(rq, obj.Name)
	}
	if err == nil && (obj.Name == "." || obj.Name == "..") {
		err = errInval
	}
	if err == nil {
		err = s.checkNameChange(rq, dir, string(obj.Name))
	}
	if err == nil {
		err = rm(dir, string(obj.Name))
	}
	return s.wcc(rq, dir, before), err
}

// REMOVE, RFC 1813 §3.3.12.
func (s *Server) remove(rq *request, r *xdr.Reader, w *xdr.Writer) sunrpc.Status {
	var args nfs3xdr.REMOVE3args
	if args.Decode(r); r.Done() != nil {
		return sunrpc.GarbageArgs
	}
	wcc, err := s.unlinkEntry(rq, &args.Object, func(dir vfs.Handle, name string) error {
		return rq.e.FS.Remove(rq.ctx, &rq.acc.Cred, dir, name)
	})
	res := nfs3xdr.REMOVE3res{Status: s.status(rq, err)}
	res.Resok.DirWcc, res.Resfail.DirWcc = wcc, wcc
	res.Encode(w)
	return sunrpc.Success
}

// RMDIR, RFC 1813 §3.3.13.
func (s *Server) rmdir(rq *request, r *xdr.Reader, w *xdr.Writer) sunrpc.Status {
	var args nfs3xdr.RMDIR3args
	if args.Decode(r); r.Done() != nil {
		return sunrpc.GarbageArgs
	}
	wcc, err := s.unlinkEntry(rq, &args.Object, func(dir vfs.Handle, name string) error {
		return rq.e.FS.Rmdir(rq.ctx, &rq.acc.Cred, dir, name)
	})
	res := nfs3xdr.RMDIR3res{Status: s.status(rq, err)}
	res.Resok.DirWcc, res.Resfail.DirWcc = wcc, wcc
	res.Encode(w)
	return sunrpc.Success
}

// RENAME, RFC 1813 §3.3.14. Both directories must be in the same export:
// an export is a filesystem to the client, and a rename across
// filesystems is NFS3ERR_XDEV.
func (s *Server) rename(rq *request, r *xdr.Reader, w *xdr.Writer) sunrpc.Status {
	var args nfs3xdr.RENAME3args
	if args.Decode(r); r.Done() != nil {
		return sunrpc.GarbageArgs
	}
	var res nfs3xdr.RENAME3res
	var fromBefore, toBefore nfs3xdr.PreOpAttr
	var to vfs.Handle
	// Each directory's wcc data is read in its own export: across exports
	// the two handles belong to different backends, where one's bytes may
	// name another file or none.
	var fromE, toE *namespace.Export
	from, err := s.file(rq, &args.From.Dir)
	if err == nil {
		fromE = rq.e
		fromBefore = s.preOp(rq, from)
		to, err = s.file(rq, &args.To.Dir)
		if err == nil {
			toE = rq.e
			toBefore = s.preOp(rq, to)
			if toE != fromE {
				err = errXDev
			}
		}
	}
	if err == nil {
		err = rq.writable()
	}
	if err == nil {
		err = s.checkName(rq, args.From.Name)
	}
	if err == nil && (args.From.Name == "." || args.From.Name == "..") {
		err = errInval
	}
	if err == nil {
		err = s.checkNewName(rq, args.To.Name)
	}
	if err == nil {
		err = s.checkNameChange(rq, from, string(args.From.Name))
	}
	if err == nil {
		err = s.checkNameChange(rq, to, string(args.To.Name))
	}
	if err == nil {
		err = rq.e.FS.Rename(rq.ctx, &rq.acc.Cred, from, string(args.From.Name), to, string(args.To.Name))
	}
	res.Status = s.status(rq, err)
	fw, tw := wccIn(rq, fromE, from, fromBefore), wccIn(rq, toE, to, toBefore)
	res.Resok.FromdirWcc, res.Resok.TodirWcc = fw, tw
	res.Resfail.FromdirWcc, res.Resfail.TodirWcc = fw, tw
	res.Encode(w)
	return sunrpc.Success
}

// LINK, RFC 1813 §3.3.15.
func (s *Server) link(rq *request, r *xdr.Reader, w *xdr.Writer) sunrpc.Status {
	var args nfs3xdr.LINK3args
	if args.Decode(r); r.Done() != nil {
		return sunrpc.GarbageArgs
	}
	var res nfs3xdr.LINK3res
	var before nfs3xdr.PreOpAttr
	var dir vfs.Handle
	var fileE, dirE *namespace.Export // as in rename
	h, err := s.file(rq, &args.File)
	if err == nil {
		fileE = rq.e
		dir, err = s.file(rq, &args.Link.Dir)
		if err == nil {
			dirE = rq.e
			before = s.preOp(rq, dir)
			if dirE != fileE {
				err = errXDev
			}
		}
	}
	if err == nil {
		err = rq.writable()
	}
	if err == nil {
		err = s.checkNewName(rq, args.Link.Name)
	}
	if err == nil {
		err = s.checkModify(rq, h)
	}
	if err == nil {
		err = s.checkNameChange(rq, dir, string(args.Link.Name))
	}
	if err == nil {
		err = rq.e.FS.Link(rq.ctx, &rq.acc.Cred, h, dir, string(args.Link.Name))
	}
	res.Status = s.status(rq, err)
	post := postOpIn(rq, fileE, h)
	wcc := wccIn(rq, dirE, dir, before)
	res.Resok.FileAttributes, res.Resok.LinkdirWcc = post, wcc
	res.Resfail.FileAttributes, res.Resfail.LinkdirWcc = post, wcc
	res.Encode(w)
	return sunrpc.Success
}
