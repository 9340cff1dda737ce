package nlm

import (
	"net/netip"
	"slices"

	"github.com/gonfs/gonfs/lock"
)

// maxHostAddrs bounds the addresses remembered per client.
const maxHostAddrs = 4

// host is what we know of one client (one caller_name). Guarded by
// Server.mu.
type host struct {
	name  string
	addrs []netip.Addr // newest first
	local netip.Addr   // our address it last reached
	// owners are the owners that hold, or wait for, locks. An owner
	// leaves when the table shows it holds nothing and it waits for
	// nothing (waiting counts its queued requests).
	owners  map[lock.Owner]struct{}
	waiting map[lock.Owner]int
	shares  map[shareKey]struct{}
	// recorded: the client has a record in the state directory, so we
	// notify it after a restart (the SM_MON equivalent).
	recorded bool
	dirty    bool // addrs or local changed since the record was written
}

type shareKey struct {
	file  lock.FileKey
	owner lock.Owner
}

// hostFor returns the host for name, creating it, and notes the address
// the request came from. Called with s.mu held.
func (s *Server) hostFor(name string, addr, local netip.Addr) *host {
	h := s.hosts[name]
	if h == nil {
		h = &host{
			name:    name,
			owners:  make(map[lock.Owner]struct{}),
			waiting: make(map[lock.Owner]int),
			shares:  make(map[shareKey]struct{}),
		}
		s.hosts[name] = h
	}
	if addr.IsValid() && (len(h.addrs) == 0 || h.addrs[0] != addr) {
		h.addrs = slices.DeleteFunc(h.addrs, func(a netip.Addr) bool { return a == addr })
		h.addrs = slices.Insert(h.addrs, 0, addr)
		if len(h.addrs) > maxHostAddrs {
			h.addrs = h.addrs[:maxHostAddrs]
		}
		h.dirty = true
	}
	if local.IsValid() && local != h.local {
		h.local, h.dirty = local, true
	}
	return h
}

// monitorHost writes the record of h if it has none or it changed: the
// SM_MON equivalent. Callers do it after the table granted or queued a
// request and before they answer, so a client is recorded before it learns
// it holds anything, and a client whose requests are all denied costs no
// disk write. Called with s.mu held.
func (s *Server) monitorHost(h *host) error {
	if s.store == nil || (h.recorded && !h.dirty) {
		return nil
	}
	if err := s.store.put(h.record()); err != nil {
		return err
	}
	h.recorded, h.dirty = true, false
	return nil
}

func (h *host) record() record {
	r := record{Name: h.name}
	for _, a := range h.addrs {
		r.Addrs = append(r.Addrs, a.String())
	}
	if h.local.IsValid() {
		r.Local = h.local.String()
	}
	return r
}

// prune forgets the owners of h that hold and wait for nothing, and h
// itself, record included, when nothing is left. Called with s.mu held.
func (s *Server) prune(h *host) {
	for o := range h.owners {
		if h.waiting[o] == 0 && len(s.locks.OwnerLocks(o)) == 0 {
			delete(h.owners, o)
		}
	}
	if len(h.owners) > 0 || len(h.shares) > 0 || s.hosts[h.name] != h {
		return
	}
	delete(s.hosts, h.name)
	if h.recorded && s.store != nil {
		if err := s.store.remove(h.name); err != nil {
			s.log.Warn("nlm: removing client record", "client", h.name, "err", err)
		}
	}
}

// releaseClient drops every lock, share and queued request of the client
// name (FREE_ALL, SM_NOTIFY after its reboot) and forgets it. It returns
// the requests of other clients granted as a result. Called with s.mu
// held.
func (s *Server) releaseClient(name string) []*lock.Waiter {
	_, woken := s.locks.ReleaseClient(lock.NLM, name)
	for k, b := range s.blocked {
		if k.owner.Client == name {
			s.dropBlocked(b)
		}
	}
	if h := s.hosts[name]; h != nil {
		clear(h.owners)
		clear(h.waiting)
		clear(h.shares)
		s.prune(h)
	}
	return woken
}

// hostsAt returns the names of the clients that locked from addr.
// Called with s.mu held.
func (s *Server) hostsAt(addr netip.Addr) []string {
	var names []string
	for name, h := range s.hosts {
		if slices.Contains(h.addrs, addr) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}
