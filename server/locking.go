package server

import (
	"context"
	"path/filepath"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/nlm"
	"github.com/gonfs/gonfs/proto/nlmxdr"
	"github.com/gonfs/gonfs/proto/nsmxdr"
)

// registerLocking adds NLM and NSM over the lock table that NFSv4 will
// share.
func (s *Server) registerLocking() error {
	s.locks = lock.NewTable(lock.Options{})
	n, err := nlm.New(s.ns, s.locks, nlm.Options{
		Logger:   s.log.With("sub", "nlm"),
		Clock:    s.opts.Now,
		StateDir: filepath.Join(s.opts.StateDir, "nsm"),
		Hostname: s.opts.NSMName,
		Grace:    s.opts.GracePeriod,
	})
	if err != nil {
		return err
	}
	s.nlm = n
	s.closers = append(s.closers, n.Close)
	n.Register(s.rpc)
	return nil
}

// lockPrograms are the locking programs for the portmapper.
func (s *Server) lockPrograms() []program {
	return []program{{nlmxdr.NLM_PROG, nlmxdr.NLM4_VERS}, {nsmxdr.SM_PROG, nsmxdr.SM_VERS}}
}

// afterStart tells the clients that held locks before a restart to
// reclaim them (NSM SM_NOTIFY), now that the server can answer.
func (s *Server) afterStart(ctx context.Context) { s.nlm.Start() }

// beforeShutdown stops what afterStart started.
func (s *Server) beforeShutdown() {}
