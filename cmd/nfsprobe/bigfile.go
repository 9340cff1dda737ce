package main

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// chunk is the size of each write and read: 1 MiB, the Linux client's
// default wsize/rsize over TCP, so each write is one WRITE RPC when unsplit.
const chunk = 1 << 20

// alignedBuf returns a page-aligned buffer, which O_DIRECT may insist on.
func alignedBuf(n int) ([]byte, func(), error) {
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return nil, nil, fmt.Errorf("mmap: %w", err)
	}
	return b, func() { _ = unix.Munmap(b) }, nil
}

// writePattern writes the pattern over [off, off+size) of f in chunk-sized
// writes and returns the SHA-256 of what it wrote.
func writePattern(f *os.File, off, size int64) ([]byte, error) {
	h := sha256.New()
	buf := make([]byte, chunk)
	for done := int64(0); done < size; {
		b := buf[:min(int64(chunk), size-done)]
		fillPattern(b, off+done)
		h.Write(b)
		n, err := f.WriteAt(b, off+done)
		if err != nil {
			return nil, fmt.Errorf("write at %d: %w", off+done, err)
		}
		done += int64(n)
	}
	return h.Sum(nil), nil
}

// readPattern reads f from offset 0 to EOF and checks that it holds exactly
// size bytes of the pattern; it returns the SHA-256 of what it read.
func readPattern(f io.Reader, size int64) ([]byte, error) {
	buf, free, err := alignedBuf(chunk)
	if err != nil {
		return nil, err
	}
	defer free()
	want := make([]byte, chunk)
	var h hash.Hash = sha256.New()
	off := int64(0)
	for {
		n, err := io.ReadFull(f, buf)
		if n > 0 {
			if off+int64(n) > size {
				return nil, fmt.Errorf("file is longer than %d bytes", size)
			}
			w := want[:n]
			fillPattern(w, off)
			if i := firstDiff(buf[:n], w); i >= 0 {
				return nil, fmt.Errorf("byte %d is %#02x, want %#02x", off+int64(i), buf[i], w[i])
			}
			h.Write(buf[:n])
			off += int64(n)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read at %d: %w", off, err)
		}
	}
	if off != size {
		return nil, fmt.Errorf("read %d bytes, want %d", off, size)
	}
	return h.Sum(nil), nil
}

func firstDiff(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return len(a)
}

func mibps(n int64, d time.Duration) float64 {
	return float64(n) / (1 << 20) / max(d.Seconds(), 1e-6)
}

func runBigfile(p *probe, args []string) error {
	path := args[0]
	size, err := parseSize(args[1])
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	t0 := time.Now()
	wsum, err := writePattern(f, 0, size)
	if err != nil {
		f.Close()
		return err
	}
	p.say("wrote %d bytes in %d writes of at most 1 MiB (%.1f MiB/s), sha256 %x", size, (size+chunk-1)/chunk, mibps(size, time.Since(t0)), wsum)
	t0 = time.Now()
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("fsync: %w", err)
	}
	p.say("fsync ok (%.1fs)", time.Since(t0).Seconds())
	if err := f.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	p.say("close ok")
	// O_DIRECT bypasses the client's page cache, so these bytes come from the server.
	d, err := os.OpenFile(path, os.O_RDONLY|unix.O_DIRECT, 0)
	if err != nil {
		return fmt.Errorf("open O_DIRECT: %w", err)
	}
	defer d.Close()
	t0 = time.Now()
	rsum, err := readPattern(d, size)
	if err != nil {
		return fmt.Errorf("read back (O_DIRECT): %w", err)
	}
	p.say("read back %d bytes with O_DIRECT (%.1f MiB/s), sha256 %x", size, mibps(size, time.Since(t0)), rsum)
	if !bytes.Equal(wsum, rsum) {
		return fmt.Errorf("sha256 differs: wrote %x, read %x", wsum, rsum)
	}
	p.say("sha256 matches")
	return nil
}

func runVerify(p *probe, args []string) error {
	size, err := parseSize(args[1])
	if err != nil {
		return err
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	sum, err := readPattern(f, size)
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	p.say("%s holds the %d-byte pattern, sha256 %x", args[0], size, sum)
	return nil
}

// runTwophase is the guest's half of the server restart test: part A is
// acknowledged (fsync) before READY appears, so the host may kill the server
// right after; part B goes through the same descriptor once GO appears.
// With LOCKED and RELEASE it also takes an F_SETLK write lock on the whole
// file before READY (the lock the client must reclaim after the restart),
// creates LOCKED once part B is fsynced and read back, and unlocks when
// RELEASE appears.
func runTwophase(p *probe, args []string) error {
	path, ready, goFile := args[0], args[2], args[3]
	size, err := parseSize(args[1])
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := writePattern(f, 0, size); err != nil {
		return fmt.Errorf("part A: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("part A: fsync: %w", err)
	}
	p.say("part A: %d bytes written and fsynced", size)
	locking := len(args) >= 6
	if locking {
		if err := lockWhole(f, unix.F_WRLCK); err != nil {
			return fmt.Errorf("F_SETLK W 0-EOF: %w", err)
		}
		p.say("F_SETLK W 0-EOF: locked")
	}
	if err := os.WriteFile(ready, nil, 0o644); err != nil {
		return err
	}
	p.say("created %s; waiting for %s", ready, goFile)
	waitFor(goFile)
	t0 := time.Now()
	if _, err := writePattern(f, size, size); err != nil {
		return fmt.Errorf("part B: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("part B: fsync: %w", err)
	}
	p.say("part B: %d bytes written through the same fd and fsynced (%.1fs)", size, time.Since(t0).Seconds())
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	sum, err := readPattern(f, 2*size)
	if err != nil {
		return fmt.Errorf("read back through the same fd: %w", err)
	}
	p.say("read back A+B through the same fd, sha256 %x", sum)
	if locking {
		locked, release := args[4], args[5]
		if err := os.WriteFile(locked, nil, 0o644); err != nil {
			return err
		}
		p.say("created %s; holding the lock until %s", locked, release)
		waitFor(release)
		if err := lockWhole(f, unix.F_UNLCK); err != nil {
			return fmt.Errorf("unlock: %w", err)
		}
		p.say("unlocked")
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	p.say("close ok")
	return nil
}

// waitFor polls until path exists (a signal file on the guest's 9p share).
func waitFor(path string) {
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
