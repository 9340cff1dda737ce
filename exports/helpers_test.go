package exports

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"
)

// ptrResolver answers reverse lookups from a map and counts them. It does
// not implement HostResolver, so names are taken on trust.
type ptrResolver struct {
	mu    sync.Mutex
	ptr   map[string][]string
	calls int
}

func (r *ptrResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	names, ok := r.ptr[addr]
	if !ok {
		return nil, errors.New("no such host")
	}
	return names, nil
}

func (r *ptrResolver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// dnsResolver adds forward lookups, so names are confirmed.
type dnsResolver struct {
	ptrResolver
	host map[string][]string
}

func (r *dnsResolver) LookupHost(ctx context.Context, host string) ([]string, error) {
	addrs, ok := r.host[host]
	if !ok {
		return nil, errors.New("no such host")
	}
	return addrs, nil
}

// fakeClock is a settable clock for the name cache.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// summary renders a table compactly: one line per export, each rule with
// only the options that differ from DefaultOptions, e.g.
// "/srv 10.0.0.0/8(rw) *".
func summary(t *Table) string {
	def := strings.Split(DefaultOptions().String(), ",")
	var lines []string
	for _, e := range t.Exports() {
		parts := []string{e.Path}
		for _, r := range e.Rules {
			var diff []string
			for _, o := range strings.Split(r.Options.String(), ",") {
				if !slices.Contains(def, o) {
					diff = append(diff, o)
				}
			}
			s := r.Spec
			if len(diff) > 0 {
				s += "(" + strings.Join(diff, ",") + ")"
			}
			parts = append(parts, s)
		}
		lines = append(lines, strings.Join(parts, " "))
	}
	return strings.Join(lines, "\n")
}
