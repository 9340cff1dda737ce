// Package sunrpc is ONC RPC version 2 (RFC 5531): a server that dispatches
// calls to registered program/version handlers over TCP and UDP, and a
// client. Calls go both ways over one TCP connection: the server can call
// the client back on the connection the client opened (the NFSv4.1
// backchannel), and a client serves such calls. Every gonfs protocol
// (NFSv3, MOUNT, NLM, NSM, portmap, NFSv4) sits on it; it owns transport
// framing, the call header, authentication flavor checks, program/version
// dispatch, the duplicate request cache and the reply header, and nothing of
// any program's procedures.
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
// versions. A message of type REPLY answers a call the server made on that
// connection (see Calls in both directions); on UDP it is dropped.
//
// Calls that pass go to the duplicate request cache if their procedure is
// not idempotent (see Idempotency), then take an in-flight slot — per
// connection and in total — and run on a worker goroutine: an idle one if
// there is one, else a new one. Workers are kept (up to a bound) so that
// requests run on stacks already grown to what handlers need. When no slot
// is free the reader stops reading: backpressure reaches the client
// through TCP flow control, and no queue grows. Each reply is built in one
// buffer behind a reserved record mark and written with a single Write
// under the connection's write lock, so replies leave whole, in completion
// order. A call keeps its in-flight slots until its reply is written.
//
// A handler may attach a span of an open file to its reply
// (Call.AttachFile): the reply record is then its bytes before the span,
// the file's bytes, and its bytes after, under one record mark, and the
// file's bytes go from the page cache to the socket with sendfile(2)
// instead of being copied into the reply and out of it. NFS READ uses it
// for large reads. Only TCP calls outside the duplicate request cache take
// spans, only on connections Options.Sendfile allows (by default those of
// clients off loopback), and only while no Tap records (see IdleTap).
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
// Keyed by client address (not port), xid, program, version, procedure, the
// length of the arguments and a CRC-32C of their first 256 bytes. A retransmission of a completed call gets the
// cached reply; one of a call still running is dropped. Bounded by entries
// and bytes (LRU) and by age measured with Options.Clock.
//
// # Concurrency
//
// Register, ServeTCP, ServeUDP, Shutdown and Close may be called from any
// goroutine, and so may Mux.Register, Conn.Call and all Client methods.
// Handlers run concurrently (see Handler). Buffers for records
// and replies and the per-call state are pooled; a call's memory is reused
// as soon as its handler returns and its reply is written.
//
// # Client
//
// Client multiplexes concurrent calls over one TCP connection by xid, or
// over a connected UDP socket, where it retransmits the identical message on
// a doubling timeout. Non-success replies are *AcceptError or *RejectError.
// Replies are read a fragment at a time into buffers sized from the
// fragment header (the client trusts its server up to
// ClientOptions.MaxRecordSize). CallWith adds three ways to move bulk data
// without copying it: Tail sends a payload after the encoded arguments with
// one writev(2) (NFS WRITE); Sink lets the reading goroutine put a reply's
// data straight into the caller's buffer (NFS READ), once a Locate function
// has found it in the first bytes of the results; Transient gives the
// reply's buffer back to a pool once the results are decoded. The reader
// sets read deadlines on the connection itself (to break off the data of a
// call that gave up), so a Client's connection must not be given deadlines
// by anyone else.
//
// # Calls in both directions
//
// RPC has no notion of a connection's direction: each record says by its
// msg_type whether it is a CALL or a REPLY (RFC 5531 §9), so both ends of one
// TCP connection can call each other, and each end sorts what it reads:
// CALLs to its dispatcher, REPLYs to its own pending calls. The xids of the
// two directions are independent spaces and may collide harmlessly. NFSv4.1
// sends its callbacks this way (RFC 8881 §2.10.3.1): CB_COMPOUND, to the
// program the client named in CREATE_SESSION or BACKCHANNEL_CTL (§18.36,
// §18.33), version 1, over a connection the client opened and bound to the
// session (§18.34 BIND_CONN_TO_SESSION). Several sessions may share one
// connection's backchannel, and so one xid space: the one of its Conn.
//
// Server to client: a Handler keeps Call.Conn and later uses Conn.Call.
// The call is written whole under the connection's write lock, like
// replies; the connection's reading goroutine hands each REPLY to the call
// waiting for its xid through a channel with room for it, so a slow caller
// never holds up the reader. A REPLY nobody waits for (unknown xid, or a
// call whose ctx ended) is dropped and counted (Conn.UnmatchedReplies). When
// the reading stops — the client went away, Shutdown, Close, a bad record —
// every waiting Conn.Call returns ErrConnClosed at once, before running
// handlers are waited for, since some of them may be those callers. Calls
// waiting per connection are bounded (Options.MaxCallsPerConn); further
// ones wait. Conn.ID names the connection for session bookkeeping and
// Conn.Context ends with it.
//
// One duty falls on the caller: the reader that delivers the replies is
// the one that stops reading when the connection's in-flight calls are at
// their bound (backpressure). Handlers that wait for a Conn.Call reply on
// their own connection can therefore, once they fill every slot, wait for
// replies nobody reads until their ctx ends. Send callbacks from a goroutine
// of their own (as the NFSv4 state layer does, DESIGN.md) rather than
// inside the handler of a call that needs their outcome, or give them a
// deadline.
//
// Client side: a CALL arriving on a Client's connection is checked by the
// same code as on the server (header, credential, program and version,
// panic → SYSTEM_ERR) and served by ClientOptions.Handler, a *Mux for
// several programs, on a goroutine of its own; without a Handler it is
// answered PROG_UNAVAIL. The reply is written under the Client's write
// lock, interleaved with its calls. The Client's reading goroutine never
// waits for a handler or for the write lock, because the replies to the
// client's own calls come through it: a call beyond
// ClientOptions.MaxCallbacks is dropped.
//
// NFSv4.0 callbacks (RFC 7530 §3.3) do not use any of this: the server
// dials the callback address the client gave in SETCLIENTID and calls it
// with an ordinary Client; the client serves it with an ordinary Server.
package sunrpc
