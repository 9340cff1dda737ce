package nfs4

import (
	"github.com/gonfs/gonfs/nfs4/state"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/xdr"
)

// opTestStateid runs TEST_STATEID (RFC 8881 §18.48): one status per
// stateid, each judged as the client's own; the operation itself
// succeeds. The current-stateid value is not substituted: TEST_STATEID
// asks about the stateids as sent, and special stateids are
// NFS4ERR_BAD_STATEID (§18.48.3).
func (c *compound) opTestStateid(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	var a nfs4xdr.TEST_STATEID4args
	if !c.decode(r, w, &a) {
		return nfs4xdr.NFS4ERR_BADXDR
	}
	ids := make([]state.Stateid, len(a.TsStateids))
	for i, s := range a.TsStateids {
		ids[i] = state.Stateid(s)
	}
	sts := c.s.state.TestStateids(c.cid, ids)
	res := nfs4xdr.TEST_STATEID4res{TsrStatus: nfs4xdr.NFS4_OK,
		TsrResok4: nfs4xdr.TEST_STATEID4resok{TsrStatusCodes: sts}}
	res.Encode(w)
	return nfs4xdr.NFS4_OK
}

// opFreeStateid runs FREE_STATEID (RFC 8881 §18.38).
func (c *compound) opFreeStateid(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	var a nfs4xdr.FREE_STATEID4args
	if !c.decode(r, w, &a) {
		return nfs4xdr.NFS4ERR_BADXDR
	}
	sid, st := c.stateid(a.FsaStateid)
	if st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	eff, st := c.s.state.FreeStateid(c.cid, sid)
	if st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	if err := c.s.apply(eff); err != nil {
		return c.fail(w, nfs4xdr.NFS4ERR_SERVERFAULT)
	}
	res := nfs4xdr.FREE_STATEID4res{FsrStatus: nfs4xdr.NFS4_OK}
	res.Encode(w)
	return nfs4xdr.NFS4_OK
}
