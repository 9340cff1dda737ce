package sunrpc

import (
	"encoding/binary"

	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/xdr"
)

// Limits from RFC 5531.
const (
	rpcVersion = rpcxdr.RPC_MSG_VERSION // §8: the only version of the protocol

	maxAuthBytes   = 400 // §8.2: opaque body<400> of opaque_auth
	maxMachineName = 255 // Appendix A: string machinename<255>
	maxAuthSysGids = 16  // Appendix A: unsigned int gids<16>
)

// Credential is the caller's credential as the server decoded it. On the
// server OpaqueAuth.Body aliases the request record.
type Credential struct {
	rpcxdr.OpaqueAuth
	// Sys holds the decoded fields when Flavor is AUTH_SYS. On the server
	// Sys.Gids points into the Call and is valid only until ServeRPC
	// returns; Machinename is an ordinary (interned) string.
	Sys rpcxdr.AuthsysParms
}

// callHeader is the decoded fixed part of a call (RFC 5531 §9 call_body).
// Fields alias the record.
type callHeader struct {
	xid, rpcvers, prog, vers, proc uint32
	cred, verf                     rpcxdr.OpaqueAuth
	args                           []byte
}

// headerResult says how far decoding a message got, which decides how the
// server answers it.
type headerResult int

const (
	hdrOK          headerResult = iota
	hdrGarbage                  // xid or msg_type unreadable or msg_type unknown: drop / close
	hdrReply                    // a REPLY: not for the server's dispatcher
	hdrRPCMismatch              // rpcvers != 2: MSG_DENIED RPC_MISMATCH
	hdrShort                    // call body ends inside prog/vers/proc: GARBAGE_ARGS
	hdrBadCred                  // credential does not decode: AUTH_BADCRED
	hdrBadVerf                  // verifier does not decode: AUTH_BADVERF
)

// decodeCallHeader reads the call header from rec without allocating. It
// checks only the framing of the header; flavors are judged by the caller.
func decodeCallHeader(rec []byte, h *callHeader) headerResult {
	if len(rec) < 8 {
		return hdrGarbage
	}
	h.xid = binary.BigEndian.Uint32(rec)
	switch rpcxdr.MsgType(binary.BigEndian.Uint32(rec[4:])) {
	case rpcxdr.CALL:
	case rpcxdr.REPLY:
		return hdrReply
	default:
		return hdrGarbage
	}
	if len(rec) < 12 {
		return hdrShort
	}
	// RFC 5531 §9: a server answers any other rpcvers with RPC_MISMATCH
	// before it looks at anything else in the call.
	h.rpcvers = binary.BigEndian.Uint32(rec[8:])
	if h.rpcvers != rpcVersion {
		return hdrRPCMismatch
	}
	if len(rec) < 24 {
		return hdrShort
	}
	h.prog = binary.BigEndian.Uint32(rec[12:])
	h.vers = binary.BigEndian.Uint32(rec[16:])
	h.proc = binary.BigEndian.Uint32(rec[20:])
	var r xdr.Reader
	r.Reset(rec[24:])
	h.cred.Flavor = rpcxdr.AuthFlavor(r.Uint32())
	h.cred.Body = r.Opaque(maxAuthBytes)
	if r.Err() != nil {
		return hdrBadCred
	}
	h.verf.Flavor = rpcxdr.AuthFlavor(r.Uint32())
	h.verf.Body = r.Opaque(maxAuthBytes)
	if r.Err() != nil {
		return hdrBadVerf
	}
	h.args = r.Rest()
	return hdrOK
}

// decodeAuthSys decodes an AUTH_SYS credential body into a, with the group
// list stored in gids. The machine name goes through the interner so that a steady
// client costs no allocation. Any error, including bytes left over, makes
// the credential bad (RFC 5531 §9 AUTH_BADCRED).
func decodeAuthSys(body []byte, a *rpcxdr.AuthsysParms, gids *[maxAuthSysGids]uint32, in *interner) bool {
	var r xdr.Reader
	r.Reset(body)
	a.Stamp = r.Uint32()
	name := r.Opaque(maxMachineName)
	a.Uid = r.Uint32()
	a.Gid = r.Uint32()
	n := r.ArrayLen(maxAuthSysGids, 4)
	for i := 0; i < n; i++ {
		gids[i] = r.Uint32()
	}
	if r.Done() != nil {
		return false
	}
	a.Gids = gids[:n:n]
	a.Machinename = in.intern(name)
	return true
}

// Reply encoders (RFC 5531 §9 reply_body). The server always sends an
// AUTH_NONE verifier: it supports no flavor whose verifier carries data.

func appendAccepted(w *xdr.Writer, xid uint32, stat rpcxdr.AcceptStat) {
	w.Uint32(xid)
	w.Uint32(uint32(rpcxdr.REPLY))
	w.Uint32(uint32(rpcxdr.MSG_ACCEPTED))
	w.Uint32(uint32(rpcxdr.AUTH_NONE))
	w.Uint32(0)
	w.Uint32(uint32(stat))
}

func appendProgMismatch(w *xdr.Writer, xid, low, high uint32) {
	appendAccepted(w, xid, rpcxdr.PROG_MISMATCH)
	w.Uint32(low)
	w.Uint32(high)
}

func appendRPCMismatch(w *xdr.Writer, xid uint32) {
	w.Uint32(xid)
	w.Uint32(uint32(rpcxdr.REPLY))
	w.Uint32(uint32(rpcxdr.MSG_DENIED))
	w.Uint32(uint32(rpcxdr.RPC_MISMATCH))
	w.Uint32(rpcVersion)
	w.Uint32(rpcVersion)
}

func appendAuthError(w *xdr.Writer, xid uint32, stat rpcxdr.AuthStat) {
	w.Uint32(xid)
	w.Uint32(uint32(rpcxdr.REPLY))
	w.Uint32(uint32(rpcxdr.MSG_DENIED))
	w.Uint32(uint32(rpcxdr.AUTH_ERROR))
	w.Uint32(uint32(stat))
}

// appendCall encodes a call header (RFC 5531 §9 call_body) for the client.
func appendCall(w *xdr.Writer, xid, rpcvers, prog, vers, proc uint32, cred, verf rpcxdr.OpaqueAuth) {
	w.Uint32(xid)
	w.Uint32(uint32(rpcxdr.CALL))
	w.Uint32(rpcvers)
	w.Uint32(prog)
	w.Uint32(vers)
	w.Uint32(proc)
	w.Uint32(uint32(cred.Flavor))
	w.Opaque(cred.Body)
	w.Uint32(uint32(verf.Flavor))
	w.Opaque(verf.Body)
}
