package vfstest

import (
	"time"

	"github.com/gonfs/gonfs/vfs"
)

var attrTests = []test{
	{"SetAttrMode", testSetAttrMode},
	{"SetAttrOwner", testSetAttrOwner},
	{"SetAttrTimeClient", testSetAttrTimeClient},
	{"SetAttrTimeServer", testSetAttrTimeServer},
	{"SetAttrEmpty", testSetAttrEmpty},
	{"WriteUpdatesMtimeCtime", testWriteUpdatesMtimeCtime},
	{"ChmodUpdatesCtimeOnly", testChmodUpdatesCtimeOnly},
	{"ChangeAdvances", testChangeAdvances},
	{"SymlinkAttrNotFollowed", testSymlinkAttrNotFollowed},
}

func testSetAttrMode(e *env) {
	h := e.create(e.root, "f")
	d := e.mkdir(e.root, "d")
	for _, m := range []uint32{0o600, 0o755, 0o000, 0o4755, 0o2755, 0o1777, 0o644} {
		a := e.setattr(h, mode(m))
		if a.Mode != m {
			e.t.Errorf("SetAttr mode %o on file returned %o", m, a.Mode)
		}
		if g := e.attr(h).Mode; g != m {
			e.t.Errorf("GetAttr after mode %o = %o", m, g)
		}
		if a.Type != vfs.TypeRegular {
			e.t.Errorf("SetAttr mode changed the type to %v", a.Type)
		}
	}
	if a := e.setattr(d, mode(0o1777)); a.Mode != 0o1777 || a.Type != vfs.TypeDirectory {
		e.t.Errorf("SetAttr mode 1777 on dir returned %v %o", a.Type, a.Mode)
	}
}

func testSetAttrOwner(e *env) {
	e.needPrivilege()
	h := e.create(e.root, "f")
	a := e.setattr(h, vfs.SetAttr{UID: u32(1234), GID: u32(5678)})
	if a.UID != 1234 || a.GID != 5678 {
		e.t.Errorf("chown 1234:5678 gave %d:%d", a.UID, a.GID)
	}
	a = e.setattr(h, vfs.SetAttr{GID: u32(42)})
	if a.UID != 1234 || a.GID != 42 {
		e.t.Errorf("chgrp 42 gave %d:%d", a.UID, a.GID)
	}
	d := e.mkdir(e.root, "d")
	if a := e.setattr(d, vfs.SetAttr{UID: u32(7)}); a.UID != 7 || a.GID != 0 {
		e.t.Errorf("chown 7 of dir gave %d:%d", a.UID, a.GID)
	}
}

// timeEqual compares a stored time with the one set, at the backend's
// timestamp granularity.
func (e *env) timeEqual(got, want time.Time) bool {
	d := e.info().TimeDelta
	if d <= 0 {
		d = time.Nanosecond
	}
	return got.Truncate(d).Equal(want.Truncate(d))
}

func testSetAttrTimeClient(e *env) {
	h := e.create(e.root, "f")
	at := time.Date(2001, 2, 3, 4, 5, 6, 123456789, time.UTC)
	mt := time.Date(1999, 12, 31, 23, 59, 58, 987654321, time.UTC)
	a := e.setattr(h, vfs.SetAttr{Atime: vfs.TimeClient, AtimeTime: at, Mtime: vfs.TimeClient, MtimeTime: mt})
	if !e.timeEqual(a.Atime, at) || !e.timeEqual(a.Mtime, mt) {
		e.t.Errorf("SetAttr times returned atime %v mtime %v, want %v %v", a.Atime, a.Mtime, at, mt)
	}
	g := e.attr(h)
	if !e.timeEqual(g.Atime, at) || !e.timeEqual(g.Mtime, mt) {
		e.t.Errorf("GetAttr times atime %v mtime %v, want %v %v", g.Atime, g.Mtime, at, mt)
	}
	// Only mtime: atime stays.
	mt2 := mt.Add(time.Hour)
	g = e.setattr(h, vfs.SetAttr{Mtime: vfs.TimeClient, MtimeTime: mt2})
	if !e.timeEqual(g.Atime, at) || !e.timeEqual(g.Mtime, mt2) {
		e.t.Errorf("mtime-only SetAttr: atime %v mtime %v, want %v %v", g.Atime, g.Mtime, at, mt2)
	}
}

func testSetAttrTimeServer(e *env) {
	h := e.create(e.root, "f")
	e.age(h)
	before := e.opts.now()
	a := e.setattr(h, vfs.SetAttr{Atime: vfs.TimeServer, Mtime: vfs.TimeServer})
	after := e.opts.now()
	// Allow a second either way for filesystems whose timestamps come from
	// a coarse clock (Linux stamps files with the jiffy-granular coarse
	// clock, which may lag the one Now reads).
	for _, tm := range []time.Time{a.Atime, a.Mtime} {
		if tm.Before(before.Add(-time.Second)) || tm.After(after.Add(time.Second)) {
			e.t.Errorf("TimeServer set %v, want between %v and %v", tm, before, after)
		}
	}
	if g := e.attr(h); !g.Mtime.Equal(a.Mtime) {
		e.t.Errorf("GetAttr mtime %v differs from SetAttr's %v", g.Mtime, a.Mtime)
	}
}

func testSetAttrEmpty(e *env) {
	h := e.create(e.root, "f")
	e.write(h, 0, []byte("abc"))
	want := e.attr(h)
	a := e.setattr(h, vfs.SetAttr{})
	if a.Size != 3 || a.Mode != want.Mode || a.FileID != want.FileID {
		e.t.Errorf("empty SetAttr returned %+v, want %+v", a, want)
	}
}

func testWriteUpdatesMtimeCtime(e *env) {
	h := e.create(e.root, "f")
	e.age(h)
	before := e.attr(h)
	e.write(h, 0, []byte("data"))
	a := e.attr(h)
	if !a.Mtime.After(old) {
		e.t.Errorf("Write left mtime at %v", a.Mtime)
	}
	if a.Ctime.Before(before.Ctime) {
		e.t.Errorf("Write moved ctime back from %v to %v", before.Ctime, a.Ctime)
	}
	e.changed(h, before.Change, "Write")
}

func testChmodUpdatesCtimeOnly(e *env) {
	h := e.create(e.root, "f")
	e.age(h)
	before := e.attr(h)
	a := e.setattr(h, mode(0o600))
	if !a.Mtime.Equal(before.Mtime) || !a.Atime.Equal(before.Atime) {
		e.t.Errorf("chmod changed mtime/atime: %v/%v, was %v/%v", a.Mtime, a.Atime, before.Mtime, before.Atime)
	}
	if a.Ctime.Before(before.Ctime) {
		e.t.Errorf("chmod moved ctime back from %v to %v", before.Ctime, a.Ctime)
	}
	e.changed(h, before.Change, "chmod")
	// Setting times is an attribute change too: ctime, not mtime, records it.
	if a.Ctime.Equal(old) {
		e.t.Errorf("ctime equals the client-set mtime")
	}
}

// testChangeAdvances runs every modifying operation and checks the Change
// attribute of each object it modifies.
func testChangeAdvances(e *env) {
	d := e.mkdir(e.root, "d")
	d2 := e.mkdir(e.root, "d2")
	f := e.create(d, "f")
	steps := []struct {
		what string
		do   func() error
		objs []vfs.Handle
	}{
		{"write", func() error { _, _, err := e.fs.Write(e.ctx, root(), f, 0, []byte("x"), vfs.Unstable); return err }, []vfs.Handle{f}},
		{"write again", func() error { _, _, err := e.fs.Write(e.ctx, root(), f, 0, []byte("y"), vfs.Unstable); return err }, []vfs.Handle{f}},
		{"chmod", func() error { _, err := e.fs.SetAttr(e.ctx, root(), f, mode(0o600)); return err }, []vfs.Handle{f}},
		{"truncate", func() error { _, err := e.fs.SetAttr(e.ctx, root(), f, vfs.SetAttr{Size: u64(100)}); return err }, []vfs.Handle{f}},
		{"set mtime", func() error {
			_, err := e.fs.SetAttr(e.ctx, root(), f, vfs.SetAttr{Mtime: vfs.TimeClient, MtimeTime: old})
			return err
		}, []vfs.Handle{f}},
		{"create", func() error { _, _, _, err := e.fs.Create(e.ctx, root(), d, "g", mode(0o644), true); return err }, []vfs.Handle{d}},
		{"mkdir", func() error { _, _, err := e.fs.Mkdir(e.ctx, root(), d, "sub", mode(0o755)); return err }, []vfs.Handle{d}},
		{"symlink", func() error { _, _, err := e.fs.Symlink(e.ctx, root(), d, "ln", "f", vfs.SetAttr{}); return err }, []vfs.Handle{d}},
		{"mknod", func() error {
			_, _, err := e.fs.Mknod(e.ctx, root(), d, "fifo", vfs.TypeFIFO, mode(0o644), 0, 0)
			return err
		}, []vfs.Handle{d}},
		{"link", func() error { return e.fs.Link(e.ctx, root(), f, d2, "f2") }, []vfs.Handle{f, d2}},
		{"rename across", func() error { return e.fs.Rename(e.ctx, root(), d, "g", d2, "g") }, []vfs.Handle{d, d2}},
		{"rename within", func() error { return e.fs.Rename(e.ctx, root(), d2, "g", d2, "g2") }, []vfs.Handle{d2}},
		{"remove link", func() error { return e.fs.Remove(e.ctx, root(), d2, "f2") }, []vfs.Handle{d2, f}},
		{"remove", func() error { return e.fs.Remove(e.ctx, root(), d, "ln") }, []vfs.Handle{d}},
		{"rmdir", func() error { return e.fs.Rmdir(e.ctx, root(), d, "sub") }, []vfs.Handle{d}},
	}
	for _, s := range steps {
		before := make([]uint64, len(s.objs))
		for i, h := range s.objs {
			before[i] = e.attr(h).Change
		}
		if err := s.do(); err != nil {
			e.t.Fatalf("%s: %v", s.what, err)
		}
		for i, h := range s.objs {
			e.changed(h, before[i], s.what)
		}
	}
	// Reading does not change anything.
	c := e.attr(f).Change
	e.read(f, 0, 10)
	e.lookup(d, "f")
	e.list(d, true)
	if got := e.attr(f).Change; got != c {
		e.t.Errorf("read-only operations changed Change from %d to %d", c, got)
	}
}

// testSymlinkAttrNotFollowed: attribute changes on a symlink apply to the
// link (or fail), never to its target.
func testSymlinkAttrNotFollowed(e *env) {
	t := e.create(e.root, "target")
	ln := e.symlink(e.root, "ln", "target")
	want := e.attr(t)
	_, _ = e.fs.SetAttr(e.ctx, root(), ln, mode(0o600))
	_, _ = e.fs.SetAttr(e.ctx, root(), ln, vfs.SetAttr{Mtime: vfs.TimeClient, MtimeTime: old})
	if !e.opts.Unprivileged {
		_, _ = e.fs.SetAttr(e.ctx, root(), ln, vfs.SetAttr{UID: u32(99)})
	}
	got := e.attr(t)
	if got.Mode != want.Mode || got.UID != want.UID || !got.Mtime.Equal(want.Mtime) {
		e.t.Errorf("SetAttr on a symlink changed its target: %+v, was %+v", got, want)
	}
}
