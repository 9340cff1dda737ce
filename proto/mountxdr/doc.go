// Package mountxdr holds the wire types and procedure numbers of the
// MOUNT protocol, version 3 (RFC 1813 Appendix I, program 100005).
//
// The types are generated from mount.x by cmd/xdrgen and keep the RFC
// spellings (fhandle3, dirpath, mountstat3, mountres3, mountlist, groups,
// exports).
//
// The package has no state. Values are plain data; encoding and decoding
// distinct values from several goroutines at once is safe.
package mountxdr

//go:generate go run ../../cmd/xdrgen -pkg mountxdr -o mount_xdr.go mount.x
