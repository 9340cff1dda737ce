package lock

import (
	"fmt"
	"maps"
	"testing"
)

// Owners used across tests. a1 and a2 belong to the same NLM client; v4
// has the same Client and ID strings as a1 but is a different owner.
var (
	a1 = Owner{Kind: NLM, Client: "hostA", ID: "svid1"}
	a2 = Owner{Kind: NLM, Client: "hostA", ID: "svid2"}
	b1 = Owner{Kind: NLM, Client: "hostB", ID: "svid1"}
	v4 = Owner{Kind: NFS4, Client: "hostA", ID: "svid1"}
	c1 = Owner{Kind: NFS4, Client: "clientC", ID: "lo1"}
)

// span is Span for tests, where the arguments are known to be valid.
func span(s, e uint64) Range {
	r, err := Span(s, e)
	if err != nil {
		panic(err)
	}
	return r
}

func toEOF(s uint64) Range { return span(s, eof) }

// checkInvariants verifies the internal consistency of t: sort order and
// maxEnd, the canonical form of each owner's locks, that no two held locks
// conflict, that every counter and reference count agrees with the data,
// that nothing empty is kept, and that no queued request is grantable.
func checkInvariants(tb testing.TB, t *Table) {
	tb.Helper()
	if err := invariantErr(t); err != nil {
		tb.Fatal(err)
	}
}

func invariantErr(t *Table) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	nlocks, nwait, nshares := 0, 0, 0
	refs := map[*owner]map[*file]int{}
	clientLocks := map[*client]int{}
	clientWait := map[*client]int{}
	bump := func(o *owner, f *file) {
		if refs[o] == nil {
			refs[o] = map[*file]int{}
		}
		refs[o][f]++
	}
	for key, f := range t.files {
		if f.key != key {
			return fmt.Errorf("file %q stored under %q", f.key, key)
		}
		if len(f.locks)+len(f.waiters)+len(f.shares) == 0 {
			return fmt.Errorf("empty file %q kept", key)
		}
		var m uint64
		for i, e := range f.locks {
			if e.start > e.end {
				return fmt.Errorf("%q: lock %d has start > end", key, i)
			}
			if i > 0 && f.locks[i-1].start > e.start {
				return fmt.Errorf("%q: locks not sorted at %d", key, i)
			}
			m = max(m, e.end)
			if e.maxEnd != m {
				return fmt.Errorf("%q: maxEnd %d at %d, want %d", key, e.maxEnd, i, m)
			}
			for j := range i {
				p := f.locks[j]
				overlap := p.start <= e.end && e.start <= p.end
				touch := (p.end != eof && p.end+1 == e.start) || (e.end != eof && e.end+1 == p.start)
				switch {
				case p.owner == e.owner && overlap:
					return fmt.Errorf("%q: owner %v has overlapping locks %v %v", key, e.owner.id, p.lock(), e.lock())
				case p.owner == e.owner && touch && p.excl == e.excl:
					return fmt.Errorf("%q: owner %v has unmerged locks %v %v", key, e.owner.id, p.lock(), e.lock())
				case p.owner != e.owner && overlap && (p.excl || e.excl):
					return fmt.Errorf("%q: conflicting locks held: %v %v", key, p.lock(), e.lock())
				}
			}
			nlocks++
			clientLocks[e.owner.client]++
			bump(e.owner, f)
		}
		for _, w := range f.waiters {
			nwait++
			clientWait[w.owner.client]++
			bump(w.owner, f)
		}
		for _, s := range f.shares {
			nshares++
			bump(s.owner, f)
		}
		for i, b := range f.blockers(len(f.waiters)) {
			if len(b) == 0 {
				return fmt.Errorf("%q: waiter %d %v is grantable but queued", key, i, f.waiters[i].Lock())
			}
		}
	}
	if nlocks != t.nlocks || nwait != t.nwait || nshares != t.nshares {
		return fmt.Errorf("counters locks/waiters/shares = %d/%d/%d, counted %d/%d/%d",
			t.nlocks, t.nwait, t.nshares, nlocks, nwait, nshares)
	}
	nowners := 0
	for key, c := range t.clients {
		if c.key != key || len(c.owners) == 0 {
			return fmt.Errorf("client %v: bad key or no owners", key)
		}
		if c.locks != clientLocks[c] || c.waiters != clientWait[c] {
			return fmt.Errorf("client %v: counters %d/%d, counted %d/%d", key, c.locks, c.waiters, clientLocks[c], clientWait[c])
		}
		for o := range c.owners {
			nowners++
			if t.owners[o.id] != o || o.client != c {
				return fmt.Errorf("owner %v not indexed", o.id)
			}
			if len(o.refs) == 0 {
				return fmt.Errorf("owner %v with no state kept", o.id)
			}
			if !maps.Equal(o.refs, refs[o]) {
				return fmt.Errorf("owner %v: refs %v, counted %v", o.id, o.refs, refs[o])
			}
		}
	}
	if nowners != len(t.owners) {
		return fmt.Errorf("%d owners indexed, %d reachable from clients", len(t.owners), nowners)
	}
	return nil
}

// grantedLocks returns the requested locks of ws, for comparisons.
func grantedLocks(ws []*Waiter) []Lock {
	var out []Lock
	for _, w := range ws {
		out = append(out, w.Lock())
	}
	return out
}
