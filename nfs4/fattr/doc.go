// Package fattr is the one place where NFSv4 file attributes (fattr4,
// RFC 8881 §5) are translated to and from the backend's vfs.Attr.
//
// It owns:
//
//   - Bitmap, the attribute set of a bitmap4 (RFC 8881 §3.3.11), held in a
//     fixed array so that the hot paths never allocate;
//   - Supported, the attributes gonfs implements for each minor version;
//   - Encode, which writes a fattr4 for GETATTR, READDIR and the like straight
//     into an xdr.Writer from a Source the caller fills;
//   - Decode, which turns the fattr4 of SETATTR, CREATE and OPEN into a
//     vfs.SetAttr and the set of attributes it sets;
//   - Compare, the attribute check of VERIFY and NVERIFY;
//   - IDMapper and Mapper, the translation between uid/gid and the owner
//     strings of RFC 8881 §5.9.
//
// Errors that are the protocol's verdict on a request (an unsupported or
// read-only attribute, malformed values, an unknown owner) come back as
// *StatusError carrying the nfsstat4 to return. Any other error (a failing
// StatFS, a file of unknown type) comes from the backend or is a server
// fault, and goes through the nfserr package like every backend error.
//
// What gonfs supports, and why (RFC 8881 §5.6, §5.7; RFC 7862 §12.2):
//
//   - every REQUIRED attribute; fh_expire_type is FH4_PERSISTENT because
//     file handles survive restarts, renames and eviction (see fhandle);
//     named_attr is false (no named attribute directories);
//   - no ACLs: acl, aclsupport, dacl and sacl are unsupported, so a client
//     falls back to mode bits; setting them is NFS4ERR_ATTRNOTSUPP;
//   - no archive, hidden, system, mimetype, quota_*, time_backup,
//     time_create (vfs.Attr has no birth time), fs_locations (we make no
//     referrals), layout_* or *_notif_delay;
//   - the space and file counts, limits (maxread, maxname, ...), times,
//     owner and owner_group, rawdev, mounted_on_fileid;
//   - 4.1: suppattr_exclcreat, fs_layout_types (always empty: no pNFS) and
//     fs_charset_cap;
//   - 4.2: clone_blksize, change_attr_type (NFS4_CHANGE_TYPE_IS_MONOTONIC_INCR,
//     since vfs.Attr.Change advances on every change), mode_umask
//     (settable at creation only, RFC 8275), xattr_support and
//     open_arguments (RFC 9754: the share modes, delegation wants, claims
//     and create modes OPEN supports; read-only). RFC 9754's offline,
//     time_deleg_access and time_deleg_modify are not supported: there
//     are no offline files and no delegated timestamps.
//
// Owner strings: the default Mapper, with no domain configured, speaks
// numeric strings ("1000") both ways. That is what the Linux client sends
// and expects with AUTH_SYS (its nfs4_disable_idmapping default), and it
// needs no shared idmapd domain. With a domain configured it answers
// "name@domain" from the local user and group databases and falls back to
// numeric strings for ids that have no name; it still accepts numeric
// strings from clients (RFC 8881 §5.9 lets AUTH_SYS clients use them).
//
// Concurrency: the functions are pure apart from the Source's StatFS
// callback and the IDMapper; Bitmap, Source and Set are plain values owned
// by one request. A Mapper is safe for concurrent use.
package fattr
