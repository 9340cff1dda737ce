// Package admin is the local administration interface of a running gonfs
// server: the server side of a Unix socket in the state directory
// (<state>/admin.sock) and the client side that `gonfs ctl` uses.
//
// The protocol is JSON lines: the client writes one Request per line and
// reads one Response per line; a connection may carry several. Replies
// carry plain data types of this package (ExportsReply, ClientsReply, ...)
// built from the public snapshots of the packages that own the state
// (exports, namespace, nfs4/state, lock, stats, debuglog, capture), so the
// same structures are the --json output of `gonfs ctl` and the input of
// its tables (Render).
//
// Security: the socket is mode 0600 in the server's 0700 state directory,
// and every connection's peer credentials (SO_PEERCRED) are checked: only
// the server's own uid is served. The socket can read every client's state
// and revoke it, so nothing less would do.
//
// The server implements Backend; this package knows nothing of its
// internals. Requests is the in-flight registry a server feeds from its
// sunrpc.Observer so that `gonfs ctl inflight` can list running calls.
//
// Concurrency: Serve runs one goroutine per connection and calls the
// Backend concurrently; Backend implementations must be safe for that.
// Requests is safe for concurrent use. Client values may be shared.
package admin
