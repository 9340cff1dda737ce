package vfstest

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"syscall"
	"testing"

	"github.com/gonfs/gonfs/vfs"
)

// RunExt runs the conformance checks of the optional interfaces of
// vfs/ext.go (Seeker, Allocator, RangeCopier, Cloner, Xattrer) as subtests
// of t, with the same constructor contract as Run. A check of an interface
// the backend does not implement is skipped with the reason, and so is one
// the underlying store refuses as a whole (ENOTSUP: a filesystem without
// hole punching, reflinks or user xattrs).
func RunExt(t *testing.T, newFS func(t *testing.T) vfs.FS, opts Options) {
	t.Helper()
	for _, tc := range extTests {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFS(t)
			e := &env{t: t, fs: fs, opts: opts, ctx: t.Context()}
			e.root = fs.Root()
			tc.fn(e)
		})
	}
}

var extTests = []test{
	{"SeekDataHole", testSeekDataHole},
	{"SeekErrors", testSeekErrors},
	{"Deallocate", testDeallocate},
	{"Allocate", testAllocate},
	{"AllocatePerm", testAllocatePerm},
	{"CopyRange", testCopyRange},
	{"CopyRangeErrors", testCopyRangeErrors},
	{"Clone", testClone},
	{"Xattrs", testXattrs},
	{"XattrFlags", testXattrFlags},
	{"XattrLimits", testXattrLimits},
	{"XattrFileTypes", testXattrFileTypes},
	{"XattrPerm", testXattrPerm},
}

const mib = 1 << 20

func (e *env) seeker() vfs.Seeker {
	e.t.Helper()
	s, ok := e.fs.(vfs.Seeker)
	if !ok {
		e.t.Skip("backend does not implement vfs.Seeker")
	}
	return s
}

func (e *env) allocator() vfs.Allocator {
	e.t.Helper()
	a, ok := e.fs.(vfs.Allocator)
	if !ok {
		e.t.Skip("backend does not implement vfs.Allocator")
	}
	return a
}

func (e *env) copier() vfs.RangeCopier {
	e.t.Helper()
	c, ok := e.fs.(vfs.RangeCopier)
	if !ok {
		e.t.Skip("backend does not implement vfs.RangeCopier")
	}
	return c
}

func (e *env) xattrer() vfs.Xattrer {
	e.t.Helper()
	x, ok := e.fs.(vfs.Xattrer)
	if !ok {
		e.t.Skip("backend does not implement vfs.Xattrer")
	}
	return x
}

// pattern returns n deterministic pseudo-random bytes.
func pattern(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// sparse makes a file with 4 KiB of data at 0 and at 1 MiB, and a hole
// between.
func (e *env) sparse(name string) vfs.Handle {
	e.t.Helper()
	h := e.create(e.root, name)
	e.write(h, 0, bytes.Repeat([]byte{'a'}, 4096))
	e.write(h, mib, bytes.Repeat([]byte{'b'}, 4096))
	return h
}

func (e *env) seek(h vfs.Handle, off uint64, w vfs.SeekWhence) (uint64, error) {
	return e.seeker().Seek(e.ctx, root(), h, off, w)
}

func (e *env) mustSeek(h vfs.Handle, off uint64, w vfs.SeekWhence) uint64 {
	e.t.Helper()
	pos, err := e.seek(h, off, w)
	if err != nil {
		e.t.Fatalf("Seek(%d, %v): %v", off, w, err)
	}
	return pos
}

// testSeekDataHole checks lseek(2) SEEK_DATA/SEEK_HOLE positions on a
// sparse file (RFC 7862 §15.11): data at 0 and 1 MiB, the hole between
// found at the end of the first data (a backend may round it up to its
// block size), and a virtual hole at the end of the file.
func testSeekDataHole(e *env) {
	e.seeker()
	h := e.sparse("f")
	size := uint64(mib + 4096)
	if got := e.mustSeek(h, 0, vfs.SeekData); got != 0 {
		e.t.Errorf("SeekData(0) = %d, want 0", got)
	}
	if got := e.mustSeek(h, 100, vfs.SeekData); got != 100 {
		e.t.Errorf("SeekData(100) = %d, want 100 (inside data)", got)
	}
	if got := e.mustSeek(h, 0, vfs.SeekHole); got < 4096 || got > mib {
		e.t.Errorf("SeekHole(0) = %d, want in [4096, %d]", got, mib)
	}
	if got := e.mustSeek(h, 8192, vfs.SeekData); got != mib {
		e.t.Errorf("SeekData(8192) = %d, want %d", got, mib)
	}
	if got := e.mustSeek(h, 8192, vfs.SeekHole); got != 8192 {
		e.t.Errorf("SeekHole(8192) = %d, want 8192 (inside the hole)", got)
	}
	if got := e.mustSeek(h, mib, vfs.SeekHole); got != size {
		e.t.Errorf("SeekHole(1 MiB) = %d, want the size %d (virtual hole at EOF)", got, size)
	}
	// Past the last data only holes remain.
	e.setattr(h, vfs.SetAttr{Size: u64(3 * mib)})
	if _, err := e.seek(h, 2*mib, vfs.SeekData); !isErrno(err, syscall.ENXIO) {
		e.t.Errorf("SeekData in the trailing hole: err = %v, want ENXIO", err)
	}
	if got := e.mustSeek(h, 2*mib, vfs.SeekHole); got != 2*mib {
		e.t.Errorf("SeekHole(2 MiB) in the trailing hole = %d, want %d", got, 2*mib)
	}
}

func testSeekErrors(e *env) {
	e.seeker()
	h := e.create(e.root, "f")
	e.write(h, 0, []byte("0123456789"))
	for _, w := range []vfs.SeekWhence{vfs.SeekData, vfs.SeekHole} {
		for _, off := range []uint64{10, 11, 1 << 40, 1<<64 - 1} {
			if _, err := e.seek(h, off, w); !isErrno(err, syscall.ENXIO) {
				e.t.Errorf("Seek(%d, %v) past EOF: err = %v, want ENXIO", off, w, err)
			}
		}
	}
	empty := e.create(e.root, "empty")
	if _, err := e.seek(empty, 0, vfs.SeekHole); !isErrno(err, syscall.ENXIO) {
		e.t.Errorf("SeekHole(0) of an empty file: err = %v, want ENXIO", err)
	}
	d := e.mkdir(e.root, "d")
	_, err := e.seek(d, 0, vfs.SeekData)
	wantErr(e.t, err, syscall.EISDIR, "Seek on a directory")

	if e.opts.Unprivileged {
		return
	}
	e.openRoot()
	e.setattr(h, mode(0o600))
	_, err = e.seeker().Seek(e.ctx, user(), h, 0, vfs.SeekData)
	wantErr(e.t, err, syscall.EACCES, "Seek without read permission")
}

// allocErr skips the test when the store cannot do what was asked.
func (e *env) allocErr(err error, what string) {
	e.t.Helper()
	if isErrno(err, syscall.ENOTSUP) {
		e.t.Skipf("%s: the store cannot (%v)", what, err)
	}
	if err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
}

// testDeallocate punches holes: they read as zeros, the rest is intact,
// the size never changes, and Seek sees the hole (RFC 7862 §15.4).
func testDeallocate(e *env) {
	a := e.allocator()
	h := e.create(e.root, "f")
	data := pattern(1, 256<<10)
	e.write(h, 0, data)
	e.allocErr(a.Deallocate(e.ctx, root(), h, 64<<10, 64<<10), "Deallocate")
	want := slices.Clone(data)
	clear(want[64<<10 : 128<<10])
	e.wantContent(h, want)
	if got := e.attr(h).Size; got != 256<<10 {
		e.t.Errorf("Size after Deallocate = %d, want %d", got, 256<<10)
	}
	if s, ok := e.fs.(vfs.Seeker); ok {
		if got, err := s.Seek(e.ctx, root(), h, 0, vfs.SeekHole); err != nil || got != 64<<10 {
			e.t.Errorf("SeekHole after punching [64K, 128K) = %d, %v; want 65536", got, err)
		}
	}
	// A range that runs past the end is punched up to it; the size stays.
	e.allocErr(a.Deallocate(e.ctx, root(), h, 200<<10, 10*mib), "Deallocate past EOF")
	clear(want[200<<10:])
	e.wantContent(h, want)
	// Unaligned ranges zero exactly their bytes.
	e.allocErr(a.Deallocate(e.ctx, root(), h, 3, 5), "Deallocate unaligned")
	clear(want[3:8])
	e.wantContent(h, want)

	err := a.Deallocate(e.ctx, root(), h, 0, 0)
	wantErr(e.t, err, syscall.EINVAL, "Deallocate of length 0")
	d := e.mkdir(e.root, "d")
	err = a.Deallocate(e.ctx, root(), d, 0, 10)
	wantErr(e.t, err, syscall.EISDIR, "Deallocate on a directory")
}

// testAllocate reserves space: content is unchanged, the size grows only
// when the range runs past the end (RFC 7862 §15.1).
func testAllocate(e *env) {
	a := e.allocator()
	h := e.create(e.root, "f")
	data := pattern(2, 8192)
	e.write(h, 0, data)
	e.allocErr(a.Allocate(e.ctx, root(), h, 0, 4096), "Allocate inside")
	e.wantContent(h, data)
	if got := e.attr(h).Size; got != 8192 {
		e.t.Errorf("Size after Allocate inside the file = %d, want 8192", got)
	}
	e.allocErr(a.Allocate(e.ctx, root(), h, 4096, 16384), "Allocate past EOF")
	want := append(slices.Clone(data), make([]byte, 20480-8192)...)
	e.wantContent(h, want)
	if got := e.attr(h).Size; got != 20480 {
		e.t.Errorf("Size after Allocate to 20480 = %d, want 20480", got)
	}
	// Allocating a hole keeps it reading as zeros and makes it used.
	s := e.sparse("s")
	before := e.attr(s).Used
	e.allocErr(a.Allocate(e.ctx, root(), s, 64<<10, 128<<10), "Allocate a hole")
	got, _ := e.read(s, 64<<10, 128<<10)
	if !bytes.Equal(got, make([]byte, 128<<10)) {
		e.t.Errorf("allocated hole does not read as zeros")
	}
	if e.opts.SparseUsed {
		if after := e.attr(s).Used; after < before+128<<10 {
			e.t.Errorf("Used after allocating 128 KiB = %d, want ≥ %d", after, before+128<<10)
		}
	}
	err := a.Allocate(e.ctx, root(), h, 0, 0)
	wantErr(e.t, err, syscall.EINVAL, "Allocate of length 0")
	err = a.Allocate(e.ctx, root(), h, 1<<63, 10)
	wantErr(e.t, err, syscall.EFBIG, "Allocate past the largest file")
}

func testAllocatePerm(e *env) {
	a := e.allocator()
	e.needPrivilege()
	e.setattr(e.root, mode(0o777))
	h := e.create(e.root, "f")
	e.write(h, 0, []byte("data"))
	err := a.Allocate(e.ctx, user(), h, 0, 4096)
	wantErr(e.t, err, syscall.EACCES, "Allocate without write permission")
	err = a.Deallocate(e.ctx, user(), h, 0, 4)
	wantErr(e.t, err, syscall.EACCES, "Deallocate without write permission")
	mine := e.createAs(user(), e.root, "mine", 0o644)
	e.allocErr(a.Allocate(e.ctx, user(), mine, 0, 4096), "Allocate by the owner")
}

// testCopyRange copies ranges byte for byte (RFC 7862 §15.2): into the
// middle of an existing file, to the end of the source with length 0,
// and within one file.
func testCopyRange(e *env) {
	cp := e.copier()
	src := e.create(e.root, "src")
	data := pattern(3, 300<<10)
	e.write(src, 0, data)
	dst := e.create(e.root, "dst")
	old := pattern(4, 8192)
	e.write(dst, 0, old)

	n, err := cp.CopyRange(e.ctx, root(), src, 1000, dst, 5000, 100000)
	if err != nil || n != 100000 {
		e.t.Fatalf("CopyRange = %d, %v; want 100000", n, err)
	}
	want := append(slices.Clone(old[:5000]), data[1000:101000]...)
	e.wantContent(dst, want)

	// length 0: to the end of src.
	d2 := e.create(e.root, "d2")
	n, err = cp.CopyRange(e.ctx, root(), src, 200<<10, d2, 0, 0)
	if err != nil || n != 100<<10 {
		e.t.Fatalf("CopyRange to EOF = %d, %v; want %d", n, err, 100<<10)
	}
	e.wantContent(d2, data[200<<10:])

	// A length past the end of src stops there; an offset past it copies
	// nothing.
	d3 := e.create(e.root, "d3")
	n, err = cp.CopyRange(e.ctx, root(), src, 299<<10, d3, 10, 1<<30)
	if err != nil || n != 1<<10 {
		e.t.Fatalf("CopyRange past EOF = %d, %v; want 1024", n, err)
	}
	e.wantContent(d3, append(make([]byte, 10), data[299<<10:]...))
	n, err = cp.CopyRange(e.ctx, root(), src, 400<<10, d3, 0, 10)
	if err != nil || n != 0 {
		e.t.Errorf("CopyRange from past EOF = %d, %v; want 0, nil", n, err)
	}

	// Within one file, ranges that do not overlap.
	n, err = cp.CopyRange(e.ctx, root(), src, 0, src, 300<<10, 4096)
	if err != nil || n != 4096 {
		e.t.Fatalf("CopyRange within a file = %d, %v", n, err)
	}
	e.wantContent(src, append(slices.Clone(data), data[:4096]...))
}

func testCopyRangeErrors(e *env) {
	cp := e.copier()
	src := e.create(e.root, "src")
	e.write(src, 0, pattern(5, 64<<10))
	_, err := cp.CopyRange(e.ctx, root(), src, 0, src, 4096, 8192)
	wantErr(e.t, err, syscall.EINVAL, "CopyRange of overlapping ranges of one file")
	d := e.mkdir(e.root, "d")
	_, err = cp.CopyRange(e.ctx, root(), src, 0, d, 0, 10)
	wantErr(e.t, err, syscall.EISDIR, "CopyRange to a directory")
	_, err = cp.CopyRange(e.ctx, root(), d, 0, src, 0, 10)
	wantErr(e.t, err, syscall.EISDIR, "CopyRange from a directory")
	if e.opts.Unprivileged {
		return
	}
	e.setattr(e.root, mode(0o777))
	mine := e.createAs(user(), e.root, "mine", 0o644)
	e.setattr(src, mode(0o600))
	_, err = cp.CopyRange(e.ctx, user(), src, 0, mine, 0, 10)
	wantErr(e.t, err, syscall.EACCES, "CopyRange from an unreadable file")
	other := e.create(e.root, "other")
	_, err = cp.CopyRange(e.ctx, user(), mine, 0, other, 0, 10)
	wantErr(e.t, err, syscall.EACCES, "CopyRange to an unwritable file")
}

// testClone clones whole files and block-aligned ranges; a store that
// cannot share storage says EOPNOTSUPP or EXDEV, and the rest is skipped.
func testClone(e *env) {
	cl, ok := e.fs.(vfs.Cloner)
	if !ok {
		e.t.Skip("backend does not implement vfs.Cloner")
	}
	src := e.create(e.root, "src")
	data := pattern(6, 256<<10)
	e.write(src, 0, data)
	dst := e.create(e.root, "dst")
	err := cl.Clone(e.ctx, root(), src, 0, dst, 0, 0)
	if isErrno(err, syscall.EOPNOTSUPP) || isErrno(err, syscall.EXDEV) {
		e.t.Skipf("the store cannot clone (%v), as vfs.Cloner allows", err)
	}
	if err != nil {
		e.t.Fatalf("Clone of a whole file: %v", err)
	}
	e.wantContent(dst, data)
	// A block-aligned range into the middle of another file.
	d2 := e.create(e.root, "d2")
	old := pattern(7, 192<<10)
	e.write(d2, 0, old)
	if err := cl.Clone(e.ctx, root(), src, 64<<10, d2, 128<<10, 64<<10); err != nil {
		e.t.Fatalf("Clone of [64K, 128K) to 128K: %v", err)
	}
	want := append(slices.Clone(old[:128<<10]), data[64<<10:128<<10]...)
	e.wantContent(d2, want)
	err = cl.Clone(e.ctx, root(), src, 0, src, 64<<10, 128<<10)
	wantErr(e.t, err, syscall.EINVAL, "Clone of overlapping ranges of one file")
	err = cl.Clone(e.ctx, root(), src, 512<<10, dst, 0, 64<<10)
	wantErr(e.t, err, syscall.EINVAL, "Clone from past the end of src")
}

// xattrErr skips the test when the store has no user xattrs.
func (e *env) xattrErr(err error, what string) {
	e.t.Helper()
	if isErrno(err, syscall.ENOTSUP) {
		e.t.Skipf("%s: the store has no user xattrs (%v)", what, err)
	}
	if err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
}

func (e *env) getXattr(c *vfs.Cred, h vfs.Handle, name string) ([]byte, error) {
	return e.xattrer().GetXattr(e.ctx, c, h, name)
}

func (e *env) wantXattr(h vfs.Handle, name, want string) {
	e.t.Helper()
	v, err := e.getXattr(root(), h, name)
	if err != nil || string(v) != want {
		e.t.Errorf("GetXattr %q = %q, %v; want %q", name, v, err, want)
	}
}

func (e *env) wantXattrs(h vfs.Handle, want ...string) {
	e.t.Helper()
	got, err := e.xattrer().ListXattrs(e.ctx, root(), h)
	if err != nil {
		e.t.Fatalf("ListXattrs: %v", err)
	}
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		e.t.Errorf("ListXattrs = %q, want %q", got, want)
	}
}

// testXattrs sets, reads, lists and removes user attributes of a file and
// a directory (RFC 8276 §8.4); names come back without "user.".
func testXattrs(e *env) {
	x := e.xattrer()
	f := e.create(e.root, "f")
	before := e.attr(f).Change
	e.xattrErr(x.SetXattr(e.ctx, root(), f, "b", []byte("two"), 0), "SetXattr")
	e.changed(f, before, "SetXattr")
	e.xattrErr(x.SetXattr(e.ctx, root(), f, "a", []byte("one"), 0), "SetXattr")
	e.xattrErr(x.SetXattr(e.ctx, root(), f, "empty", nil, 0), "SetXattr of an empty value")
	e.wantXattr(f, "a", "one")
	e.wantXattr(f, "b", "two")
	e.wantXattr(f, "empty", "")
	e.wantXattrs(f, "a", "b", "empty")
	_, err := e.getXattr(root(), f, "missing")
	if !errors.Is(err, vfs.ErrNoXattr) {
		e.t.Errorf("GetXattr of a missing name: err = %v, want ErrNoXattr", err)
	}
	before = e.attr(f).Change
	e.xattrErr(x.RemoveXattr(e.ctx, root(), f, "a"), "RemoveXattr")
	e.changed(f, before, "RemoveXattr")
	e.wantXattrs(f, "b", "empty")
	if err := x.RemoveXattr(e.ctx, root(), f, "a"); !errors.Is(err, vfs.ErrNoXattr) {
		e.t.Errorf("RemoveXattr of a missing name: err = %v, want ErrNoXattr", err)
	}
	// Binary values, names with any bytes but NUL.
	bin := pattern(8, 1000)
	e.xattrErr(x.SetXattr(e.ctx, root(), f, "bin/é.x", bin, 0), "SetXattr binary")
	if v, err := e.getXattr(root(), f, "bin/é.x"); err != nil || !bytes.Equal(v, bin) {
		e.t.Errorf("GetXattr binary = %d bytes, %v", len(v), err)
	}

	d := e.mkdir(e.root, "d")
	e.xattrErr(x.SetXattr(e.ctx, root(), d, "dir", []byte("yes"), 0), "SetXattr on a directory")
	e.wantXattr(d, "dir", "yes")
	e.wantXattrs(d, "dir")
	e.wantXattrs(e.create(e.root, "bare"))
}

// testXattrFlags checks SETXATTR4_CREATE and SETXATTR4_REPLACE semantics
// (RFC 8276 §8.4.2): XATTR_CREATE and XATTR_REPLACE.
func testXattrFlags(e *env) {
	x := e.xattrer()
	f := e.create(e.root, "f")
	err := x.SetXattr(e.ctx, root(), f, "k", []byte("v1"), vfs.XattrReplaceOnly)
	if isErrno(err, syscall.ENOTSUP) {
		e.t.Skipf("the store has no user xattrs (%v)", err)
	}
	if !errors.Is(err, vfs.ErrNoXattr) {
		e.t.Errorf("SetXattr replace-only of a missing name: err = %v, want ErrNoXattr", err)
	}
	e.xattrErr(x.SetXattr(e.ctx, root(), f, "k", []byte("v1"), vfs.XattrCreateOnly), "SetXattr create-only")
	err = x.SetXattr(e.ctx, root(), f, "k", []byte("v2"), vfs.XattrCreateOnly)
	wantErr(e.t, err, syscall.EEXIST, "SetXattr create-only of an existing name")
	e.wantXattr(f, "k", "v1")
	e.xattrErr(x.SetXattr(e.ctx, root(), f, "k", []byte("v3"), vfs.XattrReplaceOnly), "SetXattr replace-only")
	e.wantXattr(f, "k", "v3")
	e.xattrErr(x.SetXattr(e.ctx, root(), f, "k", []byte("v4"), 0), "SetXattr either")
	e.wantXattr(f, "k", "v4")
}

func testXattrLimits(e *env) {
	x := e.xattrer()
	f := e.create(e.root, "f")
	cases := []struct {
		name  string
		value []byte
		want  syscall.Errno
	}{
		{"", []byte("v"), syscall.EINVAL},
		{"a\x00b", []byte("v"), syscall.EINVAL},
		{string(bytes.Repeat([]byte{'n'}, vfs.MaxXattrName+1)), []byte("v"), syscall.ENAMETOOLONG},
		{"big", make([]byte, vfs.MaxXattrValue+1), syscall.E2BIG},
	}
	for _, c := range cases {
		err := x.SetXattr(e.ctx, root(), f, c.name, c.value, 0)
		wantErr(e.t, err, c.want, "SetXattr "+string(trim([]byte(c.name))))
	}
	_, err := e.getXattr(root(), f, "")
	wantErr(e.t, err, syscall.EINVAL, "GetXattr of an empty name")
	long := string(bytes.Repeat([]byte{'n'}, vfs.MaxXattrName))
	e.xattrErr(x.SetXattr(e.ctx, root(), f, long, []byte("v"), 0), "SetXattr of the longest name")
	e.wantXattr(f, long, "v")
}

// testXattrFileTypes checks Linux's rule that only regular files and
// directories carry user attributes.
func testXattrFileTypes(e *env) {
	x := e.xattrer()
	l := e.symlink(e.root, "l", "target")
	_, err := x.GetXattr(e.ctx, root(), l, "k")
	if !errors.Is(err, vfs.ErrNoXattr) {
		e.t.Errorf("GetXattr on a symlink: err = %v, want ErrNoXattr", err)
	}
	err = x.SetXattr(e.ctx, root(), l, "k", []byte("v"), 0)
	wantErr(e.t, err, syscall.EPERM, "SetXattr on a symlink")
	err = x.RemoveXattr(e.ctx, root(), l, "k")
	wantErr(e.t, err, syscall.EPERM, "RemoveXattr on a symlink")
	e.wantXattrs(l)
}

// testXattrPerm checks the permissions of the user namespace for a
// non-root caller: reading needs r, changing w, listing nothing; a sticky
// directory's attributes belong to its owner.
func testXattrPerm(e *env) {
	x := e.xattrer()
	e.needPrivilege()
	e.setattr(e.root, mode(0o777))
	f := e.create(e.root, "f") // root's, 0644
	e.xattrErr(x.SetXattr(e.ctx, root(), f, "k", []byte("v"), 0), "SetXattr")
	if v, err := e.getXattr(user(), f, "k"); err != nil || string(v) != "v" {
		e.t.Errorf("GetXattr by another user with r = %q, %v", v, err)
	}
	err := x.SetXattr(e.ctx, user(), f, "k", []byte("w"), 0)
	wantErr(e.t, err, syscall.EACCES, "SetXattr without write permission")
	err = x.RemoveXattr(e.ctx, user(), f, "k")
	wantErr(e.t, err, syscall.EACCES, "RemoveXattr without write permission")

	e.setattr(f, mode(0o600))
	_, err = e.getXattr(user(), f, "k")
	wantErr(e.t, err, syscall.EACCES, "GetXattr without read permission")
	if names, err := x.ListXattrs(e.ctx, user(), f); err != nil || !slices.Equal(names, []string{"k"}) {
		e.t.Errorf("ListXattrs without read permission = %q, %v; want [k] (listing needs none)", names, err)
	}

	mine := e.createAs(user(), e.root, "mine", 0o600)
	e.xattrErr(x.SetXattr(e.ctx, user(), mine, "m", []byte("x"), 0), "SetXattr by the owner")
	e.xattrErr(x.RemoveXattr(e.ctx, user(), mine, "m"), "RemoveXattr by the owner")

	sticky := e.mkdir(e.root, "tmp")
	e.setattr(sticky, mode(0o1777))
	err = x.SetXattr(e.ctx, user(), sticky, "k", []byte("v"), 0)
	wantErr(e.t, err, syscall.EPERM, "SetXattr on another's sticky directory")
}
