// Package nfs3 is the raw NFSv3 client (RFC 1813) that package client
// builds its friendly API on: MOUNT (RFC 1813 Appendix I) to obtain root
// handles, one method per NFSv3 procedure the tools need, and NLM version 4
// byte-range locks (the Open Group's XNFS, RFC 1813 Appendix II's companion).
//
// It owns: finding the server's ports (the portmapper on port 111, or ports
// given by the caller, or the NFS port itself, where gonfs also serves MOUNT
// and NLM); the MOUNT and NFS connections; turning nfsstat3, mountstat3 and
// nlm4_stats into Go errors (*Error, which matches fs.ErrNotExist and the
// like through its errno); and the UNSTABLE-write bookkeeping a file needs
// to COMMIT safely (Writer, RFC 1813 §3.3.21: when the commit verifier
// changes, the server rebooted and every write since the last good COMMIT
// is sent again).
//
// Bulk data is not copied on its way: READ data goes from the socket
// straight into the caller's buffer (sunrpc.Sink) and WRITE data from the
// caller's buffer to the socket in one vectored write (sunrpc.CallOptions
// Tail).
//
// NLM locks are non-blocking only: the client runs no NLM callback
// listener, so a blocking request (which the server would answer later
// with NLM_GRANTED to the client's own lockd) is not offered. A caller that
// must wait retries TEST/LOCK itself.
//
// Concurrency: a Client is safe for concurrent use; calls on its single
// TCP connection are multiplexed by xid (sunrpc.Client). A Writer is safe
// for concurrent use too.
package nfs3
