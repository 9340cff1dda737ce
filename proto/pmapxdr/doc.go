// Package pmapxdr holds the wire types and procedure numbers of program
// 100000: the port mapper, version 2 (RFC 1833 §3), and RPCBIND,
// versions 3 and 4 (RFC 1833 §2).
//
// The types are generated from pmap.x by cmd/xdrgen and keep the RFC
// spellings (mapping, pmaplist, rpcb, rp__list, rpcb_entry_list,
// rpcb_stat, ...). Lists that the RFC builds from optional pointers
// (pmaplist, rp__list, rpcb_entry_list, rpcbs_addrlist,
// rpcbs_rmtcalllist) keep that shape.
//
// The package has no state. Values are plain data; encoding and decoding
// distinct values from several goroutines at once is safe.
package pmapxdr

//go:generate go run ../../cmd/xdrgen -pkg pmapxdr -o pmap_xdr.go pmap.x
