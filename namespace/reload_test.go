package namespace

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gonfs/gonfs/exports"
	"github.com/gonfs/gonfs/fhandle"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/vfs/memfs"
)

// countingOpener opens memfs backends and remembers which exports it
// opened, so a test can tell a kept backend from a new one.
type countingOpener struct {
	mu     sync.Mutex
	opened []string
	fail   string // path whose open fails
}

func (o *countingOpener) open(e *exports.Export) (vfs.FS, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if e.Path == o.fail {
		return nil, errors.New("open failed")
	}
	o.opened = append(o.opened, e.Path)
	return memfs.New(memfs.Options{}), nil
}

func parse(t *testing.T, text string) *exports.Table {
	t.Helper()
	table, err := exports.Parse(strings.NewReader(text), "test")
	if err != nil {
		t.Fatal(err)
	}
	return table
}

// TestReload checks what a reload keeps and what it drops: kept exports
// keep backend and handles and get the new rules at once, even through an
// Export obtained before the reload; removed exports' handles stop
// resolving (a stale handle to clients); new exports get backends.
func TestReload(t *testing.T) {
	codec, err := fhandle.New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	op := &countingOpener{}
	ns, err := New(parse(t, `
/keep   10.0.0.0/8(rw)
/gone   10.0.0.0/8(rw)
/moved  10.0.0.0/8(rw)
`), codec, op.open)
	if err != nil {
		t.Fatal(err)
	}
	handle := func(p string) (*Export, []byte) {
		e, ok := ns.Find(p)
		if !ok {
			t.Fatalf("export %s missing", p)
		}
		return e, ns.Handle(nil, e, e.Root)
	}
	keepOld, keepFH := handle("/keep")
	_, goneFH := handle("/gone")
	_, movedFH := handle("/moved")
	caller := Caller{Addr: client, Flavor: exports.FlavorSys, UID: 1000, GID: 100}
	if a, err := ns.Authorize(context.Background(), keepOld, caller); err != nil || a.ReadOnly {
		t.Fatalf("before reload: %+v, %v; want read-write", a, err)
	}
	op.opened = nil

	next := parse(t, `
/keep   10.0.0.0/8(ro)
/new    10.0.0.0/8(rw)
`)
	res, err := ns.Reload(next)
	if err != nil {
		t.Fatal(err)
	}
	want := ReloadResult{Kept: []string{"/keep"}, Added: []string{"/new"}, Removed: []string{"/gone", "/moved"}}
	if !slices.Equal(res.Kept, want.Kept) || !slices.Equal(res.Added, want.Added) || !slices.Equal(res.Removed, want.Removed) {
		t.Fatalf("reload result %+v, want %+v", res, want)
	}
	if !slices.Equal(op.opened, []string{"/new"}) {
		t.Fatalf("opened %v, want only /new", op.opened)
	}
	if ns.Table() != next {
		t.Fatal("Table is not the new table")
	}

	// Kept: the old handle resolves to the same backend, same id.
	e, h, err := ns.Resolve(keepFH)
	if err != nil || e.ID != keepOld.ID || e.FS != keepOld.FS || string(h) != string(keepOld.Root) {
		t.Fatalf("kept handle: %v, %v; want the same export and backend", e, err)
	}
	// Rules change at once, also for the Export resolved before.
	for _, ex := range []*Export{keepOld, e} {
		if a, err := ns.Authorize(context.Background(), ex, caller); err != nil || !a.ReadOnly {
			t.Fatalf("after reload: %+v, %v; want read-only", a, err)
		}
	}
	// Removed: stale.
	for _, fh := range [][]byte{goneFH, movedFH} {
		if _, _, err := ns.Resolve(fh); !errors.Is(err, ErrUnknownExport) {
			t.Fatalf("removed export's handle: %v, want ErrUnknownExport", err)
		}
		if _, _, _, err := ns.ResolveAny(fh); !errors.Is(err, ErrUnknownExport) {
			t.Fatalf("ResolveAny of a removed export's handle: %v", err)
		}
	}
	// New: served, in the pseudo tree too.
	if _, ok := ns.Find("/new"); !ok {
		t.Fatal("/new not found")
	}
	if _, ok := ns.PseudoRoot().Child("new"); !ok {
		t.Fatal("/new not in the pseudo tree")
	}
	if _, ok := ns.PseudoRoot().Child("gone"); ok {
		t.Fatal("/gone still in the pseudo tree")
	}
	if got := len(ns.Exports()); got != 2 {
		t.Fatalf("%d exports, want 2", got)
	}
}

// TestReloadReplacedExport checks that an export whose directory changed
// under the same id gets a new backend and the old generation's Export is
// refused rather than served with the new rules.
func TestReloadReplacedExport(t *testing.T) {
	codec, _ := fhandle.New([]byte("0123456789abcdef0123456789abcdef"))
	op := &countingOpener{}
	ns, err := New(parse(t, "/a 10.0.0.0/8(rw,fsid=7)\n"), codec, op.open)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := ns.Find("/a")
	res, err := ns.Reload(parse(t, "/b 10.0.0.0/8(rw,fsid=7)\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Kept) != 0 || !slices.Equal(res.Added, []string{"/b"}) || !slices.Equal(res.Removed, []string{"/a"}) {
		t.Fatalf("reload result %+v", res)
	}
	caller := Caller{Addr: client, Flavor: exports.FlavorSys}
	if _, err := ns.Authorize(context.Background(), old, caller); !errors.Is(err, ErrUnknownExport) {
		t.Fatalf("old generation authorized: %v", err)
	}
}

// TestReloadFailureChangesNothing checks that a reload is all or nothing.
func TestReloadFailureChangesNothing(t *testing.T) {
	codec, _ := fhandle.New([]byte("0123456789abcdef0123456789abcdef"))
	op := &countingOpener{fail: "/bad"}
	before := parse(t, "/a 10.0.0.0/8(rw)\n")
	ns, err := New(before, codec, op.open)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{
		"/a 10.0.0.0/8(ro)\n/bad 10.0.0.0/8(rw)\n", // opener fails
	} {
		if _, err := ns.Reload(parse(t, text)); err == nil {
			t.Fatalf("reload of %q succeeded", text)
		}
		if ns.Table() != before || len(ns.Exports()) != 1 {
			t.Fatalf("failed reload of %q changed the namespace", text)
		}
	}
}

// TestReloadConcurrent runs reloads beside resolutions, for the race
// detector.
func TestReloadConcurrent(t *testing.T) {
	codec, _ := fhandle.New([]byte("0123456789abcdef0123456789abcdef"))
	op := &countingOpener{}
	ns, err := New(parse(t, "/a 10.0.0.0/8(rw)\n"), codec, op.open)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := ns.Find("/a")
	fh := ns.Handle(nil, e, e.Root)
	tables := []*exports.Table{parse(t, "/a 10.0.0.0/8(ro)\n/b 10.0.0.0/8(rw)\n"), parse(t, "/a 10.0.0.0/8(rw)\n")}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 50 {
			if _, err := ns.Reload(tables[i%2]); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 200 {
		got, _, err := ns.Resolve(fh)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ns.Authorize(context.Background(), got, Caller{Addr: client, Flavor: exports.FlavorSys}); err != nil {
			t.Fatal(err)
		}
		ns.PseudoRoot()
		ns.Exports()
	}
	wg.Wait()
}
