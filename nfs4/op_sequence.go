package nfs4

import (
	"github.com/gonfs/gonfs/nfs4/state"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/xdr"
)

// seqOutcome is what a leading SEQUENCE decided (RFC 8881 §18.46): a
// result to write as the compound's first, or a cached reply to send in
// place of the whole compound.
type seqOutcome struct {
	ran    bool
	status nfs4xdr.Nfsstat4
	res    nfs4xdr.SEQUENCE4resok
	replay []byte
}

// write writes SEQUENCE4res.
func (o *seqOutcome) write(w *xdr.Writer) nfs4xdr.Nfsstat4 {
	res := nfs4xdr.SEQUENCE4res{SrStatus: o.status, SrResok4: o.res}
	res.Encode(w)
	return o.status
}

// sequence runs the SEQUENCE that opens a compound, before anything of
// the reply is written. reqSize is the size of COMPOUND4args.
//
// The compound's own limits are checked before the slot is taken, so
// that a refused compound leaves the slot as it was (RFC 8881 §2.10.6.1:
// a SEQUENCE that fails changes nothing): more operations than
// ca_maxoperations is NFS4ERR_TOO_MANY_OPS, a request larger than
// ca_maxrequestsize NFS4ERR_REQ_TOO_BIG (RFC 8881 §2.10.6.4; the size
// compared is that of the COMPOUND arguments, which the RPC header only
// adds to). When SEQUENCE fails there is no slot, so nothing is cached:
// the error reply is sent and forgotten.
func (c *compound) sequence(r *xdr.Reader, reqSize int) seqOutcome {
	var a nfs4xdr.SEQUENCE4args
	a.Decode(r)
	if r.Err() != nil {
		return seqOutcome{ran: true, status: nfs4xdr.NFS4ERR_BADXDR}
	}
	sid := state.SessionID(a.SaSessionid)
	lim, known := c.s.sessionLimits(sid)
	if known {
		switch {
		case uint64(c.n) > uint64(lim.MaxOperations):
			return seqOutcome{ran: true, status: nfs4xdr.NFS4ERR_TOO_MANY_OPS}
		case uint64(reqSize) > uint64(lim.MaxRequestSize):
			return seqOutcome{ran: true, status: nfs4xdr.NFS4ERR_REQ_TOO_BIG}
		}
	}
	res, st := c.s.state.Sequence(state.SequenceArgs{
		SessionID:   sid,
		Seq:         uint32(a.SaSequenceid),
		Slot:        uint32(a.SaSlotid),
		HighestSlot: uint32(a.SaHighestSlotid),
		CacheThis:   a.SaCachethis,
		Conn:        connID(c.call),
	})
	if st != nfs4xdr.NFS4_OK {
		if st == nfs4xdr.NFS4ERR_BADSESSION {
			c.s.limits.Delete(sid)
		}
		return seqOutcome{ran: true, status: st}
	}
	if res.Replay != nil {
		return seqOutcome{replay: res.Replay}
	}
	c.inSession = true
	c.cid = res.ClientID
	c.session = res.SessionID
	c.token = res.Token
	c.cacheThis = a.SaCachethis
	c.maxCached = res.MaxCachedReply
	c.limits = lim
	return seqOutcome{ran: true, status: nfs4xdr.NFS4_OK, res: nfs4xdr.SEQUENCE4resok{
		SrSessionid:           nfs4xdr.Sessionid4(res.SessionID),
		SrSequenceid:          nfs4xdr.Sequenceid4(res.Seq),
		SrSlotid:              nfs4xdr.Slotid4(res.Slot),
		SrHighestSlotid:       nfs4xdr.Slotid4(res.HighestSlot),
		SrTargetHighestSlotid: nfs4xdr.Slotid4(res.TargetHighestSlot),
		SrStatusFlags:         res.StatusFlags,
	}}
}
