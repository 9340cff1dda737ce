package nfs3

import (
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// GETATTR, RFC 1813 §3.3.1.
func (s *Server) getattr(rq *request, r *xdr.Reader, w *xdr.Writer) sunrpc.Status {
	var args nfs3xdr.GETATTR3args
	if args.Decode(r); r.Done() != nil {
		return sunrpc.GarbageArgs
	}
	var res nfs3xdr.GETATTR3res
	h, err := s.file(rq, &args.Object)
	if err == nil {
		var a vfs.Attr
		if a, err = rq.e.FS.GetAttr(rq.ctx, h); err == nil {
			res.Resok.ObjAttributes = fattr(rq.e, &a)
		}
	}
	res.Status = s.status(rq, err)
	res.Encode(w)
	return sunrpc.Success
}

// SETATTR, RFC 1813 §3.3.2. The guard compares the client's idea of ctime
// with the file's; a mismatch is NFS3ERR_NOT_SYNC and changes nothing.
func (s *Server) setattr(rq *request, r *xdr.Reader, w *xdr.Writer) sunrpc.Status {
	var args nfs3xdr.SETATTR3args
	if args.Decode(r); r.Done() != nil {
		return sunrpc.GarbageArgs
	}
	var res nfs3xdr.SETATTR3res
	var before nfs3xdr.PreOpAttr
	h, err := s.file(rq, &args.Object)
	if err == nil {
		before = s.preOp(rq, h)
		err = s.doSetattr(rq, h, &args, before)
	}
	if err == errNotSync {
		res.Status = nfs3xdr.NFS3ERR_NOT_SYNC
	} else {
		res.Status = s.status(rq, err)
	}
	wcc := s.wcc(rq, h, before)
	res.Resok.ObjWcc, res.Resfail.ObjWcc = wcc, wcc
	res.Encode(w)
	return sunrpc.Success
}

var errNotSync = notSync{}

type notSync struct{}

func (notSync) Error() string { return "setattr guard: ctime does not match" }

func (s *Server) doSetattr(rq *request, h vfs.Handle, args *nfs3xdr.SETATTR3args, before nfs3xdr.PreOpAttr) error {
	if err := rq.writable(); err != nil {
		return err
	}
	set := setAttr(&args.NewAttributes)
	if args.Guard.Check {
		ctime := before.Attributes.Ctime
		if !before.AttributesFollow {
			// The file's attributes could not be read: report why
			// (a stale handle, say) rather than a guard mismatch.
			a, err := rq.e.FS.GetAttr(rq.ctx, h)
			if err != nil {
				return err
			}
			ctime = nfstime(a.Ctime)
		}
		if ctime != args.Guard.ObjCtime {
			return errNotSync
		}
	}
	if set.Size != nil || set.Mode != nil || set.UID != nil || set.GID != nil {
		if err := s.checkModify(rq, h); err != nil {
			return err
		}
	}
	_, err := rq.e.FS.SetAttr(rq.ctx, &rq.acc.Cred, h, set)
	return err
}

// ACCESS, RFC 1813 §3.3.4. The backend decides for the caller's squashed
// identity; a read-only export takes away the rights to change anything.
func (s *Server) access(rq *request, r *xdr.Reader, w *xdr.Writer) sunrpc.Status {
	var args nfs3xdr.ACCESS3args
	if args.Decode(r); r.Done() != nil {
		return sunrpc.GarbageArgs
	}
	var res nfs3xdr.ACCESS3res
	h, err := s.file(rq, &args.Object)
	if err == nil {
		var got uint32
		if got, err = rq.e.FS.Access(rq.ctx, &rq.acc.Cred, h, args.Access); err == nil {
			if rq.acc.ReadOnly {
				got &^= nfs3xdr.ACCESS3_MODIFY | nfs3xdr.ACCESS3_EXTEND | nfs3xdr.ACCESS3_DELETE
			}
			res.Resok.Access = got & args.Access
		}
	}
	res.Status = s.status(rq, err)
	post := s.postOpOf(rq, h)
	res.Resok.ObjAttributes, res.Resfail.ObjAttributes = post, post
	res.Encode(w)
	return sunrpc.Success
}
