package fattr

import (
	"iter"
	"math/bits"
	"strconv"
	"strings"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/xdr"
)

// words is how many bitmap4 words gonfs knows: attributes 0 to 95, which
// covers every attribute through NFSv4.2 and its extensions (the highest is
// open_arguments, 86, of RFC 9754).
const words = 3

// MaxAttr is the highest attribute number a Bitmap can hold.
const MaxAttr = words*32 - 1

// Bitmap is a set of attribute numbers: bit n%32 of word n/32 is attribute
// n, as in bitmap4 (RFC 8881 §3.3.11). It is an array, so copying and
// comparing with == are cheap and never allocate.
type Bitmap [words]uint32

// Of returns the set of the given attributes.
func Of(attrs ...uint32) Bitmap {
	var b Bitmap
	for _, a := range attrs {
		b.Set(a)
	}
	return b
}

// FromWords returns the set held by the words of a bitmap4. Words beyond
// the ones gonfs knows are ignored: they can only name attributes it does
// not support.
func FromWords(ws []uint32) Bitmap {
	var b Bitmap
	copy(b[:], ws)
	return b
}

// Has reports whether a is in b.
func (b Bitmap) Has(a uint32) bool {
	return a <= MaxAttr && b[a/32]&(1<<(a%32)) != 0
}

// Set adds a to b. Attributes above MaxAttr are not defined by any minor
// version and are ignored.
func (b *Bitmap) Set(a uint32) {
	if a <= MaxAttr {
		b[a/32] |= 1 << (a % 32)
	}
}

// Clear removes a from b.
func (b *Bitmap) Clear(a uint32) {
	if a <= MaxAttr {
		b[a/32] &^= 1 << (a % 32)
	}
}

// And returns the attributes in both b and o.
func (b Bitmap) And(o Bitmap) Bitmap {
	for i := range b {
		b[i] &= o[i]
	}
	return b
}

// Or returns the attributes in b or o.
func (b Bitmap) Or(o Bitmap) Bitmap {
	for i := range b {
		b[i] |= o[i]
	}
	return b
}

// AndNot returns the attributes in b but not in o.
func (b Bitmap) AndNot(o Bitmap) Bitmap {
	for i := range b {
		b[i] &^= o[i]
	}
	return b
}

// IsEmpty reports whether b has no attribute.
func (b Bitmap) IsEmpty() bool { return b == Bitmap{} }

// Len returns the number of attributes in b.
func (b Bitmap) Len() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount32(w)
	}
	return n
}

// First returns the lowest attribute in b, if any.
func (b Bitmap) First() (uint32, bool) {
	for i, w := range b {
		if w != 0 {
			return uint32(i*32 + bits.TrailingZeros32(w)), true
		}
	}
	return 0, false
}

// All yields the attributes of b in increasing order, the order of their
// values in attr_vals.
func (b Bitmap) All() iter.Seq[uint32] {
	return func(yield func(uint32) bool) {
		for a, ok := b.First(); ok; a, ok = b.next(a + 1) {
			if !yield(a) {
				return
			}
		}
	}
}

// next returns the lowest attribute of b that is at least a.
func (b Bitmap) next(a uint32) (uint32, bool) {
	for a <= MaxAttr {
		w := b[a/32] >> (a % 32)
		if w != 0 {
			return a + uint32(bits.TrailingZeros32(w)), true
		}
		a = (a/32 + 1) * 32
	}
	return 0, false
}

// nwords is the number of words of b up to its last non-zero one: a
// bitmap4 is sent without trailing zero words (RFC 8881 §3.3.11 allows
// them, but they carry nothing).
func (b Bitmap) nwords() int {
	n := words
	for n > 0 && b[n-1] == 0 {
		n--
	}
	return n
}

// Words returns b as bitmap4 words, without trailing zero words. The slice
// is new; Encode writes b without allocating.
func (b Bitmap) Words() []uint32 {
	n := b.nwords()
	ws := make([]uint32, n)
	copy(ws, b[:n])
	return ws
}

// Bitmap4 returns b as the generated wire type.
func (b Bitmap) Bitmap4() x.Bitmap4 { return x.Bitmap4(b.Words()) }

// Encode appends b as a bitmap4, without trailing zero words.
func (b Bitmap) Encode(w *xdr.Writer) {
	n := b.nwords()
	w.Uint32(uint32(n))
	for _, v := range b[:n] {
		w.Uint32(v)
	}
}

// DecodeBitmap reads a bitmap4 without allocating. Words beyond the ones
// gonfs knows are read and dropped; extra reports whether any of them had
// a bit set (an attribute no minor version we serve defines).
func DecodeBitmap(r *xdr.Reader) (b Bitmap, extra bool) {
	n := r.ArrayLen(xdr.Unbounded, 4)
	for i := 0; i < n; i++ {
		v := r.Uint32()
		if i < words {
			b[i] = v
		} else if v != 0 {
			extra = true
		}
	}
	return b, extra
}

// rawBitmap converts a decoded bitmap4, reporting bits set beyond the
// words gonfs knows.
func rawBitmap(ws []uint32) (b Bitmap, extra bool) {
	for i, v := range ws {
		if i < words {
			b[i] = v
		} else if v != 0 {
			extra = true
		}
	}
	return b, extra
}

// String lists the attribute names of b, lowest first, for logs and test
// failures.
func (b Bitmap) String() string {
	var sb strings.Builder
	sb.WriteByte('{')
	for a, ok := b.First(); ok; a, ok = b.next(a + 1) {
		if sb.Len() > 1 {
			sb.WriteByte(',')
		}
		sb.WriteString(Name(a))
	}
	sb.WriteByte('}')
	return sb.String()
}

// Name returns the RFC name of attribute a ("size", "time_modify_set"),
// or its number for one no minor version defines.
func Name(a uint32) string {
	if int(a) < len(names) && names[a] != "" {
		return names[a]
	}
	return "attr" + strconv.FormatUint(uint64(a), 10)
}

// names is a read-only table of the attribute names of RFC 8881 §5.6 to
// §5.13, RFC 7862 §12.2, RFC 8275, RFC 8276 and RFC 9754.
var names = [...]string{
	x.FATTR4_SUPPORTED_ATTRS: "supported_attrs", x.FATTR4_TYPE: "type",
	x.FATTR4_FH_EXPIRE_TYPE: "fh_expire_type", x.FATTR4_CHANGE: "change",
	x.FATTR4_SIZE: "size", x.FATTR4_LINK_SUPPORT: "link_support",
	x.FATTR4_SYMLINK_SUPPORT: "symlink_support", x.FATTR4_NAMED_ATTR: "named_attr",
	x.FATTR4_FSID: "fsid", x.FATTR4_UNIQUE_HANDLES: "unique_handles",
	x.FATTR4_LEASE_TIME: "lease_time", x.FATTR4_RDATTR_ERROR: "rdattr_error",
	x.FATTR4_ACL: "acl", x.FATTR4_ACLSUPPORT: "aclsupport", x.FATTR4_ARCHIVE: "archive",
	x.FATTR4_CANSETTIME: "cansettime", x.FATTR4_CASE_INSENSITIVE: "case_insensitive",
	x.FATTR4_CASE_PRESERVING: "case_preserving", x.FATTR4_CHOWN_RESTRICTED: "chown_restricted",
	x.FATTR4_FILEHANDLE: "filehandle", x.FATTR4_FILEID: "fileid",
	x.FATTR4_FILES_AVAIL: "files_avail", x.FATTR4_FILES_FREE: "files_free",
	x.FATTR4_FILES_TOTAL: "files_total", x.FATTR4_FS_LOCATIONS: "fs_locations",
	x.FATTR4_HIDDEN: "hidden", x.FATTR4_HOMOGENEOUS: "homogeneous",
	x.FATTR4_MAXFILESIZE: "maxfilesize", x.FATTR4_MAXLINK: "maxlink",
	x.FATTR4_MAXNAME: "maxname", x.FATTR4_MAXREAD: "maxread", x.FATTR4_MAXWRITE: "maxwrite",
	x.FATTR4_MIMETYPE: "mimetype", x.FATTR4_MODE: "mode", x.FATTR4_NO_TRUNC: "no_trunc",
	x.FATTR4_NUMLINKS: "numlinks", x.FATTR4_OWNER: "owner", x.FATTR4_OWNER_GROUP: "owner_group",
	x.FATTR4_QUOTA_AVAIL_HARD: "quota_avail_hard", x.FATTR4_QUOTA_AVAIL_SOFT: "quota_avail_soft",
	x.FATTR4_QUOTA_USED: "quota_used", x.FATTR4_RAWDEV: "rawdev",
	x.FATTR4_SPACE_AVAIL: "space_avail", x.FATTR4_SPACE_FREE: "space_free",
	x.FATTR4_SPACE_TOTAL: "space_total", x.FATTR4_SPACE_USED: "space_used",
	x.FATTR4_SYSTEM: "system", x.FATTR4_TIME_ACCESS: "time_access",
	x.FATTR4_TIME_ACCESS_SET: "time_access_set", x.FATTR4_TIME_BACKUP: "time_backup",
	x.FATTR4_TIME_CREATE: "time_create", x.FATTR4_TIME_DELTA: "time_delta",
	x.FATTR4_TIME_METADATA: "time_metadata", x.FATTR4_TIME_MODIFY: "time_modify",
	x.FATTR4_TIME_MODIFY_SET: "time_modify_set", x.FATTR4_MOUNTED_ON_FILEID: "mounted_on_fileid",
	x.FATTR4_DIR_NOTIF_DELAY: "dir_notif_delay", x.FATTR4_DIRENT_NOTIF_DELAY: "dirent_notif_delay",
	x.FATTR4_DACL: "dacl", x.FATTR4_SACL: "sacl", x.FATTR4_CHANGE_POLICY: "change_policy",
	x.FATTR4_FS_STATUS: "fs_status", x.FATTR4_FS_LAYOUT_TYPES: "fs_layout_types",
	x.FATTR4_LAYOUT_HINT: "layout_hint", x.FATTR4_LAYOUT_TYPES: "layout_types",
	x.FATTR4_LAYOUT_BLKSIZE: "layout_blksize", x.FATTR4_LAYOUT_ALIGNMENT: "layout_alignment",
	x.FATTR4_FS_LOCATIONS_INFO: "fs_locations_info", x.FATTR4_MDSTHRESHOLD: "mdsthreshold",
	x.FATTR4_RETENTION_GET: "retention_get", x.FATTR4_RETENTION_SET: "retention_set",
	x.FATTR4_RETENTEVT_GET: "retentevt_get", x.FATTR4_RETENTEVT_SET: "retentevt_set",
	x.FATTR4_RETENTION_HOLD: "retention_hold", x.FATTR4_MODE_SET_MASKED: "mode_set_masked",
	x.FATTR4_SUPPATTR_EXCLCREAT: "suppattr_exclcreat", x.FATTR4_FS_CHARSET_CAP: "fs_charset_cap",
	x.FATTR4_CLONE_BLKSIZE: "clone_blksize", x.FATTR4_SPACE_FREED: "space_freed",
	x.FATTR4_CHANGE_ATTR_TYPE: "change_attr_type", x.FATTR4_SEC_LABEL: "sec_label",
	x.FATTR4_MODE_UMASK: "mode_umask", x.FATTR4_XATTR_SUPPORT: "xattr_support",
	x.FATTR4_OFFLINE: "offline", x.FATTR4_TIME_DELEG_ACCESS: "time_deleg_access",
	x.FATTR4_TIME_DELEG_MODIFY: "time_deleg_modify", x.FATTR4_OPEN_ARGUMENTS: "open_arguments",
}
