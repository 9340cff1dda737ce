package main

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The NFSv4.2 operations (RFC 7862) as the Linux client reaches them:
// fallocate(2) sends ALLOCATE, or DEALLOCATE with FALLOC_FL_PUNCH_HOLE
// (§15.1, §15.4); lseek SEEK_DATA/SEEK_HOLE sends SEEK (§15.11);
// copy_file_range(2) between files of one server sends COPY (§15.2); the
// user.* xattr calls send GETXATTR, SETXATTR, LISTXATTRS and REMOVEXATTR
// (RFC 8276). Busybox has none of these calls, so the workload comes here.

// runFallocate allocates [OFF, OFF+LEN) of PATH, or punches it out with
// "punch" (FALLOC_FL_PUNCH_HOLE needs FALLOC_FL_KEEP_SIZE), and prints the
// size, the allocation and the data/hole map that follow.
func runFallocate(p *probe, args []string) error {
	path := args[0]
	off, err1 := parseSize(args[1])
	n, err2 := parseSize(args[2])
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	mode, what := uint32(0), "allocated"
	if len(args) > 3 {
		if args[3] != "punch" {
			return fmt.Errorf("fourth argument %q: only \"punch\" is known", args[3])
		}
		mode, what = unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, "punched"
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Fallocate(int(f.Fd()), mode, off, n); err != nil {
		return fmt.Errorf("fallocate(%s, mode %#x, %d, %d): %w", path, mode, off, n, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return err
	}
	p.say("%s %d+%d: size %d, %d bytes allocated", what, off, n, st.Size, st.Blocks*512)
	return nil
}

// runExtents prints the data/hole map of PATH that SEEK_DATA and SEEK_HOLE
// give, as one line "data 0+4096 hole 4096+8192 ...".
func runExtents(p *probe, args []string) error {
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return err
	}
	m, err := extentMap(int(f.Fd()), st.Size)
	if err != nil {
		return err
	}
	p.say("%s", m)
	return nil
}

// extentMap walks fd from 0 to size with SEEK_DATA and SEEK_HOLE and
// returns "data OFF+LEN hole OFF+LEN ..." ("empty" for size 0).
func extentMap(fd int, size int64) (string, error) {
	var parts []string
	for off := int64(0); off < size; {
		data, err := unix.Seek(fd, off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			data = size // only a hole up to EOF
		} else if err != nil {
			return "", fmt.Errorf("SEEK_DATA from %d: %w", off, err)
		}
		if data < off || data > size {
			return "", fmt.Errorf("SEEK_DATA from %d answered %d (size %d)", off, data, size)
		}
		if data > off {
			parts = append(parts, fmt.Sprintf("hole %d+%d", off, data-off))
		}
		if data == size {
			break
		}
		hole, err := unix.Seek(fd, data, unix.SEEK_HOLE)
		if err != nil {
			return "", fmt.Errorf("SEEK_HOLE from %d: %w", data, err)
		}
		if hole <= data || hole > size {
			return "", fmt.Errorf("SEEK_HOLE from %d answered %d (size %d)", data, hole, size)
		}
		parts = append(parts, fmt.Sprintf("data %d+%d", data, hole-data))
		off = hole
	}
	if len(parts) == 0 {
		return "empty", nil
	}
	return strings.Join(parts, " "), nil
}

// runCopyrange copies SRC to DST (created or truncated) with
// copy_file_range(2) calls until SRC's size is copied, then reads both back
// with O_DIRECT, from the server, and compares their SHA-256.
func runCopyrange(p *probe, args []string) error {
	src, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	dst, err := os.OpenFile(args[1], os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer dst.Close()
	t0 := time.Now()
	var roff, woff int64
	calls := 0
	for roff < size {
		n, err := unix.CopyFileRange(int(src.Fd()), &roff, int(dst.Fd()), &woff, int(size-roff), 0)
		calls++
		if err != nil {
			return fmt.Errorf("copy_file_range at %d: %w", roff, err)
		}
		if n == 0 {
			return fmt.Errorf("copy_file_range at %d returned 0 before %d bytes", roff, size)
		}
	}
	if err := dst.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", args[1], err)
	}
	p.say("copied %d bytes in %d copy_file_range calls (%.1f MiB/s)", size, calls, mibps(size, time.Since(t0)))
	var sums [2][]byte
	for i, path := range args[:2] {
		d, err := os.OpenFile(path, os.O_RDONLY|unix.O_DIRECT, 0)
		if err != nil {
			return fmt.Errorf("open O_DIRECT: %w", err)
		}
		sums[i], err = sha256Reader(d, size)
		d.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	if !bytes.Equal(sums[0], sums[1]) {
		return fmt.Errorf("sha256 differs: %s %x, %s %x", args[0], sums[0], args[1], sums[1])
	}
	p.say("read both back with O_DIRECT: sha256 %x for both", sums[0])
	return nil
}

// xattrValue is long enough to need more than one XDR word and a length
// that is not a multiple of four.
var xattrValue = bytes.Repeat([]byte("0123456789abcdef"), 19)[:301]

// runXattr sets, replaces, lists, reads and removes user.* extended
// attributes on PATH (created if missing), checking each answer, including
// the refusals: XATTR_CREATE of an existing name (EEXIST), XATTR_REPLACE
// and getxattr of a missing one (ENODATA).
func runXattr(p *probe, args []string) error {
	path := args[0]
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	f.Close()
	steps := []struct {
		what string
		do   func() error
		want error // nil: must succeed
	}{
		{"set user.alpha=one (XATTR_CREATE)", func() error { return unix.Setxattr(path, "user.alpha", []byte("one"), unix.XATTR_CREATE) }, nil},
		{"set user.beta, 301 bytes", func() error { return unix.Setxattr(path, "user.beta", xattrValue, 0) }, nil},
		{"XATTR_CREATE of existing user.alpha", func() error { return unix.Setxattr(path, "user.alpha", []byte("x"), unix.XATTR_CREATE) }, unix.EEXIST},
		{"XATTR_REPLACE of missing user.gamma", func() error { return unix.Setxattr(path, "user.gamma", []byte("x"), unix.XATTR_REPLACE) }, unix.ENODATA},
		{"replace user.alpha=two (XATTR_REPLACE)", func() error { return unix.Setxattr(path, "user.alpha", []byte("two"), unix.XATTR_REPLACE) }, nil},
		{"get user.alpha", func() error { return wantXattr(path, "user.alpha", []byte("two")) }, nil},
		{"get user.beta", func() error { return wantXattr(path, "user.beta", xattrValue) }, nil},
		{"list", func() error { return wantXattrList(path, "user.alpha", "user.beta") }, nil},
		{"remove user.alpha", func() error { return unix.Removexattr(path, "user.alpha") }, nil},
		{"get removed user.alpha", func() error { return wantXattr(path, "user.alpha", nil) }, unix.ENODATA},
		{"remove missing user.alpha", func() error { return unix.Removexattr(path, "user.alpha") }, unix.ENODATA},
		{"list after remove", func() error { return wantXattrList(path, "user.beta") }, nil},
		{"remove user.beta", func() error { return unix.Removexattr(path, "user.beta") }, nil},
		{"list when none are left", func() error { return wantXattrList(path) }, nil},
	}
	for _, s := range steps {
		err := s.do()
		switch {
		case s.want == nil && err != nil:
			return fmt.Errorf("%s: %w", s.what, err)
		case s.want != nil && !errors.Is(err, s.want):
			return fmt.Errorf("%s: got %v, want %v", s.what, err, s.want)
		case s.want != nil:
			p.say("%s: %v, as it must", s.what, err)
		default:
			p.say("%s: ok", s.what)
		}
	}
	return nil
}

func wantXattr(path, name string, want []byte) error {
	buf := make([]byte, 4096)
	n, err := unix.Getxattr(path, name, buf)
	if err != nil {
		return err
	}
	if !bytes.Equal(buf[:n], want) {
		return fmt.Errorf("%s is %q, want %q", name, buf[:n], want)
	}
	return nil
}

// wantXattrList checks that the user.* names listed are exactly want (in
// any order); names of other namespaces (security.*, system.*) are ignored.
func wantXattrList(path string, want ...string) error {
	buf := make([]byte, 4096)
	n, err := unix.Listxattr(path, buf)
	if err != nil {
		return err
	}
	var got []string
	for name := range strings.SplitSeq(strings.TrimRight(string(buf[:n]), "\x00"), "\x00") {
		if strings.HasPrefix(name, "user.") {
			got = append(got, name)
		}
	}
	if !sameSet(got, want) {
		return fmt.Errorf("listed %q, want %q", got, want)
	}
	return nil
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		if seen[s] == 0 {
			return false
		}
		seen[s]--
	}
	return true
}

// sha256Reader hashes f from its offset to EOF through a page-aligned
// buffer (O_DIRECT descriptors need one) and checks it held size bytes.
func sha256Reader(f *os.File, size int64) ([]byte, error) {
	buf, free, err := alignedBuf(chunk)
	if err != nil {
		return nil, err
	}
	defer free()
	h := sha256.New()
	var n int64
	for {
		m, err := f.Read(buf)
		h.Write(buf[:m])
		n += int64(m)
		if errors.Is(err, io.EOF) || (err == nil && m == 0) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read at %d: %w", n, err)
		}
	}
	if n != size {
		return nil, fmt.Errorf("read %d bytes, want %d", n, size)
	}
	return h.Sum(nil), nil
}
