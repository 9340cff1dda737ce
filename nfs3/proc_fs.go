package nfs3

import (
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// FSSTAT, RFC 1813 §3.3.18.
func (s *Server) fsstat(rq *request, r *xdr.Reader, w *xdr.Writer) sunrpc.Status {
	var args nfs3xdr.FSSTAT3args
	if args.Decode(r); r.Done() != nil {
		return sunrpc.GarbageArgs
	}
	var res nfs3xdr.FSSTAT3res
	h, err := s.file(rq, &args.Fsroot)
	if err == nil {
		var st vfs.FSStat
		if st, err = rq.e.FS.StatFS(rq.ctx, h); err == nil {
			res.Resok = nfs3xdr.FSSTAT3resok{
				Tbytes: nfs3xdr.Size3(st.TotalBytes), Fbytes: nfs3xdr.Size3(st.FreeBytes), Abytes: nfs3xdr.Size3(st.AvailBytes),
				Tfiles: nfs3xdr.Size3(st.TotalFiles), Ffiles: nfs3xdr.Size3(st.FreeFiles), Afiles: nfs3xdr.Size3(st.AvailFiles),
			}
		}
	}
	res.Status = s.status(rq, err)
	post := s.postOpOf(rq, h)
	res.Resok.ObjAttributes, res.Resfail.ObjAttributes = post, post
	res.Encode(w)
	return sunrpc.Success
}

// fileAttrs resolves fh and reads its attributes. FSINFO and PATHCONF
// answer from the export's fixed properties, so this is what makes a
// stale handle NFS3ERR_STALE there too.
func (s *Server) fileAttrs(rq *request, fh *nfs3xdr.NfsFh3) (nfs3xdr.PostOpAttr, error) {
	h, err := s.file(rq, fh)
	if err != nil {
		return nfs3xdr.PostOpAttr{}, err
	}
	a, err := rq.e.FS.GetAttr(rq.ctx, h)
	if err != nil {
		return nfs3xdr.PostOpAttr{}, err
	}
	return postOp(rq.e, &a, true), nil
}

// FSINFO, RFC 1813 §3.3.19.
func (s *Server) fsinfo(rq *request, r *xdr.Reader, w *xdr.Writer) sunrpc.Status {
	var args nfs3xdr.FSINFO3args
	if args.Decode(r); r.Done() != nil {
		return sunrpc.GarbageArgs
	}
	var res nfs3xdr.FSINFO3res
	post, err := s.fileAttrs(rq, &args.Fsroot)
	if err == nil {
		info := rq.e.Info
		props := uint32(nfs3xdr.FSF3_HOMOGENEOUS | nfs3xdr.FSF3_CANSETTIME)
		if info.HardLinks {
			props |= nfs3xdr.FSF3_LINK
		}
		if info.Symlinks {
			props |= nfs3xdr.FSF3_SYMLINK
		}
		delta := info.TimeDelta
		res.Resok = nfs3xdr.FSINFO3resok{
			Rtmax: maxIO, Rtpref: prefIO, Rtmult: ioMult,
			Wtmax: maxIO, Wtpref: prefIO, Wtmult: ioMult,
			Dtpref:      dirPref,
			Maxfilesize: nfs3xdr.Size3(info.MaxFileSize),
			TimeDelta:   nfs3xdr.Nfstime3{Seconds: uint32(delta / 1e9), Nseconds: uint32(delta % 1e9)},
			Properties:  props,
		}
	}
	res.Status = s.status(rq, err)
	res.Resok.ObjAttributes, res.Resfail.ObjAttributes = post, post
	res.Encode(w)
	return sunrpc.Success
}

// PATHCONF, RFC 1813 §3.3.20.
func (s *Server) pathconf(rq *request, r *xdr.Reader, w *xdr.Writer) sunrpc.Status {
	var args nfs3xdr.PATHCONF3args
	if args.Decode(r); r.Done() != nil {
		return sunrpc.GarbageArgs
	}
	var res nfs3xdr.PATHCONF3res
	post, err := s.fileAttrs(rq, &args.Object)
	if err == nil {
		info := rq.e.Info
		res.Resok = nfs3xdr.PATHCONF3resok{
			Linkmax:         info.MaxLink,
			NameMax:         info.MaxName,
			NoTrunc:         true,
			ChownRestricted: true,
			CaseInsensitive: !info.CaseSensitive,
			CasePreserving:  true,
		}
	}
	res.Status = s.status(rq, err)
	res.Resok.ObjAttributes, res.Resfail.ObjAttributes = post, post
	res.Encode(w)
	return sunrpc.Success
}
