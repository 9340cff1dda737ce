// Package sunrpc is ONC RPC version 2 (RFC 5531): a server that dispatches
// calls to registered program/version handlers over TCP and UDP, and a
// client. Every gonfs protocol (NFSv3, MOUNT, NLM, NSM, portmap, NFSv4) sits
// on it; it owns transport framing, the call header, authentication flavor
// checks, program/version dispatch, the duplicate request cache and the
// reply header, and nothing of any program's procedures.
//
// # Server request path
//
// A TCP connection has one reading goroutine. It reads a whole record
// (record marking, RFC 5531 §11), bounded by Options.MaxRecordSize summed
// over fragments, and decodes the call header from it without allocating.
// What it cannot even frame (no xid and msg_type, an unknown msg_type)
// closes the connection (a UDP datagram is dropped). Errors it can answer
// it answers itself, in this order: rpcvers other than 2 → MSG_DENIED
// RPC_MISMATCH (2, 2); a header cut short before the credential →
// GARBAGE_ARGS; a credential or verifier that does not decode, a flavor other
// than AUTH_NONE or AUTH_SYS, or a verifier other than an empty AUTH_NONE →
// AUTH_ERROR AUTH_BADCRED / AUTH_BADVERF; unknown program → PROG_UNAVAIL;
// unknown version → PROG_MISMATCH with the lowest and highest registered
// versions. A message of type REPLY is dropped (it will be routed to the
// backchannel of its connection once there is one).
//
// Calls that pass go to the duplicate request cache if their procedure is
// not idempotent (see Idempotency), then take an in-flight slot — per
// connection and in total — and run on a goroutine of their own. When no
// slot is free the reader stops reading: backpressure reaches the client
// through TCP flow control, and no queue grows. Each reply is built in one
// buffer behind a reserved record mark and written with a single Write
// under the connection's write lock, so replies leave whole, in completion
// order.
//
// A connection whose client closes its side has its handlers' context
// cancelled; replies they still produce are written if the socket allows.
// Shutdown instead lets running calls finish and reply before closing. A
// reply that cannot be written within Options.WriteTimeout closes the
// connection, so a client that stops reading cannot pin in-flight slots.
//
// UDP works the same way with one reading goroutine per socket, the total
// in-flight bound only, and one datagram per message.
//
// # Duplicate request cache
//
// Keyed by client address (not port), xid, program, version, procedure and
// a CRC-32C of the arguments. A retransmission of a completed call gets the
// cached reply; one of a call still running is dropped. Bounded by entries
// and bytes (LRU) and by age measured with Options.Clock.
//
// # Concurrency
//
// Register, ServeTCP, ServeUDP, Shutdown and Close may be called from any
// goroutine. Handlers run concurrently (see Handler). Buffers for records
// and replies and the per-call state are pooled; a call's memory is reused
// as soon as its handler returns and its reply is written.
//
// # Client
//
// Client multiplexes concurrent calls over one TCP connection by xid, or
// over a connected UDP socket, where it retransmits the identical message on
// a doubling timeout. Non-success replies are *AcceptError or *RejectError.
package sunrpc
