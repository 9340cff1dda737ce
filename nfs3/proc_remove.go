package nfs3

import (
	"syscall"

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
	if !decode(r, &args) {
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
	if !decode(r, &args) {
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
	if !decode(r, &args) {
		return sunrpc.GarbageArgs
	}
	var res nfs3xdr.RENAME3res
	var fromBefore, toBefore nfs3xdr.PreOpAttr
	var to vfs.Handle
	from, err := s.file(rq, &args.From.Dir)
	if err == nil {
		fromBefore = s.preOp(rq, from)
		fromExport := rq.e
		to, err = s.file(rq, &args.To.Dir)
		if err == nil && rq.e != fromExport {
			err = errXDev
		}
	}
	if err == nil {
		toBefore = s.preOp(rq, to)
		err = rq.writable()
	}
	if err == nil {
		err = s.checkName(rq, args.From.Name)
	}
	if err == nil {
		err = s.checkNewName(rq, args.To.Name)
		if args.From.Name == "." || args.From.Name == ".." {
			err = errInval
		}
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
	fw, tw := s.wcc(rq, from, fromBefore), s.wcc(rq, to, toBefore)
	res.Resok.FromdirWcc, res.Resok.TodirWcc = fw, tw
	res.Resfail.FromdirWcc, res.Resfail.TodirWcc = fw, tw
	res.Encode(w)
	return sunrpc.Success
}

// LINK, RFC 1813 §3.3.15.
func (s *Server) link(rq *request, r *xdr.Reader, w *xdr.Writer) sunrpc.Status {
	var args nfs3xdr.LINK3args
	if !decode(r, &args) {
		return sunrpc.GarbageArgs
	}
	var res nfs3xdr.LINK3res
	var before nfs3xdr.PreOpAttr
	var dir vfs.Handle
	h, err := s.file(rq, &args.File)
	if err == nil {
		fileExport := rq.e
		dir, err = s.file(rq, &args.Link.Dir)
		if err == nil && rq.e != fileExport {
			err = errXDev
		}
	}
	if err == nil {
		before = s.preOp(rq, dir)
		err = rq.writable()
	}
	if err == nil {
		err = s.checkNewName(rq, args.Link.Name)
	}
	if err == nil {
		err = s.checkModify(rq, h)
	}
	if err == nil {
		err = rq.e.FS.Link(rq.ctx, &rq.acc.Cred, h, dir, string(args.Link.Name))
	}
	res.Status = s.status(rq, err)
	post := s.postOpOf(rq, h)
	wcc := s.wcc(rq, dir, before)
	res.Resok.FileAttributes, res.Resok.LinkdirWcc = post, wcc
	res.Resfail.FileAttributes, res.Resfail.LinkdirWcc = post, wcc
	res.Encode(w)
	return sunrpc.Success
}
