// Package nfs3 serves NFS version 3 (RFC 1813) from the exports of a
// namespace.
//
// Server is a sunrpc.Handler for program 100003 version 3. Every
// procedure resolves its file handles through the namespace, which checks
// the handle's MAC and the caller's rights in the export, runs the backend
// call with the caller's squashed identity, and maps errors to nfsstat3 in
// one place (package nfserr). Weak cache consistency data (RFC 1813 §2.6)
// is gathered around every change.
//
// Concurrency: procedures run concurrently, as the RPC layer delivers
// them; the server keeps no per-request state and holds no lock across a
// backend call. Ordering between conflicting changes is the backend's.
package nfs3
