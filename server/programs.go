package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/gonfs/gonfs/mount"
	"github.com/gonfs/gonfs/nfs3"
	"github.com/gonfs/gonfs/portmap"
	"github.com/gonfs/gonfs/proto/mountxdr"
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/proto/pmapxdr"
	"github.com/gonfs/gonfs/sunrpc"
)

// registerMore adds the programs beside NFS: MOUNT, NLM, NSM, and the
// portmapper itself, which also answers on the main port so that a client
// told only that port can still ask it.
func (s *Server) registerMore() error {
	mnt := mount.New(s.ns, mount.Options{Logger: s.log.With("sub", "mount"), Clock: s.opts.Now})
	s.rpc.Register(mountxdr.MOUNT_PROGRAM, mountxdr.MOUNT_V3, mnt)
	s.pmap = portmap.New(portmap.Options{Logger: s.log.With("sub", "portmap"), Clock: s.opts.Now})
	for _, v := range portmap.Versions {
		s.rpc.Register(pmapxdr.PMAP_PROG, v, s.pmap)
	}
	if err := s.registerLocking(); err != nil {
		return err
	}
	if err := s.registerNFS4(); err != nil {
		return err
	}
	// NFSv3 changes ask the NFSv4 state first, so that a delegation held
	// by a v4 client is recalled before a v3 client changes the file
	// (RFC 8881 §10.4); NLM locks ask the same (nfs4.Conflicts).
	s.nfs3 = nfs3.New(s.ns, nfs3.Options{Logger: s.log.With("sub", "nfs3"), Now: s.opts.Now, Recorder: s.stats,
		Conflicts: s.nfs4.Conflicts()})
	s.rpc.Register(nfs3xdr.NFS_PROGRAM, nfs3xdr.NFS_V3, s.nfs3)
	s.nlm.SetDelegations(s.nfs4.Conflicts())
	return nil
}

// served lists the programs this server offers, for the portmapper.
func (s *Server) served() []program {
	return append([]program{
		{nfs3xdr.NFS_PROGRAM, nfs3xdr.NFS_V3},
		{mountxdr.MOUNT_PROGRAM, mountxdr.MOUNT_V3},
	}, append(s.lockPrograms(), nfs4Programs()...)...)
}

type program struct{ prog, vers uint32 }

// mappings are the portmapper entries for every served program on the
// main port, TCP and UDP.
func (s *Server) mappings(addr netip.AddrPort) []portmap.Mapping {
	var ms []portmap.Mapping
	for _, p := range s.served() {
		for _, network := range []string{"tcp", "udp"} {
			ms = append(ms, portmap.Mapping{Prog: p.prog, Vers: p.vers,
				Netid: portmap.Netid(network, addr.Addr()), Addr: addr, Owner: "gonfs"})
		}
	}
	return ms
}

// startPortmap makes the served programs findable: in the built-in
// portmapper (always, for the main port), on port 111 of the listen host
// when it can be bound, or in the system's rpcbind with
// Portmap "rpcbind[:ADDR]".
func (s *Server) startPortmap(ctx context.Context) {
	addr := s.tcp.Addr().(*net.TCPAddr).AddrPort()
	for _, m := range s.mappings(addr) {
		if err := s.pmap.Set(m); err != nil {
			s.log.Warn("portmap: set", "prog", m.Prog, "err", err)
		}
	}
	switch mode := s.opts.Portmap; {
	case mode == "off":
		s.pmapNote = "disabled by --portmap off"
		return
	case mode == "rpcbind" || strings.HasPrefix(mode, "rpcbind:"):
		target := strings.TrimPrefix(strings.TrimPrefix(mode, "rpcbind"), ":")
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := portmap.Register(rctx, target, s.mappings(addr)); err != nil {
			s.pmapNote = fmt.Sprintf("registering with the system rpcbind failed: %v", err)
			s.log.Warn("portmap: " + s.pmapNote)
			return
		}
		s.rpcbindTarget = target
		s.pmapNote = "registered with the system rpcbind"
		return
	}
	pmAddr := s.opts.Portmap
	if pmAddr == "" {
		pmAddr = net.JoinHostPort(addr.Addr().String(), "111")
	}
	var lc net.ListenConfig
	tcp, err := lc.Listen(ctx, "tcp", pmAddr)
	if err != nil {
		s.pmapNote = fmt.Sprintf("cannot listen on %s: %v", pmAddr, shortErr(err))
		s.log.Info("portmap: built-in portmapper off", "reason", s.pmapNote)
		return
	}
	udp, err := lc.ListenPacket(ctx, "udp", tcp.Addr().String())
	if err != nil {
		tcp.Close()
		s.pmapNote = fmt.Sprintf("cannot listen on udp %s: %v", pmAddr, shortErr(err))
		s.log.Info("portmap: built-in portmapper off", "reason", s.pmapNote)
		return
	}
	pa := tcp.Addr().(*net.TCPAddr).AddrPort()
	for _, v := range portmap.Versions {
		for _, network := range []string{"tcp", "udp"} {
			s.pmap.Set(portmap.Mapping{Prog: pmapxdr.PMAP_PROG, Vers: v, Netid: portmap.Netid(network, pa.Addr()), Addr: pa, Owner: "gonfs"})
		}
	}
	// A server of its own, so that port 111 answers the portmapper only.
	s.pmapRPC = sunrpc.NewServer(sunrpc.Options{Logger: s.log.With("sub", "portmap-rpc"), Clock: s.opts.Now, Observer: s.stats})
	for _, v := range portmap.Versions {
		s.pmapRPC.Register(pmapxdr.PMAP_PROG, v, s.pmap)
	}
	s.pmapTCP, s.pmapUDP = tcp, udp
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.pmapRPC.ServeTCP(tcp); err != nil && !errors.Is(err, sunrpc.ErrServerClosed) {
			s.log.Error("portmap tcp serve", "err", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		if err := s.pmapRPC.ServeUDP(udp); err != nil && !errors.Is(err, sunrpc.ErrServerClosed) {
			s.log.Error("portmap udp serve", "err", err)
		}
	}()
}

func shortErr(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}

// stopPortmap undoes startPortmap.
func (s *Server) stopPortmap(ctx context.Context) {
	if s.pmapRPC != nil {
		s.pmapRPC.Shutdown(ctx)
	}
	if s.rpcbindTarget != "" || s.opts.Portmap == "rpcbind" {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		addr := s.Addr()
		if err := portmap.Unregister(rctx, s.rpcbindTarget, s.mappings(addr)); err != nil {
			s.log.Warn("portmap: unregister from the system rpcbind", "err", err)
		}
	}
}
