package bench

import (
	"context"
	"fmt"
	"net"
	"net/netip"
)

// CheckLoopback returns an error unless every address host names is a
// loopback address (127.0.0.0/8, ::1): a load generator's traffic stays
// on this machine unless the caller says otherwise.
func CheckLoopback(ctx context.Context, host string) error {
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		var err error
		if addrs, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host); err != nil {
			return fmt.Errorf("bench: %s: %w", host, err)
		}
	}
	if len(addrs) == 0 {
		return fmt.Errorf("bench: %s: no address", host)
	}
	for _, a := range addrs {
		if !a.Unmap().IsLoopback() {
			return fmt.Errorf("bench: %s is %s, not a loopback address; pass --allow-remote to load a remote server", host, a)
		}
	}
	return nil
}
