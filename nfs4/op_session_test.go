package nfs4

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/nfs4/state"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

// newSessionAttrs creates a session asking for fore channel attributes
// fore (and flags), and returns it and the CREATE_SESSION result.
func (f *fixture) newSessionAttrs(c cred, fore nfs4xdr.ChannelAttrs4, flags uint32) *session {
	f.t.Helper()
	s := f.newSession(c) // a first session, to have a client
	cs := opCreateSession(s.cid, s.create.CsrSequence+1, flags)
	cs.OpcreateSession.CsaForeChanAttrs = fore
	res := s.call(cs)
	f.wantStatus(res, nfs4xdr.NFS4_OK, 2)
	ok := res.Resarray[1].OpcreateSession.CsrResok4
	return &session{f: f, cred: c, minor: 1, owner: s.owner, cid: s.cid, id: ok.CsrSessionid, create: ok}
}

func opDestroySession(id nfs4xdr.Sessionid4) nfs4xdr.NfsArgop4 {
	return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_DESTROY_SESSION, OpdestroySession: &nfs4xdr.DESTROY_SESSION4args{DsaSessionid: id}}
}

func opDestroyClientID(id nfs4xdr.Clientid4) nfs4xdr.NfsArgop4 {
	return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_DESTROY_CLIENTID, OpdestroyClientid: &nfs4xdr.DESTROY_CLIENTID4args{DcaClientid: id}}
}

func opBindConn(id nfs4xdr.Sessionid4, dir nfs4xdr.ChannelDirFromClient4) nfs4xdr.NfsArgop4 {
	return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_BIND_CONN_TO_SESSION, OpbindConnToSession: &nfs4xdr.BIND_CONN_TO_SESSION4args{BctsaSessid: id, BctsaDir: dir}}
}

func opReclaimComplete(oneFS bool) nfs4xdr.NfsArgop4 {
	return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_RECLAIM_COMPLETE, OpreclaimComplete: &nfs4xdr.RECLAIM_COMPLETE4args{RcaOneFs: oneFS}}
}

// RFC 8881 §2.10.6, §16.2.3, §18.46.3: where SEQUENCE and the sessionless
// operations may stand.
func TestCompoundPosition(t *testing.T) {
	f := newFixture(t, "")
	s := f.newSession(root)
	badSeq := s.sequence(99, false)
	tests := []struct {
		name  string
		minor uint32
		ops   []nfs4xdr.NfsArgop4
		want  []nfs4xdr.Nfsstat4 // compound status, then each result
	}{
		{"no SEQUENCE", 1, []nfs4xdr.NfsArgop4{opPutrootfh(), opGetfh()},
			[]nfs4xdr.Nfsstat4{nfs4xdr.NFS4ERR_OP_NOT_IN_SESSION, nfs4xdr.NFS4ERR_OP_NOT_IN_SESSION}},
		{"no SEQUENCE 4.2", 2, []nfs4xdr.NfsArgop4{opPutrootfh()},
			[]nfs4xdr.Nfsstat4{nfs4xdr.NFS4ERR_OP_NOT_IN_SESSION, nfs4xdr.NFS4ERR_OP_NOT_IN_SESSION}},
		{"EXCHANGE_ID not alone", 1, []nfs4xdr.NfsArgop4{opExchangeID("x", nfs4xdr.Verifier4{}, 0), opPutrootfh()},
			[]nfs4xdr.Nfsstat4{nfs4xdr.NFS4ERR_NOT_ONLY_OP, nfs4xdr.NFS4ERR_NOT_ONLY_OP}},
		{"CREATE_SESSION not alone", 1, []nfs4xdr.NfsArgop4{opCreateSession(s.cid, 9, 0), opPutrootfh()},
			[]nfs4xdr.Nfsstat4{nfs4xdr.NFS4ERR_NOT_ONLY_OP, nfs4xdr.NFS4ERR_NOT_ONLY_OP}},
		{"DESTROY_CLIENTID not alone", 1, []nfs4xdr.NfsArgop4{opDestroyClientID(s.cid), opPutrootfh()},
			[]nfs4xdr.Nfsstat4{nfs4xdr.NFS4ERR_NOT_ONLY_OP, nfs4xdr.NFS4ERR_NOT_ONLY_OP}},
		{"SEQUENCE second", 1, []nfs4xdr.NfsArgop4{opPutrootfh(), badSeq},
			[]nfs4xdr.Nfsstat4{nfs4xdr.NFS4ERR_OP_NOT_IN_SESSION, nfs4xdr.NFS4ERR_OP_NOT_IN_SESSION}},
		// NFSv4.0 (RFC 7530 §16.2.3): no sessions; SEQUENCE is not an
		// operation of minor version 0 (OP_ILLEGAL).
		{"minor 0", 0, []nfs4xdr.NfsArgop4{opPutrootfh(), badSeq},
			[]nfs4xdr.Nfsstat4{nfs4xdr.NFS4ERR_OP_ILLEGAL, nfs4xdr.NFS4_OK, nfs4xdr.NFS4ERR_OP_ILLEGAL}},
		{"minor 3", 3, []nfs4xdr.NfsArgop4{s.sequence(1, false)},
			[]nfs4xdr.Nfsstat4{nfs4xdr.NFS4ERR_MINOR_VERS_MISMATCH}},
		{"empty", 1, nil, []nfs4xdr.Nfsstat4{nfs4xdr.NFS4_OK}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := statuses(f.call(root, tt.minor, tt.ops...))
			if !equalStatus(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	// A second SEQUENCE in a session compound.
	res := s.call(opPutrootfh(), s.sequence(s.seq+1, false))
	if got := statuses(res); !equalStatus(got, []nfs4xdr.Nfsstat4{nfs4xdr.NFS4ERR_SEQUENCE_POS, nfs4xdr.NFS4_OK, nfs4xdr.NFS4_OK, nfs4xdr.NFS4ERR_SEQUENCE_POS}) {
		t.Fatalf("second SEQUENCE: %v", got)
	}
}

func equalStatus(a, b []nfs4xdr.Nfsstat4) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// RFC 8881 §2.10.6.1, §18.46: slot sequencing, the reply cache, and a
// failed SEQUENCE leaving the slot alone.
func TestSequenceSlots(t *testing.T) {
	f := newFixture(t, "")
	s := f.newRawSession(root)

	// A cached compound is replayed byte for byte, without running again.
	seq := s.sequence(1, true)
	res1, raw1 := f.callRaw(root, 1, seq, opPutrootfh(), opGetfh())
	f.wantStatus(res1, nfs4xdr.NFS4_OK, 3)
	_, raw2 := f.callRaw(root, 1, seq, opPutrootfh(), opGetfh())
	if !bytes.Equal(raw1, raw2) {
		t.Fatalf("replay differs:\n%x\n%x", raw1, raw2)
	}

	// A failing compound with cachethis is cached too, failure and all.
	seq = s.sequence(2, true)
	res1, raw1 = f.callRaw(root, 1, seq, opGetfh())
	f.wantStatus(res1, nfs4xdr.NFS4ERR_NOFILEHANDLE, 2)
	_, raw2 = f.callRaw(root, 1, seq, opGetfh())
	if !bytes.Equal(raw1, raw2) {
		t.Fatal("replay of a failed compound differs")
	}

	// Without cachethis, a retry is NFS4ERR_RETRY_UNCACHED_REP
	// (§2.10.6.1.3).
	seq = s.sequence(3, false)
	f.wantStatus(f.call(root, 1, seq, opPutrootfh()), nfs4xdr.NFS4_OK, 2)
	f.wantStatus(f.call(root, 1, seq, opPutrootfh()), nfs4xdr.NFS4ERR_RETRY_UNCACHED_REP, 1)

	// A lone SEQUENCE is kept anyway.
	seq = s.sequence(4, false)
	_, raw1 = f.callRaw(root, 1, seq)
	_, raw2 = f.callRaw(root, 1, seq)
	if !bytes.Equal(raw1, raw2) {
		t.Fatal("replay of a lone SEQUENCE differs")
	}

	// Misordered and bad-slot requests fail in SEQUENCE and change
	// nothing: 5 is still next.
	f.wantStatus(f.call(root, 1, s.sequence(7, false)), nfs4xdr.NFS4ERR_SEQ_MISORDERED, 1)
	bad := s.sequence(5, false)
	bad.Opsequence.SaSlotid = 1000
	f.wantStatus(f.call(root, 1, bad), nfs4xdr.NFS4ERR_BADSLOT, 1)
	unknown := s.sequence(5, false)
	unknown.Opsequence.SaSessionid[15] ^= 0xff
	f.wantStatus(f.call(root, 1, unknown), nfs4xdr.NFS4ERR_BADSESSION, 1)
	garbled := s.sequence(5, false)
	f.wantStatus(f.call(root, 1, garbled, opPutrootfh()), nfs4xdr.NFS4_OK, 2)
	s.seq = 5
	f.wantStatus(s.call(opPutrootfh()), nfs4xdr.NFS4_OK, 2)

	// The SEQUENCE result (§18.46.3).
	r := s.call().Resarray[0].Opsequence.SrResok4
	want := nfs4xdr.SEQUENCE4resok{SrSessionid: s.id, SrSequenceid: s.seq, SrSlotid: 0,
		SrHighestSlotid:       nfs4xdr.Slotid4(s.create.CsrForeChanAttrs.CaMaxrequests - 1),
		SrTargetHighestSlotid: nfs4xdr.Slotid4(s.create.CsrForeChanAttrs.CaMaxrequests - 1)}
	if r != want {
		t.Fatalf("SEQUENCE4resok %+v, want %+v", r, want)
	}
}

// RFC 8881 §2.10.6.4, §18.36.3: the negotiated fore channel limits.
func TestChannelLimits(t *testing.T) {
	f := newFixture(t, "")
	small := nfs4xdr.ChannelAttrs4{CaMaxrequestsize: 512, CaMaxresponsesize: 300,
		CaMaxresponsesizeCached: 120, CaMaxoperations: 8, CaMaxrequests: 2}
	s := f.newSessionAttrs(root, small, 0)
	if got := s.create.CsrForeChanAttrs; got.CaMaxoperations != 8 || got.CaMaxresponsesize != 300 {
		t.Fatalf("granted %+v", got)
	}

	// Too many operations: SEQUENCE fails, the slot is untouched.
	getfhs := []nfs4xdr.NfsArgop4{opPutrootfh(), opGetfh(), opGetfh(), opGetfh(), opGetfh(), opGetfh(), opGetfh()}
	res := s.call(append(getfhs, opGetfh())...)
	f.wantStatus(res, nfs4xdr.NFS4ERR_TOO_MANY_OPS, 1)
	s.seq--

	// Too large a request.
	long := strings.Repeat("n", 255)
	res = s.call(opPutrootfh(), opLookup(long), opLookup(long))
	f.wantStatus(res, nfs4xdr.NFS4ERR_REQ_TOO_BIG, 1)
	s.seq--

	// A reply that outgrows ca_maxresponsesize: the op that overflowed
	// says so, and the reply stays within the limit.
	res, raw := f.callRaw(root, 1, append([]nfs4xdr.NfsArgop4{s.sequence(s.seq+1, false)}, getfhs...)...)
	s.seq++
	if res.Status != nfs4xdr.NFS4ERR_REP_TOO_BIG || resStatus(&res.Resarray[len(res.Resarray)-1]) != nfs4xdr.NFS4ERR_REP_TOO_BIG {
		t.Fatalf("oversized reply: %v", statuses(res))
	}
	if len(raw)+rpcReplyHeader > 300 {
		t.Fatalf("reply of %d bytes exceeds the limit", len(raw))
	}

	// With sa_cachethis, ca_maxresponsesize_cached applies.
	res = f.call(root, 1, s.sequence(s.seq+1, true), opPutrootfh(), opGetfh(), opGetfh(), opGetfh())
	s.seq++
	if got := statuses(res); !equalStatus(got[:2], []nfs4xdr.Nfsstat4{nfs4xdr.NFS4ERR_REP_TOO_BIG_TO_CACHE, nfs4xdr.NFS4_OK}) ||
		got[len(got)-1] != nfs4xdr.NFS4ERR_REP_TOO_BIG_TO_CACHE {
		t.Fatalf("too big to cache: %v", got)
	}
	// The slot is free again after all of these.
	f.wantStatus(s.call(opPutrootfh()), nfs4xdr.NFS4_OK, 2)
}

// RFC 8881 §18.35: EXCHANGE_ID results and state protection.
func TestExchangeID(t *testing.T) {
	f := newFixture(t, "")
	res := f.call(root, 1, opExchangeID("ex-owner", nfs4xdr.Verifier4{7}, 0))
	f.wantStatus(res, nfs4xdr.NFS4_OK, 1)
	ok := res.Resarray[0].OpexchangeId.EirResok4
	if ok.EirStateProtect.SprHow != nfs4xdr.SP4_NONE || string(ok.EirServerOwner.SoMajorId) != "gonfs-test" ||
		string(ok.EirServerScope) != "gonfs-test" || len(ok.EirServerImplId) != 1 ||
		string(ok.EirServerImplId[0].NiiName) != "gonfs" || ok.EirFlags&nfs4xdr.EXCHGID4_FLAG_CONFIRMED_R != 0 {
		t.Fatalf("EXCHANGE_ID4resok %+v", ok)
	}
	// Confirmed after CREATE_SESSION; the same EXCHANGE_ID then returns
	// the same client ID with CONFIRMED_R (§18.35.4 case 2).
	f.wantStatus(f.call(root, 1, opCreateSession(ok.EirClientid, ok.EirSequenceid, 0)), nfs4xdr.NFS4_OK, 1)
	res = f.call(root, 1, opExchangeID("ex-owner", nfs4xdr.Verifier4{7}, 0))
	again := res.Resarray[0].OpexchangeId.EirResok4
	if again.EirClientid != ok.EirClientid || again.EirFlags&nfs4xdr.EXCHGID4_FLAG_CONFIRMED_R == 0 {
		t.Fatalf("second EXCHANGE_ID %+v", again)
	}

	protect := []struct {
		how  nfs4xdr.StateProtectHow4
		want nfs4xdr.Nfsstat4
	}{
		{nfs4xdr.SP4_MACH_CRED, nfs4xdr.NFS4ERR_INVAL},
		{nfs4xdr.SP4_SSV, nfs4xdr.NFS4ERR_ENCR_ALG_UNSUPP},
	}
	for _, p := range protect {
		op := opExchangeID("sp-owner", nfs4xdr.Verifier4{1}, 0)
		op.OpexchangeId.EiaStateProtect.SpaHow = p.how
		f.wantStatus(f.call(root, 1, op), p.want, 1)
	}

	// The principal is the AUTH_SYS uid: another uid may not confirm the
	// record (§18.36.4: NFS4ERR_CLID_INUSE).
	cid, seq := f.exchangeID(root, "princ-owner", nfs4xdr.Verifier4{1})
	f.wantStatus(f.call(cred{1000, 1000}, 1, opCreateSession(cid, seq, 0)), nfs4xdr.NFS4ERR_CLID_INUSE, 1)
	f.wantStatus(f.call(root, 1, opCreateSession(cid, seq, 0)), nfs4xdr.NFS4_OK, 1)
}

// RFC 8881 §18.36: CREATE_SESSION replay, misordering and attributes.
func TestCreateSession(t *testing.T) {
	f := newFixture(t, "")
	cid, seq := f.exchangeID(root, "cs-owner", nfs4xdr.Verifier4{1})
	f.wantStatus(f.call(root, 1, opCreateSession(cid, seq+1, 0)), nfs4xdr.NFS4ERR_SEQ_MISORDERED, 1)
	res1, raw1 := f.callRaw(root, 1, opCreateSession(cid, seq, nfs4xdr.CREATE_SESSION4_FLAG_CONN_BACK_CHAN|nfs4xdr.CREATE_SESSION4_FLAG_PERSIST))
	f.wantStatus(res1, nfs4xdr.NFS4_OK, 1)
	ok := res1.Resarray[0].OpcreateSession.CsrResok4
	if ok.CsrFlags != nfs4xdr.CREATE_SESSION4_FLAG_CONN_BACK_CHAN || ok.CsrSequence != seq ||
		ok.CsrForeChanAttrs.CaMaxoperations != defaultChannel.CaMaxoperations {
		t.Fatalf("CREATE_SESSION4resok %+v", ok)
	}
	// A retransmission gets the same session (§18.36.4).
	_, raw2 := f.callRaw(root, 1, opCreateSession(cid, seq, nfs4xdr.CREATE_SESSION4_FLAG_CONN_BACK_CHAN|nfs4xdr.CREATE_SESSION4_FLAG_PERSIST))
	if !bytes.Equal(raw1, raw2) {
		t.Fatal("CREATE_SESSION retry differs")
	}
	tiny := opCreateSession(cid, seq+1, 0)
	tiny.OpcreateSession.CsaForeChanAttrs.CaMaxrequestsize = 10
	f.wantStatus(f.call(root, 1, tiny), nfs4xdr.NFS4ERR_TOOSMALL, 1)
	f.wantStatus(f.call(root, 1, opCreateSession(12345, 1, 0)), nfs4xdr.NFS4ERR_STALE_CLIENTID, 1)
}

// RFC 8881 §18.37, §18.50: destroying sessions and client IDs.
func TestDestroy(t *testing.T) {
	f := newFixture(t, "")
	s := f.newSession(root)
	other := f.newSessionAttrs(root, defaultChannel, 0) // a second client

	// A session's own DESTROY_SESSION must come last.
	f.wantStatus(s.call(opDestroySession(s.id), opPutrootfh()), nfs4xdr.NFS4ERR_NOT_ONLY_OP, 2)
	// DESTROY_CLIENTID of a client with sessions is CLIENTID_BUSY.
	f.wantStatus(f.call(root, 1, opDestroyClientID(s.cid)), nfs4xdr.NFS4ERR_CLIENTID_BUSY, 1)

	f.wantStatus(s.call(opDestroySession(s.id)), nfs4xdr.NFS4_OK, 2)
	f.wantStatus(s.call(), nfs4xdr.NFS4ERR_BADSESSION, 1)
	f.wantStatus(f.call(root, 1, opDestroySession(s.id)), nfs4xdr.NFS4ERR_BADSESSION, 1)
	// Destroyed from another client's session, then the client ID.
	f.wantStatus(other.call(opDestroyClientID(s.cid)), nfs4xdr.NFS4_OK, 2)
	f.wantStatus(f.call(root, 1, opDestroyClientID(s.cid)), nfs4xdr.NFS4ERR_STALE_CLIENTID, 1)
	// The owner may start again.
	cid, seq := f.exchangeID(root, string(s.owner), nfs4xdr.Verifier4{1})
	f.wantStatus(f.call(root, 1, opCreateSession(cid, seq, 0)), nfs4xdr.NFS4_OK, 1)
}

// RFC 8881 §18.34, §18.33: binding connections, callback parameters.
func TestBindConnAndBackchannelCtl(t *testing.T) {
	f := newFixture(t, "")
	s := f.newSession(root)
	tests := []struct {
		dir  nfs4xdr.ChannelDirFromClient4
		want nfs4xdr.ChannelDirFromServer4
	}{
		{nfs4xdr.CDFC4_FORE, nfs4xdr.CDFS4_FORE},
		{nfs4xdr.CDFC4_FORE_OR_BOTH, nfs4xdr.CDFS4_BOTH},
		{nfs4xdr.CDFC4_BACK_OR_BOTH, nfs4xdr.CDFS4_BOTH},
	}
	for _, tt := range tests {
		res := f.call(root, 1, opBindConn(s.id, tt.dir))
		f.wantStatus(res, nfs4xdr.NFS4_OK, 1)
		if got := res.Resarray[0].OpbindConnToSession.BctsrResok4; got.BctsrDir != tt.want || got.BctsrSessid != s.id {
			t.Errorf("dir %v: got %+v, want %v", tt.dir, got, tt.want)
		}
	}
	var bad nfs4xdr.Sessionid4
	f.wantStatus(f.call(root, 1, opBindConn(bad, nfs4xdr.CDFC4_FORE)), nfs4xdr.NFS4ERR_BADSESSION, 1)
	f.wantStatus(f.call(root, 1, opBindConn(s.id, 99)), nfs4xdr.NFS4ERR_INVAL, 1)

	ctl := nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_BACKCHANNEL_CTL, OpbackchannelCtl: &nfs4xdr.BACKCHANNEL_CTL4args{
		BcaCbProgram: 0x40000001, BcaSecParms: []nfs4xdr.CallbackSecParms4{{CbSecflavor: nfs4xdr.AUTH_SYS,
			CbspSysCred: nfs4xdr.AuthsysParms{Machinename: "c", Uid: 3}}}}}
	f.wantStatus(s.call(ctl), nfs4xdr.NFS4_OK, 2)
	f.srv.Close() // wait for the probe it started
	bc, ok := f.state.Backchannel(s.clientID())
	if !ok || bc.Program != 0x40000001 || len(bc.Sec) != 1 || bc.Sec[0].Flavor != nfs4xdr.AUTH_SYS {
		t.Fatalf("back channel %+v %v", bc, ok)
	}
}

// RFC 8881 §18.51: RECLAIM_COMPLETE persists the client's record.
func TestReclaimComplete(t *testing.T) {
	f := newFixture(t, "")
	s := f.newRawSession(root)
	f.wantStatus(s.call(opReclaimComplete(true)), nfs4xdr.NFS4ERR_NOFILEHANDLE, 2)
	f.wantStatus(s.call(opPutrootfh(), opReclaimComplete(true)), nfs4xdr.NFS4_OK, 3)
	if len(f.store.records) != 0 {
		t.Fatalf("rca_one_fs persisted %v", f.store.records)
	}
	f.wantStatus(s.call(opReclaimComplete(false)), nfs4xdr.NFS4_OK, 2)
	if r, ok := f.store.records[string(s.owner)]; !ok || r.Principal != "sys:0" {
		t.Fatalf("record %+v %v", r, ok)
	}
	f.wantStatus(s.call(opReclaimComplete(false)), nfs4xdr.NFS4ERR_COMPLETE_ALREADY, 2)
}

// RFC 8881 §18.48, §18.38: TEST_STATEID and FREE_STATEID.
func TestTestAndFreeStateid(t *testing.T) {
	f := newFixture(t, "")
	s := f.newRawSession(root)
	s.reclaimComplete()
	open, _, st := f.state.Open(state.OpenArgs{ClientID: s.clientID(), Owner: []byte("oo"), File: lock.FileKey("f"), Access: lock.ShareRead})
	if st != nfs4xdr.NFS4_OK {
		t.Fatal(st)
	}
	good := nfs4xdr.Stateid4(open.Stateid)
	unknown := good
	unknown.Other[11] ^= 0xff
	test := nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_TEST_STATEID, OptestStateid: &nfs4xdr.TEST_STATEID4args{
		TsStateids: []nfs4xdr.Stateid4{good, unknown, {}}}}
	res := s.call(test)
	f.wantStatus(res, nfs4xdr.NFS4_OK, 2)
	got := res.Resarray[1].OptestStateid.TsrResok4.TsrStatusCodes
	want := []nfs4xdr.Nfsstat4{nfs4xdr.NFS4_OK, nfs4xdr.NFS4ERR_BAD_STATEID, nfs4xdr.NFS4ERR_BAD_STATEID}
	if !equalStatus(got, want) {
		t.Fatalf("TEST_STATEID %v, want %v", got, want)
	}
	free := func(sid nfs4xdr.Stateid4) nfs4xdr.NfsArgop4 {
		return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_FREE_STATEID, OpfreeStateid: &nfs4xdr.FREE_STATEID4args{FsaStateid: sid}}
	}
	f.wantStatus(s.call(free(good)), nfs4xdr.NFS4ERR_LOCKS_HELD, 2)
	f.wantStatus(s.call(free(unknown)), nfs4xdr.NFS4ERR_BAD_STATEID, 2)
	// The current stateid is substituted, and there is none here.
	f.wantStatus(s.call(free(nfs4xdr.Stateid4(state.CurrentStateid))), nfs4xdr.NFS4ERR_BAD_STATEID, 2)
}

// RFC 8881 §2.10.6.4: with sa_cachethis, a reply longer than the
// session's ca_maxresponsesize_cached is NFS4ERR_REP_TOO_BIG_TO_CACHE, even
// when SEQUENCE's own result is what makes it too long (pynfs CSESS27).
func TestRepTooBigToCacheLoneSequence(t *testing.T) {
	f := newFixture(t, "")
	cid, seq := f.exchangeID(root, "tiny-cache", nfs4xdr.Verifier4{1})
	cs := opCreateSession(cid, seq, 0)
	cs.OpcreateSession.CsaForeChanAttrs.CaMaxresponsesizeCached = 10
	res := f.call(root, 1, cs)
	f.wantStatus(res, nfs4xdr.NFS4_OK, 1)
	s := &session{f: f, cred: root, minor: 1, cid: cid, id: res.Resarray[0].OpcreateSession.CsrResok4.CsrSessionid}
	res = f.call(root, 1, s.sequence(1, true))
	f.wantStatus(res, nfs4xdr.NFS4ERR_REP_TOO_BIG_TO_CACHE, 1)
}

// RFC 8881 §18.36.3: undefined csa_flags bits are NFS4ERR_INVAL (pynfs
// CSESS15), and a back channel too small for any callback is
// NFS4ERR_TOOSMALL (§18.36.4, pynfs CSESS29).
func TestCreateSessionRefusals(t *testing.T) {
	f := newFixture(t, "")
	cid, seq := f.exchangeID(root, "bad-cs", nfs4xdr.Verifier4{1})
	res := f.call(root, 1, opCreateSession(cid, seq, 0xf))
	f.wantStatus(res, nfs4xdr.NFS4ERR_INVAL, 1)
	cs := opCreateSession(cid, seq, 0)
	cs.OpcreateSession.CsaBackChanAttrs.CaMaxrequestsize = 10
	f.wantStatus(f.call(root, 1, cs), nfs4xdr.NFS4ERR_TOOSMALL, 1)
	cs = opCreateSession(cid, seq, 0)
	cs.OpcreateSession.CsaBackChanAttrs.CaMaxoperations = 1
	f.wantStatus(f.call(root, 1, cs), nfs4xdr.NFS4ERR_TOOSMALL, 1)
	f.wantStatus(f.call(root, 1, opCreateSession(cid, seq, 0)), nfs4xdr.NFS4_OK, 1)
}
