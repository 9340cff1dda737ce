package nfs4

// Session helpers for op tests: a client that has done EXCHANGE_ID and
// CREATE_SESSION, and sends compounds that start with SEQUENCE on slot 0
// (RFC 8881 §2.10.6), the way NFSv4.1 and 4.2 clients must.

import (
	"fmt"
	"sync/atomic"

	"github.com/gonfs/gonfs/nfs4/state"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

// session is a client session of the fixture's server.
type session struct {
	f      *fixture
	cred   cred
	minor  uint32 // minor version of the compounds call sends (1 unless set)
	owner  []byte
	cid    nfs4xdr.Clientid4
	id     nfs4xdr.Sessionid4
	seq    nfs4xdr.Sequenceid4 // last sequence ID used on slot 0
	create nfs4xdr.CREATE_SESSION4resok
}

var ownerCounter atomic.Uint64

// newSession creates a client (a fresh owner) and a session for it, as c.
func (f *fixture) newSession(c cred) *session {
	f.t.Helper()
	s := f.newSessionOwner(c, fmt.Sprintf("test-client-%d", ownerCounter.Add(1)), nfs4xdr.Verifier4{1})
	// As the Linux client does: a new client ID sends RECLAIM_COMPLETE
	// before it opens anything (RFC 8881 §18.51.3).
	s.reclaimComplete()
	return s
}

// newRawSession is newSession without the RECLAIM_COMPLETE, for tests of
// sessions and reclaim themselves.
func (f *fixture) newRawSession(c cred) *session {
	f.t.Helper()
	return f.newSessionOwner(c, fmt.Sprintf("test-client-%d", ownerCounter.Add(1)), nfs4xdr.Verifier4{1})
}

// newSessionOwner is newRawSession for a given owner and verifier.
func (f *fixture) newSessionOwner(c cred, owner string, verf nfs4xdr.Verifier4) *session {
	f.t.Helper()
	cid, seq := f.exchangeID(c, owner, verf)
	res := f.call(c, 1, opCreateSession(cid, seq, 0))
	f.wantStatus(res, nfs4xdr.NFS4_OK, 1)
	ok := res.Resarray[0].OpcreateSession.CsrResok4
	return &session{f: f, cred: c, minor: 1, owner: []byte(owner), cid: cid, id: ok.CsrSessionid, create: ok}
}

// exchangeID sends a lone EXCHANGE_ID and returns the client ID and the
// sequence ID for its CREATE_SESSION.
func (f *fixture) exchangeID(c cred, owner string, verf nfs4xdr.Verifier4) (nfs4xdr.Clientid4, nfs4xdr.Sequenceid4) {
	f.t.Helper()
	res := f.call(c, 1, opExchangeID(owner, verf, 0))
	f.wantStatus(res, nfs4xdr.NFS4_OK, 1)
	ok := res.Resarray[0].OpexchangeId.EirResok4
	return ok.EirClientid, ok.EirSequenceid
}

// call sends SEQUENCE (slot 0, the next sequence ID, no caching) and ops
// in one compound of the session's minor version.
func (s *session) call(ops ...nfs4xdr.NfsArgop4) *nfs4xdr.COMPOUND4res {
	s.f.t.Helper()
	s.seq++
	return s.f.call(s.cred, s.minor, append([]nfs4xdr.NfsArgop4{s.sequence(s.seq, false)}, ops...)...)
}

// call42 is call with minor version 2.
func (s *session) call42(ops ...nfs4xdr.NfsArgop4) *nfs4xdr.COMPOUND4res {
	s.f.t.Helper()
	m := s.minor
	s.minor = 2
	defer func() { s.minor = m }()
	return s.call(ops...)
}

// sequence builds the SEQUENCE op of the session for slot 0.
func (s *session) sequence(seq nfs4xdr.Sequenceid4, cacheThis bool) nfs4xdr.NfsArgop4 {
	return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_SEQUENCE, Opsequence: &nfs4xdr.SEQUENCE4args{
		SaSessionid: s.id, SaSequenceid: seq, SaCachethis: cacheThis}}
}

// clientID is the session's client ID as the state knows it.
func (s *session) clientID() state.ClientID { return state.ClientID(s.cid) }

// reclaimComplete sends RECLAIM_COMPLETE (rca_one_fs false), as clients
// do once they have reclaimed, and wants it to succeed.
func (s *session) reclaimComplete() {
	s.f.t.Helper()
	res := s.call(nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_RECLAIM_COMPLETE, OpreclaimComplete: &nfs4xdr.RECLAIM_COMPLETE4args{}})
	s.f.wantStatus(res, nfs4xdr.NFS4_OK, 2)
}

func opExchangeID(owner string, verf nfs4xdr.Verifier4, flags uint32) nfs4xdr.NfsArgop4 {
	return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_EXCHANGE_ID, OpexchangeId: &nfs4xdr.EXCHANGE_ID4args{
		EiaClientowner: nfs4xdr.ClientOwner4{CoVerifier: verf, CoOwnerid: []byte(owner)},
		EiaFlags:       flags,
	}}
}

// defaultChannel is what a client typically asks for.
var defaultChannel = nfs4xdr.ChannelAttrs4{CaMaxrequestsize: 1 << 20, CaMaxresponsesize: 1 << 20,
	CaMaxresponsesizeCached: 8 << 10, CaMaxoperations: 16, CaMaxrequests: 8}

func opCreateSession(cid nfs4xdr.Clientid4, seq nfs4xdr.Sequenceid4, flags uint32) nfs4xdr.NfsArgop4 {
	return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_CREATE_SESSION, OpcreateSession: &nfs4xdr.CREATE_SESSION4args{
		CsaClientid: cid, CsaSequence: seq, CsaFlags: flags,
		CsaForeChanAttrs: defaultChannel, CsaBackChanAttrs: defaultChannel,
		CsaCbProgram: nfs4xdr.NFS4_CALLBACK,
		CsaSecParms:  []nfs4xdr.CallbackSecParms4{{CbSecflavor: nfs4xdr.AUTH_NONE}},
	}}
}

// callRaw is session.call that also returns the reply bytes.
func (s *session) callRaw(ops ...nfs4xdr.NfsArgop4) (*nfs4xdr.COMPOUND4res, []byte) {
	s.f.t.Helper()
	s.seq++
	return s.f.callRaw(s.cred, s.minor, append([]nfs4xdr.NfsArgop4{s.sequence(s.seq, false)}, ops...)...)
}
