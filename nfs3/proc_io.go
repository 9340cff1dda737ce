package nfs3

import (
	"slices"
	"syscall"

	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// readHeader is the size of a READ3resok up to its data: status,
// post_op_attr with attributes (4 + 84), count, eof and the data length.
const readHeader = 4 + 4 + 84 + 4 + 4 + 4

// READ, RFC 1813 §3.3.6. The file's bytes are read straight into the
// reply buffer's spare capacity, just past where the header will go, so the
// data is copied once, from the kernel into the reply.
func (s *Server) read(rq *request, r *xdr.Reader, w *xdr.Writer) sunrpc.Status {
	var args nfs3xdr.READ3args
	if args.Decode(r); r.Done() != nil {
		return sunrpc.GarbageArgs
	}
	h, err := s.file(rq, &args.File)
	var a vfs.Attr
	if err == nil {
		a, err = rq.e.FS.GetAttr(rq.ctx, h)
	}
	if err == nil {
		switch a.Type {
		case vfs.TypeRegular:
		case vfs.TypeDirectory:
			err = syscall.EISDIR
		default:
			err = errInval
		}
	}
	if err != nil {
		res := nfs3xdr.READ3res{Status: s.status(rq, err)}
		if rq.e != nil && h != nil {
			res.Resfail.FileAttributes = postOp(rq.e, &a, a.Type != 0)
		}
		res.Encode(w)
		return sunrpc.Success
	}
	// Reserve no more than the file holds: a client reading a small file
	// with rsize-sized requests would otherwise make every reply buffer
	// 1 MiB. A file that grows meanwhile just gives a short read, which
	// the client continues (eof is false).
	want := min(uint64(args.Count), maxIO)
	if off := uint64(args.Offset); off >= a.Size {
		want = 0
	} else {
		want = min(want, a.Size-off)
	}
	count := int(want)
	if sr, ok := rq.e.FS.(vfs.SpanReader); ok && rq.call.CanAttach(count) {
		return s.readSpan(rq, sr, h, &a, uint64(args.Offset), count, w)
	}
	w.Buf = slices.Grow(w.Buf, readHeader+count+3)
	start := len(w.Buf) + readHeader
	data := w.Buf[start : start+count]
	n, eof, err := rq.e.FS.Read(rq.ctx, &rq.acc.Cred, h, uint64(args.Offset), data)
	if err != nil {
		res := nfs3xdr.READ3res{Status: s.status(rq, err)}
		res.Resfail.FileAttributes = postOp(rq.e, &a, true)
		res.Encode(w)
		return sunrpc.Success
	}
	// The header is appended in front of the data, which stays where it
	// is because the capacity was reserved above.
	w.Uint32(uint32(nfs3xdr.NFS3_OK))
	post := postOp(rq.e, &a, true)
	post.Encode(w)
	w.Uint32(uint32(n))
	w.Bool(eof)
	w.Uint32(uint32(n))
	if len(w.Buf) != start {
		panic("nfs3: READ header size mismatch")
	}
	w.Buf = w.Buf[:start+n]
	w.Buf = append(w.Buf, make([]byte, (4-n&3)&3)...)
	return sunrpc.Success
}

// readSpan answers a READ whose data the transport sends straight from
// the file (sunrpc.Call.AttachFile): the reply holds the header and the
// padding, and the data follows the header on the wire.
func (s *Server) readSpan(rq *request, sr vfs.SpanReader, h vfs.Handle, a *vfs.Attr, off uint64, count int, w *xdr.Writer) sunrpc.Status {
	sp, err := sr.ReadSpan(rq.ctx, &rq.acc.Cred, h, off, count)
	if err != nil {
		res := nfs3xdr.READ3res{Status: s.status(rq, err)}
		res.Resfail.FileAttributes = postOp(rq.e, a, true)
		res.Encode(w)
		return sunrpc.Success
	}
	w.Uint32(uint32(nfs3xdr.NFS3_OK))
	post := postOp(rq.e, a, true)
	post.Encode(w)
	w.Uint32(uint32(sp.Len))
	w.Bool(sp.EOF)
	w.Uint32(uint32(sp.Len))
	if sp.Len > 0 && !rq.call.AttachFile(w, sunrpc.FileSpan{FD: sp.FD, Off: sp.Off, Len: sp.Len, Release: sp.Release}) {
		// Not after CanAttach said yes on this goroutine; were it to
		// happen the reply would lack its data.
		sp.Release()
		return sunrpc.SystemErr
	}
	w.Buf = append(w.Buf, make([]byte, (4-sp.Len&3)&3)...)
	return sunrpc.Success
}

// WRITE, RFC 1813 §3.3.7. An UNSTABLE write is acknowledged with this
// server instance's verifier; a client that sees the verifier change
// after a restart writes the data again before trusting COMMIT.
func (s *Server) write(rq *request, r *xdr.Reader, w *xdr.Writer) sunrpc.Status {
	var args nfs3xdr.WRITE3args
	if args.Decode(r); r.Done() != nil {
		return sunrpc.GarbageArgs
	}
	if args.Stable > nfs3xdr.FILE_SYNC || args.Stable < nfs3xdr.UNSTABLE {
		return sunrpc.GarbageArgs
	}
	var res nfs3xdr.WRITE3res
	var before nfs3xdr.PreOpAttr
	h, err := s.file(rq, &args.File)
	if err == nil {
		before = s.preOp(rq, h)
		err = rq.writable()
	}
	if err == nil {
		err = s.checkModify(rq, h)
	}
	if err == nil {
		data := args.Data
		if int(args.Count) < len(data) {
			data = data[:args.Count]
		}
		var n int
		var got vfs.Stability
		n, got, err = rq.e.FS.Write(rq.ctx, &rq.acc.Cred, h, uint64(args.Offset), data, vfs.Stability(args.Stable))
		if err == nil {
			res.Resok.Count = nfs3xdr.Count3(n)
			res.Resok.Committed = nfs3xdr.StableHow(max(got, vfs.Stability(args.Stable)))
			res.Resok.Verf = s.verf
		}
	}
	res.Status = s.status(rq, err)
	wcc := s.wcc(rq, h, before)
	res.Resok.FileWcc, res.Resfail.FileWcc = wcc, wcc
	res.Encode(w)
	return sunrpc.Success
}

// COMMIT, RFC 1813 §3.3.21. The whole file is flushed whatever the range:
// fsync has no narrower form that also covers metadata.
func (s *Server) commit(rq *request, r *xdr.Reader, w *xdr.Writer) sunrpc.Status {
	var args nfs3xdr.COMMIT3args
	if args.Decode(r); r.Done() != nil {
		return sunrpc.GarbageArgs
	}
	var res nfs3xdr.COMMIT3res
	var before nfs3xdr.PreOpAttr
	h, err := s.file(rq, &args.File)
	if err == nil {
		before = s.preOp(rq, h)
		err = rq.e.FS.Commit(rq.ctx, h)
		res.Resok.Verf = s.verf
	}
	res.Status = s.status(rq, err)
	wcc := s.wcc(rq, h, before)
	res.Resok.FileWcc, res.Resfail.FileWcc = wcc, wcc
	res.Encode(w)
	return sunrpc.Success
}
