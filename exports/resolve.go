package exports

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Resolver gives the names of an address (a reverse lookup). *net.Resolver
// implements it. It is called without any lock held, possibly from many
// goroutines at once.
type Resolver interface {
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// HostResolver is the optional forward lookup. When the Resolver also
// implements it (as *net.Resolver does), a name from the reverse lookup is
// believed only if it resolves back to the client's address.
type HostResolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// ParseOptions are the optional settings of ParseWith; the zero value works.
type ParseOptions struct {
	// Resolver finds client names for host-name and wildcard rules.
	// Nil means net.DefaultResolver.
	Resolver Resolver
	// Now is the clock of the name cache. Nil means time.Now.
	Now func() time.Time
	// NameTTL is how long a lookup result (or failure) is kept.
	// Zero means 30 seconds.
	NameTTL time.Duration
}

const (
	defaultNameTTL = 30 * time.Second
	// maxCachedAddrs bounds the cache so that a client cycling through
	// source addresses (an IPv6 /64 has plenty) cannot grow it without end.
	maxCachedAddrs = 4096
	// maxNamesPerAddr bounds the forward lookups one reverse answer can
	// cause.
	maxNamesPerAddr = 8
)

// nameCache remembers the verified names of client addresses. Its methods
// are safe for concurrent use; a nil *nameCache knows no names.
type nameCache struct {
	res Resolver
	now func() time.Time
	ttl time.Duration

	mu      sync.Mutex
	entries map[netip.Addr]nameEntry
}

type nameEntry struct {
	names   []string
	expires time.Time
}

func newNameCache(o ParseOptions) *nameCache {
	c := &nameCache{res: o.Resolver, now: o.Now, ttl: o.NameTTL, entries: map[netip.Addr]nameEntry{}}
	if c.res == nil {
		c.res = net.DefaultResolver
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.ttl <= 0 {
		c.ttl = defaultNameTTL
	}
	return c
}

// lookup returns the names of addr, lower-case and without a final dot. A
// failed lookup yields no names. Answers are cached, failures too, unless
// the failure came from ctx ending (that says nothing about the address).
func (c *nameCache) lookup(ctx context.Context, addr netip.Addr) []string {
	if c == nil {
		return nil
	}
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[addr]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.names
	}

	names := c.resolve(ctx, addr)
	if ctx.Err() != nil {
		return names
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCachedAddrs {
		for a, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, a)
			}
		}
		if len(c.entries) >= maxCachedAddrs {
			clear(c.entries)
		}
	}
	c.entries[addr] = nameEntry{names: names, expires: now.Add(c.ttl)}
	return names
}

func (c *nameCache) resolve(ctx context.Context, addr netip.Addr) []string {
	raw, err := c.res.LookupAddr(ctx, addr.String())
	if err != nil {
		return nil
	}
	fwd, _ := c.res.(HostResolver)
	var names []string
	for _, n := range raw {
		if len(names) == maxNamesPerAddr {
			break
		}
		n = strings.TrimSuffix(strings.ToLower(n), ".")
		if n == "" {
			continue
		}
		if fwd != nil && !resolvesTo(ctx, fwd, n, addr) {
			continue
		}
		names = append(names, n)
	}
	return names
}

// resolvesTo is the forward half of forward-confirmed reverse DNS.
func resolvesTo(ctx context.Context, r HostResolver, name string, addr netip.Addr) bool {
	addrs, err := r.LookupHost(ctx, name)
	if err != nil {
		return false
	}
	for _, s := range addrs {
		if a, err := netip.ParseAddr(s); err == nil && clientAddr(a) == addr {
			return true
		}
	}
	return false
}
