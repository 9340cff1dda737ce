// Package nfs4 serves NFS version 4 minor versions 1 and 2 (RFC 8881,
// RFC 7862, RFC 8276) from the exports of a namespace.
//
// Server is a sunrpc.Handler for program 100003 version 4. A COMPOUND is
// decoded and answered one operation at a time, straight from the request
// record into the reply buffer: the op table (ops.go) is indexed by
// operation number, each entry names the minor versions that have the
// operation, and each operation lives in its own op_*.go file. An
// operation decodes its own arguments, acts, and encodes its own result;
// the loop stops at the first result that is not NFS4_OK (RFC 8881 §16.2.3).
//
// Protocol state (clients, sessions, slots, stateids, opens, locks, leases,
// grace) is decided by package nfs4/state, a pure state machine; this
// package holds no state of its own beyond the compound being served, and
// never holds the state lock across a backend call.
//
// Minor version 0 is answered with NFS4ERR_MINOR_VERS_MISMATCH until it is
// implemented.
//
// Concurrency: compounds run concurrently as the RPC layer delivers them;
// the per-compound context (current and saved filehandle, current stateid,
// session slot) belongs to one goroutine.
package nfs4
