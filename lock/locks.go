package lock

import (
	"cmp"
	"slices"
	"sort"
)

// file is the state of one file: held locks, queued requests, shares.
type file struct {
	key FileKey
	// locks is sorted by start. Locks of one owner never overlap, and two
	// locks of one owner and one type never touch (they are merged), which
	// keeps every owner's set of ranges in one canonical form.
	locks   []entry
	waiters []*Waiter // arrival order
	shares  []share
}

// entry is one held lock range. maxEnd is the largest end among locks[0..i],
// which is non-decreasing, so the locks that may overlap a range are found
// by binary search instead of a scan from the first lock.
type entry struct {
	start, end uint64
	maxEnd     uint64
	owner      *owner
	excl       bool
}

func (e *entry) lock() Lock {
	return Lock{Owner: e.owner.id, Range: Range{e.start, e.end}, Exclusive: e.excl}
}

// overlapping calls fn with the index of every lock that shares a byte with
// [s, e], in order; fn returns false to stop. fn must not modify f.locks.
func (f *file) overlapping(s, e uint64, fn func(i int) bool) {
	i := sort.Search(len(f.locks), func(i int) bool { return f.locks[i].maxEnd >= s })
	for ; i < len(f.locks) && f.locks[i].start <= e; i++ {
		if f.locks[i].end >= s && !fn(i) {
			return
		}
	}
}

// heldConflict returns the index of the first lock of another owner than o
// that conflicts with a request for r, or -1. Two locks conflict when they
// overlap, belong to different owners and at least one is exclusive.
func (f *file) heldConflict(o *owner, r Range, excl bool) int {
	found := -1
	f.overlapping(r.start, r.end, func(i int) bool {
		e := &f.locks[i]
		if e.owner != o && (e.excl || excl) {
			found = i
			return false
		}
		return true
	})
	return found
}

// fixMax recomputes maxEnd from index lo on, after the locks at indexes
// lo..hi were replaced. Past hi the stored values are the old
// prefix maxima over an unchanged run of locks, so once a recomputed value
// equals the stored one every later stored value is right as well.
func (f *file) fixMax(lo, hi int) {
	var m uint64
	if lo > 0 {
		m = f.locks[lo-1].maxEnd
	}
	for i := lo; i < len(f.locks); i++ {
		m = max(m, f.locks[i].end)
		if i > hi && f.locks[i].maxEnd == m {
			return
		}
		f.locks[i].maxEnd = m
	}
}

// edit is a planned change to one owner's locks on one file: the indexes
// (ascending) of locks to remove and the locks to add in their place.
type edit struct {
	rm  []int
	add []entry
	win []entry // apply's scratch
	// frees is set when some byte goes from exclusive to shared or to
	// unlocked, which is when a queued request may become grantable.
	frees bool
}

// scratch returns the table's reusable edit, emptied. Edits never nest, and
// the table mutex is held, so one is enough.
func (t *Table) scratch() *edit {
	ed := &t.ed
	clear(ed.add) // no stale owner pointers
	clear(ed.win)
	*ed = edit{rm: ed.rm[:0], add: ed.add[:0], win: ed.win[:0]}
	return ed
}

func (ed *edit) net() int { return len(ed.add) - len(ed.rm) }

// planLock plans owner o taking r with type excl, POSIX style: o's locks of
// the same type that overlap or touch r are merged into one; o's locks of
// the other type lose the part inside r, keeping what sticks out on either
// side.
func (f *file) planLock(o *owner, r Range, excl bool, ed *edit) {
	lo, hi := r.start, r.end
	if lo > 0 {
		lo-- // also visit a lock ending just before r, to merge with it
	}
	if hi < eof {
		hi++
	}
	ns, ne := r.start, r.end
	f.overlapping(lo, hi, func(i int) bool {
		e := &f.locks[i]
		switch {
		case e.owner != o:
		case e.excl == excl:
			ed.rm = append(ed.rm, i)
			ns, ne = min(ns, e.start), max(ne, e.end)
		case e.start <= r.end && e.end >= r.start:
			ed.rm = append(ed.rm, i)
			ed.frees = ed.frees || e.excl
			ed.cut(e, r)
		}
		return true
	})
	ed.add = append(ed.add, entry{start: ns, end: ne, owner: o, excl: excl})
}

// planUnlock plans owner o releasing r: its locks lose the part inside r.
func (f *file) planUnlock(o *owner, r Range, ed *edit) {
	f.overlapping(r.start, r.end, func(i int) bool {
		e := &f.locks[i]
		if e.owner == o {
			ed.rm = append(ed.rm, i)
			ed.frees = true
			ed.cut(e, r)
		}
		return true
	})
}

// cut adds the parts of e outside r (which overlaps it).
func (ed *edit) cut(e *entry, r Range) {
	if e.start < r.start {
		ed.add = append(ed.add, entry{start: e.start, end: r.start - 1, owner: e.owner, excl: e.excl})
	}
	if e.end > r.end {
		ed.add = append(ed.add, entry{start: r.end + 1, end: e.end, owner: e.owner, excl: e.excl})
	}
}

// apply carries out ed for owner o on f and keeps the counters. The locks
// removed and added all lie in one window of f.locks; the window is rebuilt
// in scratch space and spliced in, so the tail of the slice moves at most
// once however many ranges were split or merged.
func (t *Table) apply(f *file, o *owner, ed *edit) {
	if len(ed.rm) == 0 && len(ed.add) == 0 {
		return
	}
	slices.SortFunc(ed.add, func(x, y entry) int { return cmp.Compare(x.start, y.start) })
	lo, hi := len(f.locks), 0 // the window is f.locks[lo:hi]
	if len(ed.rm) > 0 {
		lo, hi = ed.rm[0], ed.rm[len(ed.rm)-1]+1
	}
	for _, e := range ed.add {
		// After any locks with the same start, so equal starts keep
		// arrival order.
		i := sort.Search(len(f.locks), func(i int) bool { return f.locks[i].start > e.start })
		lo, hi = min(lo, i), max(hi, i)
	}
	w := ed.win[:0]
	k, a := 0, 0
	for i := lo; i < hi; i++ {
		if k < len(ed.rm) && ed.rm[k] == i {
			k++
			continue
		}
		for a < len(ed.add) && ed.add[a].start < f.locks[i].start {
			w = append(w, ed.add[a])
			a++
		}
		w = append(w, f.locks[i])
	}
	w = append(w, ed.add[a:]...)
	f.locks = slices.Replace(f.locks, lo, hi, w...)
	ed.win = w
	f.fixMax(lo, lo+len(w)-1)
	n := ed.net()
	t.nlocks += n
	o.client.locks += n
	t.ref(o, f, n)
}

// when o's client would go over MaxLocksPerClient. It reports whether a
// queued request may have become grantable.
func (t *Table) setLock(f *file, o *owner, r Range, excl, limit bool) (frees bool, err error) {
	ed := t.scratch()
	f.planLock(o, r, excl, ed)
	if n := ed.net(); limit && n > 0 && o.client.locks+n > t.maxLocks {
		return false, ErrTooManyLocks
	}
	t.apply(f, o, ed)
	return ed.frees, nil
}

// removeLocks releases r for o on f and reports whether anything changed.
func (t *Table) removeLocks(f *file, o *owner, r Range) bool {
	ed := t.scratch()
	f.planUnlock(o, r, ed)
	t.apply(f, o, ed)
	return ed.frees
}

// conflict returns what stands in the way of o (nil if o is not yet
// interned) taking r on f: the first conflicting held lock, else the
// request of the first queued waiter that reserves against it (see the
// package documentation), else nil.
func (t *Table) conflict(f *file, o *owner, r Range, excl bool) *Lock {
	if i := f.heldConflict(o, r, excl); i >= 0 {
		l := f.locks[i].lock()
		return &l
	}
	if len(f.waiters) == 0 {
		return nil
	}
	bl := f.blockers(len(f.waiters))
	for j, w := range f.waiters {
		if w.owner == o || !w.rng.Overlaps(r) || !(w.excl || excl) || hasOwner(bl[j], o) {
			continue
		}
		l := w.Lock()
		return &l
	}
	return nil
}

// Lock takes r on file for owner without blocking. If the request conflicts
// (see the package documentation for the rule), nothing changes and the
// first conflicting lock is returned. Otherwise the lock is installed,
// merging with and splitting the owner's own locks as POSIX does; if that
// turned an exclusive range shared, queued requests it lets through are
// granted and returned in woken. err is ErrTooManyLocks if the owner's
// client is at its limit.
func (t *Table) Lock(key FileKey, id Owner, r Range, exclusive bool) (conflict *Lock, woken []*Waiter, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if f := t.files[key]; f != nil {
		if c := t.conflict(f, t.owners[id], r, exclusive); c != nil {
			return c, nil, nil
		}
	}
	woken, err = t.grantNow(key, id, r, exclusive)
	return nil, woken, err
}

// grantNow installs a request already known to be grantable.
func (t *Table) grantNow(key FileKey, id Owner, r Range, exclusive bool) (woken []*Waiter, err error) {
	f, o := t.fileFor(key), t.ownerFor(id)
	frees, err := t.setLock(f, o, r, exclusive, true)
	if frees {
		woken = t.wake(f)
	}
	t.release(o, f)
	return woken, err
}

// Test reports what Lock would answer without changing anything: the first
// lock held by another owner that conflicts with r, else the request of the
// first queued waiter that reserves r against owner, else nil. The NLM
// TEST and NFSv4 LOCKT holder is the returned Lock's Owner.
func (t *Table) Test(key FileKey, id Owner, r Range, exclusive bool) *Lock {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.files[key]
	if f == nil {
		return nil
	}
	return t.conflict(f, t.owners[id], r, exclusive)
}

// Unlock releases r for owner on file, splitting a lock that extends past r
// on either side. Unlocking what is not locked is not an error (RFC 1813
// Appendix II, and POSIX). It returns the queued requests granted as a
// result, in queue order.
func (t *Table) Unlock(key FileKey, id Owner, r Range) (woken []*Waiter) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f, o := t.files[key], t.owners[id]
	if f == nil || o == nil {
		return nil
	}
	if t.removeLocks(f, o, r) {
		woken = t.wake(f)
	}
	t.release(o, f)
	return woken
}

func hasOwner(s []*owner, o *owner) bool {
	for _, x := range s {
		if x == o {
			return true
		}
	}
	return false
}
