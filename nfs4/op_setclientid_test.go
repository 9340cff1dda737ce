package nfs4

import (
	"testing"
	"time"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/nfs4/state"
	"github.com/gonfs/gonfs/nlm"
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
)

// RFC 7530 §16.33.5 and §16.34.5 (RFC 3530 §14.2.33-34): every case of
// SETCLIENTID and SETCLIENTID_CONFIRM, each run as a script against a
// fresh server.
func TestSetclientidCases(t *testing.T) {
	other := cred{uid: 1000, gid: 1000}
	tests := []struct {
		name string
		run  func(t *testing.T, f *fixture)
	}{
		{"new client: unconfirmed until confirmed", func(t *testing.T, f *fixture) {
			cl := f.client40(root, "new", x.Verifier4{1})
			cl.setclientid()
			if cl.confirm == (x.Verifier4{}) {
				t.Fatal("setclientid_confirm is all zeros")
			}
			// An unconfirmed client ID can be used for nothing.
			if st := cl.call(opRenew(cl.cid)).Status; st != x.NFS4ERR_STALE_CLIENTID {
				t.Fatalf("RENEW before confirm: %v", st)
			}
			cl.confirmID()
			if st := cl.call(opRenew(cl.cid)).Status; st != x.NFS4_OK {
				t.Fatalf("RENEW: %v", st)
			}
			// A retransmitted confirm succeeds and changes nothing.
			cl.confirmID()
		}},
		{"confirm: unknown, wrong verifier, earlier boot", func(t *testing.T, f *fixture) {
			cl := f.client40(root, "stale", x.Verifier4{1})
			cl.setclientid()
			bad := cl.confirm
			bad[7] ^= 0xff
			for _, tc := range []struct {
				cid     x.Clientid4
				confirm x.Verifier4
			}{
				{cl.cid, bad},
				{cl.cid + 1000, cl.confirm},
				{cl.cid & 0xffffffff, cl.confirm}, // boot epoch 0
			} {
				if st := cl.confirmStatus(tc.cid, tc.confirm); st != x.NFS4ERR_STALE_CLIENTID {
					t.Fatalf("confirm %x/%x: %v, want NFS4ERR_STALE_CLIENTID", tc.cid, tc.confirm, st)
				}
			}
			if st := cl.call(opRenew(0)).Status; st != x.NFS4ERR_STALE_CLIENTID {
				t.Fatalf("RENEW 0: %v", st)
			}
		}},
		{"same verifier: callback update keeps client ID and state", func(t *testing.T, f *fixture) {
			cl := f.client40(root, "update", x.Verifier4{1})
			cl.setclientid()
			cl.confirmID()
			fh, sid := cl.openConfirmed("oo", "f")
			oldCid, oldConfirm := cl.cid, cl.confirm
			cl.cb.CbProgram++
			cl.setclientid()
			if cl.cid != oldCid || cl.confirm == oldConfirm {
				t.Fatalf("update: client ID %x (was %x), confirm %x (was %x)", cl.cid, oldCid, cl.confirm, oldConfirm)
			}
			// The old confirm verifier no longer names the update.
			cl.confirmID()
			if path, _ := f.state.Callback40(state.ClientID(cl.cid)); path.Program != cl.cb.CbProgram {
				t.Fatalf("callback program %#x, want %#x", path.Program, cl.cb.CbProgram)
			}
			res := cl.call(opPutfh(fh), close40Arg(sid, cl.seq("oo")))
			f.wantStatus(res, x.NFS4_OK, 2)
		}},
		{"client restart: new verifier, old state goes at confirm", func(t *testing.T, f *fixture) {
			cl := f.client40(root, "reboot", x.Verifier4{1})
			cl.setclientid()
			cl.confirmID()
			fh, sid := cl.openConfirmed("oo", "f")
			oldCid := cl.cid
			cl.verf = x.Verifier4{2}
			cl.setclientid()
			if cl.cid == oldCid {
				t.Fatal("restart kept the client ID")
			}
			// Until the confirm the old record and its state stand.
			if st := cl.call(opRenew(oldCid)).Status; st != x.NFS4_OK {
				t.Fatalf("RENEW old before confirm: %v", st)
			}
			cl.confirmID()
			if st := cl.call(opRenew(oldCid)).Status; st != x.NFS4ERR_STALE_CLIENTID {
				t.Fatalf("RENEW old after confirm: %v", st)
			}
			// The old state is gone: its stateids are EXPIRED, so the
			// client knows to recover (pynfs CID1).
			res := cl.call(opPutfh(fh), close40Arg(sid, 3))
			if res.Status != x.NFS4ERR_EXPIRED {
				t.Fatalf("CLOSE with the old stateid: %v", statuses(res))
			}
			res = cl.call(opPutfh(fh), readArg(sid, 0, 1))
			if res.Status != x.NFS4ERR_EXPIRED {
				t.Fatalf("READ with the old stateid: %v", statuses(res))
			}
			if len(f.locks.Shares(fileKeyOf(t, f, fh))) != 0 {
				t.Fatal("old open's share reservation survived")
			}
		}},
		{"other principal: CLID_INUSE only while the record holds state", func(t *testing.T, f *fixture) {
			cl := f.client40(root, "inuse", x.Verifier4{1})
			cl.setclientid()
			cl.confirmID()
			thief := f.client40(other, "inuse", x.Verifier4{1})
			// No state yet: the other principal may take the id over.
			if st, _ := thief.setclientidStatus(); st != x.NFS4_OK {
				t.Fatalf("SETCLIENTID other principal without state: %v", st)
			}
			cl.openConfirmed("oo", "f")
			res := thief.call(opSetclientid(thief.id, thief.verf, thief.cb, 0))
			if res.Status != x.NFS4ERR_CLID_INUSE {
				t.Fatalf("SETCLIENTID other principal with state: %v", res.Status)
			}
			if u := res.Resarray[0].Opsetclientid.ClientUsing; u.NaRNetid != "" || u.NaRAddr != "" {
				t.Fatalf("client_using %+v, want empty", u)
			}
		}},
		{"confirm by another principal: CLID_INUSE", func(t *testing.T, f *fixture) {
			cl := f.client40(root, "principal", x.Verifier4{1})
			cl.setclientid()
			thief := f.client40(other, "principal", x.Verifier4{1})
			if st := thief.confirmStatus(cl.cid, cl.confirm); st != x.NFS4ERR_CLID_INUSE {
				t.Fatalf("confirm by another principal: %v", st)
			}
			cl.confirmID()
		}},
		{"any SETCLIENTID replaces the unconfirmed record", func(t *testing.T, f *fixture) {
			cl := f.client40(root, "unconf", x.Verifier4{1})
			cl.setclientid()
			cl.confirmID()
			cl.verf = x.Verifier4{2}
			cl.setclientid()
			firstCid, firstConfirm := cl.cid, cl.confirm
			cl.setclientid() // same verifier as the unconfirmed one
			if cl.cid == firstCid || cl.confirm == firstConfirm {
				t.Fatal("the unconfirmed record was not replaced")
			}
			if st := cl.confirmStatus(firstCid, firstConfirm); st != x.NFS4ERR_STALE_CLIENTID {
				t.Fatalf("confirm of the replaced record: %v", st)
			}
			cl.confirmID()
		}},
		{"unconfirmed record expires after a lease", func(t *testing.T, f *fixture) {
			cl := f.client40(root, "expire", x.Verifier4{1})
			cl.setclientid()
			f.clock.Advance(f.state.LeaseTime() + time.Second)
			f.srv.tick()
			if st := cl.confirmStatus(cl.cid, cl.confirm); st != x.NFS4ERR_STALE_CLIENTID {
				t.Fatalf("confirm after expiry: %v", st)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, newFixture(t, ""))
		})
	}
}

// fileKeyOf is the lock table key of a file handle of export "/".
func fileKeyOf(t *testing.T, f *fixture, fh []byte) lock.FileKey {
	t.Helper()
	e, h, _, err := f.ns.ResolveAny(fh)
	if err != nil {
		t.Fatal(err)
	}
	return nlm.FileKey(e, h)
}

// RFC 7530 §16.29: RENEW renews the lease; expired clients without state
// are forgotten (STALE_CLIENTID); a client whose expired state was taken
// by another client's conflicting request hears NFS4ERR_EXPIRED.
func TestRenew40(t *testing.T) {
	f := newFixture(t, "")
	lease := f.state.LeaseTime()
	idle := f.newClient40(root)
	holder := f.newClient40(root)
	holder.openConfirmed("oo", "f")
	f.clock.Advance(lease * 3 / 4)
	if st := idle.call(opRenew(idle.cid)).Status; st != x.NFS4_OK {
		t.Fatalf("RENEW: %v", st)
	}
	f.clock.Advance(lease * 3 / 4)
	f.srv.tick()
	// idle renewed in time; holder expired but keeps its state (courtesy).
	if st := idle.call(opRenew(idle.cid)).Status; st != x.NFS4_OK {
		t.Fatalf("RENEW after renewal: %v", st)
	}
	f.clock.Advance(lease + time.Second)
	f.srv.tick()
	if st := idle.call(opRenew(idle.cid)).Status; st != x.NFS4ERR_STALE_CLIENTID {
		t.Fatalf("RENEW of an expired client without state: %v", st)
	}
	// Another client's OPEN denying writes revokes the courtesy open.
	other := f.newClient40(root)
	res := other.call(opPutrootfh(), other.open40Arg("o2", other.seq("o2"), x.OPEN4_SHARE_ACCESS_READ,
		x.OPEN4_SHARE_DENY_BOTH, noCreate, claimNull("f")))
	f.wantStatus(res, x.NFS4_OK, 2)
	if st := holder.call(opRenew(holder.cid)).Status; st != x.NFS4ERR_EXPIRED {
		t.Fatalf("RENEW after revocation: %v", st)
	}
	// Told once: the client recovers with the same client ID.
	if st := holder.call(opRenew(holder.cid)).Status; st != x.NFS4_OK {
		t.Fatalf("RENEW after EXPIRED: %v", st)
	}
}

// RFC 7530 §9.5: any operation that uses the client's stateids or client
// ID renews its lease, READ included.
func TestImplicitRenew40(t *testing.T) {
	f := newFixture(t, "")
	lease := f.state.LeaseTime()
	cl := f.newClient40(root)
	fh, sid := cl.openConfirmed("oo", "f")
	cid := state.ClientID(cl.cid)
	lastRenew := func() time.Time {
		for _, c := range f.state.Snapshot().Clients {
			if c.ClientID == cid {
				return c.LastRenew
			}
		}
		t.Fatal("client gone")
		return time.Time{}
	}
	f.clock.Advance(lease / 2)
	res := cl.call(opPutfh(fh), readArg(sid, 0, 10))
	f.wantStatus(res, x.NFS4_OK, 2)
	if got := lastRenew(); !got.Equal(f.clock.Now()) {
		t.Fatalf("READ did not renew: last renew %v, now %v", got, f.clock.Now())
	}
	f.clock.Advance(lease / 2)
	res = cl.call(opPutfh(fh), locktArg(x.WRITE_LT, 0, 1, "lo"))
	f.wantStatus(res, x.NFS4ERR_STALE_CLIENTID, 2) // LOCKT names client 0 here
	res = cl.call(opPutfh(fh), cl.lockt40Arg(x.WRITE_LT, 0, 1, "lo"))
	f.wantStatus(res, x.NFS4_OK, 2)
	if got := lastRenew(); !got.Equal(f.clock.Now()) {
		t.Fatalf("LOCKT did not renew")
	}
}

func (cl *client40) lockt40Arg(lt x.NfsLockType4, off, length uint64, owner string) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_LOCKT, Oplockt: &x.LOCKT4args{Locktype: lt, Offset: x.Offset4(off), Length: x.Length4(length),
		Owner: x.LockOwner4{Clientid: cl.cid, Owner: []byte(owner)}}}
}

// RFC 7530 §16.37: RELEASE_LOCKOWNER refuses while the lock-owner holds
// locks and then forgets it with its stateids.
func TestReleaseLockowner(t *testing.T) {
	f := newFixture(t, "")
	cl := f.newClient40(root)
	fh, sid := cl.openConfirmed("oo", "f")
	res := cl.call(opPutfh(fh), cl.lock40New(x.WRITE_LT, 0, 10, sid, cl.seq("oo"), "lo", 0))
	f.wantStatus(res, x.NFS4_OK, 2)
	lsid := res.Resarray[1].Oplock.Resok4.LockStateid
	cl.next["lo"] = 0
	if st := cl.call(cl.releaseLockownerArg("lo")).Status; st != x.NFS4ERR_LOCKS_HELD {
		t.Fatalf("RELEASE_LOCKOWNER with locks: %v", st)
	}
	res = cl.call(opPutfh(fh), locku40Arg(x.WRITE_LT, lsid, cl.seq("lo"), 0, 10))
	f.wantStatus(res, x.NFS4_OK, 2)
	lsid = res.Resarray[1].Oplocku.LockStateid
	if st := cl.call(cl.releaseLockownerArg("lo")).Status; st != x.NFS4_OK {
		t.Fatalf("RELEASE_LOCKOWNER: %v", st)
	}
	res = cl.call(opPutfh(fh), lock40Exist(x.WRITE_LT, 0, 10, lsid, cl.seq("lo")))
	if res.Status != x.NFS4ERR_BAD_STATEID {
		t.Fatalf("LOCK with a released lock-owner's stateid: %v", statuses(res))
	}
	// An unknown lock-owner is no error; an unknown client is stale.
	if st := cl.call(cl.releaseLockownerArg("nobody")).Status; st != x.NFS4_OK {
		t.Fatalf("RELEASE_LOCKOWNER unknown owner: %v", st)
	}
	cl.cid++
	if st := cl.call(cl.releaseLockownerArg("lo")).Status; st != x.NFS4ERR_STALE_CLIENTID {
		t.Fatalf("RELEASE_LOCKOWNER unknown client: %v", st)
	}
}
