package memfs

import (
	"slices"
	"sort"
)

// dirent is one name in a directory. seq orders entries and makes cookies.
type dirent struct {
	name string
	seq  uint64
	n    *inode // nil once removed (a tombstone in directory.order)
}

// directory holds the entries of a directory inode.
type directory struct {
	byName  map[string]*dirent
	order   []*dirent // ascending seq; may hold tombstones
	dead    int       // tombstones in order
	nextSeq uint64
}

func (d *directory) lookup(name string) *inode {
	if e := d.byName[name]; e != nil {
		return e.n
	}
	return nil
}

func (d *directory) add(name string, n *inode) {
	e := &dirent{name: name, seq: d.nextSeq, n: n}
	d.nextSeq++
	d.byName[name] = e
	d.order = append(d.order, e) // seq only grows, so order stays sorted
}

// remove drops name, leaving a tombstone that a later remove compacts away
// once they are numerous, so removing many entries costs O(n) in total.
func (d *directory) remove(name string) {
	e := d.byName[name]
	if e == nil {
		return
	}
	delete(d.byName, name)
	e.n = nil
	d.dead++
	if d.dead > compactMinDel && d.dead > len(d.order)/2 {
		d.order = slices.DeleteFunc(d.order, func(e *dirent) bool { return e.n == nil })
		d.dead = 0
	}
}

func (d *directory) empty() bool { return len(d.byName) == 0 }

// after returns up to max live entries following cookie, in order.
func (d *directory) after(cookie uint64, max int) []*dirent {
	var start uint64
	if cookie >= firstCookie {
		start = cookie - firstCookie + 1
	}
	i := sort.Search(len(d.order), func(i int) bool { return d.order[i].seq >= start })
	var out []*dirent
	for ; i < len(d.order) && len(out) < max; i++ {
		if d.order[i].n != nil {
			out = append(out, d.order[i])
		}
	}
	return out
}

func cookieOf(e *dirent) uint64 { return e.seq + firstCookie }
