package server

import (
	"context"

	"github.com/gonfs/gonfs/mount"
	"github.com/gonfs/gonfs/proto/mountxdr"
)

// registerMore adds the programs beside NFS: MOUNT, NLM, NSM.
func (s *Server) registerMore() error {
	mnt := mount.New(s.ns, mount.Options{Logger: s.log.With("sub", "mount")})
	s.rpc.Register(mountxdr.MOUNT_PROGRAM, mountxdr.MOUNT_V3, mnt)
	return nil
}

// startPortmap starts the built-in portmapper.
func (s *Server) startPortmap(ctx context.Context) {
	s.pmapNote = "portmapper not built yet"
}

// afterStart runs what needs the listening port (NSM notifications).
func (s *Server) afterStart(ctx context.Context) {}

// beforeShutdown stops what afterStart started.
func (s *Server) beforeShutdown() {}
