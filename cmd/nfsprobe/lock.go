package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// lockResult is what one F_SETLK attempt came to.
type lockResult struct {
	err     error
	elapsed time.Duration
}

// runTrylock makes one F_SETLK write-lock attempt on [START, START+LEN) of
// PATH (LEN 0: to EOF) and checks it against WANT: "granted" or "denied".
// A Linux NFSv4 client retries a LOCK answered NFS4ERR_GRACE by itself
// (RFC 8881 §8.4.2.1: no new locks during the grace period), so F_SETLK
// blocks during the server's grace period; an attempt still blocked after
// TIMEOUT counts as not granted, which is what "denied" asks for, and is
// reported apart. A granted lock is released at once. PATH "fd:N" uses
// descriptor N, inherited open (e.g. `exec 5<>FILE` in the shell), so the
// attempt needs no OPEN: after a server restart, an open the client
// reclaimed.
func runTrylock(p *probe, args []string) error {
	path, want := args[0], args[3]
	start, err1 := parseSize(args[1])
	n, err2 := parseSize(args[2])
	timeout, err3 := time.ParseDuration(args[4])
	if err := errors.Join(err1, err2, err3); err != nil {
		return err
	}
	if want != "granted" && want != "denied" {
		return fmt.Errorf("WANT %q: granted or denied", want)
	}
	f, err := openLockFile(path)
	if err != nil {
		return err
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: start, Len: n}
	done := make(chan lockResult, 1)
	t0 := time.Now()
	go func() {
		err := unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk)
		done <- lockResult{err, time.Since(t0)}
	}()
	rng := fmt.Sprintf("W %d-%s", start, lockEnd(start, n))
	select {
	case r := <-done:
		switch {
		case r.err == nil:
			p.say("F_SETLK %s of %s: granted after %.1fs", rng, path, r.elapsed.Seconds())
			lk.Type = unix.F_UNLCK
			if err := unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk); err != nil {
				return fmt.Errorf("unlock: %w", err)
			}
			if want != "granted" {
				return fmt.Errorf("F_SETLK %s was granted, want denied", rng)
			}
		case errors.Is(r.err, unix.EAGAIN), errors.Is(r.err, unix.EACCES):
			p.say("F_SETLK %s of %s: denied (%v) after %.1fs", rng, path, r.err, r.elapsed.Seconds())
			if want != "denied" {
				return fmt.Errorf("F_SETLK %s was denied, want granted", rng)
			}
		default:
			return fmt.Errorf("F_SETLK %s: %w", rng, r.err)
		}
		return f.Close()
	case <-time.After(timeout):
		p.say("F_SETLK %s of %s: still blocked after %s (the client is retrying, e.g. on NFS4ERR_GRACE)", rng, path, timeout)
		if want != "denied" {
			return fmt.Errorf("F_SETLK %s not granted within %s", rng, timeout)
		}
		// Exiting ends the blocked call: the client's retry delay is killable.
		return nil
	}
}

func lockEnd(start, n int64) string {
	if n == 0 {
		return "EOF"
	}
	return fmt.Sprint(start + n - 1)
}

// lockWhole takes a write lock on all of f with F_SETLK (not waiting).
func lockWhole(f *os.File, typ int16) error {
	lk := unix.Flock_t{Type: typ, Whence: 0, Start: 0, Len: 0}
	return unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk)
}

// openLockFile opens path read-write, or returns inherited descriptor N for
// "fd:N".
func openLockFile(path string) (*os.File, error) {
	if n, ok := strings.CutPrefix(path, "fd:"); ok {
		fd, err := strconv.Atoi(n)
		if err != nil || fd < 0 {
			return nil, fmt.Errorf("bad descriptor %q", path)
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return os.NewFile(uintptr(fd), path), nil
	}
	return os.OpenFile(path, os.O_RDWR, 0)
}
