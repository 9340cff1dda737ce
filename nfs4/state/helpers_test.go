package state

import (
	"testing"
	"time"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

// clock is the injected clock: time moves only when a test says so.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

const (
	lease = 90 * time.Second
	epoch = 7
)

type env struct {
	t     *testing.T
	clk   *clock
	locks *lock.Table
	m     *Manager
}

func newEnv(t *testing.T, prev ...ClientRecord) *env {
	t.Helper()
	clk := &clock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	locks := lock.NewTable(lock.Options{})
	m := New(Options{Now: clk.now, Lease: lease, Locks: locks, BootEpoch: epoch, PreviousClients: prev, MaxSlots: 8})
	return &env{t: t, clk: clk, locks: locks, m: m}
}

var fore = ChannelAttrs{MaxRequestSize: 1 << 20, MaxResponseSize: 1 << 20, MaxResponseSizeCached: 4096, MaxOperations: 16, MaxRequests: 4}

func verf(b byte) Verifier { return Verifier{b} }

func (e *env) exchange(owner string, v Verifier, principal string) ExchangeIDResult {
	e.t.Helper()
	r, st := e.m.ExchangeID(ExchangeIDArgs{Owner: []byte(owner), Verifier: v, Principal: principal, Addr: "10.0.0.1:700"})
	if st != OK {
		e.t.Fatalf("EXCHANGE_ID %q: %v", owner, st)
	}
	return r
}

func (e *env) createSession(r ExchangeIDResult, principal string) (CreateSessionResult, Effects) {
	e.t.Helper()
	res, eff, st := e.m.CreateSession(CreateSessionArgs{ClientID: r.ClientID, Sequence: r.SequenceID, Fore: fore, Back: fore,
		Flags: nfs4xdr.CREATE_SESSION4_FLAG_CONN_BACK_CHAN, Principal: principal, Conn: 1})
	if st != OK {
		e.t.Fatalf("CREATE_SESSION: %v", st)
	}
	return res, eff
}

// mount is what a client does on mount: EXCHANGE_ID, CREATE_SESSION,
// RECLAIM_COMPLETE.
func (e *env) mount(owner string) (ClientID, SessionID) {
	e.t.Helper()
	r := e.exchange(owner, verf(1), "sys:0")
	cs, _ := e.createSession(r, "sys:0")
	if _, st := e.m.ReclaimComplete(r.ClientID, false); st != OK {
		e.t.Fatalf("RECLAIM_COMPLETE: %v", st)
	}
	return r.ClientID, cs.SessionID
}

// ping runs a lone SEQUENCE on slot 0, renewing the lease.
func (e *env) ping(s SessionID) SequenceResult {
	e.t.Helper()
	sess := e.m.sessions[s]
	res, st := e.m.Sequence(SequenceArgs{SessionID: s, Seq: sess.slots[0].seq + 1, Conn: 1})
	if st != OK {
		e.t.Fatalf("SEQUENCE: %v", st)
	}
	e.m.Done(res.Token, []byte("reply"), false)
	return res
}

func (e *env) open(c ClientID, owner string, file lock.FileKey, access, deny lock.ShareMode) (Stateid, Status) {
	e.t.Helper()
	r, _, st := e.m.Open(OpenArgs{ClientID: c, Owner: []byte(owner), File: file, Access: access, Deny: deny})
	return r.Stateid, st
}

func (e *env) mustOpen(c ClientID, owner string, file lock.FileKey, access, deny lock.ShareMode) Stateid {
	e.t.Helper()
	s, st := e.open(c, owner, file, access, deny)
	if st != OK {
		e.t.Fatalf("OPEN %s %s: %v", owner, file, st)
	}
	return s
}

func (e *env) lock(c ClientID, open Stateid, owner string, file lock.FileKey, excl bool, off, n uint64) (LockResult, Effects, Status) {
	e.t.Helper()
	return e.m.Lock(LockArgs{ClientID: c, File: file, Exclusive: excl, Offset: off, Length: n, NewOwner: true, OpenStateid: open, Owner: []byte(owner)})
}

func wantStatus(t *testing.T, what string, got, want Status) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}
