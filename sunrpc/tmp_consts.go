package sunrpc

// Stand-ins for the wire constants of RFC 5531 until the generated package
// proto/rpcxdr exists. The names and spellings are those the generator will
// produce, so the switch is a rename: delete this file and qualify the
// identifiers with rpcxdr.

// MsgType is msg_type (RFC 5531 §9).
type MsgType uint32

// ReplyStat is reply_stat.
type ReplyStat uint32

// AcceptStat is accept_stat.
type AcceptStat uint32

// RejectStat is reject_stat.
type RejectStat uint32

// AuthFlavor is auth_flavor (RFC 5531 §8.2).
type AuthFlavor uint32

// AuthStat is auth_stat.
type AuthStat uint32

const (
	CALL  MsgType = 0
	REPLY MsgType = 1

	MSG_ACCEPTED ReplyStat = 0
	MSG_DENIED   ReplyStat = 1

	SUCCESS       AcceptStat = 0
	PROG_UNAVAIL  AcceptStat = 1
	PROG_MISMATCH AcceptStat = 2
	PROC_UNAVAIL  AcceptStat = 3
	GARBAGE_ARGS  AcceptStat = 4
	SYSTEM_ERR    AcceptStat = 5

	RPC_MISMATCH RejectStat = 0
	AUTH_ERROR   RejectStat = 1

	AUTH_NONE  AuthFlavor = 0
	AUTH_SYS   AuthFlavor = 1
	AUTH_SHORT AuthFlavor = 2
	AUTH_DH    AuthFlavor = 3
	RPCSEC_GSS AuthFlavor = 6

	AUTH_OK           AuthStat = 0
	AUTH_BADCRED      AuthStat = 1
	AUTH_REJECTEDCRED AuthStat = 2
	AUTH_BADVERF      AuthStat = 3
	AUTH_REJECTEDVERF AuthStat = 4
	AUTH_TOOWEAK      AuthStat = 5
	AUTH_INVALIDRESP  AuthStat = 6
	AUTH_FAILED       AuthStat = 7
)
