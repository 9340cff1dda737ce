package sunrpc

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/xdr"
)

// A Handler serves the procedures of one version of one RPC program.
//
// ServeRPC is called with a Call whose header has been checked: the RPC
// version is 2, the credential decoded and accepted by the server (AUTH_NONE
// or AUTH_SYS), and Prog and Vers are the ones the Handler was registered
// for (any, for a Handler that is a Client's ClientOptions.Handler itself
// rather than registered in a Mux). Proc is not checked: a Handler returns ProcUnavail for procedures it
// does not know.
//
// On Success the Handler appends the XDR-encoded results to w. w already
// holds the reply header, which the Handler must leave alone: everything
// before the length w had on entry belongs to the server. Past that point
// the bytes are the Handler's own: it may read them back, cut them short,
// or fill spare capacity before extending w.Buf over it (NFSv3 READ reads
// file data straight into the reply that way). For any other Status
// whatever was appended is discarded and the server sends the reply that
// Status names.
//
// call and everything reachable from it (Args, Cred.Body, Cred.Sys.Gids,
// Verf.Body) is valid only until ServeRPC returns: the server reuses the
// request buffer for the next record. A Handler that keeps any of it copies
// it. w must not be retained either.
//
// ServeRPC is called concurrently: requests on one connection run at the same
// time, up to the server's per-connection and total in-flight limits, and
// replies may leave in any order. ctx is cancelled when the connection the
// call arrived on closes (TCP) or when the server is closed. A panic in
// ServeRPC is recovered, logged with its stack and answered with SYSTEM_ERR;
// the server keeps serving.
type Handler interface {
	ServeRPC(ctx context.Context, call *Call, w *xdr.Writer) Status
}

// HandlerFunc adapts a function to the Handler interface.
type HandlerFunc func(ctx context.Context, call *Call, w *xdr.Writer) Status

// ServeRPC calls f(ctx, call, w).
func (f HandlerFunc) ServeRPC(ctx context.Context, call *Call, w *xdr.Writer) Status {
	return f(ctx, call, w)
}

// Idempotency is an optional interface of a Handler. Procedures for which
// Idempotent returns false go through the duplicate request cache: a
// retransmission of a completed call is answered with the cached reply
// instead of running again, and one of a call still running is dropped.
// Without this interface every procedure counts as idempotent. Idempotent
// is called on the connection's reading goroutine and must be cheap.
type Idempotency interface {
	Idempotent(proc uint32) bool
}

// ArgsIdempotency is an optional interface of a Handler whose procedures'
// idempotency depends on their arguments (an NFSv4.0 COMPOUND is
// non-idempotent only when it holds CREATE, REMOVE, RENAME, LINK or
// SETATTR). When a Handler has it, it is asked instead of Idempotency.
// It runs on the connection's reading goroutine, before a slot is taken:
// it must be cheap and must not keep args.
type ArgsIdempotency interface {
	IdempotentArgs(proc uint32, args []byte) bool
}

// Observer receives every call the server dispatches to a Handler, for
// statistics and tracing. Start is called just before ServeRPC and Done just
// after it, on the same goroutine, with the Status returned and the time
// ServeRPC took. Both are called concurrently for different calls and must
// not retain call. Calls rejected before dispatch (RPC_MISMATCH, auth errors,
// PROG_UNAVAIL, PROG_MISMATCH, DRC replays) are not reported.
type Observer interface {
	Start(call *Call)
	Done(call *Call, status Status, elapsed time.Duration)
}

// Tap sees the traffic of a Server record by record, for packet captures
// of the server's own traffic (package capture). Record is called
// synchronously on the goroutine that reads or writes the record: inbound
// records just after they are read (before they are dispatched, garbage
// included), outbound ones just before they are written and, on TCP, under
// the connection's write lock, so records of one connection are seen in
// wire order. proto is "tcp" or "udp"; local and remote are as in Call;
// data is the record without its TCP record mark. data aliases the
// server's buffers: it is valid only during the call and must be neither
// kept nor modified (copy what is needed). Record is called concurrently
// for different connections and must be fast, since the server waits
// for it.
type Tap interface {
	Record(local, remote netip.AddrPort, proto string, inbound bool, data []byte)
}

// IdleTap is an optional interface of a Tap that records only some of
// the time (a capture started and stopped by an administrator). While Idle
// reports true the server may send file data attached to replies
// (Call.AttachFile) straight from the file; with a Tap that lacks it, no
// reply carries a span, and one that becomes busy while such a reply is
// on its way is given the reply's bytes read back from the file.
type IdleTap interface {
	Tap
	Idle() bool
}

// Call is one RPC call as the server hands it to a Handler. See Handler for
// its lifetime.
type Call struct {
	XID  uint32
	Prog uint32
	Vers uint32
	Proc uint32

	// Cred is the caller's credential; Cred.Sys is set for AUTH_SYS.
	Cred Credential
	// Verf is the caller's verifier (always AUTH_NONE today).
	Verf rpcxdr.OpaqueAuth

	// Args holds the encoded procedure arguments. It aliases the request
	// record.
	Args []byte

	// Transport is "tcp" or "udp".
	Transport string
	// Local and Remote are the server's and the client's addresses.
	// IPv4-mapped IPv6 addresses are unmapped.
	Local  netip.AddrPort
	Remote netip.AddrPort

	// Conn is the TCP connection the call arrived on, nil for UDP and for
	// calls a Client serves. It stays valid after ServeRPC returns: a
	// handler may keep it, e.g. in an NFSv4.1 session, and later call
	// the client over it with Conn.Call (the backchannel, RFC 8881
	// §2.10.3.1); Conn.Context tells when it is gone.
	Conn *Conn

	gids [maxAuthSysGids]uint32

	attachable bool       // AttachFile may be used (see CanAttach)
	att        attachment // the span AttachFile placed in the reply
}

// Status is what a Handler returns: an accept status (RFC 5531 §9
// accept_stat), an authentication error, or NoReply.
type Status uint64

const (
	statusAuth    Status = 1 << 32
	statusNoReply Status = 2 << 32
)

// Statuses a Handler returns.
const (
	// Success: the results appended to w are sent.
	Success = Status(rpcxdr.SUCCESS)
	// ProgUnavail: the program is not served here (normally decided by the
	// server; a Handler may use it to hide itself from some callers).
	ProgUnavail = Status(rpcxdr.PROG_UNAVAIL)
	// ProcUnavail: the procedure number is unknown.
	ProcUnavail = Status(rpcxdr.PROC_UNAVAIL)
	// GarbageArgs: the arguments do not decode.
	GarbageArgs = Status(rpcxdr.GARBAGE_ARGS)
	// SystemErr: the server could not run the procedure (out of memory,
	// an internal error). Returned also for a recovered panic.
	SystemErr = Status(rpcxdr.SYSTEM_ERR)

	// NoReply sends nothing at all. It exists for one-way messages whose
	// protocol forbids a reply; note that NLM's *_MSG and *_RES procedures
	// are not among them in practice: Linux lockd answers them with an
	// empty (void) SUCCESS reply and peers accept that, so NLM handlers
	// should return Success with no results. A NoReply call in the
	// duplicate request cache stays unanswered on retransmission too.
	NoReply = statusNoReply
)

// AuthError returns the Status that rejects the call with MSG_DENIED
// AUTH_ERROR and the given auth_stat, e.g. AuthError(AUTH_TOOWEAK) when the
// caller's flavor is not allowed for an export (RFC 5531 §9).
func AuthError(stat rpcxdr.AuthStat) Status { return statusAuth | Status(stat) }

// String names the Status for logs.
func (s Status) String() string {
	switch {
	case s == NoReply:
		return "NoReply"
	case s&statusAuth != 0:
		return "AUTH_ERROR(" + rpcxdr.AuthStat(uint32(s)).String() + ")"
	case s <= Status(rpcxdr.SYSTEM_ERR):
		return rpcxdr.AcceptStat(s).String()
	}
	return fmt.Sprintf("Status(%#x)", uint64(s))
}
