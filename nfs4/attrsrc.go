package nfs4

import (
	"hash/fnv"
	"time"

	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/nfs4/fattr"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/vfs"
)

// This file builds the fattr.Source of a file (RFC 8881 §5): the backend's
// attributes for an export's files, synthetic ones for pseudo-filesystem
// directories, and the per-export facts (fsid, limits, lease time) that
// fattr encodes beside them.

// pseudoFSID is the fsid of the pseudo-filesystem. Exports use
// {Major: export id, Minor: 0} and export ids are never 0
// (namespace.PseudoExportID is 0 and exports.FsidNum is above 0), so it is
// distinct from every export's, and a client sees a filesystem boundary
// where it crosses into an export (RFC 8881 §7.4).
var pseudoFSID = nfs4xdr.Fsid4{Major: 0, Minor: 0}

// pseudoInfo are the limits reported for pseudo directories.
var pseudoInfo = vfs.Info{
	MaxName:       vfs.DefaultInfo.MaxName,
	MaxLink:       vfs.DefaultInfo.MaxLink,
	MaxFileSize:   0,
	TimeDelta:     time.Second,
	CaseSensitive: true,
}

// attrExport returns what fattr needs to know of e (nil: the
// pseudo-filesystem) for this compound's minor version.
//
// It is built per operation: it is small, and the server does not yet
// keep one per export and minor version.
func (c *compound) attrExport(e *namespace.Export) *fattr.Export {
	ex := &fattr.Export{
		Minor:    c.minor,
		MaxRead:  maxIO,
		MaxWrite: maxIO,
		// Names we create are checked to be UTF-8 (checkName), but a local
		// directory may already hold others (RFC 8881 §14.4).
		CharsetCap: nfs4xdr.FSCHARSET_CAP4_CONTAINS_NON_UTF8 | nfs4xdr.FSCHARSET_CAP4_ALLOWS_ONLY_UTF8,
	}
	if c.s.state != nil {
		ex.LeaseTime = c.s.state.LeaseTime()
	}
	if e == nil {
		ex.FSID = pseudoFSID
		ex.Info = pseudoInfo
		ex.CharsetCap = nfs4xdr.FSCHARSET_CAP4_ALLOWS_ONLY_UTF8
		return ex
	}
	ex.FSID = nfs4xdr.Fsid4{Major: e.FSID(), Minor: 0}
	ex.Info = e.Info
	ex.Xattrs = c.minor >= 2 && ServesXattrs(e.FS)
	return ex
}

// source fills a fattr.Source for f. want is the set of attributes that
// will be read from it: the wire handle is made only when filehandle is
// among them. The caller has checked its access to f's export.
func (c *compound) source(f fileRef, ex *fattr.Export, want fattr.Bitmap) (fattr.Source, error) {
	src := fattr.Source{Export: ex}
	if want.Has(nfs4xdr.FATTR4_FILEHANDLE) {
		src.FH = c.s.wire(f)
	}
	if f.pseudo() {
		src.Attr = pseudoAttr(f.p)
		src.StatFS = noStatFS
		return src, nil
	}
	a, err := f.e.FS.GetAttr(c.ctx, f.h)
	if err != nil {
		return src, err
	}
	src.Attr = a
	src.MountedOnFileID = mountedOn(f)
	if fattr.NeedsStatFS(want) {
		e, h, ctx := f.e, f.h, c.ctx
		src.StatFS = func() (vfs.FSStat, error) { return e.FS.StatFS(ctx, h) }
	}
	return src, nil
}

// mountedOn is mounted_on_fileid (RFC 8881 §5.8.2.19) of an export's
// root: the fileid of the pseudo directory it is mounted on. The export at
// "/" is mounted on nothing a client sees, and other files are not mount
// points: 0 tells fattr to send the file's own fileid.
func mountedOn(f fileRef) uint64 {
	if f.isExportRoot() && f.e.Mount != nil && f.e.Mount.Parent != nil {
		return f.e.Mount.FileID
	}
	return 0
}

// noStatFS is the space and file counts of the pseudo-filesystem: it holds
// nothing and has room for nothing.
func noStatFS() (vfs.FSStat, error) { return vfs.FSStat{}, nil }

// pseudoAttr synthesizes the attributes of a pseudo directory: read and
// search for everyone, owned by root, one link per child directory plus
// "." and the parent's entry. Its times are the epoch, since the server
// keeps no start time, and its change attribute is derived from what it
// lists, so it moves exactly when a new exports table changes the listing
// (RFC 8881 §5.8.1.4).
func pseudoAttr(p *namespace.PseudoNode) vfs.Attr {
	return vfs.Attr{
		Type:   vfs.TypeDirectory,
		Mode:   0o555,
		Nlink:  uint32(2 + len(p.Children)),
		Size:   4096,
		FSID:   pseudoFSID.Major,
		FileID: p.FileID,
		Atime:  time.Unix(0, 0),
		Mtime:  time.Unix(0, 0),
		Ctime:  time.Unix(0, 0),
		Change: pseudoChange(p),
	}
}

// pseudoChange hashes the listing of p: its children and which of them are
// exports.
func pseudoChange(p *namespace.PseudoNode) uint64 {
	h := fnv.New64a()
	for _, ch := range p.Children {
		h.Write([]byte(ch.Name))
		if ch.Export != nil {
			h.Write([]byte{0, 1})
		} else {
			h.Write([]byte{0, 0})
		}
	}
	// 0 reads as "no change attribute" to some clients; keep it off.
	return h.Sum64() | 1
}

// attrStatus maps an error of fattr or of the backend to nfsstat4: fattr's
// verdicts carry their own status, everything else goes through nfserr.
func attrStatus(err error) nfs4xdr.Nfsstat4 {
	if st, ok := fattr.StatusOf(err); ok {
		return st
	}
	return errStatus(err)
}

// dirChange returns the change attribute of directory f, for the
// change_info4 of operations that modify it (RFC 8881 §3.3.6). A failure
// to read it leaves 0: the operation itself decides the status.
func (c *compound) dirChange(f fileRef) uint64 {
	if f.e == nil {
		return 0
	}
	a, err := f.e.FS.GetAttr(c.ctx, f.h)
	if err != nil {
		return 0
	}
	return a.Change
}

// changeInfo builds change_info4 from the directory's change attribute
// before and after. The backend gives no way to read both atomically with
// the change, so atomic is false and the client revalidates (RFC 8881
// §3.3.6).
func changeInfo(before, after uint64) nfs4xdr.ChangeInfo4 {
	return nfs4xdr.ChangeInfo4{Atomic: false, Before: nfs4xdr.Changeid4(before), After: nfs4xdr.Changeid4(after)}
}
