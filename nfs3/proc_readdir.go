package nfs3

import (
	"sync"
	"syscall"

	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// Directory cookies. The backend's cookies start above 2 (vfs.DirEntry),
// leaving 1 and 2 for the "." and ".." entries this layer adds, as knfsd
// does: the Linux client lists what the server returns.
const (
	cookieDot    = 1
	cookieDotDot = 2
)

// The cookie verifier is constant: our cookies stay valid while the
// directory changes and across restarts (the backend promises it), so
// there is never a reason to tell a client its cookie went bad (RFC 1813
// §3.3.16 leaves the verifier's meaning to the server).
var cookieVerf nfs3xdr.Cookieverf3

// Fixed sizes of the reply parts, from RFC 1813's XDR.
const (
	postOpAttrSize = 4 + 84
	dirHeaderSize  = 4 + postOpAttrSize + 8 // status, dir_attributes, cookieverf
	dirTrailerSize = 4 + 4                  // no more entries, eof
)

func xdrStringSize(n int) int { return 4 + (n+3)&^3 }

var entryBufs = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// dirLister gathers the entries of one READDIR or READDIRPLUS reply within
// its byte budgets, encoding them as it goes.
type dirLister struct {
	s    *Server
	rq   *request
	dir  vfs.Handle
	plus bool // READDIRPLUS: entries have attribute and handle slots
	// search says the caller may look names up in dir, without which
	// READDIRPLUS gives no entry's handle or attributes: a handle would
	// let the caller reach a file that its missing x permission on the
	// directory keeps it from (knfsd's entry lookup fails the same way).
	search   bool
	maxBytes int // budget for the whole reply
	maxDir   int // READDIRPLUS dircount: budget for fileid, name and cookie
	used     int
	dirUsed  int
	n        int
	full     bool
	w        xdr.Writer
}

// add encodes one entry unless it would exceed a budget.
func (l *dirLister) add(name string, fileid, cookie uint64, h vfs.Handle, a *vfs.Attr) bool {
	dirSize := 8 + xdrStringSize(len(name)) + 8
	size := 4 + dirSize
	var fh []byte
	if l.plus {
		size += 4 // post_op_attr discriminant
		if a != nil {
			size += 84
		}
		size += 4 // post_op_fh3 discriminant
		if h != nil {
			fh = l.s.ns.Handle(nil, l.rq.e, h)
			size += xdrStringSize(len(fh))
		}
	}
	if l.used+size > l.maxBytes || (l.maxDir > 0 && l.dirUsed+dirSize > l.maxDir) {
		l.full = true
		return false
	}
	l.used += size
	l.dirUsed += dirSize
	l.n++
	w := &l.w
	w.Bool(true)
	w.Uint64(fileid)
	w.String(name)
	w.Uint64(cookie)
	if l.plus {
		attr := postOp(l.rq.e, a, a != nil)
		attr.Encode(w)
		pfh := nfs3xdr.PostOpFh3{HandleFollows: fh != nil, Handle: nfs3xdr.NfsFh3{Data: fh}}
		pfh.Encode(w)
	}
	return true
}

// list walks the directory from cookie and reports whether it reached the end.
func (l *dirLister) list(cookie uint64, dirAttr *vfs.Attr) (eof bool, err error) {
	fs, cred := l.rq.e.FS, &l.rq.acc.Cred
	if cookie == 0 {
		if !l.add(".", dirAttr.FileID, cookieDot, l.dir, dirAttr) {
			return false, nil
		}
	}
	if cookie <= cookieDot {
		ph, pa, err := fs.Lookup(l.rq.ctx, cred, l.dir, "..")
		ppa := &pa
		switch {
		case errIs(err, errAcces):
			// Listing needs r, looking up ".." needs x: a caller with
			// only r still gets the names (as from readdir(2)), and ".."
			// goes without handle and attributes, with the directory's
			// own fileid standing in for its parent's.
			ph, ppa, pa.FileID = nil, nil, dirAttr.FileID
		case err != nil:
			return false, err
		}
		if !l.search {
			ph, ppa = nil, nil
		}
		if !l.add("..", pa.FileID, cookieDotDot, ph, ppa) {
			return false, nil
		}
	}
	if cookie <= cookieDotDot {
		cookie = 0
	}
	err = fs.ReadDir(l.rq.ctx, cred, l.dir, cookie, l.search, func(e *vfs.DirEntry) bool {
		if l.search && e.Handle != nil {
			return l.add(e.Name, e.FileID, e.Cookie, e.Handle, &e.Attr)
		}
		return l.add(e.Name, e.FileID, e.Cookie, nil, nil)
	})
	return !l.full && err == nil, err
}

// readdirCommon runs READDIR and READDIRPLUS: both reply with a status,
// the directory's attributes, the verifier, the entries and eof.
func (s *Server) readdirCommon(rq *request, w *xdr.Writer, fh *nfs3xdr.NfsFh3, cookie uint64, maxBytes, maxDir int, plus bool) {
	dir, err := s.file(rq, fh)
	var dirAttr vfs.Attr
	if err == nil {
		dirAttr, err = rq.e.FS.GetAttr(rq.ctx, dir)
		if err == nil && dirAttr.Type != vfs.TypeDirectory {
			err = syscall.ENOTDIR
		}
	}
	var eof bool
	var l *dirLister
	bufp := entryBufs.Get().(*[]byte)
	defer func() {
		if l != nil {
			*bufp = l.w.Buf[:0]
		}
		entryBufs.Put(bufp)
	}()
	search := false
	if err == nil && plus {
		var got uint32
		got, err = rq.e.FS.Access(rq.ctx, &rq.acc.Cred, dir, vfs.AccessLookup)
		search = got&vfs.AccessLookup != 0
	}
	if err == nil {
		l = &dirLister{s: s, rq: rq, dir: dir, plus: plus, search: search, w: xdr.Writer{Buf: (*bufp)[:0]},
			maxBytes: min(maxBytes, maxIO) - dirHeaderSize - dirTrailerSize, maxDir: maxDir}
		eof, err = l.list(cookie, &dirAttr)
		if err == nil && l.n == 0 && !eof {
			err = errTooSmall
		}
	}
	status := nfs3xdr.NFS3ERR_TOOSMALL
	if err != errTooSmall {
		status = s.status(rq, err)
	}
	w.Uint32(uint32(status))
	post := postOp(rq.e, &dirAttr, dirAttr.Type != 0)
	post.Encode(w)
	if status != nfs3xdr.NFS3_OK {
		return
	}
	w.FixedOpaque(cookieVerf[:])
	w.Buf = append(w.Buf, l.w.Buf...)
	w.Bool(false)
	w.Bool(eof)
}

var errTooSmall = tooSmall{}

type tooSmall struct{}

func (tooSmall) Error() string { return "reply budget too small for one entry" }

// READDIR, RFC 1813 §3.3.16.
func (s *Server) readdir(rq *request, r *xdr.Reader, w *xdr.Writer) sunrpc.Status {
	var args nfs3xdr.READDIR3args
	if args.Decode(r); r.Done() != nil {
		return sunrpc.GarbageArgs
	}
	s.readdirCommon(rq, w, &args.Dir, uint64(args.Cookie), int(args.Count), 0, false)
	return sunrpc.Success
}

// READDIRPLUS, RFC 1813 §3.3.17.
func (s *Server) readdirplus(rq *request, r *xdr.Reader, w *xdr.Writer) sunrpc.Status {
	var args nfs3xdr.READDIRPLUS3args
	if args.Decode(r); r.Done() != nil {
		return sunrpc.GarbageArgs
	}
	s.readdirCommon(rq, w, &args.Dir, uint64(args.Cookie), int(args.Maxcount), int(args.Dircount), true)
	return sunrpc.Success
}
