package fattr

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// StatusError is a request the protocol itself refuses: Status is the
// nfsstat4 to answer with.
type StatusError struct {
	Status x.Nfsstat4
	// Attr is the attribute at fault, or -1.
	Attr int
	// Reason says what was wrong, for logs.
	Reason string
	// Err is the underlying error (an XDR or mapping error), or nil.
	Err error
}

func (e *StatusError) Error() string {
	s := "fattr: " + e.Status.String()
	if e.Attr >= 0 {
		s += " (" + Name(uint32(e.Attr)) + ")"
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *StatusError) Unwrap() error { return e.Err }

// StatusOf returns the status err carries if it is (or wraps) a
// *StatusError. Any other error is for nfserr to map.
func StatusOf(err error) (x.Nfsstat4, bool) {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status, true
	}
	return x.NFS4_OK, false
}

func statusErr(st x.Nfsstat4, a uint32, reason string, err error) *StatusError {
	return &StatusError{Status: st, Attr: int(a), Reason: reason, Err: err}
}

func badXDR(err error) *StatusError {
	return &StatusError{Status: x.NFS4ERR_BADXDR, Attr: -1, Err: err}
}

// Set is a decoded fattr4 of SETATTR, CREATE or OPEN.
type Set struct {
	// Attr is the change to make.
	Attr vfs.SetAttr
	// Applied is the set of attributes the request sets: SETATTR's
	// attrsset once the change is made, and CREATE's and OPEN's too.
	Applied Bitmap
}

// Decode checks and decodes the fattr4 f of SETATTR (create false) or of
// CREATE or OPEN (create true), for a file of export e. It is strict, so a
// client learns at once what it may not do:
//
//   - a bit no minor version defines, or an attribute e does not support
//     (acl, say): NFS4ERR_ATTRNOTSUPP (RFC 8881 §18.30.3);
//   - a supported attribute that cannot be set (type, change, ...):
//     NFS4ERR_INVAL (RFC 8881 §18.30.3);
//   - mode_umask outside CREATE and OPEN, or together with mode:
//     NFS4ERR_INVAL (RFC 8275 §3);
//   - values that end early, leave bytes over, or hold an undefined union
//     arm or bool: NFS4ERR_BADXDR;
//   - a time with nseconds of a second or more: NFS4ERR_INVAL
//     (RFC 8881 §3.3.1);
//   - an owner or group string the IDMapper does not know:
//     NFS4ERR_BADOWNER (RFC 8881 §5.9).
//
// Errors are *StatusError. Mode bits above 07777 are dropped, as for
// NFSv3. The returned Set does not alias f.
func Decode(f *x.Fattr4, e *Export, create bool) (Set, error) {
	mask, extra := rawBitmap(f.Attrmask)
	supp := Supported(e.Minor)
	if extra {
		return Set{}, statusErr(x.NFS4ERR_ATTRNOTSUPP, firstExtra(f.Attrmask), "attribute beyond those defined", nil)
	}
	if a, ok := mask.AndNot(supp).First(); ok {
		return Set{}, statusErr(x.NFS4ERR_ATTRNOTSUPP, a, "not supported", nil)
	}
	if a, ok := mask.AndNot(Settable(e.Minor)).First(); ok {
		return Set{}, statusErr(x.NFS4ERR_INVAL, a, "read-only attribute", nil)
	}
	if mask.Has(x.FATTR4_MODE_UMASK) {
		if !create {
			return Set{}, statusErr(x.NFS4ERR_INVAL, x.FATTR4_MODE_UMASK, "only CREATE and OPEN may set it", nil)
		}
		if mask.Has(x.FATTR4_MODE) {
			return Set{}, statusErr(x.NFS4ERR_INVAL, x.FATTR4_MODE_UMASK, "set together with mode", nil)
		}
	}

	var s Set
	r := xdr.NewReader(f.AttrVals)
	for a, ok := mask.First(); ok; a, ok = mask.next(a + 1) {
		if err := decodeAttr(r, a, e, &s.Attr); err != nil {
			return Set{}, err
		}
		if err := r.Err(); err != nil {
			return Set{}, badXDR(fmt.Errorf("%s: %w", Name(a), err))
		}
	}
	if err := r.Done(); err != nil {
		return Set{}, badXDR(err)
	}
	s.Applied = mask
	return s, nil
}

// firstExtra returns the lowest attribute set in words beyond ours.
func firstExtra(ws []uint32) uint32 {
	for i := words; i < len(ws); i++ {
		if ws[i] != 0 {
			for b := uint32(0); b < 32; b++ {
				if ws[i]&(1<<b) != 0 {
					return uint32(i)*32 + b
				}
			}
		}
	}
	return 0
}

// decodeAttr reads the value of settable attribute a into s. Read errors
// stay in r for the caller; value errors are returned.
func decodeAttr(r *xdr.Reader, a uint32, e *Export, s *vfs.SetAttr) error {
	switch a {
	case x.FATTR4_SIZE:
		v := r.Uint64()
		s.Size = &v
	case x.FATTR4_MODE:
		v := r.Uint32() & 07777
		s.Mode = &v
	case x.FATTR4_MODE_UMASK:
		// With no ACLs there is no inherited ACE to spare from the umask,
		// so the mode to create with is mu_mode less mu_umask (RFC 8275 §3).
		mode, umask := r.Uint32(), r.Uint32()
		v := mode &^ umask & 07777
		s.Mode = &v
	case x.FATTR4_OWNER, x.FATTR4_OWNER_GROUP:
		name := r.Opaque(xdr.Unbounded)
		if r.Err() != nil {
			return nil
		}
		if len(name) == 0 {
			// A zero-length utf8string is invalid (RFC 7530 §12.7),
			// not an unknown owner: NFS4ERR_INVAL, as knfsd and
			// ganesha answer.
			return statusErr(x.NFS4ERR_INVAL, a, `""`, nil)
		}
		id, err := mapName(e.IDs, name, a == x.FATTR4_OWNER_GROUP)
		if err != nil {
			return statusErr(x.NFS4ERR_BADOWNER, a, fmt.Sprintf("%q", name), err)
		}
		if a == x.FATTR4_OWNER {
			s.UID = &id
		} else {
			s.GID = &id
		}
	case x.FATTR4_TIME_ACCESS_SET, x.FATTR4_TIME_MODIFY_SET:
		how, t, err := readSettime(r, a)
		if err != nil || r.Err() != nil {
			return err
		}
		if a == x.FATTR4_TIME_ACCESS_SET {
			s.Atime, s.AtimeTime = how, t
		} else {
			s.Mtime, s.MtimeTime = how, t
		}
	default:
		return fmt.Errorf("fattr: no decoder for settable attribute %s", Name(a))
	}
	return nil
}

// readSettime reads a settime4 (RFC 8881 §3.3.3).
func readSettime(r *xdr.Reader, a uint32) (vfs.SetTime, time.Time, error) {
	switch how := x.TimeHow4(r.Int32()); how {
	case x.SET_TO_SERVER_TIME4:
		return vfs.TimeServer, time.Time{}, nil
	case x.SET_TO_CLIENT_TIME4:
		sec, nsec := r.Int64(), r.Uint32()
		if nsec >= 1e9 {
			return 0, time.Time{}, statusErr(x.NFS4ERR_INVAL, a, "nseconds out of range", nil)
		}
		return vfs.TimeClient, time.Unix(sec, int64(nsec)), nil
	default:
		if r.Err() != nil {
			return 0, time.Time{}, nil
		}
		return 0, time.Time{}, statusErr(x.NFS4ERR_BADXDR, a, fmt.Sprintf("time_how4 %d", how), xdr.ErrBadValue)
	}
}

// mapName turns an owner or owner_group string into an id.
func mapName(ids IDMapper, name []byte, group bool) (uint32, error) {
	if len(name) == 0 || !utf8.Valid(name) {
		return 0, ErrBadOwner
	}
	if ids == nil {
		if id, ok := parseID(string(name)); ok {
			return id, nil
		}
		return 0, ErrBadOwner
	}
	if group {
		return ids.GID(string(name))
	}
	return ids.UID(string(name))
}
