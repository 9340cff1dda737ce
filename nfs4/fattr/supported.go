package fattr

import x "github.com/gonfs/gonfs/proto/nfs4xdr"

// The sets below are constants so that Supported and its kin cost nothing
// on the GETATTR path. bitmap_test.go checks them against plain lists.
const (
	// REQUIRED attributes of every minor version (RFC 8881 §5.6) except
	// suppattr_exclcreat, which 4.1 added.
	required0 = 1<<x.FATTR4_SUPPORTED_ATTRS | 1<<x.FATTR4_TYPE | 1<<x.FATTR4_FH_EXPIRE_TYPE |
		1<<x.FATTR4_CHANGE | 1<<x.FATTR4_SIZE | 1<<x.FATTR4_LINK_SUPPORT |
		1<<x.FATTR4_SYMLINK_SUPPORT | 1<<x.FATTR4_NAMED_ATTR | 1<<x.FATTR4_FSID |
		1<<x.FATTR4_UNIQUE_HANDLES | 1<<x.FATTR4_LEASE_TIME | 1<<x.FATTR4_RDATTR_ERROR |
		1<<x.FATTR4_FILEHANDLE

	// RECOMMENDED attributes we implement (RFC 8881 §5.7), word 0.
	recommended0 = 1<<x.FATTR4_CANSETTIME | 1<<x.FATTR4_CASE_INSENSITIVE |
		1<<x.FATTR4_CASE_PRESERVING | 1<<x.FATTR4_CHOWN_RESTRICTED | 1<<x.FATTR4_FILEID |
		1<<x.FATTR4_FILES_AVAIL | 1<<x.FATTR4_FILES_FREE | 1<<x.FATTR4_FILES_TOTAL |
		1<<x.FATTR4_HOMOGENEOUS | 1<<x.FATTR4_MAXFILESIZE | 1<<x.FATTR4_MAXLINK |
		1<<x.FATTR4_MAXNAME | 1<<x.FATTR4_MAXREAD | 1<<x.FATTR4_MAXWRITE

	// Word 1: attributes 32 to 63.
	recommended1 = 1<<(x.FATTR4_MODE-32) | 1<<(x.FATTR4_NO_TRUNC-32) |
		1<<(x.FATTR4_NUMLINKS-32) | 1<<(x.FATTR4_OWNER-32) | 1<<(x.FATTR4_OWNER_GROUP-32) |
		1<<(x.FATTR4_RAWDEV-32) | 1<<(x.FATTR4_SPACE_AVAIL-32) | 1<<(x.FATTR4_SPACE_FREE-32) |
		1<<(x.FATTR4_SPACE_TOTAL-32) | 1<<(x.FATTR4_SPACE_USED-32) |
		1<<(x.FATTR4_TIME_ACCESS-32) | 1<<(x.FATTR4_TIME_ACCESS_SET-32) |
		1<<(x.FATTR4_TIME_DELTA-32) | 1<<(x.FATTR4_TIME_METADATA-32) |
		1<<(x.FATTR4_TIME_MODIFY-32) | 1<<(x.FATTR4_TIME_MODIFY_SET-32) |
		1<<(x.FATTR4_MOUNTED_ON_FILEID-32)

	// Added by 4.1 (RFC 8881 §5.6, §5.7).
	minor1w1 = 1 << (x.FATTR4_FS_LAYOUT_TYPES - 32)
	minor1w2 = 1<<(x.FATTR4_SUPPATTR_EXCLCREAT-64) | 1<<(x.FATTR4_FS_CHARSET_CAP-64)

	// Added by 4.2 (RFC 7862 §12.2), RFC 8275, RFC 8276 and RFC 9754
	// (open_arguments; not offline, time_deleg_access or
	// time_deleg_modify, which need offline files and delegated
	// timestamps).
	minor2w2 = 1<<(x.FATTR4_CLONE_BLKSIZE-64) | 1<<(x.FATTR4_CHANGE_ATTR_TYPE-64) |
		1<<(x.FATTR4_MODE_UMASK-64) | 1<<(x.FATTR4_XATTR_SUPPORT-64) |
		1<<(x.FATTR4_OPEN_ARGUMENTS-64)

	// What SETATTR and createattrs may set.
	settable0 = 1 << x.FATTR4_SIZE
	settable1 = 1<<(x.FATTR4_MODE-32) | 1<<(x.FATTR4_OWNER-32) | 1<<(x.FATTR4_OWNER_GROUP-32) |
		1<<(x.FATTR4_TIME_ACCESS_SET-32) | 1<<(x.FATTR4_TIME_MODIFY_SET-32)
	settable2 = 1 << (x.FATTR4_MODE_UMASK - 64) // 4.2 only

	// Attributes that can be set but never read (RFC 8881 §5.7: a GETATTR
	// of time_access_set or time_modify_set is NFS4ERR_INVAL; mode_umask,
	// RFC 8275 §3, is a request to create with a mode, not a property of
	// the file).
	writeOnly1 = 1<<(x.FATTR4_TIME_ACCESS_SET-32) | 1<<(x.FATTR4_TIME_MODIFY_SET-32)
	writeOnly2 = 1 << (x.FATTR4_MODE_UMASK - 64)

	// The value of open_arguments (RFC 9754, XDR in its §10): bit N of
	// each word is value N of the matching open_args_* enum, set for what
	// OPEN (nfs4/op_open.go) accepts and acts on. Any access, any deny.
	// Of the wants, the delegation wants; READ_DELEG and WRITE_DELEG have
	// no value in open_args_share_access_want4, and the SIGNAL and PUSH
	// flags are accepted but never acted on, so they are not claimed;
	// neither are DELEG_TIMESTAMPS and OPEN_XOR_DELEGATION. Every claim
	// but the DELEGATE_PREV pair, which OPEN answers NFS4ERR_NOTSUPP
	// (no stable delegation records). Every create mode.
	oaShareAccess = 1<<x.OPEN_ARGS_SHARE_ACCESS_READ | 1<<x.OPEN_ARGS_SHARE_ACCESS_WRITE |
		1<<x.OPEN_ARGS_SHARE_ACCESS_BOTH
	oaShareDeny = 1<<x.OPEN_ARGS_SHARE_DENY_NONE | 1<<x.OPEN_ARGS_SHARE_DENY_READ |
		1<<x.OPEN_ARGS_SHARE_DENY_WRITE | 1<<x.OPEN_ARGS_SHARE_DENY_BOTH
	oaShareAccessWant = 1<<x.OPEN_ARGS_SHARE_ACCESS_WANT_ANY_DELEG |
		1<<x.OPEN_ARGS_SHARE_ACCESS_WANT_NO_DELEG | 1<<x.OPEN_ARGS_SHARE_ACCESS_WANT_CANCEL
	oaOpenClaim = 1<<x.OPEN_ARGS_OPEN_CLAIM_NULL | 1<<x.OPEN_ARGS_OPEN_CLAIM_PREVIOUS |
		1<<x.OPEN_ARGS_OPEN_CLAIM_DELEGATE_CUR | 1<<x.OPEN_ARGS_OPEN_CLAIM_FH |
		1<<x.OPEN_ARGS_OPEN_CLAIM_DELEG_CUR_FH
	oaCreateMode = 1<<x.OPEN_ARGS_CREATEMODE_UNCHECKED4 | 1<<x.OPEN_ARGS_CREATE_MODE_GUARDED |
		1<<x.OPEN_ARGS_CREATEMODE_EXCLUSIVE4 | 1<<x.OPEN_ARGS_CREATE_MODE_EXCLUSIVE4_1

	// Attributes whose values come from the filesystem's StatFS.
	statfs0 = 1<<x.FATTR4_FILES_AVAIL | 1<<x.FATTR4_FILES_FREE | 1<<x.FATTR4_FILES_TOTAL
	statfs1 = 1<<(x.FATTR4_SPACE_AVAIL-32) | 1<<(x.FATTR4_SPACE_FREE-32) | 1<<(x.FATTR4_SPACE_TOTAL-32)
)

// Supported returns the attributes gonfs implements for NFSv4 minor
// version minor (0, 1 or 2): the value of supported_attrs. Other minor
// versions get the empty set. The package comment says what is left out
// and why.
func Supported(minor uint32) Bitmap {
	switch minor {
	case 0:
		return Bitmap{required0 | recommended0, recommended1, 0}
	case 1:
		return Bitmap{required0 | recommended0, recommended1 | minor1w1, minor1w2}
	case 2:
		return Bitmap{required0 | recommended0, recommended1 | minor1w1, minor1w2 | minor2w2}
	}
	return Bitmap{}
}

// Settable returns the attributes that SETATTR, CREATE and OPEN may set in
// minor version minor.
func Settable(minor uint32) Bitmap {
	b := Bitmap{settable0, settable1, 0}
	if minor >= 2 {
		b[2] = settable2
	}
	return b.And(Supported(minor))
}

// WriteOnly returns the attributes a client may set but never ask for:
// GETATTR, READDIR, VERIFY and NVERIFY of any of them is NFS4ERR_INVAL.
func WriteOnly() Bitmap { return Bitmap{0, writeOnly1, writeOnly2} }

// ExclCreat returns the value of suppattr_exclcreat (RFC 8881 §5.8.1.14):
// the attributes an EXCLUSIVE4_1 create accepts beside its verifier.
// gonfs keeps the create verifier in atime and mtime, as for NFSv3
// exclusive creates, so time_access_set and time_modify_set are left out
// (RFC 8881 §18.16.3 lets a server exclude what holds the verifier).
func ExclCreat(minor uint32) Bitmap {
	return Settable(minor).AndNot(Bitmap{0, writeOnly1, 0})
}

// NeedsStatFS reports whether encoding req (already limited to supported
// attributes or not) needs the filesystem's space and file counts.
func NeedsStatFS(req Bitmap) bool {
	return req[0]&statfs0 != 0 || req[1]&statfs1 != 0
}
