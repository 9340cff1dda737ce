package state

import (
	"testing"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

// TestExchangeIDCases walks the cases of RFC 8881 §18.35.4 (IMPLEMENTATION).
func TestExchangeIDCases(t *testing.T) {
	const upd = nfs4xdr.EXCHGID4_FLAG_UPD_CONFIRMED_REC_A
	confirmed := func(e *env) ClientID { c, _ := e.mount("host"); return c }
	confirmedWithOpen := func(e *env) ClientID {
		c := confirmed(e)
		e.mustOpen(c, "o", "f", lock.ShareRead, lock.ShareNone)
		return c
	}
	confirmedNoSession := func(e *env) ClientID {
		c, s := e.mount("host")
		wantStatus(t, "DESTROY_SESSION", e.m.DestroySession(s), OK)
		return c
	}
	unconfirmed := func(e *env) ClientID { return e.exchange("host", verf(1), "sys:0").ClientID }
	none := func(e *env) ClientID { return 0 }
	tests := []struct {
		name      string
		setup     func(*env) ClientID
		expire    bool // let the lease of the setup client run out
		verifier  byte
		principal string
		flags     uint32
		protect   StateProtect
		want      Status
		same      bool // the setup client ID comes back
		confirmed bool // EXCHGID4_FLAG_CONFIRMED_R
	}{
		{name: "1 new owner", setup: none, verifier: 1, principal: "sys:0", want: OK},
		{name: "2 same verifier and principal", setup: confirmed, verifier: 1, principal: "sys:0", want: OK, same: true, confirmed: true},
		{name: "3 collision, old has state", setup: confirmedWithOpen, verifier: 2, principal: "sys:1000", want: errClidInuse},
		{name: "3 collision, old has a session", setup: confirmed, verifier: 2, principal: "sys:1000", want: errClidInuse},
		// An unexpired lease alone does not protect a record (as knfsd;
		// pynfs EID5e and EID5g expect the replacement).
		{name: "3 collision, old has only a lease", setup: confirmedNoSession, verifier: 2, principal: "sys:1000", want: OK},
		{name: "3 collision, old expired without state", setup: confirmedNoSession, expire: true, verifier: 2, principal: "sys:1000", want: OK},
		{name: "3 collision, same verifier", setup: confirmedWithOpen, verifier: 1, principal: "sys:1000", want: errClidInuse},
		{name: "4 replace unconfirmed", setup: unconfirmed, verifier: 2, principal: "sys:0", want: OK},
		{name: "4 replace unconfirmed, same verifier", setup: unconfirmed, verifier: 1, principal: "sys:0", want: OK},
		{name: "5 client restart", setup: confirmedWithOpen, verifier: 2, principal: "sys:0", want: OK},
		{name: "6 update", setup: confirmed, verifier: 1, principal: "sys:0", flags: upd, want: OK, same: true, confirmed: true},
		{name: "7 update, wrong principal", setup: confirmed, verifier: 1, principal: "sys:1000", flags: upd, want: errPerm},
		{name: "8 update, wrong verifier", setup: confirmed, verifier: 2, principal: "sys:0", flags: upd, want: errNotSame},
		{name: "9 update, no record", setup: none, verifier: 1, principal: "sys:0", flags: upd, want: errNoent},
		{name: "9 update, only unconfirmed", setup: unconfirmed, verifier: 1, principal: "sys:0", flags: upd, want: errNoent},
		{name: "SP4_SSV", setup: none, verifier: 1, protect: ProtectSSV, want: errEncrAlgUnsupp},
		{name: "SP4_MACH_CRED", setup: none, verifier: 1, protect: ProtectMachCred, want: errInval},
		{name: "CONFIRMED_R from client", setup: none, verifier: 1, flags: nfs4xdr.EXCHGID4_FLAG_CONFIRMED_R, want: errInval},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			old := tt.setup(e)
			if tt.expire {
				e.clk.advance(lease + 1)
			}
			r, st := e.m.ExchangeID(ExchangeIDArgs{Owner: []byte("host"), Verifier: verf(tt.verifier), Principal: tt.principal, Flags: tt.flags, Protect: tt.protect})
			wantStatus(t, "EXCHANGE_ID", st, tt.want)
			if st != OK {
				return
			}
			if same := r.ClientID == old; same != tt.same {
				t.Errorf("client ID %x, setup had %x: same=%v, want %v", r.ClientID, old, same, tt.same)
			}
			if got := r.Flags&nfs4xdr.EXCHGID4_FLAG_CONFIRMED_R != 0; got != tt.confirmed {
				t.Errorf("CONFIRMED_R = %v, want %v", got, tt.confirmed)
			}
			if r.Flags&nfs4xdr.EXCHGID4_FLAG_USE_NON_PNFS == 0 {
				t.Error("USE_NON_PNFS not set")
			}
			if r.ClientID.Epoch() != epoch {
				t.Errorf("client ID epoch %d, want %d", r.ClientID.Epoch(), epoch)
			}
			if !tt.same {
				if r.SequenceID != 1 {
					t.Errorf("eir_sequenceid %d for a new record, want 1", r.SequenceID)
				}
				// Case 4: the replaced unconfirmed record is gone.
				if old != 0 && e.m.clients[old] != nil && !e.m.clients[old].confirmed {
					t.Error("replaced unconfirmed record still there")
				}
			}
		})
	}
}

// TestClientRestart: a client that reboots (same owner, new verifier) gets
// a new unconfirmed record; its old state stays until CREATE_SESSION
// confirms the new one, then goes, locks included (RFC 8881 §18.35.4 case
// 5, §18.36.4). The admin view counts the reboot.
func TestClientRestart(t *testing.T) {
	e := newEnv(t)
	old, _ := e.mount("host")
	open := e.mustOpen(old, "o", "f", lock.ShareBoth, lock.ShareNone)
	if _, _, st := e.lock(old, open, "lo", "f", true, 0, 10); st != OK {
		t.Fatalf("LOCK: %v", st)
	}
	r, st := e.m.ExchangeID(ExchangeIDArgs{Owner: []byte("host"), Verifier: verf(2), Principal: "sys:0", Addr: "10.0.0.2:800"})
	wantStatus(t, "EXCHANGE_ID after reboot", st, OK)
	if r.ClientID == old || r.Flags&nfs4xdr.EXCHGID4_FLAG_CONFIRMED_R != 0 {
		t.Fatalf("restart got %x flags %x, want a new unconfirmed record", r.ClientID, r.Flags)
	}
	if got := len(e.locks.Locks("f")); got != 1 {
		t.Fatalf("old lock released before confirmation: %d locks", got)
	}
	_, eff := e.createSession(r, "sys:0")
	if got := len(e.locks.Locks("f")) + len(e.locks.Shares("f")); got != 0 {
		t.Errorf("old state survived confirmation: %d locks and shares", got)
	}
	if len(eff.Remove) != 1 || string(eff.Remove[0].Owner) != "host" {
		t.Errorf("effects %+v, want the old record removed", eff)
	}
	if e.m.clients[old] != nil {
		t.Error("old client still present")
	}
	// The old stateid is gone with its client (STALE_CLIENTID would come
	// first on the wire; here the new client sees BAD_STATEID).
	wantStatus(t, "old stateid", e.m.TestStateids(r.ClientID, []Stateid{open})[0], errBadStateid)
	snap := e.m.Snapshot()
	if len(snap.Clients) != 1 {
		t.Fatalf("%d clients in snapshot", len(snap.Clients))
	}
	ci := snap.Clients[0]
	if ci.Reboots != 1 || len(ci.Verifiers) != 2 || ci.Verifiers[1].Addr != "10.0.0.2:800" || ci.State != Active {
		t.Errorf("snapshot %+v: want 1 reboot, 2 verifiers, last from 10.0.0.2:800, active", ci)
	}
}

// TestDestroyClientID: RFC 8881 §18.50.3.
func TestDestroyClientID(t *testing.T) {
	e := newEnv(t)
	c, s := e.mount("host")
	open := e.mustOpen(c, "o", "f", lock.ShareRead, lock.ShareNone)
	_, st := e.m.DestroyClientID(c)
	wantStatus(t, "with a session", st, errClientIDBusy)
	wantStatus(t, "DESTROY_SESSION", e.m.DestroySession(s), OK)
	_, st = e.m.DestroyClientID(c)
	wantStatus(t, "with an open", st, errClientIDBusy)
	_, _, st = e.m.Close(c, "f", open)
	wantStatus(t, "CLOSE", st, OK)
	eff, st := e.m.DestroyClientID(c)
	wantStatus(t, "idle", st, OK)
	if len(eff.Remove) != 1 {
		t.Errorf("effects %+v, want the record removed", eff)
	}
	_, st = e.m.DestroyClientID(c)
	wantStatus(t, "again", st, errStaleClientID)
	_, st = e.m.DestroyClientID(ClientID(epoch-1)<<32 | 1)
	wantStatus(t, "earlier boot", st, errStaleClientID)
}

// RFC 8881 §18.35.5 case 3 without state: the record of another principal
// is replaced at once, so the old client ID is stale (pynfs EID5e).
func TestExchangeIDCase3ReplacesAtOnce(t *testing.T) {
	e := newEnv(t)
	old := e.exchange("shared", verf(1), "sys:0")
	cs, _ := e.createSession(old, "sys:0")
	if st := e.m.DestroySession(cs.SessionID); st != OK {
		t.Fatal(st)
	}
	nw := e.exchange("shared", verf(2), "sys:1000")
	if nw.ClientID == old.ClientID {
		t.Fatal("record not replaced")
	}
	_, _, st := e.m.CreateSession(CreateSessionArgs{ClientID: old.ClientID, Sequence: old.SequenceID + 1, Fore: fore, Back: fore, Principal: "sys:0", Conn: 1})
	wantStatus(t, "CREATE_SESSION of the replaced client", st, errStaleClientID)
}
