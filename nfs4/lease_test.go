package nfs4

import (
	"testing"
	"time"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/nfs4/recovery"
	"github.com/gonfs/gonfs/nfs4/state"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

// restartServer replaces the fixture's server with one over a new state
// manager, as after a restart: same exports and lock table, the given
// boot epoch and previous clients, and store as the recovery store.
func (f *fixture) restartServer(store RecoveryStore, epoch uint32, prev []state.ClientRecord, ticks chan time.Time) {
	f.t.Helper()
	f.srv.Close()
	f.locks = lock.NewTable(lock.Options{})
	f.state = state.New(state.Options{Now: f.clock.Now, Locks: f.locks, BootEpoch: epoch,
		ServerOwner: []byte("gonfs-test"), ServerScope: []byte("gonfs-test"), PreviousClients: prev})
	f.srv = New(f.ns, Options{State: f.state, Store: store, Now: f.clock.Now, Ticks: ticks})
	f.t.Cleanup(func() { f.srv.Close() })
}

// tick runs one lease tick and returns once it is done: the lease
// goroutine takes the second value only after it has handled the first.
func tick(ticks chan time.Time) {
	ticks <- time.Time{}
	ticks <- time.Time{}
}

// RFC 8881 §8.3: the lease goroutine reaps a client whose lease expired
// and that holds no state, and removes its recovery record.
func TestLeaseTick(t *testing.T) {
	f := newFixture(t, "")
	ticks := make(chan time.Time)
	f.restartServer(f.store, 1, nil, ticks)
	f.srv.Start()
	s := f.newRawSession(root)
	s.reclaimComplete()
	if len(f.store.records) != 1 {
		t.Fatalf("records %v", f.store.records)
	}
	tick(ticks)
	f.wantStatus(s.call(), nfs4xdr.NFS4_OK, 1)

	f.clock.Advance(f.state.LeaseTime() + time.Second)
	tick(ticks)
	f.wantStatus(s.call(), nfs4xdr.NFS4ERR_BADSESSION, 1)
	f.store.mu.Lock()
	n := len(f.store.records)
	f.store.mu.Unlock()
	if n != 0 {
		t.Fatalf("record of an expired client kept: %v", f.store.records)
	}
}

// RFC 8881 §8.4.2.1: after a restart, the clients in the recovery store
// reclaim during the grace period; others wait (NFS4ERR_GRACE) or may not
// reclaim (NFS4ERR_RECLAIM_BAD); the grace period ends early once every
// previous client has sent RECLAIM_COMPLETE.
func TestRestartReclaim(t *testing.T) {
	dir := t.TempDir()
	store, err := recovery.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, "")
	f.restartServer(store, 1, nil, nil)
	old := f.newSessionOwner(root, "restart-owner", nfs4xdr.Verifier4{1})
	old.reclaimComplete()
	f.srv.Close()
	store.Close()

	// The server restarts.
	store, err = recovery.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	prev, err := store.List()
	if err != nil || len(prev) != 1 || string(prev[0].Owner) != "restart-owner" || prev[0].Principal != "sys:0" {
		t.Fatalf("records after restart %+v, %v", prev, err)
	}
	f.restartServer(store, 2, prev, nil)
	if !f.state.InGrace() {
		t.Fatal("no grace period after a restart with previous clients")
	}
	// The old session and client ID are gone (§8.4.2).
	f.wantStatus(old.call(), nfs4xdr.NFS4ERR_BADSESSION, 1)
	f.wantStatus(f.call(root, 1, opCreateSession(old.cid, 2, 0)), nfs4xdr.NFS4ERR_STALE_CLIENTID, 1)

	back := f.newSessionOwner(root, "restart-owner", nfs4xdr.Verifier4{1})
	stranger := f.newRawSession(root)
	file := lock.FileKey("f")
	open := func(s *session, owner string, reclaim bool) nfs4xdr.Nfsstat4 {
		_, _, st := f.state.Open(state.OpenArgs{ClientID: s.clientID(), Owner: []byte(owner), File: file,
			Access: lock.ShareRead, Reclaim: reclaim})
		return st
	}
	if st := open(stranger, "o2", false); st != nfs4xdr.NFS4ERR_GRACE {
		t.Fatalf("new open during grace: %v", st)
	}
	if st := open(stranger, "o2", true); st != nfs4xdr.NFS4ERR_RECLAIM_BAD {
		t.Fatalf("reclaim by a new client: %v", st)
	}
	if st := open(back, "o1", true); st != nfs4xdr.NFS4_OK {
		t.Fatalf("reclaim by the previous client: %v", st)
	}
	back.reclaimComplete()
	if f.state.InGrace() {
		t.Fatal("grace period still on after the last previous client completed")
	}
	if st := open(stranger, "o2", false); st != nfs4xdr.NFS4ERR_GRACE {
		t.Fatalf("new open before the client's own RECLAIM_COMPLETE: %v, want GRACE (RFC 8881 §18.51.3)", st)
	}
	stranger.reclaimComplete()
	if st := open(stranger, "o2", false); st != nfs4xdr.NFS4_OK {
		t.Fatalf("new open after grace: %v", st)
	}
	if rs, _ := store.List(); len(rs) != 2 { // the previous client and the stranger, since both completed
		t.Fatalf("records %+v", rs)
	}
}
