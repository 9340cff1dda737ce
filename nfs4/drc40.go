package nfs4

import (
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/xdr"
)

// Duplicate request detection for NFSv4.0 (RFC 7530 §3.1.1, §9.1.9).
//
// NFSv4.1 and 4.2 detect retransmissions in the session's slot table;
// NFSv4.0 has only the owner seqids (which cover OPEN, CLOSE, LOCK and
// the like) and, for the other operations whose retransmission would not
// give the first answer, the RPC layer's duplicate request cache. The
// procedure number alone cannot tell them apart (COMPOUND is every minor
// version's), so the decision needs the arguments: IdempotentArgs sends
// through the cache only the compounds of minor version 0 that hold an
// operation whose second run answers differently, as knfsd marks its
// NFSv4.0 compounds for its cache after decoding them (OP_CACHEME).
// Others stay out of it: READ replies would fill it and push NFSv3
// entries out, and NFSv4.1 has its own reply cache.

// Idempotent implements sunrpc.Idempotency: by procedure number alone,
// everything is (see IdempotentArgs).
func (s *Server) Idempotent(proc uint32) bool { return true }

// IdempotentArgs decides from a call's arguments whether a retransmission
// may run again: false for an NFSv4.0 COMPOUND that creates, links,
// removes, renames or sets attributes. It decodes only operation numbers
// and arguments, on the RPC reading goroutine; arguments that do not
// decode are left to the handler (true).
func (s *Server) IdempotentArgs(proc uint32, args []byte) bool {
	if proc != nfs4xdr.NFSPROC4_COMPOUND {
		return true
	}
	r := xdr.NewReader(args)
	var tag nfs4xdr.Utf8strCs
	tag.Decode(r)
	if r.Uint32() != 0 || r.Err() != nil {
		return true
	}
	n := r.ArrayLen(xdr.Unbounded, 4)
	if n > maxOps40 {
		return true // refused with NFS4ERR_RESOURCE before anything runs
	}
	for range n {
		var op nfs4xdr.NfsArgop4
		op.Decode(r)
		if r.Err() != nil {
			return true
		}
		switch op.Argop {
		case nfs4xdr.OP_CREATE, nfs4xdr.OP_LINK, nfs4xdr.OP_REMOVE, nfs4xdr.OP_RENAME, nfs4xdr.OP_SETATTR:
			return false
		}
	}
	return true
}
