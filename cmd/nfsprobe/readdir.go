package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Names of the files readdir-churn keeps (stable) and the ones it adds and
// removes while it lists (churn). POSIX leaves it open whether a listing
// shows an entry added or removed during it, but every entry that stays must
// appear exactly once: that is what a server's readdir cookies have to give.
const (
	stablePrefix = "stable-"
	churnPrefix  = "churn-"
)

func runReaddirChurn(p *probe, args []string) error {
	dir := args[0]
	n, err := parseSize(args[1])
	if err != nil {
		return err
	}
	passes := int64(3)
	if len(args) > 2 {
		if passes, err = parseSize(args[2]); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	t0 := time.Now()
	for i := range n {
		f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("%s%06d", stablePrefix, i)), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	p.say("created %d files in %.1fs", n, time.Since(t0).Seconds())
	churned := int64(0)
	for pass := range passes {
		during, err := churnPass(p, dir, int(n), int(pass)+1)
		if err != nil {
			return fmt.Errorf("pass %d: %w", pass+1, err)
		}
		churned += during
	}
	if passes > 0 && churned == 0 {
		return fmt.Errorf("no entry was created or removed while a listing ran: the passes proved nothing")
	}
	return nil
}

// churnPass lists dir once while a goroutine creates and removes churn files;
// it returns how many creates and removes happened during the listing.
func churnPass(p *probe, dir string, n, pass int) (int64, error) {
	var (
		stop             atomic.Bool
		created, removed atomic.Int64
		churnErr         error
		wg               sync.WaitGroup
		started          = make(chan struct{})
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		const live = 8 // churn files alive at once
		name := func(i int) string { return filepath.Join(dir, fmt.Sprintf("%s%d-%d", churnPrefix, pass, i)) }
		signal := sync.OnceFunc(func() { close(started) })
		defer signal()
		for i := 0; ; i++ {
			if i == 1 {
				signal() // one churn file exists: the listing may start
			}
			if stop.Load() {
				for j := max(0, i-live); j < i; j++ {
					if err := os.Remove(name(j)); err == nil {
						removed.Add(1)
					}
				}
				return
			}
			if err := os.WriteFile(name(i), []byte("churn"), 0o644); err != nil {
				churnErr = err
				return
			}
			created.Add(1)
			if i >= live {
				if err := os.Remove(name(i - live)); err != nil {
					churnErr = err
					return
				}
				removed.Add(1)
			}
		}
	}()
	<-started
	before := created.Load() + removed.Load()
	seen, churnSeen, err := listDir(dir)
	during := created.Load() + removed.Load() - before
	stop.Store(true)
	wg.Wait()
	if err != nil {
		return 0, err
	}
	if churnErr != nil {
		return 0, fmt.Errorf("churn: %w", churnErr)
	}
	var missing, dup []string
	for i := range n {
		name := fmt.Sprintf("%s%06d", stablePrefix, i)
		switch seen[name] {
		case 1:
		case 0:
			missing = append(missing, name)
		default:
			dup = append(dup, fmt.Sprintf("%s x%d", name, seen[name]))
		}
		delete(seen, name)
	}
	if len(missing) > 0 || len(dup) > 0 || len(seen) > 0 {
		extra := make([]string, 0, len(seen))
		for k := range seen {
			extra = append(extra, k)
		}
		return 0, fmt.Errorf("%d stable entries missing %s, %d seen more than once %s, %d unknown %s",
			len(missing), head(missing), len(dup), head(dup), len(extra), head(extra))
	}
	p.say("pass %d: each of the %d stable entries seen exactly once; %d churn entries seen; %d creates+removes during the listing",
		pass, n, churnSeen, during)
	return during, nil
}

// listDir reads dir with getdents(2) in small buffers, so the listing takes
// many calls, and counts each stable name; churn names are only counted.
func listDir(dir string) (map[string]int, int, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(fd)
	seen := make(map[string]int)
	churn := 0
	buf := make([]byte, 4096)
	for {
		n, err := unix.Getdents(fd, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, 0, fmt.Errorf("getdents: %w", err)
		}
		if n == 0 {
			return seen, churn, nil
		}
		_, _, names := unix.ParseDirent(buf[:n], -1, nil)
		for _, name := range names {
			if strings.HasPrefix(name, churnPrefix) {
				churn++
			} else {
				seen[name]++
			}
		}
	}
}

// head shows the first few names of a list in an error message.
func head(s []string) string {
	if len(s) == 0 {
		return ""
	}
	if len(s) > 5 {
		return fmt.Sprintf("%v...", s[:5])
	}
	return fmt.Sprint(s)
}
