package lock

import "slices"

// Waiter is a queued blocking lock request (NLM LOCK with block set, or an
// NFSv4 READW_LT/WRITEW_LT the server chose to queue). It is immutable: the
// table never changes a Waiter after creating it, so its methods need no
// lock. When a Waiter is returned in a woken list its lock is already held.
type Waiter struct {
	file   FileKey
	owner  *owner
	rng    Range
	excl   bool
	cookie any
}

// File is the file the request is for.
func (w *Waiter) File() FileKey { return w.file }

// Lock is the requested lock (the held lock, once granted).
func (w *Waiter) Lock() Lock { return Lock{Owner: w.owner.id, Range: w.rng, Exclusive: w.excl} }

// Cookie is the value the caller passed to Wait, for example what it needs
// to send NLM_GRANTED.
func (w *Waiter) Cookie() any { return w.cookie }

// Wait is a blocking lock request. If it can be granted now (by the same
// rule as Lock) the lock is installed and granted is true. Otherwise a
// Waiter is queued at the back of the file's queue and returned; it will
// come back in the woken list of whichever later call grants it.
//
// A request identical (owner, range, type) to one already queued, as from a
// retransmitted NLM LOCK, returns the queued Waiter and its original cookie
// instead of queuing a second one.
//
// woken is non-empty only when granting this request turned an exclusive
// range of the owner's shared, letting other queued requests through. err
// is ErrTooManyLocks when the client is at its lock or waiter limit.
func (t *Table) Wait(key FileKey, id Owner, r Range, exclusive bool, cookie any) (granted bool, w *Waiter, woken []*Waiter, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f, o := t.files[key], t.owners[id]
	if f != nil {
		if o != nil {
			for _, q := range f.waiters {
				if q.owner == o && q.rng == r && q.excl == exclusive {
					return false, q, nil, nil
				}
			}
		}
		if t.conflict(f, o, r, exclusive) != nil {
			f, o = t.fileFor(key), t.ownerFor(id)
			if o.client.waiters >= t.maxWaiters {
				t.release(o, f)
				return false, nil, nil, ErrTooManyLocks
			}
			w = &Waiter{file: key, owner: o, rng: r, excl: exclusive, cookie: cookie}
			f.waiters = append(f.waiters, w)
			t.nwait++
			o.client.waiters++
			t.ref(o, f, 1)
			return false, w, nil, nil
		}
	}
	woken, err = t.grantNow(key, id, r, exclusive)
	return err == nil, nil, woken, err
}

// CancelWait removes the oldest queued request of owner for exactly r on
// file (NLM CANCEL). A request that has already been granted is not
// affected; the caller releases it with Unlock if it must. Removing a
// request can end its reservation, so it returns the requests granted as a
// result.
func (t *Table) CancelWait(key FileKey, id Owner, r Range) (cancelled bool, woken []*Waiter) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f, o := t.files[key], t.owners[id]
	if f == nil || o == nil {
		return false, nil
	}
	first := true
	t.removeWaiters(f, func(w *Waiter) bool {
		if first && w.owner == o && w.rng == r {
			first = false
			return true
		}
		return false
	})
	if cancelled = !first; cancelled {
		woken = t.wake(f)
	}
	t.release(o, f)
	return cancelled, woken
}

// removeWaiters drops the queued requests of f that match, without waking.
func (t *Table) removeWaiters(f *file, match func(*Waiter) bool) {
	k := 0
	for _, w := range f.waiters {
		if match(w) {
			t.nwait--
			w.owner.client.waiters--
			t.ref(w.owner, f, -1)
			continue
		}
		f.waiters[k] = w
		k++
	}
	clear(f.waiters[k:])
	f.waiters = f.waiters[:k]
}

// blockers computes, for the first n queued requests of f, the owners each
// one waits on: the owners of held locks it conflicts with, plus, for every
// earlier request it defers to, that request's owner and everything that
// one waits on. A request defers to an earlier conflicting request of
// another owner unless that request already waits on it (package
// documentation, "Queue fairness rule"). An empty set means grantable.
func (f *file) blockers(n int) [][]*owner {
	bl := make([][]*owner, n)
	for i := range n {
		bl[i] = f.waiterBlockers(i, bl)
	}
	return bl
}

func (f *file) waiterBlockers(i int, bl [][]*owner) []*owner {
	w := f.waiters[i]
	var bs []*owner
	add := func(o *owner) {
		if !hasOwner(bs, o) {
			bs = append(bs, o)
		}
	}
	f.overlapping(w.rng.start, w.rng.end, func(k int) bool {
		if e := &f.locks[k]; e.owner != w.owner && (e.excl || w.excl) {
			add(e.owner)
		}
		return true
	})
	for j := range i {
		p := f.waiters[j]
		if p.owner == w.owner || !p.rng.Overlaps(w.rng) || !(p.excl || w.excl) || hasOwner(bl[j], w.owner) {
			continue
		}
		add(p.owner)
		for _, o := range bl[j] {
			add(o)
		}
	}
	return bs
}

// wake grants, in queue order, every queued request of f that the rule lets
// through, installing its lock, and returns them. It starts over after each
// grant because a grant can change what earlier requests wait on (a
// downgrade can even let an earlier one through), so it leaves the queue
// with no grantable request in it. Every call that can free a range ends
// with wake.
func (t *Table) wake(f *file) (woken []*Waiter) {
	for len(f.waiters) > 0 {
		bl := make([][]*owner, 0, len(f.waiters))
		g := -1
		for i := range f.waiters {
			bl = append(bl, f.waiterBlockers(i, bl))
			if len(bl[i]) == 0 {
				g = i
				break
			}
		}
		if g < 0 {
			return woken
		}
		w := f.waiters[g]
		f.waiters = slices.Delete(f.waiters, g, g+1)
		t.nwait--
		w.owner.client.waiters--
		t.ref(w.owner, f, -1)
		// The limit was checked when the request was queued; a grant
		// must not fail.
		_, _ = t.setLock(f, w.owner, w.rng, w.excl, false)
		woken = append(woken, w)
	}
	return woken
}
