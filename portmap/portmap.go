package portmap

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/gonfs/gonfs/proto/pmapxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// Versions of program 100000 a Server answers; register it for each.
var Versions = []uint32{pmapxdr.PMAP_VERS, pmapxdr.RPCBVERS, pmapxdr.RPCBVERS4}

// Mapping is one registration: where version Vers of program Prog listens
// on the transport Netid.
type Mapping struct {
	Prog, Vers uint32
	// Netid is tcp, udp, tcp6 or udp6 (see Netid).
	Netid string
	// Addr is the address and port the program listens on; an unspecified
	// address (0.0.0.0, ::) means every address of the host.
	Addr netip.AddrPort
	// Owner is rpcb.r_owner, shown by DUMP (rpcinfo's "owner" column).
	Owner string
}

// validate checks that m can be served and answered.
func (m *Mapping) validate() error {
	n, ok := netids[m.Netid]
	switch {
	case !ok:
		return fmt.Errorf("portmap: netid %q is not one of tcp, udp, tcp6, udp6", m.Netid)
	case !m.Addr.IsValid() || m.Addr.Port() == 0:
		return fmt.Errorf("portmap: mapping of %d/%d/%s needs an address and a port", m.Prog, m.Vers, m.Netid)
	case n.ipv6 != (m.Addr.Addr().Is6() && !m.Addr.Addr().Is4In6()):
		return fmt.Errorf("portmap: address %s does not belong to netid %s", m.Addr, m.Netid)
	}
	return nil
}

// Options configure a Server. The zero value works.
type Options struct {
	// Logger receives refused SET and UNSET calls at debug level. Nil
	// discards.
	Logger *slog.Logger
	// Clock answers GETTIME. Nil means time.Now.
	Clock func() time.Time
}

// Server is the portmapper. Register the same Server with a sunrpc.Server
// for program pmapxdr.PMAP_PROG and each of Versions.
type Server struct {
	log *slog.Logger
	now func() time.Time

	mu    sync.Mutex
	maps  []Mapping // in registration order, one per (Prog, Vers, Netid)
	stats stats
}

var _ sunrpc.Handler = (*Server)(nil)

// New returns a Server with no mappings.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	return &Server{log: opts.Logger, now: opts.Clock}
}

// Set registers m, replacing any mapping of the same program, version and
// netid. It fails for an unknown netid, an address of the other family, or
// a zero port.
func (s *Server) Set(m Mapping) error {
	if err := m.validate(); err != nil {
		return err
	}
	m.Addr = netip.AddrPortFrom(m.Addr.Addr().WithZone(""), m.Addr.Port())
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.maps {
		if same(&s.maps[i], m.Prog, m.Vers, m.Netid) {
			s.maps[i] = m
			return nil
		}
	}
	s.maps = append(s.maps, m)
	return nil
}

// Unset removes the mappings of version vers of program prog on netid, or
// on every netid if netid is "". It reports whether any was removed.
func (s *Server) Unset(prog, vers uint32, netid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.maps)
	s.maps = slices.DeleteFunc(s.maps, func(m Mapping) bool {
		return m.Prog == prog && m.Vers == vers && (netid == "" || m.Netid == netid)
	})
	return len(s.maps) != n
}

// Mappings returns the registrations in the order they were made.
func (s *Server) Mappings() []Mapping {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.maps)
}

func same(m *Mapping, prog, vers uint32, netid string) bool {
	return m.Prog == prog && m.Vers == vers && m.Netid == netid
}

// find returns the mapping of prog and vers on netid or, unless exact,
// of another version of prog on netid.
func (s *Server) find(prog, vers uint32, netid string, exact bool) (Mapping, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var other *Mapping
	for i := range s.maps {
		m := &s.maps[i]
		if m.Prog != prog || m.Netid != netid {
			continue
		}
		if m.Vers == vers {
			return *m, true
		}
		if other == nil {
			other = m
		}
	}
	if other == nil || exact {
		return Mapping{}, false
	}
	return *other, true
}

// ServeRPC implements sunrpc.Handler for versions 2, 3 and 4.
func (s *Server) ServeRPC(ctx context.Context, call *sunrpc.Call, w *xdr.Writer) sunrpc.Status {
	if highProc(call.Vers) < 0 || call.Proc > uint32(highProc(call.Vers)) {
		return sunrpc.ProcUnavail
	}
	s.count(call.Vers, call.Proc)
	if call.Vers == pmapxdr.PMAP_VERS {
		return s.serveV2(ctx, call, w)
	}
	return s.serveRPCB(ctx, call, w)
}

// highProc is the highest procedure of vers (RFC 1833 rpcb_highproc_*),
// or -1 for a version not served.
func highProc(vers uint32) int {
	switch vers {
	case pmapxdr.PMAP_VERS:
		return pmapxdr.Rpcb_highproc_2
	case pmapxdr.RPCBVERS:
		return pmapxdr.Rpcb_highproc_3
	case pmapxdr.RPCBVERS4:
		return pmapxdr.Rpcb_highproc_4
	}
	return -1
}

// decode decodes args into v and reports whether they were exactly one
// well-formed v.
func decode(args []byte, v xdr.Unmarshaler) bool {
	r := xdr.NewReader(args)
	v.Decode(r)
	return r.Done() == nil
}

// callNetid is the netid the call arrived on.
func callNetid(call *sunrpc.Call) string {
	return Netid(call.Transport, call.Local.Addr())
}

// refuse answers a SET or UNSET from the network (see the package
// documentation).
func (s *Server) refuse(ctx context.Context, call *sunrpc.Call, what string, prog, vers uint32) {
	s.log.DebugContext(ctx, "portmap: refused "+what+" from the network",
		"client", call.Remote.String(), "rpcvers", call.Vers, "prog", prog, "vers", vers)
}
