package nfs3

import (
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// LOOKUP, RFC 1813 §3.3.3. ".." of an export's root is the root itself:
// the backend never walks out of the tree it serves.
func (s *Server) lookup(rq *request, r *xdr.Reader, w *xdr.Writer) sunrpc.Status {
	var args nfs3xdr.LOOKUP3args
	if args.Decode(r); r.Done() != nil {
		return sunrpc.GarbageArgs
	}
	var res nfs3xdr.LOOKUP3res
	dir, err := s.file(rq, &args.What.Dir)
	if err == nil {
		err = s.checkName(rq, args.What.Name)
	}
	if err == nil {
		var h vfs.Handle
		var a vfs.Attr
		h, a, err = rq.e.FS.Lookup(rq.ctx, &rq.acc.Cred, dir, string(args.What.Name))
		if err == nil {
			res.Resok.Object.Data = s.ns.Handle(nil, rq.e, h)
			res.Resok.ObjAttributes = postOp(rq.e, &a, true)
		}
	}
	res.Status = s.status(rq, err)
	post := s.postOpOf(rq, dir)
	res.Resok.DirAttributes, res.Resfail.DirAttributes = post, post
	res.Encode(w)
	return sunrpc.Success
}

// READLINK, RFC 1813 §3.3.5.
func (s *Server) readlink(rq *request, r *xdr.Reader, w *xdr.Writer) sunrpc.Status {
	var args nfs3xdr.READLINK3args
	if args.Decode(r); r.Done() != nil {
		return sunrpc.GarbageArgs
	}
	var res nfs3xdr.READLINK3res
	h, err := s.file(rq, &args.Symlink)
	if err == nil {
		var target string
		if target, err = rq.e.FS.Readlink(rq.ctx, &rq.acc.Cred, h); err == nil {
			res.Resok.Data = nfs3xdr.Nfspath3(target)
		}
	}
	res.Status = s.status(rq, err)
	post := s.postOpOf(rq, h)
	res.Resok.SymlinkAttributes, res.Resfail.SymlinkAttributes = post, post
	res.Encode(w)
	return sunrpc.Success
}
