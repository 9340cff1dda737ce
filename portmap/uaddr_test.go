package portmap

import (
	"errors"
	"net/netip"
	"testing"
)

func TestUAddr(t *testing.T) {
	tests := []struct {
		addr  string // netip.AddrPort text
		uaddr string
	}{
		{"127.0.0.1:111", "127.0.0.1.0.111"},
		{"10.1.2.3:2049", "10.1.2.3.8.1"},
		{"0.0.0.0:0", "0.0.0.0.0.0"},
		{"255.255.255.255:65535", "255.255.255.255.255.255"},
		{"[::1]:2049", "::1.8.1"},
		{"[::]:111", "::.0.111"},
		{"[fe80::1:2]:256", "fe80::1:2.1.0"},
		{"[2001:db8::a:b:c:d:e]:20048", "2001:db8:0:a:b:c:d:e.78.80"},
		{"[::ffff:192.0.2.1]:2049", "::ffff:192.0.2.1.8.1"},
	}
	for _, tt := range tests {
		ap := netip.MustParseAddrPort(tt.addr)
		if got := FormatUAddr(ap); got != tt.uaddr {
			t.Errorf("FormatUAddr(%s) = %q, want %q", tt.addr, got, tt.uaddr)
		}
		got, err := ParseUAddr(tt.uaddr)
		if err != nil || got != ap {
			t.Errorf("ParseUAddr(%q) = %v, %v; want %s", tt.uaddr, got, err, tt.addr)
		}
	}
}

func TestUAddrZoneDropped(t *testing.T) {
	ap := netip.MustParseAddrPort("[fe80::1%eth0]:2049")
	if got := FormatUAddr(ap); got != "fe80::1.8.1" {
		t.Fatalf("FormatUAddr(%s) = %q", ap, got)
	}
}

func TestParseUAddrErrors(t *testing.T) {
	for _, s := range []string{
		"",
		"127.0.0.1",         // no port: read as host 127.0 and port 0.1
		"127.0.0.1.8",       // one port byte
		"127.0.0.1.256.1",   // port byte out of range
		"127.0.0.1.8.-1",    // sign
		"127.0.0.1.+8.1",    // sign
		"127.0.0.1.8.x",     // not a number
		"127.0.0.1..1",      // empty byte
		"127.0.0.1.8.1 ",    // trailing space
		"host.example.8.1",  // a name is no address
		"fe80::1%eth0.8.1",  // zone
		"::1:8:1",           // IPv6 without the port bytes
		"1.2.3.4.5.6.7.8.9", // five address bytes
	} {
		if ap, err := ParseUAddr(s); !errors.Is(err, ErrBadUAddr) {
			t.Errorf("ParseUAddr(%q) = %v, %v; want ErrBadUAddr", s, ap, err)
		}
	}
}

func TestNetid(t *testing.T) {
	tests := []struct {
		network, addr, want string
	}{
		{"tcp", "127.0.0.1", "tcp"},
		{"udp", "0.0.0.0", "udp"},
		{"tcp", "::1", "tcp6"},
		{"udp", "::", "udp6"},
		{"tcp", "::ffff:127.0.0.1", "tcp"},
	}
	for _, tt := range tests {
		if got := Netid(tt.network, netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("Netid(%s, %s) = %q, want %q", tt.network, tt.addr, got, tt.want)
		}
	}
}
