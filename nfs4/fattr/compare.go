package fattr

import (
	"bytes"
	"fmt"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/xdr"
)

// Compare reports whether the attribute values in f equal those of src,
// for VERIFY (RFC 8881 §18.31) and NVERIFY (§18.15): VERIFY answers
// NFS4ERR_NOT_SAME when they differ, NVERIFY NFS4ERR_SAME when they match.
//
// An attribute src's export does not support is NFS4ERR_ATTRNOTSUPP;
// rdattr_error and the write-only attributes are NFS4ERR_INVAL (they have
// no value to compare, §18.31.3); values that do not parse are
// NFS4ERR_BADXDR, checked for every attribute even after a difference is
// found. Values compare as their XDR encodings, except owner and
// owner_group, which compare as the ids they map to (so "1000" matches
// "alice@example.com" if that is uid 1000; a name that maps to nothing
// matches nothing), and the bitmaps, which compare as sets.
//
// Errors are *StatusError, or an error from src.StatFS.
func Compare(f *x.Fattr4, src *Source) (equal bool, err error) {
	mask, extra := rawBitmap(f.Attrmask)
	if extra {
		return false, statusErr(x.NFS4ERR_ATTRNOTSUPP, firstExtra(f.Attrmask), "attribute beyond those defined", nil)
	}
	if a, ok := mask.AndNot(Supported(src.Export.Minor)).First(); ok {
		return false, statusErr(x.NFS4ERR_ATTRNOTSUPP, a, "not supported", nil)
	}
	bad := mask.And(WriteOnly())
	bad.Set(x.FATTR4_RDATTR_ERROR)
	if a, ok := mask.And(bad).First(); ok {
		return false, statusErr(x.NFS4ERR_INVAL, a, "cannot be verified", nil)
	}

	var buf [128]byte
	ours := xdr.Writer{Buf: buf[:0]}
	e := encoder{src: src}
	r := xdr.NewReader(f.AttrVals)
	equal = true
	for a, ok := mask.First(); ok; a, ok = mask.next(a + 1) {
		start := r.Offset()
		if err := skipValue(r, a); err != nil {
			return false, badXDR(fmt.Errorf("%s: %w", Name(a), err))
		}
		theirs := f.AttrVals[start:r.Offset()]
		if !equal {
			continue
		}
		ours.Buf = ours.Buf[:0]
		if err := e.attr(&ours, a); err != nil {
			return false, err
		}
		same, err := sameValue(a, theirs, ours.Buf, src.Export.IDs)
		if err != nil {
			return false, err
		}
		equal = same
	}
	if err := r.Done(); err != nil {
		return false, badXDR(err)
	}
	return equal, nil
}

// sameValue compares the client's encoding of attribute a with ours.
func sameValue(a uint32, theirs, ours []byte, ids IDMapper) (bool, error) {
	switch a {
	case x.FATTR4_OWNER, x.FATTR4_OWNER_GROUP:
		group := a == x.FATTR4_OWNER_GROUP
		tid, err := mapName(ids, stringValue(theirs), group)
		if err != nil {
			return false, nil
		}
		oid, err := mapName(ids, stringValue(ours), group)
		if err != nil {
			// Our own name does not map back: the directory changed
			// under us. Fall back to the strings.
			return bytes.Equal(theirs, ours), nil
		}
		return tid == oid, nil
	case x.FATTR4_SUPPORTED_ATTRS, x.FATTR4_SUPPATTR_EXCLCREAT:
		tb, textra := DecodeBitmap(xdr.NewReader(theirs))
		ob, _ := DecodeBitmap(xdr.NewReader(ours))
		return !textra && tb == ob, nil
	}
	return bytes.Equal(theirs, ours), nil
}

// stringValue returns the bytes of an encoded XDR string already checked
// by skipValue.
func stringValue(b []byte) []byte {
	return xdr.NewReader(b).Opaque(xdr.Unbounded)
}

// skipValue consumes the value of supported attribute a, checking that it
// is well formed.
func skipValue(r *xdr.Reader, a uint32) error {
	switch a {
	case x.FATTR4_SUPPORTED_ATTRS, x.FATTR4_SUPPATTR_EXCLCREAT:
		DecodeBitmap(r)
	case x.FATTR4_FH_EXPIRE_TYPE, x.FATTR4_LEASE_TIME, x.FATTR4_MAXLINK, x.FATTR4_MAXNAME,
		x.FATTR4_MODE, x.FATTR4_NUMLINKS, x.FATTR4_FS_CHARSET_CAP, x.FATTR4_CLONE_BLKSIZE,
		x.FATTR4_TYPE, x.FATTR4_CHANGE_ATTR_TYPE:
		r.Uint32()
	case x.FATTR4_LINK_SUPPORT, x.FATTR4_SYMLINK_SUPPORT, x.FATTR4_NAMED_ATTR,
		x.FATTR4_UNIQUE_HANDLES, x.FATTR4_CANSETTIME, x.FATTR4_CASE_INSENSITIVE,
		x.FATTR4_CASE_PRESERVING, x.FATTR4_CHOWN_RESTRICTED, x.FATTR4_HOMOGENEOUS,
		x.FATTR4_NO_TRUNC, x.FATTR4_XATTR_SUPPORT:
		r.Bool()
	case x.FATTR4_CHANGE, x.FATTR4_SIZE, x.FATTR4_FILEID, x.FATTR4_FILES_AVAIL,
		x.FATTR4_FILES_FREE, x.FATTR4_FILES_TOTAL, x.FATTR4_MAXFILESIZE, x.FATTR4_MAXREAD,
		x.FATTR4_MAXWRITE, x.FATTR4_SPACE_AVAIL, x.FATTR4_SPACE_FREE, x.FATTR4_SPACE_TOTAL,
		x.FATTR4_SPACE_USED, x.FATTR4_MOUNTED_ON_FILEID, x.FATTR4_RAWDEV:
		r.Uint64()
	case x.FATTR4_FSID:
		r.Uint64()
		r.Uint64()
	case x.FATTR4_TIME_ACCESS, x.FATTR4_TIME_DELTA, x.FATTR4_TIME_METADATA, x.FATTR4_TIME_MODIFY:
		r.Int64()
		r.Uint32()
	case x.FATTR4_FILEHANDLE:
		r.Opaque(x.NFS4_FHSIZE)
	case x.FATTR4_OWNER, x.FATTR4_OWNER_GROUP:
		r.Opaque(xdr.Unbounded)
	case x.FATTR4_FS_LAYOUT_TYPES:
		n := r.ArrayLen(xdr.Unbounded, 4)
		r.Skip(4 * n)
	case x.FATTR4_OPEN_ARGUMENTS:
		for range 5 { // the bitmap4s of open_arguments4
			DecodeBitmap(r)
		}
	default:
		// Write-only attributes and rdattr_error were refused before.
		return fmt.Errorf("fattr: no shape for attribute %s", Name(a))
	}
	return r.Err()
}
