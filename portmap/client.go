package portmap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/gonfs/gonfs/proto/pmapxdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// DefaultRPCBindAddr is where Register and Unregister find the system
// rpcbind when given "".
const DefaultRPCBindAddr = "127.0.0.1:111"

// ErrNotRegistered is returned by GetPort when the program is not
// registered (the port mapper answered 0).
var ErrNotRegistered = errors.New("portmap: program not registered")

// Register registers ms with the rpcbind at rpcbindAddr ("" means
// DefaultRPCBindAddr), for a gonfs that runs beside a system rpcbind
// instead of answering port 111 itself.
//
// It speaks rpcbind version 4 over TCP and falls back to port mapper
// version 2 when the peer lacks version 4; version 2 cannot carry tcp6 and
// udp6 mappings, which are then skipped. Before setting anything it unsets
// every (program, version, netid) it is about to set, as nfs-utils' daemons
// do at start: a mapping left by an earlier run that died would otherwise
// make rpcbind refuse the new one. rpcbind accepts SET and UNSET only from
// the local host, so rpcbindAddr is normally a loopback address.
func Register(ctx context.Context, rpcbindAddr string, ms []Mapping) error {
	for i := range ms {
		if err := ms[i].validate(); err != nil {
			return err
		}
	}
	c, err := dial(ctx, rpcbindAddr, DefaultRPCBindAddr)
	if err != nil {
		return err
	}
	defer c.Close()
	v4, err := unsetAll(ctx, c, ms)
	if err != nil {
		return err
	}
	for i := range ms {
		m := &ms[i]
		var ok xdr.Bool
		if v4 {
			args := m.rpcb()
			err = c.Call(ctx, pmapxdr.PMAP_PROG, pmapxdr.RPCBVERS4, pmapxdr.RPCBPROC_SET, &args, &ok)
		} else {
			args, v2 := m.mapping()
			if !v2 {
				continue
			}
			err = c.Call(ctx, pmapxdr.PMAP_PROG, pmapxdr.PMAP_VERS, pmapxdr.PMAPPROC_SET, &args, &ok)
		}
		if err != nil {
			return fmt.Errorf("portmap: registering %d/%d/%s: %w", m.Prog, m.Vers, m.Netid, err)
		}
		if !ok {
			return fmt.Errorf("portmap: rpcbind at %s refused to register %d/%d/%s", c.addr, m.Prog, m.Vers, m.Netid)
		}
	}
	return nil
}

// Unregister removes ms from the rpcbind at rpcbindAddr ("" means
// DefaultRPCBindAddr), with rpcbind version 4 or port mapper version 2 as
// Register does. A mapping that is not registered is not an error.
func Unregister(ctx context.Context, rpcbindAddr string, ms []Mapping) error {
	c, err := dial(ctx, rpcbindAddr, DefaultRPCBindAddr)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = unsetAll(ctx, c, ms)
	return err
}

// unsetAll unsets every mapping of ms, with version 4 if the peer has it
// (reported) and version 2 otherwise. An UNSET answered false (nothing
// was registered) is fine.
func unsetAll(ctx context.Context, c *client, ms []Mapping) (v4 bool, err error) {
	v4 = true
	for i := range ms {
		m := &ms[i]
		var ok xdr.Bool
		if v4 {
			args := m.rpcb()
			args.RAddr = "" // ignored by UNSET (RFC 1833 §2.2)
			err = c.Call(ctx, pmapxdr.PMAP_PROG, pmapxdr.RPCBVERS4, pmapxdr.RPCBPROC_UNSET, &args, &ok)
			if isVersionMissing(err) {
				v4 = false
			}
		}
		if !v4 {
			// Version 2 UNSET removes every protocol of the program and
			// version: harmless here, since every SET follows every
			// UNSET.
			args, v2 := m.mapping()
			if !v2 {
				continue
			}
			err = c.Call(ctx, pmapxdr.PMAP_PROG, pmapxdr.PMAP_VERS, pmapxdr.PMAPPROC_UNSET, &args, &ok)
		}
		if err != nil {
			return v4, fmt.Errorf("portmap: unregistering %d/%d/%s: %w", m.Prog, m.Vers, m.Netid, err)
		}
	}
	return v4, nil
}

// isVersionMissing reports whether err says the peer lacks the version
// called: a port mapper that only speaks version 2.
func isVersionMissing(err error) bool {
	var ae *sunrpc.AcceptError
	return errors.As(err, &ae) && (ae.Stat == rpcxdr.PROG_MISMATCH || ae.Stat == rpcxdr.PROG_UNAVAIL)
}

// rpcb is m as rpcbind version 3 and 4 carry it.
func (m *Mapping) rpcb() pmapxdr.Rpcb {
	return pmapxdr.Rpcb{RProg: m.Prog, RVers: m.Vers, RNetid: m.Netid, RAddr: FormatUAddr(m.Addr), ROwner: m.Owner}
}

// mapping is m as port mapper version 2 carries it, if it can: IPv4 only.
func (m *Mapping) mapping() (pmapxdr.Mapping, bool) {
	v := pmapxdr.Mapping{Prog: m.Prog, Vers: m.Vers, Port: uint32(m.Addr.Port())}
	switch m.Netid {
	case NetidTCP:
		v.Prot = pmapxdr.IPPROTO_TCP
	case NetidUDP:
		v.Prot = pmapxdr.IPPROTO_UDP
	default:
		return v, false
	}
	return v, true
}

// GetPort asks the port mapper at addr ("host" or "host:port"; the port
// defaults to 111) on which port version vers of program prog listens over
// proto (pmapxdr.IPPROTO_TCP or IPPROTO_UDP), with PMAPPROC_GETPORT over
// TCP (RFC 1833 §3.2). NLM uses it to reach a client's lockd for
// NLM_GRANTED callbacks. A program that is not registered is
// ErrNotRegistered.
func GetPort(ctx context.Context, addr string, prog, vers, proto uint32) (uint16, error) {
	c, err := dial(ctx, addr, "")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	port, err := QueryPort(ctx, c.Client, prog, vers, proto)
	if err != nil {
		return 0, fmt.Errorf("%w (portmapper at %s)", err, c.addr)
	}
	return port, nil
}

// QueryPort is GetPort over a connection the caller made (NLM dials with
// its own local address and, in tests, its own dialer).
func QueryPort(ctx context.Context, c *sunrpc.Client, prog, vers, proto uint32) (uint16, error) {
	args := pmapxdr.Mapping{Prog: prog, Vers: vers, Prot: proto}
	var port xdr.Uint32
	if err := c.Call(ctx, pmapxdr.PMAP_PROG, pmapxdr.PMAP_VERS, pmapxdr.PMAPPROC_GETPORT, &args, &port); err != nil {
		return 0, fmt.Errorf("portmap: GETPORT %d/%d: %w", prog, vers, err)
	}
	if port == 0 {
		return 0, fmt.Errorf("%w: %d/%d/%d", ErrNotRegistered, prog, vers, proto)
	}
	if port > 0xffff {
		return 0, fmt.Errorf("portmap: GETPORT %d/%d: port %d out of range", prog, vers, port)
	}
	return uint16(port), nil
}

// client is a sunrpc.Client that remembers where it is connected, for
// error messages.
type client struct {
	*sunrpc.Client
	addr string
}

// dial connects over TCP to addr, or to def if addr is "". An addr without
// a port gets the port mapper's.
func dial(ctx context.Context, addr, def string) (*client, error) {
	if addr == "" {
		addr = def
	}
	addr = withPort(addr)
	c, err := sunrpc.Dial(ctx, "tcp", addr, sunrpc.ClientOptions{})
	if err != nil {
		return nil, fmt.Errorf("portmap: %w", err)
	}
	return &client{Client: c, addr: addr}, nil
}

// withPort adds the port mapper's port to an address that has none.
func withPort(addr string) string {
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr
	}
	return net.JoinHostPort(strings.Trim(addr, "[]"), strconv.Itoa(pmapxdr.PMAP_PORT))
}
