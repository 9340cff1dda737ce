package exports

import (
	"context"
	"fmt"
	"net/netip"
	"path"
	"strconv"
	"strings"
)

// ClientKind is the kind of a client spec. The order of the constants is
// the order in which Match tries rules (see the package documentation).
type ClientKind int

const (
	ClientHost     ClientKind = iota // an exact host name
	ClientPrefix                     // an address or a network
	ClientWildcard                   // a host-name pattern with * ? [...]
	ClientAnyone                     // *
)

var kindNames = [...]string{"host", "network", "wildcard", "anyone"}

func (k ClientKind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "ClientKind(" + strconv.Itoa(int(k)) + ")"
}

// ClientRule is one client of an export with its options.
type ClientRule struct {
	// Spec is the client as written ("*.example.com", "10.0.0.0/8"), or
	// "*" where the file named no client. It is what MOUNT EXPORT lists.
	Spec string
	Kind ClientKind
	// Prefix is the network of a ClientPrefix rule; a single address is a
	// full-length prefix. IPv4-mapped IPv6 specs are stored as IPv4.
	Prefix netip.Prefix
	// Name is the lower-case host name (ClientHost) or pattern
	// (ClientWildcard).
	Name    string
	Options Options
	// Line is the line of the exports file the rule came from.
	Line int
}

// key identifies the set of clients a rule names, so that "10.0.0.0/8" and
// "10.0.0.0/255.0.0.0" count as the same client when looking for
// duplicates.
func (r *ClientRule) key() string {
	switch r.Kind {
	case ClientPrefix:
		return "p:" + r.Prefix.String()
	case ClientHost:
		return "h:" + r.Name
	case ClientWildcard:
		return "w:" + r.Name
	}
	return "*"
}

// matchAddr reports whether an address-only rule matches addr, which the
// caller has already unmapped and stripped of any zone.
func (r *ClientRule) matchAddr(addr netip.Addr) bool {
	switch r.Kind {
	case ClientAnyone:
		return true
	case ClientPrefix:
		return r.Prefix.Contains(addr)
	}
	return false
}

// matchNames reports whether a name rule matches any of the client's
// (lower-case, dot-free at the end) names.
func (r *ClientRule) matchNames(names []string) bool {
	for _, n := range names {
		switch r.Kind {
		case ClientHost:
			if n == r.Name {
				return true
			}
		case ClientWildcard:
			// Validated at parse time, so no error here. As in exports(5),
			// * and ? also match dots, so *.example.com covers subdomains.
			if ok, _ := path.Match(r.Name, n); ok {
				return true
			}
		}
	}
	return false
}

// parseClient turns a client spec into a rule with no options yet.
func parseClient(spec string) (ClientRule, error) {
	r := ClientRule{Spec: spec}
	switch {
	case spec == "*":
		r.Kind = ClientAnyone
		return r, nil
	case strings.HasPrefix(spec, "@"):
		return r, fmt.Errorf("client %q: netgroups are not supported", spec)
	case strings.HasPrefix(spec, "gss/"):
		return r, fmt.Errorf("client %q: the gss/ client syntax is obsolete; use *(sec=...)", spec)
	case strings.Contains(spec, "/"):
		p, err := parseCIDR(spec)
		if err != nil {
			return r, err
		}
		r.Kind, r.Prefix = ClientPrefix, p
		return r, nil
	}
	if a, err := netip.ParseAddr(spec); err == nil {
		if a.Zone() != "" {
			return r, fmt.Errorf("bad address %q: zones are not allowed", spec)
		}
		a = a.Unmap()
		r.Kind, r.Prefix = ClientPrefix, netip.PrefixFrom(a, a.BitLen())
		return r, nil
	}
	if strings.Trim(spec, "0123456789.") == "" {
		return r, fmt.Errorf("bad IPv4 address %q", spec)
	}
	if strings.HasPrefix(spec, "[") && strings.HasSuffix(spec, "]") {
		if _, err := netip.ParseAddr(spec[1 : len(spec)-1]); err == nil {
			return r, fmt.Errorf("client %q: write IPv6 addresses without brackets", spec)
		}
	}
	name := strings.TrimSuffix(strings.ToLower(spec), ".")
	wild := strings.ContainsAny(name, "*?[")
	if err := checkHostChars(name, wild); err != nil {
		return r, fmt.Errorf("bad client %q: %v", spec, err)
	}
	if wild {
		if _, err := path.Match(name, ""); err != nil {
			return r, fmt.Errorf("bad client %q: malformed wildcard pattern", spec)
		}
		r.Kind, r.Name = ClientWildcard, name
		return r, nil
	}
	r.Kind, r.Name = ClientHost, name
	return r, nil
}

// checkHostChars accepts the characters of host names (RFC 1123 §2.1, plus
// the underscore found in practice) and, for patterns, * ? [ ].
func checkHostChars(name string, wild bool) error {
	if name == "" {
		return fmt.Errorf("empty host name")
	}
	if name[0] == '-' {
		return fmt.Errorf("host name may not start with '-'")
	}
	if len(name) > 253 {
		return fmt.Errorf("host name longer than 253 characters")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '.', c == '_':
		case wild && (c == '*' || c == '?' || c == '[' || c == ']'):
		default:
			return fmt.Errorf("invalid character %q in host name", c)
		}
	}
	return nil
}

// parseCIDR reads addr/len and, for IPv4, addr/dotted-mask. Host bits
// below the prefix are cleared, as nfs-utils does.
func parseCIDR(spec string) (netip.Prefix, error) {
	as, ms, _ := strings.Cut(spec, "/")
	a, err := netip.ParseAddr(as)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("bad CIDR %q: invalid address %q", spec, as)
	}
	var bits int
	if strings.Contains(ms, ".") {
		m, err := netip.ParseAddr(ms)
		if err != nil || !m.Is4() || !a.Unmap().Is4() {
			return netip.Prefix{}, fmt.Errorf("bad CIDR %q: invalid netmask %q", spec, ms)
		}
		bits = maskBits(m.As4())
		if bits < 0 {
			return netip.Prefix{}, fmt.Errorf("bad CIDR %q: netmask %s is not contiguous", spec, ms)
		}
		if a.Is4In6() {
			bits += 96
		}
	} else {
		n, err := strconv.Atoi(ms)
		if err != nil || n < 0 || n > a.BitLen() || strings.Trim(ms, "0123456789") != "" {
			return netip.Prefix{}, fmt.Errorf("bad CIDR %q: prefix length must be a number from 0 to %d", spec, a.BitLen())
		}
		bits = n
	}
	if a.Is4In6() && bits >= 96 {
		a, bits = a.Unmap(), bits-96
	}
	return netip.PrefixFrom(a, bits).Masked(), nil
}

// maskBits returns the length of a contiguous netmask, or -1.
func maskBits(m [4]byte) int {
	v := uint32(m[0])<<24 | uint32(m[1])<<16 | uint32(m[2])<<8 | uint32(m[3])
	n := 0
	for v&(1<<31) != 0 {
		v <<= 1
		n++
	}
	if v != 0 {
		return -1
	}
	return n
}

// Match returns the rule that applies to a client at addr (see the package
// documentation for the order), or false if none does. The client's names
// are looked up only when a name rule is reached, and at most once. Match
// does not look at the port; Access does.
func (e *Export) Match(ctx context.Context, client netip.AddrPort) (*ClientRule, bool) {
	addr := clientAddr(client.Addr())
	if !addr.IsValid() {
		return nil, false
	}
	var names []string
	looked := false
	for kind := ClientHost; kind <= ClientAnyone; kind++ {
		for _, r := range e.Rules {
			if r.Kind != kind {
				continue
			}
			if kind == ClientHost || kind == ClientWildcard {
				if !looked {
					names, looked = e.names.lookup(ctx, addr), true
				}
				if r.matchNames(names) {
					return r, true
				}
			} else if r.matchAddr(addr) {
				return r, true
			}
		}
	}
	return nil, false
}

// clientAddr is the form in which client addresses are compared: IPv4-mapped
// IPv6 as IPv4, without a zone (netip.Prefix.Contains never matches a zoned
// address).
func clientAddr(a netip.Addr) netip.Addr { return a.Unmap().WithZone("") }
