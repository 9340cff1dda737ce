package state

import (
	"testing"

	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

// TestCreateSessionSequence: the per-client CREATE_SESSION slot
// (RFC 8881 §18.36.4): the next sequence is new, the same one replays the
// cached result, anything else is SEQ_MISORDERED; a failure does not
// advance the slot.
func TestCreateSessionSequence(t *testing.T) {
	e := newEnv(t)
	r := e.exchange("host", verf(1), "sys:0")
	args := CreateSessionArgs{ClientID: r.ClientID, Sequence: r.SequenceID, Fore: fore, Back: fore, Principal: "sys:0", Conn: 1}

	bad := args
	bad.Sequence = r.SequenceID + 1
	_, _, st := e.m.CreateSession(bad)
	wantStatus(t, "skipping a sequence", st, errSeqMisordered)
	bad = args
	bad.Sequence = r.SequenceID - 1
	_, _, st = e.m.CreateSession(bad)
	wantStatus(t, "slot's own sequence with nothing cached", st, errSeqMisordered)
	bad = args
	bad.Principal = "sys:1000"
	_, _, st = e.m.CreateSession(bad)
	wantStatus(t, "other principal on unconfirmed", st, errClidInuse)
	bad = args
	bad.Fore.MaxRequestSize = 100
	_, _, st = e.m.CreateSession(bad)
	wantStatus(t, "tiny requests", st, errTooSmall)

	first, _, st := e.m.CreateSession(args)
	wantStatus(t, "first", st, OK)
	if !e.m.clients[r.ClientID].confirmed {
		t.Fatal("CREATE_SESSION did not confirm the client")
	}
	replay, _, st := e.m.CreateSession(args)
	wantStatus(t, "replay", st, OK)
	if replay.SessionID != first.SessionID || len(e.m.sessions) != 1 {
		t.Fatalf("replay made a new session: %x vs %x", replay.SessionID, first.SessionID)
	}
	// EXCHANGE_ID on the confirmed record reports the next sequence.
	if r2 := e.exchange("host", verf(1), "sys:0"); r2.SequenceID != args.Sequence+1 {
		t.Errorf("eir_sequenceid %d, want %d", r2.SequenceID, args.Sequence+1)
	}
	args.Sequence++
	second, _, st := e.m.CreateSession(args)
	wantStatus(t, "second session", st, OK)
	if second.SessionID == first.SessionID || second.SessionID.ClientID() != r.ClientID {
		t.Errorf("second session %x", second.SessionID)
	}
	_, _, st = e.m.CreateSession(CreateSessionArgs{ClientID: r.ClientID + 100, Sequence: 1, Fore: fore})
	wantStatus(t, "unknown client", st, errStaleClientID)
}

// TestChannelNegotiation: the fore channel gets the smaller limits; the
// server's slot limit caps ca_maxrequests (RFC 8881 §18.36.3).
func TestChannelNegotiation(t *testing.T) {
	e := newEnv(t) // MaxSlots 8
	r := e.exchange("host", verf(1), "sys:0")
	big := ChannelAttrs{HeaderPadSize: 9, MaxRequestSize: 1 << 30, MaxResponseSize: 4096, MaxResponseSizeCached: 1 << 30, MaxOperations: 1000, MaxRequests: 1000}
	res, _, st := e.m.CreateSession(CreateSessionArgs{ClientID: r.ClientID, Sequence: 1, Fore: big, Back: big, Principal: "sys:0",
		Flags: nfs4xdr.CREATE_SESSION4_FLAG_PERSIST | nfs4xdr.CREATE_SESSION4_FLAG_CONN_RDMA})
	wantStatus(t, "CREATE_SESSION", st, OK)
	want := ChannelAttrs{MaxRequestSize: defMaxMsg, MaxResponseSize: 4096, MaxResponseSizeCached: defMaxCached, MaxOperations: defMaxOps, MaxRequests: 8}
	if res.Fore != want {
		t.Errorf("fore %+v, want %+v", res.Fore, want)
	}
	if res.Back.MaxRequests != 1 || res.Back.HeaderPadSize != 0 {
		t.Errorf("back %+v, want one slot", res.Back)
	}
	if res.Flags != 0 {
		t.Errorf("flags %#x: PERSIST and RDMA must not be granted", res.Flags)
	}
}

// TestBackchannel: connections bound for the back channel carry callbacks;
// SEQ4_STATUS_CB_PATH_DOWN(_SESSION) says when none is left
// (RFC 8881 §18.34, §18.46.3).
func TestBackchannel(t *testing.T) {
	e := newEnv(t)
	c, s := e.mount("host") // session created on conn 1 with CONN_BACK_CHAN
	bc, ok := e.m.Backchannel(c)
	if !ok || bc.Conn != 1 || bc.SessionID != s {
		t.Fatalf("Backchannel = %+v %v, want conn 1", bc, ok)
	}
	if f := e.ping(s).StatusFlags; f != 0 {
		t.Errorf("flags %#x with a back channel", f)
	}
	e.m.ConnClosed(1)
	if _, ok := e.m.Backchannel(c); ok {
		t.Error("back channel on a closed connection")
	}
	want := uint32(nfs4xdr.SEQ4_STATUS_CB_PATH_DOWN | nfs4xdr.SEQ4_STATUS_CB_PATH_DOWN_SESSION)
	if f := e.ping(s).StatusFlags; f != want {
		t.Errorf("flags %#x after close, want %#x", f, want)
	}
	got, st := e.m.BindConnToSession(s, ConnBackOrBoth, 2)
	wantStatus(t, "BIND_CONN_TO_SESSION", st, OK)
	if got != ConnBoth {
		t.Errorf("dir %d, want both", got)
	}
	if bc, ok := e.m.Backchannel(c); !ok || bc.Conn != 2 {
		t.Errorf("Backchannel = %+v %v, want conn 2", bc, ok)
	}
	e.m.SetCallbackDown(c, true)
	if f := e.ping(s).StatusFlags; f != nfs4xdr.SEQ4_STATUS_CB_PATH_DOWN {
		t.Errorf("flags %#x with the callback reported down", f)
	}
	_, st = e.m.BindConnToSession(s, 5, 2)
	wantStatus(t, "bad direction", st, errInval)
	_, st = e.m.BindConnToSession(SessionID{1}, ConnFore, 2)
	wantStatus(t, "unknown session", st, errBadSession)
	wantStatus(t, "BACKCHANNEL_CTL", e.m.BackchannelCtl(s, 0x40000001, nil), OK)
	wantStatus(t, "DESTROY_SESSION", e.m.DestroySession(s), OK)
	wantStatus(t, "DESTROY_SESSION again", e.m.DestroySession(s), errBadSession)
	if len(e.m.conns) != 0 {
		t.Errorf("connection index not cleaned: %v", e.m.conns)
	}
}
