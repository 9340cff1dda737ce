package portmap

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Netids this package serves (RFC 5665 §5.2.3).
const (
	NetidTCP  = "tcp"
	NetidUDP  = "udp"
	NetidTCP6 = "tcp6"
	NetidUDP6 = "udp6"
)

// ErrBadUAddr is returned by ParseUAddr for a string that is not a
// universal address.
var ErrBadUAddr = errors.New("portmap: malformed universal address")

// Netid returns the netid of network ("tcp" or "udp") over addr: the name
// itself for IPv4, with "6" appended for IPv6. IPv4-mapped IPv6 addresses
// count as IPv4, as sunrpc presents them.
func Netid(network string, addr netip.Addr) string {
	if addr.Is6() && !addr.Is4In6() {
		return network + "6"
	}
	return network
}

// FormatUAddr returns the universal address of ap (RFC 5665 §5.2.3.3 for
// IPv4, §5.2.3.4 for IPv6): the address in its usual text form followed by
// the port's high and low bytes in decimal, "h1.h2.h3.h4.p1.p2" or
// "x1:...:x8.p1.p2". A zone is dropped: it means nothing to another host.
func FormatUAddr(ap netip.AddrPort) string {
	p := ap.Port()
	return ap.Addr().WithZone("").String() + "." + strconv.Itoa(int(p>>8)) + "." + strconv.Itoa(int(p&0xff))
}

// ParseUAddr parses a universal address of IPv4 or IPv6 (see FormatUAddr).
func ParseUAddr(s string) (netip.AddrPort, error) {
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return netip.AddrPort{}, fmt.Errorf("%w: %q", ErrBadUAddr, s)
	}
	j := strings.LastIndexByte(s[:i], '.')
	if j < 0 {
		return netip.AddrPort{}, fmt.Errorf("%w: %q", ErrBadUAddr, s)
	}
	hi, err1 := strconv.ParseUint(s[j+1:i], 10, 8)
	lo, err2 := strconv.ParseUint(s[i+1:], 10, 8)
	addr, err3 := netip.ParseAddr(s[:j])
	if err1 != nil || err2 != nil || err3 != nil || addr.Zone() != "" {
		return netip.AddrPort{}, fmt.Errorf("%w: %q", ErrBadUAddr, s)
	}
	return netip.AddrPortFrom(addr, uint16(hi<<8|lo)), nil
}

// netidInfo describes a netid for GETADDRLIST's rpcb_entry.
type netidInfo struct {
	network   string // "tcp" or "udp"
	ipv6      bool
	semantics uint32 // NC_TPI_* from netconfig(5)
}

// NC_TPI_* values of netconfig(5), for rpcb_entry.r_nc_semantics.
const (
	ncTPIClts    = 1 // connectionless: UDP
	ncTPICotsOrd = 3 // connection-oriented with orderly release: TCP
)

var netids = map[string]netidInfo{
	NetidTCP:  {"tcp", false, ncTPICotsOrd},
	NetidUDP:  {"udp", false, ncTPIClts},
	NetidTCP6: {"tcp", true, ncTPICotsOrd},
	NetidUDP6: {"udp", true, ncTPIClts},
}

// protoFamily is rpcb_entry.r_nc_protofmly, as netconfig(5) names it.
func (n netidInfo) protoFamily() string {
	if n.ipv6 {
		return "inet6"
	}
	return "inet"
}
