package fattr

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// Export is what attributes need to know of the export a file is served
// from and of the server serving it. It changes rarely: build one per
// export and minor version and share it, read-only, between requests.
type Export struct {
	// Minor is the NFSv4 minor version of the session; it picks the
	// supported attributes.
	Minor uint32
	// FSID is the export's filesystem id (RFC 8881 §5.8.1.9): its own per
	// export, as for NFSv3, so a client never takes files of two exports
	// for one filesystem.
	FSID x.Fsid4
	// Info holds the backend's limits (maxname, maxlink, maxfilesize,
	// time_delta, case_insensitive, link_support, symlink_support).
	Info vfs.Info
	// LeaseTime is the server's lease period, sent in whole seconds.
	LeaseTime time.Duration
	// MaxRead and MaxWrite are the largest READ and WRITE counts the
	// server will honour.
	MaxRead, MaxWrite uint64
	// UniqueHandles is unique_handles (RFC 8881 §5.8.1.10): true when two
	// distinct file handles never name one file. Left false, clients
	// simply do not compare handles.
	UniqueHandles bool
	// Xattrs is xattr_support (RFC 8276 §8.2): the backend serves
	// extended attributes and the server the xattr operations.
	Xattrs bool
	// CharsetCap is fs_charset_cap (RFC 8881 §5.8.2.9 and §14.4):
	// FSCHARSET_CAP4_CONTAINS_NON_UTF8 when names on the export may not be
	// UTF-8 (a local directory), FSCHARSET_CAP4_ALLOWS_ONLY_UTF8 when the
	// server refuses to create such names.
	CharsetCap uint32
	// CloneBlksize is clone_blksize (RFC 7862 §12.2.1); 0 when the server
	// does not implement CLONE, which puts no alignment constraint on the
	// client (CLONE itself then fails with NFS4ERR_NOTSUPP).
	CloneBlksize uint32
	// IDs maps uids and gids to owner strings and back. Nil means numeric
	// strings, as the zero Mapper does.
	IDs IDMapper
}

// Source is everything Encode and Compare read the values of one file's
// attributes from. The caller fills one per file; none of it is retained.
type Source struct {
	// Export must not be nil.
	Export *Export
	// Attr is the file's attributes from the backend.
	Attr vfs.Attr
	// FH is the file's wire handle, for the filehandle attribute. READDIR
	// of an entry whose handle the backend will not give leaves it nil, and
	// filehandle is then left out of the reply.
	FH []byte
	// MountedOnFileID is mounted_on_fileid (RFC 8881 §5.8.2.19): the
	// fileid of the directory an export root is mounted on in the
	// server's namespace. 0 means the file is no mount point and the value
	// is Attr.FileID.
	MountedOnFileID uint64
	// RdattrError is the value of rdattr_error (RFC 8881 §5.8.1.12): the
	// status of getting this entry's attributes in READDIR, NFS4_OK
	// otherwise.
	RdattrError x.Nfsstat4
	// StatFS returns the space and file counts of the file's filesystem.
	// Encode calls it at most once, and only when one of those attributes
	// is asked for (NeedsStatFS); it must be set if that can happen.
	StatFS func() (vfs.FSStat, error)
}

// ErrNoStatFS is returned when a space or file count is asked for and the
// Source has no StatFS. It is a server bug: the caller must provide one.
var ErrNoStatFS = errors.New("fattr: space or file counts asked for, but Source.StatFS is nil")

// errBadType reports an Attr whose Type is not a vfs file type.
var errBadType = errors.New("fattr: attributes have no valid file type")

// Encode appends a fattr4 holding the attributes of req that src's export
// supports, and returns the set it wrote (the attrmask sent). Unsupported
// attributes are left out silently, as GETATTR and READDIR require
// (RFC 8881 §18.7.3, §18.23.3); asking for a supported write-only
// attribute is NFS4ERR_INVAL (§18.7.3). filehandle is also left out when
// src.FH is nil (see Source.FH). On error nothing is appended.
//
// The values go straight into w after a reserved length word, so the
// common GETATTR does not allocate (with a nil IDs or one that implements
// NameAppender).
func Encode(w *xdr.Writer, req Bitmap, src *Source) (got Bitmap, err error) {
	got = req.And(Supported(src.Export.Minor))
	if a, ok := got.And(WriteOnly()).First(); ok {
		return Bitmap{}, statusErr(x.NFS4ERR_INVAL, a, "write-only attribute asked for", nil)
	}
	if src.FH == nil {
		got.Clear(x.FATTR4_FILEHANDLE)
	}
	start := len(w.Buf)
	got.Encode(w)
	lenAt := w.Reserve(4)
	e := encoder{src: src}
	for a, ok := got.First(); ok; a, ok = got.next(a + 1) {
		if err := e.attr(w, a); err != nil {
			w.Buf = w.Buf[:start]
			return Bitmap{}, err
		}
	}
	w.PutUint32At(lenAt, uint32(len(w.Buf)-lenAt-4))
	return got, nil
}

// EncodeError appends the fattr4 of a READDIR entry whose attributes could
// not be had: rdattr_error alone, holding st (RFC 8881 §18.23.3). Use it
// when the client asked for rdattr_error; otherwise the whole READDIR fails
// with st.
func EncodeError(w *xdr.Writer, st x.Nfsstat4) {
	Of(x.FATTR4_RDATTR_ERROR).Encode(w)
	w.Uint32(4)
	w.Int32(int32(st))
}

// encoder holds what one Encode or Compare learns as it goes: the space
// and file counts, fetched on first need.
type encoder struct {
	src    *Source
	st     vfs.FSStat
	haveSt bool
}

func (e *encoder) statfs() (*vfs.FSStat, error) {
	if !e.haveSt {
		if e.src.StatFS == nil {
			return nil, ErrNoStatFS
		}
		st, err := e.src.StatFS()
		if err != nil {
			return nil, err
		}
		e.st, e.haveSt = st, true
	}
	return &e.st, nil
}

// attr appends the value of attribute a, which must be supported.
func (e *encoder) attr(w *xdr.Writer, a uint32) error {
	src := e.src
	ex := src.Export
	at := &src.Attr
	switch a {
	case x.FATTR4_SUPPORTED_ATTRS:
		Supported(ex.Minor).Encode(w)
	case x.FATTR4_TYPE:
		t, ok := ftype(at.Type)
		if !ok {
			return fmt.Errorf("%w (type %d)", errBadType, at.Type)
		}
		w.Int32(int32(t))
	case x.FATTR4_FH_EXPIRE_TYPE:
		// Handles outlive restarts, renames and eviction (see fhandle).
		w.Uint32(x.FH4_PERSISTENT)
	case x.FATTR4_CHANGE:
		w.Uint64(at.Change)
	case x.FATTR4_SIZE:
		w.Uint64(at.Size)
	case x.FATTR4_LINK_SUPPORT:
		w.Bool(ex.Info.HardLinks)
	case x.FATTR4_SYMLINK_SUPPORT:
		w.Bool(ex.Info.Symlinks)
	case x.FATTR4_NAMED_ATTR:
		w.Bool(false)
	case x.FATTR4_FSID:
		w.Uint64(ex.FSID.Major)
		w.Uint64(ex.FSID.Minor)
	case x.FATTR4_UNIQUE_HANDLES:
		w.Bool(ex.UniqueHandles)
	case x.FATTR4_LEASE_TIME:
		w.Uint32(uint32(ex.LeaseTime / time.Second))
	case x.FATTR4_RDATTR_ERROR:
		w.Int32(int32(src.RdattrError))
	case x.FATTR4_FILEHANDLE:
		w.Opaque(src.FH)
	case x.FATTR4_CANSETTIME:
		w.Bool(true)
	case x.FATTR4_CASE_INSENSITIVE:
		w.Bool(!ex.Info.CaseSensitive)
	case x.FATTR4_CASE_PRESERVING:
		w.Bool(true)
	case x.FATTR4_CHOWN_RESTRICTED:
		// Ownership changes follow chown(2) rules for the caller (vfs.FS
		// SetAttr), and only root may give a file away.
		w.Bool(true)
	case x.FATTR4_FILEID:
		w.Uint64(at.FileID)
	case x.FATTR4_FILES_AVAIL, x.FATTR4_FILES_FREE, x.FATTR4_FILES_TOTAL,
		x.FATTR4_SPACE_AVAIL, x.FATTR4_SPACE_FREE, x.FATTR4_SPACE_TOTAL:
		st, err := e.statfs()
		if err != nil {
			return err
		}
		w.Uint64(statValue(st, a))
	case x.FATTR4_HOMOGENEOUS:
		// One backend serves the export, with the same limits throughout.
		w.Bool(true)
	case x.FATTR4_MAXFILESIZE:
		w.Uint64(ex.Info.MaxFileSize)
	case x.FATTR4_MAXLINK:
		w.Uint32(ex.Info.MaxLink)
	case x.FATTR4_MAXNAME:
		w.Uint32(ex.Info.MaxName)
	case x.FATTR4_MAXREAD:
		w.Uint64(ex.MaxRead)
	case x.FATTR4_MAXWRITE:
		w.Uint64(ex.MaxWrite)
	case x.FATTR4_MODE:
		w.Uint32(at.Mode & 07777)
	case x.FATTR4_NO_TRUNC:
		// Long names are refused with NFS4ERR_NAMETOOLONG, never cut.
		w.Bool(true)
	case x.FATTR4_NUMLINKS:
		w.Uint32(at.Nlink)
	case x.FATTR4_OWNER:
		putName(w, ex.IDs, at.UID, false)
	case x.FATTR4_OWNER_GROUP:
		putName(w, ex.IDs, at.GID, true)
	case x.FATTR4_RAWDEV:
		w.Uint32(at.Major)
		w.Uint32(at.Minor)
	case x.FATTR4_SPACE_USED:
		w.Uint64(at.Used)
	case x.FATTR4_TIME_ACCESS:
		putTime(w, at.Atime)
	case x.FATTR4_TIME_DELTA:
		d := ex.Info.TimeDelta
		w.Int64(int64(d / time.Second))
		w.Uint32(uint32(d % time.Second))
	case x.FATTR4_TIME_METADATA:
		putTime(w, at.Ctime)
	case x.FATTR4_TIME_MODIFY:
		putTime(w, at.Mtime)
	case x.FATTR4_MOUNTED_ON_FILEID:
		if src.MountedOnFileID != 0 {
			w.Uint64(src.MountedOnFileID)
		} else {
			w.Uint64(at.FileID)
		}
	case x.FATTR4_FS_LAYOUT_TYPES:
		w.Uint32(0) // no pNFS layouts
	case x.FATTR4_SUPPATTR_EXCLCREAT:
		ExclCreat(ex.Minor).Encode(w)
	case x.FATTR4_FS_CHARSET_CAP:
		w.Uint32(ex.CharsetCap)
	case x.FATTR4_CLONE_BLKSIZE:
		w.Uint32(ex.CloneBlksize)
	case x.FATTR4_CHANGE_ATTR_TYPE:
		// vfs.Attr.Change advances on every change, by any amount
		// (RFC 7862 §12.2.3).
		w.Int32(int32(x.NFS4_CHANGE_TYPE_IS_MONOTONIC_INCR))
	case x.FATTR4_XATTR_SUPPORT:
		w.Bool(ex.Xattrs)
	case x.FATTR4_OPEN_ARGUMENTS:
		// Five one-word bitmap4s, in open_arguments4 order.
		for _, v := range [...]uint32{oaShareAccess, oaShareDeny, oaShareAccessWant, oaOpenClaim, oaCreateMode} {
			w.Uint32(1)
			w.Uint32(v)
		}
	default:
		// Supported() and this switch disagree: a bug here, not the
		// client's.
		return fmt.Errorf("fattr: no encoder for supported attribute %s", Name(a))
	}
	return nil
}

func statValue(st *vfs.FSStat, a uint32) uint64 {
	switch a {
	case x.FATTR4_FILES_AVAIL:
		return st.AvailFiles
	case x.FATTR4_FILES_FREE:
		return st.FreeFiles
	case x.FATTR4_FILES_TOTAL:
		return st.TotalFiles
	case x.FATTR4_SPACE_AVAIL:
		return st.AvailBytes
	case x.FATTR4_SPACE_FREE:
		return st.FreeBytes
	}
	return st.TotalBytes
}

// ftype maps a vfs file type to nfs_ftype4 (RFC 8881 §5.8.1.2).
func ftype(t vfs.FileType) (x.NfsFtype4, bool) {
	switch t {
	case vfs.TypeRegular:
		return x.NF4REG, true
	case vfs.TypeDirectory:
		return x.NF4DIR, true
	case vfs.TypeBlockDevice:
		return x.NF4BLK, true
	case vfs.TypeCharDevice:
		return x.NF4CHR, true
	case vfs.TypeSymlink:
		return x.NF4LNK, true
	case vfs.TypeSocket:
		return x.NF4SOCK, true
	case vfs.TypeFIFO:
		return x.NF4FIFO, true
	}
	return 0, false
}

// putTime appends an nfstime4 (RFC 8881 §3.3.1): seconds since the epoch,
// negative before it, and nanoseconds always counted forward. The zero
// time.Time, which a backend uses for "unknown", is sent as the epoch, as
// NFSv3 does.
func putTime(w *xdr.Writer, t time.Time) {
	if t.IsZero() {
		w.Int64(0)
		w.Uint32(0)
		return
	}
	w.Int64(t.Unix())
	w.Uint32(uint32(t.Nanosecond()))
}

// putName appends the owner or owner_group string of id, without
// allocating when ids is nil or a NameAppender.
func putName(w *xdr.Writer, ids IDMapper, id uint32, group bool) {
	if ids == nil {
		appendString(w, func(b []byte) []byte { return strconv.AppendUint(b, uint64(id), 10) })
		return
	}
	if ap, ok := ids.(NameAppender); ok {
		if group {
			appendString(w, func(b []byte) []byte { return ap.AppendGroupName(b, id) })
		} else {
			appendString(w, func(b []byte) []byte { return ap.AppendUserName(b, id) })
		}
		return
	}
	if group {
		w.String(ids.GroupName(id))
	} else {
		w.String(ids.UserName(id))
	}
}

// appendString writes an XDR string whose bytes fn appends.
func appendString(w *xdr.Writer, fn func([]byte) []byte) {
	at := w.Reserve(4)
	w.Buf = fn(w.Buf)
	n := len(w.Buf) - at - 4
	w.PutUint32At(at, uint32(n))
	for ; n&3 != 0; n++ {
		w.Buf = append(w.Buf, 0)
	}
}
