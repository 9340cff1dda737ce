package nlm

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/gonfs/gonfs/portmap"
	"github.com/gonfs/gonfs/proto/pmapxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// callPeer calls prog/vers/proc at the client addr over network ("tcp" or
// "udp"), finding the port with the client's portmapper (PMAPPROC_GETPORT,
// RFC 1833 §3.2, asked over the same transport). res may be nil for void.
// ctx bounds the whole exchange.
func (s *Server) callPeer(ctx context.Context, network string, local, addr netip.Addr, prog, vers, proc uint32, args xdr.Marshaler, res xdr.Unmarshaler) error {
	port, err := s.getPort(ctx, network, local, addr, prog, vers)
	if err != nil {
		return err
	}
	c, err := s.dialRPC(ctx, network, local, netip.AddrPortFrom(addr, port))
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Call(ctx, prog, vers, proc, args, res); err != nil {
		return fmt.Errorf("nlm: call %d/%d/%d at %s:%d: %w", prog, vers, proc, addr, port, err)
	}
	return nil
}

// getPort asks the portmapper at addr for the port of prog/vers on network.
func (s *Server) getPort(ctx context.Context, network string, local, addr netip.Addr, prog, vers uint32) (uint16, error) {
	c, err := s.dialRPC(ctx, network, local, netip.AddrPortFrom(addr, pmapxdr.PMAP_PORT))
	if err != nil {
		return 0, err
	}
	defer c.Close()
	prot := uint32(pmapxdr.IPPROTO_TCP)
	if network == "udp" {
		prot = pmapxdr.IPPROTO_UDP
	}
	port, err := portmap.QueryPort(ctx, c, prog, vers, prot)
	if err != nil {
		return 0, fmt.Errorf("nlm: portmapper at %s: %w", addr, err)
	}
	return port, nil
}

func (s *Server) dialRPC(ctx context.Context, network string, local netip.Addr, remote netip.AddrPort) (*sunrpc.Client, error) {
	nc, err := s.opts.Dialer(ctx, network, local, remote)
	if err != nil {
		return nil, fmt.Errorf("nlm: dial %s %s: %w", network, remote, err)
	}
	return sunrpc.NewClient(nc, sunrpc.ClientOptions{Auth: s.auth}), nil
}
