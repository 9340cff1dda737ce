package nfs4

import (
	"github.com/gonfs/gonfs/nfs4/state"
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/xdr"
)

// NFSv4.0 variants of the operations that carry an owner seqid (RFC 7530
// §9.1.7): OPEN, OPEN_CONFIRM, OPEN_DOWNGRADE, CLOSE, LOCK and LOCKU, and
// of LOCKT, which names its client ID. Each one peeks at its arguments to
// find the owner and seqid, asks the state (BeginSeqid) whether the
// request is new, a retransmission or out of order, and then either
// replays the owner's last reply or runs the shared NFSv4.1 handler with
// the owner's client ID as the compound's, keeping the encoded result for
// the next retransmission (EndSeqid).
//
// A replayed result is put in the reply byte for byte (RFC 7530 §9.1.9).
// As knfsd does, the compound goes on after a replayed success: a client
// retransmits the whole compound (PUTFH, OPEN, GETFH, GETATTR), and the
// operations around the seqid-bearing one are idempotent, so they run
// again; a replayed OPEN makes its file current again. A replayed error
// stops the compound, as any error does.

// maxOps40 bounds the operations of an NFSv4.0 compound, which has no
// session to negotiate it (knfsd's bound; Linux sends far fewer).
const maxOps40 = 200

// seq40 is what a peek found in a seqid-bearing operation's arguments.
type seq40 struct {
	args state.SeqidArgs
	// lockClient is the client ID a new lock-owner names, which must be
	// the open stateid's.
	lockClient state.ClientID
	hasLock    bool
	// confirmed: the owner must be confirmed (NFS4ERR_BAD_STATEID
	// otherwise); unconfirmed: it must not be (OPEN_CONFIRM).
	needConfirmed, needUnconfirmed bool
	// reclaim: OPEN with CLAIM_PREVIOUS, which confirms its owner.
	reclaim bool
	// st, when not NFS4_OK, is an error the arguments already show.
	st x.Nfsstat4
}

// peek40 decodes an operation's arguments from a copy of r.
type peek40 func(r *xdr.Reader) (seq40, bool)

// runSeqid40 runs fn, the operation's shared handler, under the owner's
// seqid.
func (c *compound) runSeqid40(r *xdr.Reader, w *xdr.Writer, fn opFunc, peek peek40) x.Nfsstat4 {
	pr := *r
	p, ok := peek(&pr)
	if !ok {
		return fn(c, r, w) // it answers NFS4ERR_BADXDR
	}
	if p.st != x.NFS4_OK {
		*r = pr
		return c.fail(w, p.st)
	}
	p.args.Op = uint32(c.op)
	res, st := c.s.state.BeginSeqid(p.args)
	if st != x.NFS4_OK {
		*r = pr
		return c.fail(w, st)
	}
	if res.Replay != nil {
		*r = pr
		c.setClient40(res.ClientID)
		return c.replay40(w, res.Replay)
	}
	// The owner is busy until EndSeqid: should the handler panic (the RPC
	// layer recovers), free it without advancing its seqid, so that the
	// client's retransmission runs again rather than waiting for ever.
	ended := false
	defer func() {
		if !ended {
			c.s.state.EndSeqid(res.Token, state.EndArgs{Status: x.NFS4ERR_RESOURCE})
		}
	}()
	at := w.Len()
	switch {
	case p.needConfirmed && !res.Confirmed, p.needUnconfirmed && res.Confirmed:
		*r = pr
		st = c.fail(w, x.NFS4ERR_BAD_STATEID)
	case p.hasLock && p.lockClient != res.ClientID:
		// RFC 7530 §16.10.4: the new lock-owner belongs to the client
		// of the open it locks through.
		*r = pr
		st = c.fail(w, x.NFS4ERR_BAD_STATEID)
	default:
		c.setClient40(res.ClientID)
		c.confirm40 = !res.Confirmed && !p.reclaim
		st = fn(c, r, w)
		st = c.wrongType40(w, at, st) // before it is kept for replay
		// The owner's client stays the compound's: an NFSv4.0 compound
		// has no SEQUENCE to name it, and later operations (GETATTR
		// after OPEN) must not take the client for another one, e.g.
		// recall its own delegation (knfsd's cstate->clp).
		c.confirm40 = false
	}
	var fh []byte
	if c.op == x.OP_OPEN && st == x.NFS4_OK {
		fh = c.s.wire(c.cur)
	}
	ended = true
	eff := c.s.state.EndSeqid(res.Token, state.EndArgs{Status: st, Reply: w.Bytes()[at:], FH: fh,
		Confirm: p.reclaim})
	if err := c.s.apply(eff); err != nil && st == x.NFS4_OK {
		// The recovery record could not be written; the state stays,
		// but say so rather than promise a reclaim that cannot work.
		w.Buf = w.Buf[:at]
		return c.fail(w, x.NFS4ERR_SERVERFAULT)
	}
	return st
}

// replay40 writes an owner's cached reply (RFC 7530 §9.1.9) and, for an
// OPEN that succeeded, makes its file current again.
func (c *compound) replay40(w *xdr.Writer, rp *state.Replay40) x.Nfsstat4 {
	w.Buf = append(w.Buf, rp.Reply...)
	if rp.Status == x.NFS4_OK && rp.FH != nil {
		e, h, p, err := c.s.ns.ResolveAny(rp.FH)
		if err != nil {
			// The file went away since: the replayed OPEN stands, but
			// what follows has no current filehandle.
			c.putCurrent(fileRef{})
		} else {
			c.putCurrent(fileRef{e: e, h: h, p: p})
		}
	}
	return rp.Status
}

// opOpen40 is OPEN for minor version 0 (RFC 7530 §16.16): the open-owner
// is (clientid, owner) of open_owner4 and its seqid orders the request.
// The claims of NFSv4.1 (CLAIM_FH and the _FH delegation claims) and
// EXCLUSIVE4_1 do not exist in 4.0 and do not decode (NFS4ERR_BADXDR), as
// knfsd answers; delegation wants in share_access are NFS4ERR_INVAL.
func (c *compound) opOpen40(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	return c.runSeqid40(r, w, (*compound).opOpen, func(r *xdr.Reader) (seq40, bool) {
		var a x.OPEN4args
		a.Decode(r)
		if r.Err() != nil {
			return seq40{}, false
		}
		p := seq40{args: state.SeqidArgs{Kind: state.OpenOwner, ClientID: state.ClientID(a.Owner.Clientid),
			Owner: a.Owner.Owner, Seqid: uint32(a.Seqid), Reset: true}}
		switch {
		case a.Claim.Claim > x.CLAIM_DELEGATE_PREV,
			a.Openhow.Opentype == x.OPEN4_CREATE && a.Openhow.How.Mode > x.EXCLUSIVE4:
			p.st = x.NFS4ERR_BADXDR
		case a.ShareAccess&^x.OPEN4_SHARE_ACCESS_BOTH != 0:
			p.st = x.NFS4ERR_INVAL
		}
		p.reclaim = a.Claim.Claim == x.CLAIM_PREVIOUS
		return p, true
	})
}

// opOpenConfirm runs OPEN_CONFIRM (RFC 7530 §16.18): the first OPEN of a
// new open-owner asked for it (OPEN4_RESULT_CONFIRM); the open stateid's
// seqid is incremented and the owner may then use its stateids. An owner
// that is already confirmed gets NFS4ERR_BAD_STATEID. It is NFSv4.0 only.
func (c *compound) opOpenConfirm(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	return c.runSeqid40(r, w, (*compound).openConfirm, func(r *xdr.Reader) (seq40, bool) {
		var a x.OPEN_CONFIRM4args
		a.Decode(r)
		if r.Err() != nil {
			return seq40{}, false
		}
		return seq40{args: state.SeqidArgs{Kind: state.OpenOwner, ByStateid: true,
			Stateid: state.Stateid(a.OpenStateid), Seqid: uint32(a.Seqid)}, needUnconfirmed: true}, true
	})
}

func (c *compound) openConfirm(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var a x.OPEN_CONFIRM4args
	if !c.decode(r, w, &a) {
		return x.NFS4ERR_BADXDR
	}
	file, st := c.openFile()
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	sid, eff, st := c.s.state.OpenConfirm(c.cid, file, state.Stateid(a.OpenStateid))
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	if err := c.s.apply(eff); err != nil {
		return c.fail(w, x.NFS4ERR_SERVERFAULT)
	}
	res := x.OPEN_CONFIRM4res{Status: x.NFS4_OK, Resok4: x.OPEN_CONFIRM4resok{OpenStateid: x.Stateid4(sid)}}
	res.Encode(w)
	return x.NFS4_OK
}

// opClose40 is CLOSE for minor version 0 (RFC 7530 §16.2): ordered by the
// open-owner's seqid; the reply carries the open stateid with its seqid
// incremented (the state's doing), and a retransmission after the stateid
// is gone is still answered from the owner's reply cache.
func (c *compound) opClose40(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	return c.runSeqid40(r, w, (*compound).opClose, func(r *xdr.Reader) (seq40, bool) {
		var a x.CLOSE4args
		a.Decode(r)
		if r.Err() != nil {
			return seq40{}, false
		}
		return seq40{args: state.SeqidArgs{Kind: state.OpenOwner, ByStateid: true,
			Stateid: state.Stateid(a.OpenStateid), Seqid: uint32(a.Seqid)}, needConfirmed: true}, true
	})
}

// opOpenDowngrade40 is OPEN_DOWNGRADE for minor version 0 (RFC 7530
// §16.19), ordered by the open-owner's seqid. Delegation wants do not
// exist in 4.0 (NFS4ERR_INVAL).
func (c *compound) opOpenDowngrade40(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	return c.runSeqid40(r, w, (*compound).opOpenDowngrade, func(r *xdr.Reader) (seq40, bool) {
		var a x.OPEN_DOWNGRADE4args
		a.Decode(r)
		if r.Err() != nil {
			return seq40{}, false
		}
		p := seq40{args: state.SeqidArgs{Kind: state.OpenOwner, ByStateid: true,
			Stateid: state.Stateid(a.OpenStateid), Seqid: uint32(a.Seqid)}, needConfirmed: true}
		if a.ShareAccess&^x.OPEN4_SHARE_ACCESS_BOTH != 0 {
			p.st = x.NFS4ERR_INVAL
		}
		return p, true
	})
}

// opLock40 is LOCK for minor version 0 (RFC 7530 §16.10). With
// open_to_lock_owner4 the request is ordered by the open-owner's seqid
// (open_seqid: the open-owner must be confirmed) and the new lock-owner's
// seqid starts at lock_seqid; with exist_lock_owner4 the lock-owner's
// seqid orders it.
func (c *compound) opLock40(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	return c.runSeqid40(r, w, (*compound).opLock, func(r *xdr.Reader) (seq40, bool) {
		var a x.LOCK4args
		a.Decode(r)
		if r.Err() != nil {
			return seq40{}, false
		}
		if !a.Locker.NewLockOwner {
			l := &a.Locker.LockOwner
			return seq40{args: state.SeqidArgs{Kind: state.LockOwner, ByStateid: true,
				Stateid: state.Stateid(l.LockStateid), Seqid: uint32(l.LockSeqid)}}, true
		}
		o := &a.Locker.OpenOwner
		return seq40{args: state.SeqidArgs{Kind: state.OpenOwner, ByStateid: true,
			Stateid: state.Stateid(o.OpenStateid), Seqid: uint32(o.OpenSeqid),
			NewLockOwner: o.LockOwner.Owner, LockSeqid: uint32(o.LockSeqid)},
			needConfirmed: true, hasLock: true, lockClient: state.ClientID(o.LockOwner.Clientid)}, true
	})
}

// opLocku40 is LOCKU for minor version 0 (RFC 7530 §16.12), ordered by
// the lock-owner's seqid.
func (c *compound) opLocku40(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	return c.runSeqid40(r, w, (*compound).opLocku, func(r *xdr.Reader) (seq40, bool) {
		var a x.LOCKU4args
		a.Decode(r)
		if r.Err() != nil {
			return seq40{}, false
		}
		return seq40{args: state.SeqidArgs{Kind: state.LockOwner, ByStateid: true,
			Stateid: state.Stateid(a.LockStateid), Seqid: uint32(a.Seqid)}}, true
	})
}

// opLockt40 is LOCKT for minor version 0 (RFC 7530 §16.11): no seqid, but
// the lock-owner names its client ID, which the state checks (and whose
// lease the test renews, §9.5).
func (c *compound) opLockt40(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	pr := *r
	var a x.LOCKT4args
	a.Decode(&pr)
	if pr.Err() == nil {
		prev := c.cid
		c.cid = state.ClientID(a.Owner.Clientid)
		defer func() { c.cid = prev }()
	}
	return c.opLockt(r, w)
}

// wrongType40 rewrites NFS4ERR_WRONG_TYPE, which NFSv4.0 does not have
// (it came with RFC 8881), in the result whose status word is at statusAt:
// an OPEN of a file that is neither regular, a directory nor a symbolic
// link is NFS4ERR_SYMLINK (RFC 7530 §16.16.6, as knfsd answers), and the
// other operations on such files (READ, WRITE, COMMIT, LOCK, ...) are
// NFS4ERR_INVAL (RFC 7530 §16.23.5 and the like).
func (c *compound) wrongType40(w *xdr.Writer, statusAt int, st x.Nfsstat4) x.Nfsstat4 {
	if c.minor != 0 || st != x.NFS4ERR_WRONG_TYPE {
		return st
	}
	st = x.NFS4ERR_INVAL
	if c.op == x.OP_OPEN {
		st = x.NFS4ERR_SYMLINK
	}
	w.PutUint32At(statusAt, uint32(st))
	return st
}

// learnClient40 makes the client of a stateid the NFSv4.0 compound's
// client, if it has none yet (see scanClient40). Special stateids name no
// client.
func (c *compound) learnClient40(s state.Stateid) {
	if c.cid != 0 || s.IsSpecial() {
		return
	}
	if id, ok := c.s.state.StateClient40(s); ok {
		c.cid = id
	}
}

// setClient40 makes id the NFSv4.0 compound's client.
func (c *compound) setClient40(id state.ClientID) { c.cid = id }

// scanClient40 finds whose an NFSv4.0 compound is before running it: the
// client of the first stateid or client ID it names that the state knows
// (RFC 7530 has no SEQUENCE to say so). Operations that name no client
// (GETATTR, REMOVE, SETATTR) then know when they come from the holder of
// a delegation: the Linux client returns a delegation with PUTFH,
// GETATTR, DELEGRETURN, and that GETATTR must not send the holder a
// CB_GETATTR about a delegation it is giving back. A compound that names
// no client (PUTFH, REMOVE) is nobody's, as in knfsd, and recalls even
// its sender's delegations. r is the reader positioned at the first
// operation; it is not moved.
func (c *compound) scanClient40(r *xdr.Reader) {
	pr := *r
	for range c.n {
		var op x.NfsArgop4
		op.Decode(&pr)
		if pr.Err() != nil {
			return
		}
		var sid *x.Stateid4
		var cid x.Clientid4
		switch op.Argop {
		case x.OP_OPEN:
			cid = op.Opopen.Owner.Clientid
		case x.OP_OPEN_CONFIRM:
			sid = &op.OpopenConfirm.OpenStateid
		case x.OP_OPEN_DOWNGRADE:
			sid = &op.OpopenDowngrade.OpenStateid
		case x.OP_CLOSE:
			sid = &op.Opclose.OpenStateid
		case x.OP_LOCK:
			if l := &op.Oplock.Locker; l.NewLockOwner {
				sid = &l.OpenOwner.OpenStateid
			} else {
				sid = &l.LockOwner.LockStateid
			}
		case x.OP_LOCKU:
			sid = &op.Oplocku.LockStateid
		case x.OP_READ:
			sid = &op.Opread.Stateid
		case x.OP_WRITE:
			sid = &op.Opwrite.Stateid
		case x.OP_SETATTR:
			sid = &op.Opsetattr.Stateid
		case x.OP_DELEGRETURN:
			sid = &op.Opdelegreturn.DelegStateid
		case x.OP_RENEW:
			cid = op.Oprenew.Clientid
		}
		switch {
		case sid != nil:
			c.learnClient40(state.Stateid(*sid))
		case cid != 0:
			if _, ok := c.s.state.Callback40(state.ClientID(cid)); ok {
				c.cid = state.ClientID(cid)
			}
		}
		if c.cid != 0 {
			return
		}
	}
}
