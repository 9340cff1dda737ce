// Package nfs3xdr holds the wire types and procedure numbers of NFS
// version 3 (RFC 1813, program 100003 version 3): every argument and
// result of the 22 procedures and the types they share (nfs_fh3, fattr3,
// post_op_attr, wcc_data, sattr3, ...).
//
// The types are generated from nfs3.x by cmd/xdrgen and keep the RFC
// spellings (GETATTR3args, READ3resok, NFS3ERR_STALE, ...), so the code
// greps against the RFC. Translating storage errors and attributes to these
// types is not done here; see the NFSv3 handler packages.
//
// The package has no state. Values are plain data; encoding and decoding
// distinct values from several goroutines at once is safe.
package nfs3xdr

//go:generate go run ../../cmd/xdrgen -pkg nfs3xdr -o nfs3_xdr.go nfs3.x
