package nfs4

import (
	"time"

	"github.com/gonfs/gonfs/nfs4/state"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/xdr"
)

// implID is eir_server_impl_id (RFC 8881 §18.35.3): informational only.
var implID = nfs4xdr.NfsImplId4{
	NiiDomain: nfs4xdr.Utf8strCis("gonfs"),
	NiiName:   nfs4xdr.Utf8strCs("gonfs"),
	NiiDate:   nfs4xdr.Nfstime4{Seconds: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()},
}

// opExchangeID runs EXCHANGE_ID (RFC 8881 §18.35).
//
// Only SP4_NONE state protection is offered. For the others the state
// answers as Linux nfsd does for what it cannot enforce: SP4_SSV is
// NFS4ERR_ENCR_ALG_UNSUPP (RFC 8881 §18.35.4: no SSV algorithm of the
// client's list is supported) and SP4_MACH_CRED NFS4ERR_INVAL; clients
// then retry with SP4_NONE.
func (c *compound) opExchangeID(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	var a nfs4xdr.EXCHANGE_ID4args
	if !c.decode(r, w, &a) {
		return nfs4xdr.NFS4ERR_BADXDR
	}
	res, st := c.s.state.ExchangeID(state.ExchangeIDArgs{
		Owner:     c.clientOwner(a.EiaClientowner.CoOwnerid),
		Verifier:  state.Verifier(a.EiaClientowner.CoVerifier),
		Principal: principal(c.call),
		Flags:     a.EiaFlags,
		Protect:   state.StateProtect(a.EiaStateProtect.SpaHow),
		Addr:      c.call.Remote.String(),
	})
	if st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	out := nfs4xdr.EXCHANGE_ID4res{EirStatus: nfs4xdr.NFS4_OK, EirResok4: nfs4xdr.EXCHANGE_ID4resok{
		EirClientid:     nfs4xdr.Clientid4(res.ClientID),
		EirSequenceid:   nfs4xdr.Sequenceid4(res.SequenceID),
		EirFlags:        res.Flags,
		EirStateProtect: nfs4xdr.StateProtect4R{SprHow: nfs4xdr.SP4_NONE},
		EirServerOwner:  nfs4xdr.ServerOwner4{SoMajorId: res.ServerOwner},
		EirServerScope:  res.ServerScope,
		EirServerImplId: []nfs4xdr.NfsImplId4{implID},
	}}
	out.Encode(w)
	return nfs4xdr.NFS4_OK
}

// channelAttrs converts channel_attrs4; RDMA is not offered, so
// ca_rdma_ird is dropped.
func channelAttrs(a nfs4xdr.ChannelAttrs4) state.ChannelAttrs {
	return state.ChannelAttrs{
		HeaderPadSize:         uint32(a.CaHeaderpadsize),
		MaxRequestSize:        uint32(a.CaMaxrequestsize),
		MaxResponseSize:       uint32(a.CaMaxresponsesize),
		MaxResponseSizeCached: uint32(a.CaMaxresponsesizeCached),
		MaxOperations:         uint32(a.CaMaxoperations),
		MaxRequests:           uint32(a.CaMaxrequests),
	}
}

func wireChannelAttrs(a state.ChannelAttrs) nfs4xdr.ChannelAttrs4 {
	return nfs4xdr.ChannelAttrs4{
		CaHeaderpadsize:         nfs4xdr.Count4(a.HeaderPadSize),
		CaMaxrequestsize:        nfs4xdr.Count4(a.MaxRequestSize),
		CaMaxresponsesize:       nfs4xdr.Count4(a.MaxResponseSize),
		CaMaxresponsesizeCached: nfs4xdr.Count4(a.MaxResponseSizeCached),
		CaMaxoperations:         nfs4xdr.Count4(a.MaxOperations),
		CaMaxrequests:           nfs4xdr.Count4(a.MaxRequests),
	}
}

// callbackSec keeps the callback security parameters the callback sender
// can use (RFC 8881 §18.36.3 csa_sec_parms): AUTH_NONE, and AUTH_SYS with
// its authsys_parms encoded as the credential body. RPCSEC_GSS entries are
// skipped: there is no GSS context to call back with.
func callbackSec(parms []nfs4xdr.CallbackSecParms4) []state.CallbackSec {
	var out []state.CallbackSec
	for i := range parms {
		switch p := &parms[i]; p.CbSecflavor {
		case nfs4xdr.AUTH_NONE:
			out = append(out, state.CallbackSec{Flavor: nfs4xdr.AUTH_NONE})
		case nfs4xdr.AUTH_SYS:
			out = append(out, state.CallbackSec{Flavor: nfs4xdr.AUTH_SYS, Body: xdr.Marshal(nil, &p.CbspSysCred)})
		}
	}
	return out
}

// opCreateSession runs CREATE_SESSION (RFC 8881 §18.36). The connection
// the request came on is bound to the new session, to both channels when
// the client asks for CONN_BACK_CHAN; the back channel is then probed with
// CB_NULL, off the request path.
func (c *compound) opCreateSession(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	var a nfs4xdr.CREATE_SESSION4args
	if !c.decode(r, w, &a) {
		return nfs4xdr.NFS4ERR_BADXDR
	}
	res, eff, st := c.s.state.CreateSession(state.CreateSessionArgs{
		ClientID:  state.ClientID(a.CsaClientid),
		Sequence:  uint32(a.CsaSequence),
		Flags:     a.CsaFlags,
		Fore:      channelAttrs(a.CsaForeChanAttrs),
		Back:      channelAttrs(a.CsaBackChanAttrs),
		CBProgram: a.CsaCbProgram,
		CBSec:     callbackSec(a.CsaSecParms),
		Principal: principal(c.call),
		Conn:      connID(c.call),
		Addr:      c.call.Remote.String(),
	})
	if st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	if err := c.s.apply(eff); err != nil {
		return c.fail(w, nfs4xdr.NFS4ERR_SERVERFAULT)
	}
	c.s.limits.Store(res.SessionID, res.Fore)
	c.s.cb.setMinor(res.SessionID, c.minor) // callbacks speak the session's minor version
	if res.Flags&nfs4xdr.CREATE_SESSION4_FLAG_CONN_BACK_CHAN != 0 {
		c.s.cb.probe(state.ClientID(a.CsaClientid))
	}
	out := nfs4xdr.CREATE_SESSION4res{CsrStatus: nfs4xdr.NFS4_OK, CsrResok4: nfs4xdr.CREATE_SESSION4resok{
		CsrSessionid:     nfs4xdr.Sessionid4(res.SessionID),
		CsrSequence:      nfs4xdr.Sequenceid4(res.Sequence),
		CsrFlags:         res.Flags,
		CsrForeChanAttrs: wireChannelAttrs(res.Fore),
		CsrBackChanAttrs: wireChannelAttrs(res.Back),
	}}
	out.Encode(w)
	return nfs4xdr.NFS4_OK
}

// opDestroySession runs DESTROY_SESSION (RFC 8881 §18.37). A compound
// that destroys its own session must end with it (§18.37.3; answered
// NFS4ERR_NOT_ONLY_OP as Linux nfsd does): nothing may run in a session
// that is gone.
func (c *compound) opDestroySession(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	var a nfs4xdr.DESTROY_SESSION4args
	if !c.decode(r, w, &a) {
		return nfs4xdr.NFS4ERR_BADXDR
	}
	sid := state.SessionID(a.DsaSessionid)
	if c.inSession && sid == c.session && c.index != c.n-1 {
		return c.fail(w, nfs4xdr.NFS4ERR_NOT_ONLY_OP)
	}
	if st := c.s.state.DestroySession(sid); st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	c.s.limits.Delete(sid)
	c.s.cb.forget(sid)
	res := nfs4xdr.DESTROY_SESSION4res{DsrStatus: nfs4xdr.NFS4_OK}
	res.Encode(w)
	return nfs4xdr.NFS4_OK
}

// opDestroyClientID runs DESTROY_CLIENTID (RFC 8881 §18.50).
func (c *compound) opDestroyClientID(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	var a nfs4xdr.DESTROY_CLIENTID4args
	if !c.decode(r, w, &a) {
		return nfs4xdr.NFS4ERR_BADXDR
	}
	eff, st := c.s.state.DestroyClientID(state.ClientID(a.DcaClientid))
	if st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	if err := c.s.apply(eff); err != nil {
		return c.fail(w, nfs4xdr.NFS4ERR_SERVERFAULT)
	}
	res := nfs4xdr.DESTROY_CLIENTID4res{DcrStatus: nfs4xdr.NFS4_OK}
	res.Encode(w)
	return nfs4xdr.NFS4_OK
}

// opBindConnToSession runs BIND_CONN_TO_SESSION (RFC 8881 §18.34). RDMA
// mode is never used (bctsr_use_conn_in_rdma_mode is false). A
// connection newly bound for callbacks is probed.
func (c *compound) opBindConnToSession(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	var a nfs4xdr.BIND_CONN_TO_SESSION4args
	if !c.decode(r, w, &a) {
		return nfs4xdr.NFS4ERR_BADXDR
	}
	sid := state.SessionID(a.BctsaSessid)
	dir, st := c.s.state.BindConnToSession(sid, state.ConnDir(a.BctsaDir), connID(c.call))
	if st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	if dir&state.ConnBack != 0 {
		c.s.cb.probe(sid.ClientID())
	}
	res := nfs4xdr.BIND_CONN_TO_SESSION4res{BctsrStatus: nfs4xdr.NFS4_OK, BctsrResok4: nfs4xdr.BIND_CONN_TO_SESSION4resok{
		BctsrSessid: a.BctsaSessid,
		BctsrDir:    nfs4xdr.ChannelDirFromServer4(dir),
	}}
	res.Encode(w)
	return nfs4xdr.NFS4_OK
}

// opBackchannelCtl runs BACKCHANNEL_CTL (RFC 8881 §18.33): new callback
// program and security for the compound's session, probed at once.
func (c *compound) opBackchannelCtl(r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	var a nfs4xdr.BACKCHANNEL_CTL4args
	if !c.decode(r, w, &a) {
		return nfs4xdr.NFS4ERR_BADXDR
	}
	if st := c.s.state.BackchannelCtl(c.session, a.BcaCbProgram, callbackSec(a.BcaSecParms)); st != nfs4xdr.NFS4_OK {
		return c.fail(w, st)
	}
	c.s.cb.probe(c.cid)
	res := nfs4xdr.BACKCHANNEL_CTL4res{BcrStatus: nfs4xdr.NFS4_OK}
	res.Encode(w)
	return nfs4xdr.NFS4_OK
}

// opSequenceMisplaced answers a SEQUENCE that is not the first operation
// (RFC 8881 §18.46.3); a leading one is run by the compound loop itself.
func opSequenceMisplaced(c *compound, r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	return c.fail(w, nfs4xdr.NFS4ERR_SEQUENCE_POS)
}
