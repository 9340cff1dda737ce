// Package nlmxdr holds the wire types and procedure numbers of the
// Network Lock Manager, version 4 (RFC 1813 Appendix II and the Open Group
// XNFS specification; program 100021 version 4), including the
// asynchronous _MSG/_RES procedures and the DOS share reservations.
//
// The types are generated from nlm.x by cmd/xdrgen and keep the
// specification's spellings (nlm4_lockargs, NLM4_DENIED, ...).
//
// The package has no state. Values are plain data; encoding and decoding
// distinct values from several goroutines at once is safe.
package nlmxdr

//go:generate go run ../../cmd/xdrgen -pkg nlmxdr -o nlm_xdr.go nlm.x
