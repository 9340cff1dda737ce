package rpcxdr

import (
	"strings"
	"testing"

	"github.com/gonfs/gonfs/xdr"
	"github.com/gonfs/gonfs/xdr/xdrtest"
)

type golden struct {
	Name string
	V    xdr.Codec
	Hex  string // spaces are ignored
	Err  error
}

// authsys is the AUTH_SYS body used below: 36 bytes.
var authsys = AuthsysParms{Stamp: 1, Machinename: "client", Uid: 1000, Gid: 1000, Gids: []uint32{1000, 27}}

const authsysHex = "00000001 00000006 636c69656e740000 000003e8 000003e8 00000002 000003e8 0000001b"

func TestGolden(t *testing.T) {
	xdrtest.CheckGolden(t, []golden{
		{"call NFSPROC3_NULL AUTH_NONE", &RpcMsg{Xid: 0x12345678, Body: RpcMsgBody{
			Mtype: CALL,
			Cbody: CallBody{Rpcvers: RPC_MSG_VERSION, Prog: 100003, Vers: 3, Proc: 0,
				Cred: OpaqueAuth{Flavor: AUTH_NONE}, Verf: OpaqueAuth{Flavor: AUTH_NONE}},
		}},
			"12345678 00000000 00000002 000186a3 00000003 00000000 00000000 00000000 00000000 00000000", nil},
		{"authsys_parms", &authsys, authsysHex, nil},
		{"call MOUNTPROC3_MNT AUTH_SYS", &RpcMsg{Xid: 1, Body: RpcMsgBody{
			Mtype: CALL,
			Cbody: CallBody{Rpcvers: 2, Prog: 100005, Vers: 3, Proc: 1,
				Cred: OpaqueAuth{Flavor: AUTH_SYS, Body: xdr.Marshal(nil, &authsys)},
				Verf: OpaqueAuth{Flavor: AUTH_NONE}},
		}},
			"00000001 00000000 00000002 000186a5 00000003 00000001 00000001 00000024 " + authsysHex + " 00000000 00000000", nil},
		{"reply SUCCESS", &RpcMsg{Xid: 0x12345678, Body: RpcMsgBody{
			Mtype: REPLY,
			Rbody: ReplyBody{Stat: MSG_ACCEPTED, Areply: AcceptedReply{ReplyData: AcceptedReplyData{Stat: SUCCESS}}},
		}},
			"12345678 00000001 00000000 00000000 00000000 00000000", nil},
		{"reply PROG_MISMATCH", &RpcMsg{Xid: 0x12345678, Body: RpcMsgBody{
			Mtype: REPLY,
			Rbody: ReplyBody{Stat: MSG_ACCEPTED, Areply: AcceptedReply{ReplyData: AcceptedReplyData{
				Stat: PROG_MISMATCH, MismatchInfo: MismatchInfo{Low: 3, High: 4}}}},
		}},
			"12345678 00000001 00000000 00000000 00000000 00000002 00000003 00000004", nil},
		{"reply RPC_MISMATCH", &RpcMsg{Xid: 0x12345678, Body: RpcMsgBody{
			Mtype: REPLY,
			Rbody: ReplyBody{Stat: MSG_DENIED, Rreply: RejectedReply{Stat: RPC_MISMATCH, MismatchInfo: MismatchInfo{Low: 2, High: 2}}},
		}},
			"12345678 00000001 00000001 00000000 00000002 00000002", nil},
		{"reply AUTH_ERROR AUTH_TOOWEAK", &RpcMsg{Xid: 0x12345678, Body: RpcMsgBody{
			Mtype: REPLY,
			Rbody: ReplyBody{Stat: MSG_DENIED, Rreply: RejectedReply{Stat: AUTH_ERROR, Why: AUTH_TOOWEAK}},
		}},
			"12345678 00000001 00000001 00000001 00000005", nil},
		{"rpc_gss_cred_t DATA integrity", &RpcGssCredT{Version: RPCSEC_GSS_VERS_1, RpcCredentialsVers1: RpcGssCredVers1T{
			GssProc: RPCSEC_GSS_DATA, SeqNum: 7, Service: Rpc_gss_svc_integrity, Handle: []byte{0xde, 0xad, 0xbe, 0xef}}},
			"00000001 00000000 00000007 00000002 00000004 deadbeef", nil},

		// Bytes the definitions forbid.
		// opaque_auth.body is at most 400 bytes (RFC 5531 §8.2).
		{"opaque_auth body of 401", new(OpaqueAuth),
			"00000000 00000191" + strings.Repeat("00", 404), xdr.ErrTooLong},
		// authsys_parms.gids holds at most 16 groups (RFC 5531 Appendix A).
		{"authsys_parms with 17 gids", new(AuthsysParms),
			"00000000 00000000 00000000 00000000 00000011" + strings.Repeat("00000000", 17), xdr.ErrTooLong},
		// msg_type has no value 2, so rpc_msg has no arm for it.
		{"rpc_msg type 2", new(RpcMsg), "00000001 00000002", xdr.ErrBadValue},
		{"call header cut short", new(RpcMsg), "12345678 00000000 00000002", xdr.ErrShort},
	})
}
