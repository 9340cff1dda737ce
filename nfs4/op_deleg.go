package nfs4

import (
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// DELEGRETURN, RFC 8881 §18.6: the current file's delegation goes back.
// A revoked one answers NFS4ERR_DELEG_REVOKED; the client then frees it
// with FREE_STATEID.
func (c *compound) opDelegreturn(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var args x.DELEGRETURN4args
	if !c.decode(r, w, &args) {
		return x.NFS4ERR_BADXDR
	}
	file, st := c.openFile()
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	sid, st := c.stateid(args.DelegStateid)
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	if st := c.s.state.DelegReturn(c.cid, file, sid); st != x.NFS4_OK {
		return c.fail(w, st)
	}
	res := x.DELEGRETURN4res{Status: x.NFS4_OK}
	res.Encode(w)
	return x.NFS4_OK
}

// wantDelegFlags are the wda_want bits besides the want itself
// (RFC 8881 §18.49.3): the signal and push requests, which the server
// does not act on (ond_server_will_signal_avail and
// ond_server_will_push_deleg stay false).
const wantDelegFlags = x.OPEN4_SHARE_ACCESS_WANT_SIGNAL_DELEG_WHEN_RESRC_AVAIL |
	x.OPEN4_SHARE_ACCESS_WANT_PUSH_DELEG_WHEN_UNCONTENDED

// WANT_DELEGATION, RFC 8881 §18.49: a delegation of the current file
// without an OPEN, under the policy of OPEN's (nfs4/state Delegate) with
// no access held. The want must name one (a want of "no preference"
// asks for nothing, and is NFS4ERR_INVAL here); WANT_NO_DELEG and
// WANT_CANCEL get OPEN_DELEGATE_NONE_EXT. CLAIM_PREVIOUS reclaims a
// delegation during grace; CLAIM_DELEG_PREV_FH is NFS4ERR_NOTSUPP, as in
// OPEN (the server keeps no delegation records across a client's
// restart). Directories and other non-regular files are never delegated:
// WND4_IS_DIR, WND4_NOT_SUPP_FTYPE.
func (c *compound) opWantDelegation(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var args x.WANT_DELEGATION4args
	if !c.decode(r, w, &args) {
		return x.NFS4ERR_BADXDR
	}
	if st := c.checkUse(); st != x.NFS4_OK {
		return c.fail(w, st)
	}
	want := args.WdaWant &^ wantDelegFlags
	if want&^x.OPEN4_SHARE_ACCESS_WANT_DELEG_MASK != 0 || want > x.OPEN4_SHARE_ACCESS_WANT_CANCEL ||
		want == x.OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE {
		return c.fail(w, x.NFS4ERR_INVAL)
	}
	var reclaim x.OpenDelegationType4
	switch args.WdaClaim.DcClaim {
	case x.CLAIM_FH:
	case x.CLAIM_PREVIOUS:
		reclaim = args.WdaClaim.DcDelegateType
		if reclaim != x.OPEN_DELEGATE_READ && reclaim != x.OPEN_DELEGATE_WRITE {
			return c.fail(w, x.NFS4ERR_INVAL)
		}
	case x.CLAIM_DELEG_PREV_FH:
		return c.fail(w, x.NFS4ERR_NOTSUPP)
	default:
		return c.fail(w, x.NFS4ERR_INVAL)
	}
	var deleg x.OpenDelegation4
	typ := vfs.TypeDirectory
	var a vfs.Attr
	if !c.cur.pseudo() {
		var err error
		if a, err = c.cur.e.FS.GetAttr(c.ctx, c.cur.h); err != nil {
			return c.fail(w, errStatus(err))
		}
		typ = a.Type
	}
	switch typ {
	case vfs.TypeRegular:
		var st x.Nfsstat4
		if deleg, st = c.openDelegation(c.cur.e, c.cur.h, &a, 0, want, reclaim); st != x.NFS4_OK {
			return c.fail(w, st)
		}
	case vfs.TypeDirectory:
		deleg = x.OpenDelegation4{DelegationType: x.OPEN_DELEGATE_NONE_EXT, OdWhynone: x.OpenNoneDelegation4{OndWhy: x.WND4_IS_DIR}}
	default:
		deleg = x.OpenDelegation4{DelegationType: x.OPEN_DELEGATE_NONE_EXT, OdWhynone: x.OpenNoneDelegation4{OndWhy: x.WND4_NOT_SUPP_FTYPE}}
	}
	res := x.WANT_DELEGATION4res{WdrStatus: x.NFS4_OK, WdrResok4: deleg}
	res.Encode(w)
	return x.NFS4_OK
}

// GET_DIR_DELEGATION, RFC 8881 §18.39: directory delegations are not
// offered. They are only useful with the notifications that keep them
// (CB_NOTIFY, §10.9, §20.4), which the server does not send, and the RFC
// lets a server without them answer NFS4ERR_DIRDELEG_UNAVAIL.
func (c *compound) opGetDirDelegation(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	if st := c.needFH(); st != x.NFS4_OK {
		return c.fail(w, st)
	}
	return c.fail(w, x.NFS4ERR_DIRDELEG_UNAVAIL)
}
