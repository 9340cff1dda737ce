package vfstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/gonfs/gonfs/vfs"
)

// Options says what the backend under test cannot do, or does differently.
// The zero value describes a fully capable backend (like memfs, or localfs
// running as root on a filesystem with nanosecond timestamps).
type Options struct {
	// Unprivileged: the backend cannot act as other users, so it cannot
	// chown files to another owner, does not create files owned by the
	// Cred's UID/GID, and does not enforce permissions per Cred. Ownership
	// and permission checks that need another identity are skipped.
	Unprivileged bool

	// NoDevices: the backend cannot make character or block devices
	// (mknod(2) needs CAP_MKNOD). FIFOs and sockets are still required.
	NoDevices bool

	// SparseUsed: the backend reports Attr.Used below Attr.Size for files
	// with holes, and the suite checks it. Without it Used is only checked
	// not to exceed what was written plus the store's rounding (memfs may
	// report Used == Size).
	SparseUsed bool

	// CoarseChange: Attr.Change derives from a clock that may not advance
	// between two quick operations (for example jiffy-granular ctime). The
	// suite then checks only that Change never goes backwards; without it
	// Change must strictly increase after every modifying operation
	// (RFC 8881 §5.8.1.4; RFC 7862 §12.2.3 change_attr_type).
	CoarseChange bool

	// NoDirNlink: directories do not count their subdirectories in Nlink
	// (btrfs and some FUSE filesystems report 1). Without it the suite
	// checks the classic 2 + number of subdirectories.
	NoDirNlink bool

	// Now is the clock the backend stamps times with; the suite reads it
	// to check TimeServer. Nil means time.Now.
	Now func() time.Time

	// MaxName is the longest name the backend accepts; a name one byte
	// longer must fail with ENAMETOOLONG. Zero means 255.
	MaxName int

	// BigDir is the number of entries of the large-directory test. Zero
	// means 10,000; a slow backend may lower it.
	BigDir int
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o Options) maxName() int {
	if o.MaxName > 0 {
		return o.MaxName
	}
	return 255
}

func (o Options) bigDir() int {
	if o.BigDir > 0 {
		return o.BigDir
	}
	return 10000
}

// Run runs the conformance suite as subtests of t. newFS is called once per
// subtest and must return a fresh FS whose root is an empty directory that
// vfs.RootCred() may modify.
func Run(t *testing.T, newFS func(t *testing.T) vfs.FS, opts Options) {
	t.Helper()
	groups := [][]test{
		createTests,
		removeTests,
		renameTests,
		linkTests,
		dataTests,
		attrTests,
		nameTests,
		handleTests,
		readDirTests,
		permTests,
		miscTests,
	}
	for _, g := range groups {
		for _, tc := range g {
			t.Run(tc.name, func(t *testing.T) {
				fs := newFS(t)
				e := &env{t: t, fs: fs, opts: opts, ctx: t.Context()}
				e.root = fs.Root()
				e.checkHandle(e.root, "Root")
				tc.fn(e)
			})
		}
	}
}

// test is one named conformance check.
type test struct {
	name string
	fn   func(e *env)
}

// Identities used by the suite. Each call returns a fresh value so that a
// backend that (wrongly) modifies a Cred cannot affect later checks.
func root() *vfs.Cred { return &vfs.Cred{} }
func user() *vfs.Cred { return &vfs.Cred{UID: 1000, GID: 1000} }

// env is the state of one subtest: the FS under test and helpers that fail
// the test on unexpected errors.
type env struct {
	t    *testing.T
	fs   vfs.FS
	opts Options
	ctx  context.Context
	root vfs.Handle
}

func (e *env) needPrivilege() {
	e.t.Helper()
	if e.opts.Unprivileged {
		e.t.Skip("backend is unprivileged: cannot act as or chown to other users")
	}
}

func (e *env) info() vfs.Info {
	if in, ok := e.fs.(vfs.Informer); ok {
		return in.Info()
	}
	return vfs.DefaultInfo
}

// checkHandle fails the test for a handle the vfs contract forbids.
func (e *env) checkHandle(h vfs.Handle, what string) {
	e.t.Helper()
	if len(h) == 0 {
		e.t.Fatalf("%s returned an empty handle", what)
	}
	if len(h) > vfs.MaxHandle {
		e.t.Fatalf("%s returned a %d-byte handle, more than vfs.MaxHandle (%d)", what, len(h), vfs.MaxHandle)
	}
}

func mode(m uint32) vfs.SetAttr { return vfs.SetAttr{Mode: &m} }

func u32(v uint32) *uint32 { return &v }
func u64(v uint64) *uint64 { return &v }

// create makes a new regular file as root with mode 0644.
func (e *env) create(dir vfs.Handle, name string) vfs.Handle {
	e.t.Helper()
	return e.createAs(root(), dir, name, 0o644)
}

func (e *env) createAs(c *vfs.Cred, dir vfs.Handle, name string, m uint32) vfs.Handle {
	e.t.Helper()
	h, a, created, err := e.fs.Create(e.ctx, c, dir, name, mode(m), true)
	if err != nil {
		e.t.Fatalf("Create %q: %v", name, err)
	}
	if !created {
		e.t.Fatalf("Create %q exclusive: created = false", name)
	}
	if a.Type != vfs.TypeRegular {
		e.t.Fatalf("Create %q: type %v, want regular", name, a.Type)
	}
	e.checkHandle(h, "Create")
	return h
}

// mkdir makes a new directory as root with mode 0755.
func (e *env) mkdir(dir vfs.Handle, name string) vfs.Handle {
	e.t.Helper()
	return e.mkdirAs(root(), dir, name, 0o755)
}

func (e *env) mkdirAs(c *vfs.Cred, dir vfs.Handle, name string, m uint32) vfs.Handle {
	e.t.Helper()
	h, a, err := e.fs.Mkdir(e.ctx, c, dir, name, mode(m))
	if err != nil {
		e.t.Fatalf("Mkdir %q: %v", name, err)
	}
	if a.Type != vfs.TypeDirectory {
		e.t.Fatalf("Mkdir %q: type %v, want directory", name, a.Type)
	}
	e.checkHandle(h, "Mkdir")
	return h
}

func (e *env) symlink(dir vfs.Handle, name, target string) vfs.Handle {
	e.t.Helper()
	h, a, err := e.fs.Symlink(e.ctx, root(), dir, name, target, mode(0o777))
	if err != nil {
		e.t.Fatalf("Symlink %q -> %q: %v", name, target, err)
	}
	if a.Type != vfs.TypeSymlink {
		e.t.Fatalf("Symlink %q: type %v, want symlink", name, a.Type)
	}
	e.checkHandle(h, "Symlink")
	return h
}

func (e *env) attr(h vfs.Handle) vfs.Attr {
	e.t.Helper()
	a, err := e.fs.GetAttr(e.ctx, h)
	if err != nil {
		e.t.Fatalf("GetAttr: %v", err)
	}
	return a
}

func (e *env) setattr(h vfs.Handle, s vfs.SetAttr) vfs.Attr {
	e.t.Helper()
	a, err := e.fs.SetAttr(e.ctx, root(), h, s)
	if err != nil {
		e.t.Fatalf("SetAttr: %v", err)
	}
	return a
}

func (e *env) lookup(dir vfs.Handle, name string) (vfs.Handle, vfs.Attr) {
	e.t.Helper()
	h, a, err := e.fs.Lookup(e.ctx, root(), dir, name)
	if err != nil {
		e.t.Fatalf("Lookup %q: %v", name, err)
	}
	e.checkHandle(h, "Lookup")
	return h, a
}

func (e *env) noEntry(dir vfs.Handle, name string) {
	e.t.Helper()
	_, _, err := e.fs.Lookup(e.ctx, root(), dir, name)
	wantErr(e.t, err, syscall.ENOENT, "Lookup "+name)
}

func (e *env) write(h vfs.Handle, off uint64, data []byte) {
	e.t.Helper()
	n, _, err := e.fs.Write(e.ctx, root(), h, off, data, vfs.FileSync)
	if err != nil {
		e.t.Fatalf("Write %d bytes at %d: %v", len(data), off, err)
	}
	if n != len(data) {
		e.t.Fatalf("Write %d bytes at %d: wrote %d", len(data), off, n)
	}
}

// read reads up to n bytes at off, looping over short reads.
func (e *env) read(h vfs.Handle, off uint64, n int) ([]byte, bool) {
	e.t.Helper()
	buf := make([]byte, n)
	got := 0
	for got < n {
		m, eof, err := e.fs.Read(e.ctx, root(), h, off+uint64(got), buf[got:])
		if err != nil {
			e.t.Fatalf("Read %d bytes at %d: %v", n-got, off+uint64(got), err)
		}
		got += m
		if eof {
			return buf[:got], true
		}
		if m == 0 {
			e.t.Fatalf("Read at %d: 0 bytes without eof", off+uint64(got))
		}
	}
	return buf[:got], false
}

// content reads the whole file.
func (e *env) content(h vfs.Handle) []byte {
	e.t.Helper()
	a := e.attr(h)
	b, _ := e.read(h, 0, int(a.Size)+1)
	return b
}

func (e *env) wantContent(h vfs.Handle, want []byte) {
	e.t.Helper()
	if got := e.content(h); !bytes.Equal(got, want) {
		e.t.Fatalf("content = %q, want %q", trim(got), trim(want))
	}
}

func trim(b []byte) []byte {
	if len(b) > 64 {
		return append(b[:64:64], "..."...)
	}
	return b
}

// list returns all entries of dir, read in one ReadDir call.
func (e *env) list(dir vfs.Handle, plus bool) []vfs.DirEntry {
	e.t.Helper()
	var out []vfs.DirEntry
	err := e.fs.ReadDir(e.ctx, root(), dir, 0, plus, func(d *vfs.DirEntry) bool {
		out = append(out, *d)
		return true
	})
	if err != nil {
		e.t.Fatalf("ReadDir: %v", err)
	}
	return out
}

func (e *env) names(dir vfs.Handle) []string {
	e.t.Helper()
	var out []string
	for _, d := range e.list(dir, false) {
		out = append(out, d.Name)
	}
	slices.Sort(out)
	return out
}

// changed checks that h's Change advanced past before (or did not go back,
// for CoarseChange backends) and returns the new value.
func (e *env) changed(h vfs.Handle, before uint64, what string) uint64 {
	e.t.Helper()
	now := e.attr(h).Change
	if e.opts.CoarseChange {
		if now < before {
			e.t.Errorf("%s: Change went back from %d to %d", what, before, now)
		}
	} else if now <= before {
		e.t.Errorf("%s: Change = %d, want > %d", what, now, before)
	}
	return now
}

// wantErr fails t unless err is the errno want.
func wantErr(t *testing.T, err error, want syscall.Errno, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v (%s)", what, err, errName(want), want)
	}
}

// wantOneOf fails t unless err is one of the errnos.
func wantOneOf(t *testing.T, err error, what string, want ...syscall.Errno) {
	t.Helper()
	for _, w := range want {
		if errors.Is(err, w) {
			return
		}
	}
	var names []string
	for _, w := range want {
		names = append(names, errName(w))
	}
	t.Fatalf("%s: err = %v, want one of %v", what, err, names)
}

func errName(e syscall.Errno) string {
	switch e {
	case syscall.ENOENT:
		return "ENOENT"
	case syscall.EEXIST:
		return "EEXIST"
	case syscall.ENOTDIR:
		return "ENOTDIR"
	case syscall.EISDIR:
		return "EISDIR"
	case syscall.ENOTEMPTY:
		return "ENOTEMPTY"
	case syscall.EACCES:
		return "EACCES"
	case syscall.EPERM:
		return "EPERM"
	case syscall.EINVAL:
		return "EINVAL"
	case syscall.ENAMETOOLONG:
		return "ENAMETOOLONG"
	case syscall.ESTALE:
		return "ESTALE"
	case syscall.ENOSPC:
		return "ENOSPC"
	}
	return fmt.Sprintf("errno %d", int(e))
}

// old is a client time far in the past, used to see whether an operation
// touched a timestamp without depending on how fast the clock moves.
var old = time.Date(1990, 1, 2, 3, 4, 5, 0, time.UTC)

// age sets h's atime and mtime to old.
func (e *env) age(h vfs.Handle) {
	e.t.Helper()
	e.setattr(h, vfs.SetAttr{Atime: vfs.TimeClient, AtimeTime: old, Mtime: vfs.TimeClient, MtimeTime: old})
}

func isErrno(err error, want syscall.Errno) bool { return errors.Is(err, want) }
