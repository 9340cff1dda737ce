package nfs4

import (
	"fmt"
	"os/user"
	"strconv"
	"strings"
	"time"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/xdr"
)

// Attr is the subset of fattr4 (RFC 8881 §5) the client asks for.
type Attr struct {
	Type      x.NfsFtype4
	Change    uint64
	Size      uint64
	Fileid    uint64
	Mode      uint32 // permission bits only (mode4)
	Nlink     uint32
	Uid, Gid  uint32
	Rdev      [2]uint32
	Used      uint64
	Atime     time.Time
	Ctime     time.Time // time_metadata
	Mtime     time.Time
	LeaseTime uint32
	MaxRead   uint64
	MaxWrite  uint64
}

// StatAttrs are the attributes GETATTR and READDIR ask for.
var StatAttrs = bitmap(x.FATTR4_TYPE, x.FATTR4_CHANGE, x.FATTR4_SIZE, x.FATTR4_FILEID, x.FATTR4_MODE,
	x.FATTR4_NUMLINKS, x.FATTR4_OWNER, x.FATTR4_OWNER_GROUP, x.FATTR4_RAWDEV, x.FATTR4_SPACE_USED,
	x.FATTR4_TIME_ACCESS, x.FATTR4_TIME_METADATA, x.FATTR4_TIME_MODIFY)

// bitmap builds a bitmap4 (RFC 8881 §3.3.11): attribute n is bit n%32 of
// word n/32.
func bitmap(attrs ...uint32) x.Bitmap4 {
	var b x.Bitmap4
	for _, a := range attrs {
		for int(a/32) >= len(b) {
			b = append(b, 0)
		}
		b[a/32] |= 1 << (a % 32)
	}
	return b
}

func isSet(b x.Bitmap4, a uint32) bool {
	return int(a/32) < len(b) && b[a/32]&(1<<(a%32)) != 0
}

func decodeTime(r *xdr.Reader) time.Time {
	s := r.Int64()
	ns := r.Uint32()
	return time.Unix(s, int64(ns))
}

// DecodeAttr decodes a fattr4. The values are in attribute-number order
// (RFC 8881 §3.3.11); an attribute this client does not know cannot be
// skipped, since fattr4 carries no lengths, so it is an error.
func DecodeAttr(f *x.Fattr4) (Attr, error) {
	var a Attr
	r := xdr.NewReader(f.AttrVals)
	for w, word := range f.Attrmask {
		for bit := uint32(0); bit < 32; bit++ {
			if word&(1<<bit) == 0 {
				continue
			}
			switch n := uint32(w)*32 + bit; n {
			case x.FATTR4_TYPE:
				a.Type = x.NfsFtype4(r.Uint32())
			case x.FATTR4_CHANGE:
				a.Change = r.Uint64()
			case x.FATTR4_SIZE:
				a.Size = r.Uint64()
			case x.FATTR4_LEASE_TIME:
				a.LeaseTime = r.Uint32()
			case x.FATTR4_FILEID:
				a.Fileid = r.Uint64()
			case x.FATTR4_MAXREAD:
				a.MaxRead = r.Uint64()
			case x.FATTR4_MAXWRITE:
				a.MaxWrite = r.Uint64()
			case x.FATTR4_MODE:
				a.Mode = r.Uint32()
			case x.FATTR4_NUMLINKS:
				a.Nlink = r.Uint32()
			case x.FATTR4_OWNER:
				a.Uid = parseOwner(r.String(xdr.Unbounded), false)
			case x.FATTR4_OWNER_GROUP:
				a.Gid = parseOwner(r.String(xdr.Unbounded), true)
			case x.FATTR4_RAWDEV:
				a.Rdev = [2]uint32{r.Uint32(), r.Uint32()}
			case x.FATTR4_SPACE_USED:
				a.Used = r.Uint64()
			case x.FATTR4_TIME_ACCESS:
				a.Atime = decodeTime(r)
			case x.FATTR4_TIME_METADATA:
				a.Ctime = decodeTime(r)
			case x.FATTR4_TIME_MODIFY:
				a.Mtime = decodeTime(r)
			default:
				return a, fmt.Errorf("nfs4: server returned attribute %d, which was not asked for", n)
			}
		}
	}
	if err := r.Err(); err != nil {
		return a, fmt.Errorf("nfs4: fattr4: %w", err)
	}
	return a, nil
}

// nobody is the id of an owner string that names no local user.
const nobody = 65534

// parseOwner turns an owner or owner_group string into an id: numeric
// strings as AUTH_SYS servers send them (RFC 8881 §5.9), else the local
// user or group of the name before '@'.
func parseOwner(s string, group bool) uint32 {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return uint32(n)
	}
	name, _, _ := strings.Cut(s, "@")
	var id string
	if group {
		if g, err := user.LookupGroup(name); err == nil {
			id = g.Gid
		}
	} else if u, err := user.Lookup(name); err == nil {
		id = u.Uid
	}
	if n, err := strconv.ParseUint(id, 10, 32); err == nil {
		return uint32(n)
	}
	return nobody
}

// SetAttr says which attributes SETATTR (or OPEN, CREATE) sets.
type SetAttr struct {
	Size         *uint64
	Mode         *uint32
	Uid, Gid     *uint32
	Atime, Mtime *time.Time // a zero Time means the server's clock
}

// Encode returns the fattr4 for s, with values in attribute order.
func (s *SetAttr) Encode() x.Fattr4 {
	var attrs []uint32
	var w xdr.Writer
	if s.Size != nil {
		attrs = append(attrs, x.FATTR4_SIZE)
		w.Uint64(*s.Size)
	}
	if s.Mode != nil {
		attrs = append(attrs, x.FATTR4_MODE)
		w.Uint32(*s.Mode & 0o7777)
	}
	if s.Uid != nil {
		attrs = append(attrs, x.FATTR4_OWNER)
		w.String(strconv.FormatUint(uint64(*s.Uid), 10))
	}
	if s.Gid != nil {
		attrs = append(attrs, x.FATTR4_OWNER_GROUP)
		w.String(strconv.FormatUint(uint64(*s.Gid), 10))
	}
	for _, t := range []struct {
		attr uint32
		v    *time.Time
	}{{x.FATTR4_TIME_ACCESS_SET, s.Atime}, {x.FATTR4_TIME_MODIFY_SET, s.Mtime}} {
		if t.v == nil {
			continue
		}
		attrs = append(attrs, t.attr)
		if t.v.IsZero() {
			w.Uint32(uint32(x.SET_TO_SERVER_TIME4))
		} else {
			w.Uint32(uint32(x.SET_TO_CLIENT_TIME4))
			w.Int64(t.v.Unix())
			w.Uint32(uint32(t.v.Nanosecond()))
		}
	}
	return x.Fattr4{Attrmask: bitmap(attrs...), AttrVals: w.Buf}
}
