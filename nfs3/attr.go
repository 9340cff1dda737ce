package nfs3

import (
	"syscall"
	"time"

	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/vfs"
)

var (
	errNoEnt       = syscall.ENOENT
	errAcces       = syscall.EACCES
	errExist       = syscall.EEXIST
	errInval       = syscall.EINVAL
	errNameTooLong = syscall.ENAMETOOLONG
)

func nfstime(t time.Time) nfs3xdr.Nfstime3 {
	if t.IsZero() {
		return nfs3xdr.Nfstime3{}
	}
	return nfs3xdr.Nfstime3{Seconds: uint32(t.Unix()), Nseconds: uint32(t.Nanosecond())}
}

func fromNfstime(t nfs3xdr.Nfstime3) time.Time {
	return time.Unix(int64(t.Seconds), int64(t.Nseconds))
}

// fattr converts backend attributes to fattr3 (RFC 1813 §2.6). The fsid is
// the export's, so that each export is its own filesystem to the client.
func fattr(e *namespace.Export, a *vfs.Attr) nfs3xdr.Fattr3 {
	return nfs3xdr.Fattr3{
		Type:   nfs3xdr.Ftype3(a.Type),
		Mode:   nfs3xdr.Mode3(a.Mode & 07777),
		Nlink:  a.Nlink,
		Uid:    nfs3xdr.Uid3(a.UID),
		Gid:    nfs3xdr.Gid3(a.GID),
		Size:   nfs3xdr.Size3(a.Size),
		Used:   nfs3xdr.Size3(a.Used),
		Rdev:   nfs3xdr.Specdata3{Specdata1: a.Major, Specdata2: a.Minor},
		Fsid:   e.FSID(),
		Fileid: nfs3xdr.Fileid3(a.FileID),
		Atime:  nfstime(a.Atime),
		Mtime:  nfstime(a.Mtime),
		Ctime:  nfstime(a.Ctime),
	}
}

func postOp(e *namespace.Export, a *vfs.Attr, ok bool) nfs3xdr.PostOpAttr {
	if !ok {
		return nfs3xdr.PostOpAttr{}
	}
	return nfs3xdr.PostOpAttr{AttributesFollow: true, Attributes: fattr(e, a)}
}

// postOpOf fetches attributes for a post_op_attr; a failure just leaves
// them out (they are optional in every reply).
func (s *Server) postOpOf(rq *request, h vfs.Handle) nfs3xdr.PostOpAttr {
	return postOpIn(rq, rq.e, h)
}

// postOpIn is postOpOf for a handle of export e, which procedures with two
// handles (RENAME, LINK) name explicitly: rq.e is the export of the last
// handle resolved, and a handle means another file, or none, in the
// backend of another export.
func postOpIn(rq *request, e *namespace.Export, h vfs.Handle) nfs3xdr.PostOpAttr {
	if e == nil || h == nil {
		return nfs3xdr.PostOpAttr{}
	}
	a, err := e.FS.GetAttr(rq.ctx, h)
	return postOp(e, &a, err == nil)
}

// preOp captures the attributes weak cache consistency reports from before
// an operation (RFC 1813 §2.6 wcc_data).
func (s *Server) preOp(rq *request, h vfs.Handle) nfs3xdr.PreOpAttr {
	return preOpIn(rq, rq.e, h)
}

// preOpIn is preOp for a handle of export e (see postOpIn).
func preOpIn(rq *request, e *namespace.Export, h vfs.Handle) nfs3xdr.PreOpAttr {
	if e == nil || h == nil {
		return nfs3xdr.PreOpAttr{}
	}
	a, err := e.FS.GetAttr(rq.ctx, h)
	if err != nil {
		return nfs3xdr.PreOpAttr{}
	}
	return nfs3xdr.PreOpAttr{AttributesFollow: true, Attributes: nfs3xdr.WccAttr{
		Size: nfs3xdr.Size3(a.Size), Mtime: nfstime(a.Mtime), Ctime: nfstime(a.Ctime)}}
}

func (s *Server) wcc(rq *request, h vfs.Handle, before nfs3xdr.PreOpAttr) nfs3xdr.WccData {
	return wccIn(rq, rq.e, h, before)
}

// wccIn is wcc for a handle of export e (see postOpIn).
func wccIn(rq *request, e *namespace.Export, h vfs.Handle, before nfs3xdr.PreOpAttr) nfs3xdr.WccData {
	return nfs3xdr.WccData{Before: before, After: postOpIn(rq, e, h)}
}

// setAttr converts a sattr3 to the backend's form. Mode bits above 07777
// (the file type, which a client has no business sending) are ignored, as
// knfsd does.
func setAttr(sa *nfs3xdr.Sattr3) vfs.SetAttr {
	var s vfs.SetAttr
	if sa.Mode.SetIt {
		m := uint32(sa.Mode.Mode) & 07777
		s.Mode = &m
	}
	if sa.Uid.SetIt {
		u := uint32(sa.Uid.Uid)
		s.UID = &u
	}
	if sa.Gid.SetIt {
		g := uint32(sa.Gid.Gid)
		s.GID = &g
	}
	if sa.Size.SetIt {
		z := uint64(sa.Size.Size)
		s.Size = &z
	}
	switch sa.Atime.SetIt {
	case nfs3xdr.SET_TO_SERVER_TIME:
		s.Atime = vfs.TimeServer
	case nfs3xdr.SET_TO_CLIENT_TIME:
		s.Atime, s.AtimeTime = vfs.TimeClient, fromNfstime(sa.Atime.Atime)
	}
	switch sa.Mtime.SetIt {
	case nfs3xdr.SET_TO_SERVER_TIME:
		s.Mtime = vfs.TimeServer
	case nfs3xdr.SET_TO_CLIENT_TIME:
		s.Mtime, s.MtimeTime = vfs.TimeClient, fromNfstime(sa.Mtime.Mtime)
	}
	return s
}

// checkModify asks the conflict checker, if any, before a change to h.
func (s *Server) checkModify(rq *request, h vfs.Handle) error {
	if s.cc == nil {
		return nil
	}
	return s.cc.CheckModify(rq.ctx, rq.e, h)
}

// checkNameChange asks the conflict checker before a change of dir/name.
func (s *Server) checkNameChange(rq *request, dir vfs.Handle, name string) error {
	if s.cc == nil {
		return nil
	}
	return s.cc.CheckName(rq.ctx, rq.e, dir, name)
}
