package nfs4

import (
	"context"
	"time"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// callbackHandler serves the backchannel (RFC 8881 §20): CB_NULL, and
// CB_COMPOUND with CB_SEQUENCE, CB_RECALL and CB_GETATTR. A recall is
// answered at once and the delegation returned from another goroutine
// after the DelegationHandler flushed the file (§20.2.3: the client
// returns it with DELEGRETURN, not in the callback's reply); CB_GETATTR is
// answered from the handler's view of the file (§20.1).
type callbackHandler struct{ c *Client }

func (h callbackHandler) ServeRPC(ctx context.Context, call *sunrpc.Call, w *xdr.Writer) sunrpc.Status {
	if call.Prog != callbackProgram || call.Vers != 1 {
		return sunrpc.ProgUnavail
	}
	switch call.Proc {
	case 0: // CB_NULL
		return sunrpc.Success
	case 1: // CB_COMPOUND
	default:
		return sunrpc.ProcUnavail
	}
	var args x.CB_COMPOUND4args
	if err := xdr.Unmarshal(call.Args, &args); err != nil {
		return sunrpc.GarbageArgs
	}
	res := x.CB_COMPOUND4res{Status: x.NFS4_OK, Tag: args.Tag}
	for i, op := range args.Argarray {
		r := x.NfsCbResop4{Resop: op.Argop}
		st := x.NFS4_OK
		switch {
		case op.Argop == x.OP_CB_SEQUENCE && i == 0:
			a := op.Opcbsequence
			r.Opcbsequence = x.CB_SEQUENCE4res{CsrStatus: x.NFS4_OK, CsrResok4: x.CB_SEQUENCE4resok{
				CsrSessionid: a.CsaSessionid, CsrSequenceid: a.CsaSequenceid, CsrSlotid: a.CsaSlotid,
				CsrHighestSlotid: a.CsaHighestSlotid, CsrTargetHighestSlotid: a.CsaHighestSlotid,
			}}
		case op.Argop == x.OP_CB_RECALL && i > 0:
			a := op.Opcbrecall
			go h.c.recall(append(x.NfsFh4(nil), a.Fh...), a.Stateid)
		case op.Argop == x.OP_CB_GETATTR && i > 0:
			r.Opcbgetattr = h.c.cbGetattr(&op.Opcbgetattr)
			st = r.Opcbgetattr.Status
		case i == 0:
			// Every CB_COMPOUND starts with CB_SEQUENCE (§20.9.3).
			st = x.NFS4ERR_OP_NOT_IN_SESSION
		default:
			st = x.NFS4ERR_NOTSUPP
		}
		setCbStatus(&r, st)
		res.Resarray = append(res.Resarray, r)
		if st != x.NFS4_OK {
			res.Status = st
			break
		}
	}
	res.Encode(w)
	return sunrpc.Success
}

// setCbStatus sets the status of an answered callback op.
func setCbStatus(r *x.NfsCbResop4, st x.Nfsstat4) {
	switch r.Resop {
	case x.OP_CB_SEQUENCE:
		if st != x.NFS4_OK {
			r.Opcbsequence = x.CB_SEQUENCE4res{CsrStatus: st}
		}
	case x.OP_CB_RECALL:
		r.Opcbrecall.Status = st
	case x.OP_CB_GETATTR:
		r.Opcbgetattr.Status = st
	default:
		r.Resop = x.OP_CB_ILLEGAL
		r.Opcbillegal.Status = st
	}
}

// delegReturn returns a delegation (DELEGRETURN, RFC 8881 §18.6).
func (c *Client) delegReturn(fh x.NfsFh4, sid x.Stateid4) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.Compound(ctx, PutFH(fh), x.NfsArgop4{Argop: x.OP_DELEGRETURN, Opdelegreturn: &x.DELEGRETURN4args{DelegStateid: sid}}); err != nil && !isConnErr(err) {
		c.log.Warn("nfs4: DELEGRETURN failed", "err", err)
	}
}
