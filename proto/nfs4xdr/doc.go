// Package nfs4xdr holds the wire types and numbers of NFS version 4,
// minor versions 0, 1 and 2 (RFC 7531, RFC 5662, RFC 7863), with the
// extended-attribute operations of RFC 8276 and the mode_umask attribute
// of RFC 8275: the COMPOUND and CB_COMPOUND procedures, every operation's
// arguments and results (OPEN4args, SEQUENCE4res, ...), nfsstat4, the
// FATTR4_* attribute numbers and the type of each attribute's value.
//
// Like RFC 7863, one definition covers all three minor versions; which
// operations, attributes and errors a minor version may use is the
// protocol handler's business (RFC 7862 §2). The types are generated from
// nfs4.x by cmd/xdrgen and keep the RFC spellings (nfs_argop4 becomes
// NfsArgop4 with fields Opaccess, Opclose, ...), so the code greps against
// the RFCs; nfs4.x lists where it departs from them.
//
// fattr4 carries attribute values as opaque bytes (attr_vals), in the
// order of the bits set in attrmask; the Fattr4* types (Fattr4Type,
// Fattr4Change, ...) encode and decode the single values.
//
// Decoding nfs_argop4 fails on an unknown opcode, so a COMPOUND loop that
// must answer OP_ILLEGAL with the results so far decodes the header and
// then one nfs_argop4 at a time rather than COMPOUND4args whole. Decoded
// opaque fields (file handles, names, data) alias the record they were
// read from; copy what outlives it.
//
// The package has no state. Values are plain data; encoding and decoding
// distinct values from several goroutines at once is safe.
package nfs4xdr

//go:generate go run ../../cmd/xdrgen -pkg nfs4xdr -o nfs4_xdr.go nfs4.x
