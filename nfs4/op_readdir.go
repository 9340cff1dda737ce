package nfs4

import (
	"sync"

	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/nfs4/fattr"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// Directory cookies (RFC 8881 §18.23.3). 0 starts a listing; 1 and 2 are
// reserved, as NFSv4 has no "." and ".." entries to give them, and the
// backend never uses them (vfs.DirEntry). Pseudo directories number their
// children from pseudoCookieBase on.
const (
	cookieReservedMax = 2
	pseudoCookieBase  = 3
)

// The cookie verifier is constant and zero: cookies stay valid while the
// directory changes and across restarts (the backend promises it, and
// pseudo directories change only with a new exports table), so a client
// never needs to be told that its cookies went bad. The verifier a client
// sends back is not checked, as knfsd does not (§18.23.3 leaves it to the
// server).
var cookieVerf nfs4xdr.Verifier4

// Fixed parts of READDIR4resok (RFC 8881 §18.23.2), which maxcount bounds:
// the cookie verifier before the entries, and the end-of-list marker and
// eof after them. An entry adds its "value follows" marker, cookie, name
// and fattr4.
const (
	readdirFixed  = 8 + 4 + 4
	entryOverhead = 4 + 8
)

// nameOnlyAttrs are the attributes a listing has without looking entries
// up: a backend's ReadDir gives the fileid; rdattr_error is per entry.
var nameOnlyAttrs = fattr.Of(nfs4xdr.FATTR4_RDATTR_ERROR, nfs4xdr.FATTR4_FILEID, nfs4xdr.FATTR4_MOUNTED_ON_FILEID)

// mountOnlyAttrs are the attributes of an export root seen from the
// directory it is mounted on that need not cross into the export: `ls`
// without -l asks only for these (knfsd crosses for nothing else either).
var mountOnlyAttrs = fattr.Of(nfs4xdr.FATTR4_RDATTR_ERROR, nfs4xdr.FATTR4_MOUNTED_ON_FILEID)

var readdirBufs = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// dirLister gathers the entries of one READDIR reply within its budgets,
// encoding them as it goes.
type dirLister struct {
	c   *compound
	req fattr.Bitmap
	ex  *fattr.Export // of the directory's filesystem
	// budget bounds the encoded entries (maxcount less the fixed parts);
	// dirBudget, when not 0, the names and cookies (dircount, a hint).
	budget, dirBudget int
	used, dirUsed     int
	n                 int
	full              bool
	// failed is the status of an entry whose attributes could not be had
	// when the client did not ask for rdattr_error: the whole READDIR
	// fails with it (§18.23.3).
	failed nfs4xdr.Nfsstat4
	w      xdr.Writer
}

// add encodes an entry from src, or, when src is nil, one whose attributes
// failed with st. It reports false, encoding nothing, when the entry does
// not fit or fails the listing.
func (l *dirLister) add(cookie uint64, name string, src *fattr.Source, st nfs4xdr.Nfsstat4) bool {
	w := &l.w
	start := len(w.Buf)
	w.Bool(true)
	w.Uint64(cookie)
	w.String(name)
	if src != nil {
		if _, err := fattr.Encode(w, l.req, src); err != nil {
			src, st = nil, attrStatus(err)
		}
	}
	if src == nil {
		if !l.req.Has(nfs4xdr.FATTR4_RDATTR_ERROR) {
			w.Buf = w.Buf[:start]
			l.failed = st
			return false
		}
		fattr.EncodeError(w, st)
	}
	size := len(w.Buf) - start
	dirSize := 8 + 4 + (len(name)+3)&^3
	if l.used+size > l.budget || (l.n > 0 && l.dirBudget > 0 && l.dirUsed+dirSize > l.dirBudget) {
		w.Buf = w.Buf[:start]
		l.full = true
		return false
	}
	l.used += size
	l.dirUsed += dirSize
	l.n++
	return true
}

// READDIR, RFC 8881 §18.23.
func (c *compound) opReaddir(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	cookie := r.Uint64()
	r.Skip(nfs4xdr.NFS4_VERIFIER_SIZE) // cookieverf: see cookieVerf
	dircount, maxcount := r.Uint32(), r.Uint32()
	req, _ := fattr.DecodeBitmap(r)
	if r.Err() != nil {
		return c.fail(w, nfs4xdr.NFS4ERR_BADXDR)
	}
	if st := c.checkUse(); st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	if cookie != 0 && cookie <= cookieReservedMax {
		return c.fail(w, nfs4xdr.NFS4ERR_BAD_COOKIE)
	}
	if !req.And(fattr.WriteOnly()).IsEmpty() {
		// They have no value to read (RFC 8881 §5.7).
		return c.fail(w, nfs4xdr.NFS4ERR_INVAL)
	}
	budget := int(min(maxcount, maxIO)) - readdirFixed
	if budget < 0 {
		return c.fail(w, nfs4xdr.NFS4ERR_TOOSMALL)
	}
	bufp := readdirBufs.Get().(*[]byte)
	l := &dirLister{c: c, req: req, ex: c.attrExport(c.cur.e), budget: budget, dirBudget: int(dircount),
		w: xdr.Writer{Buf: (*bufp)[:0]}}
	defer func() {
		*bufp = l.w.Buf[:0]
		readdirBufs.Put(bufp)
	}()
	var eof bool
	st := nfs4xdr.NFS4_OK
	if c.cur.pseudo() {
		eof = l.listPseudo(c.cur.p, cookie)
	} else {
		eof, st = l.listExport(cookie)
	}
	switch {
	case st != nfs4xdr.NFS4_OK:
		return c.fail(w, st)
	case l.failed != nfs4xdr.NFS4_OK:
		return c.fail(w, l.failed)
	case l.n == 0 && !eof:
		return c.fail(w, nfs4xdr.NFS4ERR_TOOSMALL)
	}
	w.Uint32(uint32(nfs4xdr.NFS4_OK))
	w.FixedOpaque(cookieVerf[:])
	w.Buf = append(w.Buf, l.w.Buf...)
	w.Bool(false)
	w.Bool(eof)
	return nfs4xdr.NFS4_OK
}

// listPseudo lists the children of a pseudo directory, all of them: which
// exports a client may use is decided when it uses them, and the names of
// the exports are no secret (MOUNT's EXPORT lists them too).
func (l *dirLister) listPseudo(p *namespace.PseudoNode, cookie uint64) (eof bool) {
	start := uint64(0)
	if cookie >= pseudoCookieBase {
		start = min(cookie-pseudoCookieBase+1, uint64(len(p.Children)))
	}
	for i := start; i < uint64(len(p.Children)); i++ {
		ch := p.Children[i]
		src, st := l.c.nodeSource(ch, l.req, nil)
		if !l.add(pseudoCookieBase+i, ch.Name, src, st) {
			return false
		}
	}
	return true
}

// nodeSource is the Source of the entry for pseudo node n in a listing: an
// export's root where one is mounted on n, with mounted_on_fileid the
// fileid of what it covers (mountedOn, nil: n itself), else the pseudo
// directory. Nil and a status when the attributes cannot be had.
func (c *compound) nodeSource(n *namespace.PseudoNode, req fattr.Bitmap, mountedOn *uint64) (*fattr.Source, nfs4xdr.Nfsstat4) {
	e := n.Export
	if e == nil || req.AndNot(mountOnlyAttrs).IsEmpty() {
		src := &fattr.Source{Export: c.attrExport(nil), Attr: pseudoAttr(n), StatFS: noStatFS}
		if e != nil && mountedOn != nil {
			src.Attr.FileID = *mountedOn
		}
		if req.Has(nfs4xdr.FATTR4_FILEHANDLE) { // never with e != nil: see mountOnlyAttrs
			src.FH = c.s.wire(fileRef{p: n})
		}
		return src, nfs4xdr.NFS4_OK
	}
	if _, st := c.accessTo(e); st != nfs4xdr.NFS4_OK {
		return nil, st
	}
	root := fileRef{e: e, h: e.Root}
	src, err := c.source(root, c.attrExport(e), req)
	if err != nil {
		return nil, errStatus(err)
	}
	src.MountedOnFileID = n.FileID
	if mountedOn != nil {
		src.MountedOnFileID = *mountedOn
	}
	return &src, nfs4xdr.NFS4_OK
}

// listExport lists a directory of an export.
func (l *dirLister) listExport(cookie uint64) (eof bool, st nfs4xdr.Nfsstat4) {
	c := l.c
	e, dir := c.cur.e, c.cur.h
	acc, st := c.access()
	if st != nfs4xdr.NFS4_OK {
		return false, st
	}
	dirAttr, err := e.FS.GetAttr(c.ctx, dir)
	if err != nil {
		return false, errStatus(err)
	}
	if dirAttr.Type != vfs.TypeDirectory {
		return false, nfs4xdr.NFS4ERR_NOTDIR
	}
	nameOnly := l.req.AndNot(nameOnlyAttrs).IsEmpty()
	// Without search permission on the directory a caller learns names
	// and fileids (as from readdir(2)) but no entry's handle or
	// attributes: those would let it reach files its missing x bit keeps
	// it from, and a lookup would fail the same way in knfsd.
	search := false
	if !nameOnly {
		got, err := e.FS.Access(c.ctx, &acc.Cred, dir, vfs.AccessLookup)
		if err != nil {
			return false, errStatus(err)
		}
		search = got&vfs.AccessLookup != 0
	}
	nested := e.Mount != nil && len(e.Mount.Children) > 0
	statfs := memoStatFS(c, e, dir)
	err = e.FS.ReadDir(c.ctx, &acc.Cred, dir, cookie, !nameOnly && search, func(ent *vfs.DirEntry) bool {
		if nested {
			if n := c.mountAt(e, dir, ent.Name); n != nil && n.Export != nil {
				fileid := ent.FileID
				src, st := c.nodeSource(n, l.req, &fileid)
				return l.add(ent.Cookie, ent.Name, src, st)
			}
		}
		switch {
		case nameOnly:
			src := fattr.Source{Export: l.ex, Attr: vfs.Attr{FileID: ent.FileID}}
			return l.add(ent.Cookie, ent.Name, &src, nfs4xdr.NFS4_OK)
		case !search || ent.Handle == nil:
			// No search permission, or a mount point of the local
			// filesystem that the backend does not cross (its Lookup
			// fails with EACCES too).
			return l.add(ent.Cookie, ent.Name, nil, nfs4xdr.NFS4ERR_ACCESS)
		}
		src := fattr.Source{Export: l.ex, Attr: ent.Attr, StatFS: statfs}
		if l.req.Has(nfs4xdr.FATTR4_FILEHANDLE) {
			src.FH = c.s.wire(fileRef{e: e, h: ent.Handle})
		}
		return l.add(ent.Cookie, ent.Name, &src, nfs4xdr.NFS4_OK)
	})
	if err != nil {
		return false, errStatus(err)
	}
	return !l.full && l.failed == nfs4xdr.NFS4_OK, nfs4xdr.NFS4_OK
}

// memoStatFS returns a StatFS for the files of one directory listing that
// asks the backend once.
func memoStatFS(c *compound, e *namespace.Export, dir vfs.Handle) func() (vfs.FSStat, error) {
	var (
		st   vfs.FSStat
		err  error
		done bool
	)
	return func() (vfs.FSStat, error) {
		if !done {
			st, err = e.FS.StatFS(c.ctx, dir)
			done = true
		}
		return st, err
	}
}
