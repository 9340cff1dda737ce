package main

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

const (
	sparseFar   = 1 << 30 // where the second extent goes
	sparseBlock = 4096
)

func runSparse(p *probe, args []string) error {
	path := args[0]
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, off := range []int64{0, sparseFar} {
		if _, err := writePattern(f, off, sparseBlock); err != nil {
			return err
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync: %w", err)
	}
	p.say("wrote %d bytes at 0 and at %d, fsync ok", sparseBlock, sparseFar)

	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return err
	}
	size := int64(sparseFar + sparseBlock)
	if st.Size != size {
		return fmt.Errorf("size %d, want %d", st.Size, size)
	}
	// NFSv3 reports space used (fattr3.used, RFC 1813 §2.6) as st_blocks; a
	// server that zero-filled the gap would report the whole GiB.
	if used := st.Blocks * 512; used >= sparseFar/2 {
		return fmt.Errorf("size %d ok, but %d bytes allocated: the hole was filled", st.Size, used)
	}
	p.say("size %d, %d bytes allocated: the hole is preserved", st.Size, st.Blocks*512)

	// Reopen with O_DIRECT: the holes and the data come from the server.
	d, err := os.OpenFile(path, os.O_RDONLY|unix.O_DIRECT, 0)
	if err != nil {
		return fmt.Errorf("open O_DIRECT: %w", err)
	}
	defer d.Close()
	buf, free, err := alignedBuf(sparseBlock)
	if err != nil {
		return err
	}
	defer free()
	want := make([]byte, sparseBlock)
	checks := []struct {
		off  int64
		data bool
	}{{0, true}, {sparseBlock, false}, {sparseFar / 2, false}, {sparseFar - sparseBlock, false}, {sparseFar, true}}
	for _, c := range checks {
		if n, err := d.ReadAt(buf, c.off); n != sparseBlock {
			return fmt.Errorf("read at %d: %d bytes, %v", c.off, n, err)
		}
		what := "zeros"
		clear(want)
		if c.data {
			fillPattern(want, c.off)
			what = "the data written"
		}
		if i := firstDiff(buf, want); i >= 0 {
			return fmt.Errorf("read at %d: byte %d is %#02x, want %s", c.off, c.off+int64(i), buf[i], what)
		}
		p.say("read %d bytes at %d: %s", sparseBlock, c.off, what)
	}

	// NFSv3 and NFSv4.1 have no SEEK operation, so Linux answers
	// SEEK_DATA/SEEK_HOLE with its generic fallback (all data, one hole at
	// EOF); without "exact", check only what holds for any answer: data at
	// 0, a hole no later than EOF, ENXIO past EOF. With "exact" (NFSv4.2,
	// RFC 7862 §15.11) the server's SEEK must find the real extents.
	exact := len(args) > 1 && args[1] == "exact"
	fd := int(f.Fd())
	dataOff, err := unix.Seek(fd, 0, unix.SEEK_DATA)
	if !exact && (errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP)) {
		p.say("SEEK_DATA not supported (%v)", err)
		return nil
	}
	if err != nil || dataOff != 0 {
		return fmt.Errorf("SEEK_DATA from 0: %d, %v; want 0", dataOff, err)
	}
	holeOff, err := unix.Seek(fd, 0, unix.SEEK_HOLE)
	if err != nil || holeOff <= 0 || holeOff > size {
		return fmt.Errorf("SEEK_HOLE from 0: %d, %v; want in (0, %d]", holeOff, err, size)
	}
	if off, err := unix.Seek(fd, size, unix.SEEK_DATA); !errors.Is(err, unix.ENXIO) {
		return fmt.Errorf("SEEK_DATA at EOF: %d, %v; want ENXIO", off, err)
	}
	if !exact {
		kind := "the first hole"
		if holeOff == size {
			kind = "the generic answer: one hole at EOF"
		}
		p.say("SEEK_DATA 0 -> 0, SEEK_HOLE 0 -> %d (%s), SEEK_DATA at EOF -> ENXIO", holeOff, kind)
		return nil
	}
	m, err := extentMap(fd, size)
	if err != nil {
		return err
	}
	wantMap := fmt.Sprintf("data 0+%d hole %d+%d data %d+%d", sparseBlock, sparseBlock, sparseFar-sparseBlock, sparseFar, sparseBlock)
	if m != wantMap {
		return fmt.Errorf("SEEK_DATA/SEEK_HOLE map %q, want %q", m, wantMap)
	}
	p.say("SEEK_DATA/SEEK_HOLE map: %s; SEEK_DATA at EOF -> ENXIO", m)
	return nil
}
