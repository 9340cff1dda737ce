package state

import (
	"cmp"
	"slices"
)

// Tick does the time-driven work: it ends the grace period when its time
// is up, forgets unconfirmed records whose lease ran out, destroys expired
// clients that hold no state, and destroys courtesy clients that have been
// expired longer than Options.CourtesyLimit or that exceed
// Options.MaxCourtesyClients (longest expired first). Call it every few
// seconds; nothing depends on its exact rhythm, since lease checks compare
// times and do not wait for Tick.
//
// An expired client that holds opens or locks is a courtesy client: it
// keeps them until someone else's request conflicts with them (then only
// the conflicting state is revoked), until one of the limits above, or
// until it comes back, which makes it an ordinary client again. This is
// the "courteous server" behaviour RFC 8881 §8.3 allows.
func (m *Manager) Tick() Effects {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	var eff Effects
	if m.grace.active && !now.Before(m.grace.end) {
		m.grace.finish(&eff)
	}
	m.tickDelegs(now) // unreturned recalls are revoked (deleg.go)
	m.tick40(now)     // idle NFSv4.0 owners (clients40.go)
	var courtesy []*client
	for _, c := range m.clients {
		if !m.expired(c, now) {
			continue
		}
		switch {
		case !c.confirmed, c.live == 0:
			m.destroyClient(c, &eff)
		case now.Sub(c.lastRenew) > m.opts.Lease+m.opts.CourtesyLimit:
			m.destroyClient(c, &eff)
		default:
			courtesy = append(courtesy, c)
		}
	}
	if extra := len(courtesy) - m.opts.MaxCourtesyClients; extra > 0 {
		slices.SortFunc(courtesy, func(a, b *client) int {
			return cmp.Or(a.lastRenew.Compare(b.lastRenew), cmp.Compare(a.id, b.id))
		})
		for _, c := range courtesy[:extra] {
			m.destroyClient(c, &eff)
		}
	}
	return eff
}
