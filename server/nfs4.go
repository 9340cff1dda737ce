package server

import (
	"path/filepath"

	"github.com/gonfs/gonfs/nfs4"
	"github.com/gonfs/gonfs/nfs4/collide"
	"github.com/gonfs/gonfs/nfs4/recovery"
	"github.com/gonfs/gonfs/nfs4/state"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

// registerNFS4 adds NFSv4.1 and 4.2 (program 100003 version 4) beside
// NFSv3 on the same port. Its protocol state shares the lock table with
// NLM, so v3 and v4 locks and shares conflict, and NLM waiters woken by
// v4 unlocks get NLM_GRANTED. The recovery store in the state directory
// gives the boot epoch (bumped every start, so earlier client IDs and
// stateids are stale), a stable server owner, and the clients that may
// reclaim during the grace period.
func (s *Server) registerNFS4() error {
	store, err := recovery.Open(filepath.Join(s.opts.StateDir, "nfs4"))
	if err != nil {
		return err
	}
	s.closers = append(s.closers, store.Close)
	epoch, err := store.NextEpoch()
	if err != nil {
		return err
	}
	owner, err := store.ServerOwner()
	if err != nil {
		return err
	}
	prev, err := store.List()
	if err != nil {
		return err
	}
	s.collisions = collide.New(collide.Options{Lease: s.opts.Lease, Window: s.opts.CollisionWindow, Now: s.opts.Now})
	if len(prev) > 0 {
		s.log.Info("nfs4: grace period for previous clients", "clients", len(prev), "grace", s.opts.GracePeriod)
	}
	log := s.log.With("sub", "nfs4")
	st := state.New(state.Options{
		Now:             s.opts.Now,
		Lease:           s.opts.Lease,
		Grace:           s.opts.GracePeriod,
		Locks:           s.locks,
		ServerOwner:     owner,
		ServerScope:     owner,
		BootEpoch:       epoch,
		PreviousClients: prev,
		NoDelegations:   s.opts.NoDelegations,
		// Client records made and replaced go to the collision
		// detector, which logs (WARN, sub=nfs4) and counts clients that
		// share one owner string.
		OnClientEvent: nfs4.ClientEventHook(s.collisions, log, s.stats),
	})
	if s.opts.ClientKeyByAddress {
		log.Warn("NFSv4 clients are keyed by owner string and source address (--client-key-by-address): " +
			"a client whose address changes cannot reclaim its state after a server restart")
	}
	srv := nfs4.New(s.ns, nfs4.Options{
		State:              st,
		Store:              store,
		Waker:              s.nlm,
		Logger:             log,
		Recorder:           s.stats,
		Now:                s.opts.Now,
		ClientKeyByAddress: s.opts.ClientKeyByAddress,
	})
	// Leases run from now; Shutdown stops them (closers run in order, so
	// the server is closed before its store).
	s.adm.nfs4, s.adm.store = st, store
	s.nfs4 = srv
	srv.Start()
	s.closers = append(s.closers[:len(s.closers)-1], srv.Close, store.Close)
	s.rpc.Register(nfs4xdr.NFS4_PROGRAM, nfs4xdr.NFS_V4, srv)
	return nil
}

// Collisions is the NFSv4 client owner collision detector (set by New),
// for the admin view (Findings) and the metrics' info gauge.
func (s *Server) Collisions() *collide.Detector { return s.collisions }

// nfs4Programs are the NFSv4 programs for the portmapper.
func nfs4Programs() []program {
	return []program{{nfs4xdr.NFS4_PROGRAM, nfs4xdr.NFS_V4}}
}
