// Package rpcxdr holds the wire types of the ONC RPC version 2 message
// (RFC 5531 §9): the call and reply headers, the status enums, opaque_auth,
// the AUTH_SYS credential body (authsys_parms, RFC 5531 Appendix A) and the
// RPCSEC_GSS credential and context-creation types (RFC 2203 §5).
//
// The types are generated from rpc.x by cmd/xdrgen and keep the RFC
// spellings. They serve tests, tracing and the client; the server's hot
// path may decode the fixed part of the header by hand. The procedure
// arguments and results that follow a header in the record are not part
// of these types: the SUCCESS arm of accepted_reply_data is void.
//
// The package has no state. Values are plain data; encoding and decoding
// distinct values from several goroutines at once is safe.
package rpcxdr

//go:generate go run ../../cmd/xdrgen -pkg rpcxdr -o rpc_xdr.go rpc.x
