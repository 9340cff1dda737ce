package vfstest

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"

	"github.com/gonfs/gonfs/vfs"
)

var readDirTests = []test{
	{"ReadDirAll", testReadDirAll},
	{"ReadDirEmpty", testReadDirEmpty},
	{"ReadDirResume", testReadDirResume},
	{"ReadDirStop", testReadDirStop},
	{"ReadDirPlus", testReadDirPlus},
	{"ReadDirChangingDir", testReadDirChangingDir},
	{"ReadDirBig", testReadDirBig},
}

// checkEntries checks what every listing must satisfy: no "." or "..", no
// name twice, valid cookies.
func (e *env) checkEntries(ents []vfs.DirEntry) {
	e.t.Helper()
	seen := map[string]bool{}
	for _, d := range ents {
		if d.Name == "." || d.Name == ".." {
			e.t.Errorf("ReadDir yielded %q", d.Name)
		}
		if seen[d.Name] {
			e.t.Errorf("ReadDir yielded %q twice", d.Name)
		}
		seen[d.Name] = true
		if d.Cookie < 3 {
			e.t.Errorf("entry %q has cookie %d; 0, 1 and 2 are reserved", d.Name, d.Cookie)
		}
	}
}

func testReadDirAll(e *env) {
	d := e.mkdir(e.root, "d")
	want := map[string]vfs.FileType{}
	for i := range 20 {
		name := fmt.Sprintf("f%02d", i)
		e.create(d, name)
		want[name] = vfs.TypeRegular
	}
	e.mkdir(d, "sub")
	want["sub"] = vfs.TypeDirectory
	e.symlink(d, "ln", "f00")
	want["ln"] = vfs.TypeSymlink
	ents := e.list(d, false)
	e.checkEntries(ents)
	if len(ents) != len(want) {
		e.t.Errorf("ReadDir yielded %d entries, want %d", len(ents), len(want))
	}
	for _, ent := range ents {
		typ, ok := want[ent.Name]
		if !ok {
			e.t.Errorf("ReadDir yielded unknown %q", ent.Name)
			continue
		}
		_, a := e.lookup(d, ent.Name)
		if ent.FileID != a.FileID {
			e.t.Errorf("%q: FileID %d, Lookup says %d", ent.Name, ent.FileID, a.FileID)
		}
		if ent.Attr.Type != 0 && ent.Attr.Type != typ {
			e.t.Errorf("%q: Type %v, want %v", ent.Name, ent.Attr.Type, typ)
		}
	}
}

func testReadDirEmpty(e *env) {
	d := e.mkdir(e.root, "d")
	if ents := e.list(d, true); len(ents) != 0 {
		e.t.Errorf("empty dir yields %v", ents)
	}
}

// testReadDirResume continues a listing from every cookie it returned.
func testReadDirResume(e *env) {
	d := e.mkdir(e.root, "d")
	for i := range 30 {
		e.create(d, fmt.Sprintf("f%02d", i))
	}
	all := e.list(d, false)
	for i, ent := range all {
		var rest []string
		err := e.fs.ReadDir(e.ctx, root(), d, ent.Cookie, false, func(de *vfs.DirEntry) bool {
			rest = append(rest, de.Name)
			return true
		})
		if err != nil {
			e.t.Fatalf("ReadDir from cookie %d: %v", ent.Cookie, err)
		}
		var want []string
		for _, w := range all[i+1:] {
			want = append(want, w.Name)
		}
		if !slices.Equal(rest, want) {
			e.t.Fatalf("ReadDir after %q (cookie %d) = %v, want %v", ent.Name, ent.Cookie, rest, want)
		}
	}
}

func testReadDirStop(e *env) {
	d := e.mkdir(e.root, "d")
	for i := range 10 {
		e.create(d, fmt.Sprintf("f%d", i))
	}
	calls := 0
	err := e.fs.ReadDir(e.ctx, root(), d, 0, false, func(*vfs.DirEntry) bool {
		calls++
		return calls < 3
	})
	if err != nil || calls != 3 {
		e.t.Errorf("ReadDir stopped after %d calls (err %v), want 3", calls, err)
	}
}

func testReadDirPlus(e *env) {
	d := e.mkdir(e.root, "d")
	f := e.create(d, "f")
	e.write(f, 0, []byte("12345"))
	e.mkdir(d, "sub")
	e.symlink(d, "ln", "target")
	ents := e.list(d, true)
	e.checkEntries(ents)
	if len(ents) != 3 {
		e.t.Fatalf("ReadDir plus yielded %d entries, want 3", len(ents))
	}
	for _, ent := range ents {
		h, a := e.lookup(d, ent.Name)
		e.checkHandle(ent.Handle, "ReadDir plus")
		if !bytes.Equal(ent.Handle, h) {
			e.t.Errorf("%q: handle %x, Lookup's %x", ent.Name, ent.Handle, h)
		}
		g := ent.Attr
		if g.FileID != a.FileID || g.Type != a.Type || g.Size != a.Size || g.Mode != a.Mode || g.Nlink != a.Nlink || g.FileID != ent.FileID {
			e.t.Errorf("%q: ReadDir plus attr %+v, GetAttr %+v", ent.Name, g, a)
		}
	}
}

// testReadDirChangingDir reads a 200-entry directory a few entries at a
// time while entries are removed and added between calls. Cookies must stay
// valid: every entry present throughout is yielded exactly once, and no
// entry is yielded twice.
func testReadDirChangingDir(e *env) {
	d := e.mkdir(e.root, "d")
	const n = 200
	present := map[string]bool{}
	for i := range n {
		name := fmt.Sprintf("orig%03d", i)
		e.create(d, name)
		present[name] = true
	}
	stable := maps.Clone(present) // never removed during the listing
	r := rand.New(rand.NewPCG(3, 4))
	seen := map[string]int{}
	everExisted := maps.Clone(present)
	var cookie uint64
	added := 0
	for round := 0; ; round++ {
		batch := 0
		done := true
		err := e.fs.ReadDir(e.ctx, root(), d, cookie, false, func(de *vfs.DirEntry) bool {
			seen[de.Name]++
			cookie = de.Cookie
			batch++
			if batch == 7 {
				done = false
				return false
			}
			return true
		})
		if err != nil {
			e.t.Fatalf("ReadDir round %d: %v", round, err)
		}
		if done {
			break
		}
		if round > 10*n {
			e.t.Fatalf("listing does not end")
		}
		// Remove two random entries (seen or not) and add two.
		for range 2 {
			names := sortedKeys(present)
			victim := names[r.IntN(len(names))]
			if err := e.fs.Remove(e.ctx, root(), d, victim); err != nil {
				e.t.Fatal(err)
			}
			delete(present, victim)
			delete(stable, victim)
			added++
			name := fmt.Sprintf("new%04d", added)
			e.create(d, name)
			present[name] = true
			everExisted[name] = true
		}
	}
	for name, c := range seen {
		if c > 1 {
			e.t.Errorf("%q yielded %d times", name, c)
		}
		if !everExisted[name] {
			e.t.Errorf("yielded %q, which never existed", name)
		}
	}
	for name := range stable {
		if seen[name] != 1 {
			e.t.Errorf("%q, present throughout, yielded %d times", name, seen[name])
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// testReadDirBig lists a large directory completely, both in one call and
// resuming every 100 entries.
func testReadDirBig(e *env) {
	n := e.opts.bigDir()
	d := e.mkdir(e.root, "d")
	for i := range n {
		name := fmt.Sprintf("entry-%05d", i)
		if _, _, _, err := e.fs.Create(e.ctx, root(), d, name, mode(0o644), true); err != nil {
			e.t.Fatalf("Create %s: %v", name, err)
		}
	}
	ents := e.list(d, false)
	e.checkEntries(ents)
	if len(ents) != n {
		e.t.Fatalf("ReadDir yielded %d entries, want %d", len(ents), n)
	}
	seen := make(map[string]bool, n)
	var cookie uint64
	for {
		count := 0
		err := e.fs.ReadDir(e.ctx, root(), d, cookie, true, func(de *vfs.DirEntry) bool {
			if seen[de.Name] {
				e.t.Fatalf("%q yielded twice", de.Name)
			}
			seen[de.Name] = true
			cookie = de.Cookie
			count++
			return count < 100
		})
		if err != nil {
			e.t.Fatal(err)
		}
		if count < 100 {
			break
		}
	}
	if len(seen) != n {
		e.t.Errorf("resumed listing yielded %d entries, want %d", len(seen), n)
	}
}
