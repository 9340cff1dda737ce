package lock

import (
	"fmt"
	"testing"

	"pgregory.net/rapid"
)

// The property tests compare the table with a brute-force model over a small
// byte space: bytes 0..63 are themselves and "byte" 64 stands for every
// offset from 64 to EOF, which ranges either cover entirely or not at all.
const modelBytes = 65

type byteState uint8

const (
	unlocked byteState = iota
	shared
	exclusive
)

// model holds, per owner, the state of every byte.
type model struct {
	owners []Owner
	bytes  map[Owner]*[modelBytes]byteState
}

func newModel(owners []Owner) *model {
	m := &model{owners: owners, bytes: map[Owner]*[modelBytes]byteState{}}
	for _, o := range owners {
		m.bytes[o] = new([modelBytes]byteState)
	}
	return m
}

// conflicts reports whether o taking bytes s..e (model bytes) conflicts
// with what another owner holds.
func (m *model) conflicts(o Owner, s, e int, excl bool) bool {
	for _, p := range m.owners {
		if p == o {
			continue
		}
		for b := s; b <= e; b++ {
			st := m.bytes[p][b]
			if st == exclusive || (st == shared && excl) {
				return true
			}
		}
	}
	return false
}

func (m *model) set(o Owner, s, e int, st byteState) {
	for b := s; b <= e; b++ {
		m.bytes[o][b] = st
	}
}

// modelRange converts model bytes s..e to a Range.
func modelRange(s, e int) Range {
	if e == modelBytes-1 {
		return toEOF(uint64(s))
	}
	return span(uint64(s), uint64(e))
}

// drawRequest draws an owner, model bytes s..e and a lock type.
func drawRequest(t *rapid.T, owners []Owner) (o Owner, s, e int, excl bool) {
	o = rapid.SampledFrom(owners).Draw(t, "owner")
	s, e = drawRange(t)
	return o, s, e, rapid.Bool().Draw(t, "exclusive")
}

func stateOf(excl bool) byteState {
	if excl {
		return exclusive
	}
	return shared
}

func drawRange(t *rapid.T) (int, int) {
	s := rapid.IntRange(0, modelBytes-1).Draw(t, "start")
	e := rapid.IntRange(s, min(s+rapid.IntRange(0, modelBytes).Draw(t, "len"), modelBytes-1)).Draw(t, "end")
	return s, e
}

// compare checks that the table holds exactly the model's locks, and that
// Test agrees with the model for every byte, owner and type.
func compare(t *rapid.T, tb *Table, m *model) {
	if err := invariantErr(tb); err != nil {
		t.Fatal(err)
	}
	got := newModel(m.owners)
	for _, l := range tb.Locks(fileA) {
		bs := got.bytes[l.Owner]
		if bs == nil {
			t.Fatalf("lock of unknown owner %v", l)
		}
		st := stateOf(l.Exclusive)
		// Every range edge the table makes must come from an operation,
		// so the EOF tail is never cut.
		if l.Range.Start() > modelBytes-1 || (!l.Range.ToEOF() && l.Range.End() >= modelBytes-1) {
			t.Fatalf("lock %v cuts the EOF tail", l)
		}
		for b := int(l.Range.Start()); b <= int(min(l.Range.End(), modelBytes-1)); b++ {
			bs[b] = st
		}
	}
	for _, o := range m.owners {
		if *got.bytes[o] != *m.bytes[o] {
			t.Fatalf("owner %v holds\n%v\nmodel says\n%v\nlocks %v", o, *got.bytes[o], *m.bytes[o], tb.Locks(fileA))
		}
	}
	for _, o := range m.owners {
		for b := 0; b < modelBytes; b++ {
			for _, excl := range []bool{false, true} {
				c := tb.Test(fileA, o, modelRange(b, b), excl)
				if want := m.conflicts(o, b, b, excl); (c != nil) != want {
					t.Fatalf("Test(%v, byte %d, excl=%v) = %v, model says conflict=%v", o, b, excl, c, want)
				}
			}
		}
	}
}

// TestPropertyLockUnlock: random lock and unlock sequences by three owners
// (two protocols, one shared client string) agree with the model, byte by
// byte, after every step.
func TestPropertyLockUnlock(t *testing.T) {
	owners := []Owner{a1, v4, b1}
	rapid.Check(t, func(t *rapid.T) {
		tb := NewTable(Options{})
		m := newModel(owners)
		t.Repeat(map[string]func(*rapid.T){
			"lock": func(t *rapid.T) {
				o, s, e, excl := drawRequest(t, owners)
				c, woken, err := tb.Lock(fileA, o, modelRange(s, e), excl)
				if err != nil || woken != nil {
					t.Fatalf("Lock: %v, %v", err, woken)
				}
				if want := m.conflicts(o, s, e, excl); (c != nil) != want {
					t.Fatalf("Lock(%v, %d..%d, %v) conflict = %v, model says %v", o, s, e, excl, c, want)
				}
				if c == nil {
					m.set(o, s, e, stateOf(excl))
				}
			},
			"unlock": func(t *rapid.T) {
				o := rapid.SampledFrom(owners).Draw(t, "owner")
				s, e := drawRange(t)
				if woken := tb.Unlock(fileA, o, modelRange(s, e)); woken != nil {
					t.Fatalf("Unlock woke %v with nobody waiting", woken)
				}
				m.set(o, s, e, unlocked)
			},
			"unlockAll": func(t *rapid.T) {
				o := rapid.SampledFrom(owners).Draw(t, "owner")
				tb.UnlockAll(o)
				m.set(o, 0, modelBytes-1, unlocked)
			},
			"": func(t *rapid.T) { compare(t, tb, m) },
		})
	})
}

// TestPropertyWaiters: with blocking requests, cancels and client releases
// mixed in, the table never holds conflicting locks, never leaves a
// grantable request queued (both checked by invariantErr), installs exactly
// the locks it reports as granted, and its counters stay exact.
func TestPropertyWaiters(t *testing.T) {
	owners := []Owner{a1, a2, v4, b1}
	rapid.Check(t, func(t *rapid.T) {
		tb := NewTable(Options{})
		m := newModel(owners)
		queued := map[*Waiter]bool{}
		grant := func(t *rapid.T, woken []*Waiter) {
			for _, w := range woken {
				if !queued[w] {
					t.Fatalf("granted %v which was not queued", w.Lock())
				}
				delete(queued, w)
				l := w.Lock()
				m.set(l.Owner, int(l.Range.Start()), int(min(l.Range.End(), modelBytes-1)), stateOf(l.Exclusive))
			}
		}
		t.Repeat(map[string]func(*rapid.T){
			"lock": func(t *rapid.T) {
				o, s, e, excl := drawRequest(t, owners)
				c, woken, err := tb.Lock(fileA, o, modelRange(s, e), excl)
				if err != nil {
					t.Fatal(err)
				}
				if c == nil {
					// The request's own effect comes first, then grants.
					m.set(o, s, e, stateOf(excl))
				} else if !m.conflicts(o, s, e, excl) && len(queued) == 0 {
					t.Fatalf("refused by %v with no conflict and nobody queued", c)
				}
				grant(t, woken)
			},
			"wait": func(t *rapid.T) {
				o, s, e, excl := drawRequest(t, owners)
				before := len(tb.Waiting(fileA))
				granted, w, woken, err := tb.Wait(fileA, o, modelRange(s, e), excl, nil)
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case granted:
					m.set(o, s, e, stateOf(excl))
				case queued[w]:
					if len(tb.Waiting(fileA)) != before {
						t.Fatal("retransmission queued twice")
					}
				default:
					queued[w] = true
				}
				grant(t, woken)
			},
			"unlock": func(t *rapid.T) {
				o := rapid.SampledFrom(owners).Draw(t, "owner")
				s, e := drawRange(t)
				woken := tb.Unlock(fileA, o, modelRange(s, e))
				m.set(o, s, e, unlocked)
				grant(t, woken)
			},
			"cancel": func(t *rapid.T) {
				if len(queued) == 0 {
					t.Skip("nothing queued")
				}
				ws := tb.Waiting(fileA)
				w := rapid.SampledFrom(ws).Draw(t, "waiter")
				l := w.Lock()
				ok, woken := tb.CancelWait(fileA, l.Owner, l.Range)
				if !ok {
					t.Fatalf("cancel of queued %v failed", l)
				}
				// The oldest matching request went, which may be
				// another one with the same owner and range.
				for _, q := range ws {
					if q.Lock().Owner == l.Owner && q.Lock().Range == l.Range {
						delete(queued, q)
						break
					}
				}
				grant(t, woken)
			},
			"releaseClient": func(t *rapid.T) {
				o := rapid.SampledFrom(owners).Draw(t, "owner")
				_, woken := tb.ReleaseClient(o.Kind, o.Client)
				for _, p := range owners {
					if p.Kind == o.Kind && p.Client == o.Client {
						m.set(p, 0, modelBytes-1, unlocked)
					}
				}
				for w := range queued {
					if l := w.Lock(); l.Owner.Kind == o.Kind && l.Owner.Client == o.Client {
						delete(queued, w)
					}
				}
				grant(t, woken)
			},
			"": func(t *rapid.T) {
				if err := invariantErr(tb); err != nil {
					t.Fatal(err)
				}
				if n := len(tb.Waiting(fileA)); n != len(queued) {
					t.Fatalf("%d queued, model has %d", n, len(queued))
				}
				got := newModel(owners)
				for _, l := range tb.Locks(fileA) {
					got.set(l.Owner, int(l.Range.Start()), int(min(l.Range.End(), modelBytes-1)),
						stateOf(l.Exclusive))
				}
				for _, o := range owners {
					if *got.bytes[o] != *m.bytes[o] {
						t.Fatalf("owner %v holds\n%v\nmodel says\n%v", o, *got.bytes[o], *m.bytes[o])
					}
				}
			},
		})
	})
}

func (s byteState) String() string { return fmt.Sprint([...]string{".", "s", "X"}[s]) }
