package vfstest

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/gonfs/gonfs/vfs"
)

var miscTests = []test{
	{"StatFS", testStatFS},
	{"Info", testInfo},
	{"Concurrent", testConcurrent},
}

func testStatFS(e *env) {
	f := e.create(e.root, "f")
	for _, h := range []vfs.Handle{e.root, f} {
		s, err := e.fs.StatFS(e.ctx, h)
		if err != nil {
			e.t.Fatalf("StatFS: %v", err)
		}
		if s.TotalBytes == 0 || s.FreeBytes > s.TotalBytes || s.AvailBytes > s.FreeBytes {
			e.t.Errorf("StatFS bytes total %d free %d avail %d: want 0 < total, avail <= free <= total",
				s.TotalBytes, s.FreeBytes, s.AvailBytes)
		}
		if s.FreeFiles > s.TotalFiles || s.AvailFiles > s.FreeFiles {
			e.t.Errorf("StatFS files total %d free %d avail %d: want avail <= free <= total",
				s.TotalFiles, s.FreeFiles, s.AvailFiles)
		}
	}
}

func testInfo(e *env) {
	in, ok := e.fs.(vfs.Informer)
	if !ok {
		e.t.Skip("backend does not implement vfs.Informer")
	}
	i := in.Info()
	if int(i.MaxName) != e.opts.maxName() {
		e.t.Errorf("Info.MaxName = %d, but names of %d bytes are accepted", i.MaxName, e.opts.maxName())
	}
	if i.MaxLink < 2 || i.MaxFileSize == 0 || i.TimeDelta <= 0 {
		e.t.Errorf("Info = %+v: want MaxLink >= 2, MaxFileSize > 0, TimeDelta > 0", i)
	}
	if !i.Symlinks || !i.HardLinks {
		e.t.Errorf("Info = %+v, but the suite checks symlinks and hard links", i)
	}
}

// testConcurrent is a smoke test for -race: goroutines create, write, read,
// rename and remove their own files while others list the directory.
func testConcurrent(e *env) {
	const workers, rounds = 8, 40
	d := e.mkdir(e.root, "d")
	var wg sync.WaitGroup
	errs := make(chan error, workers+1)
	stop := make(chan struct{})
	var lister sync.WaitGroup
	lister.Add(1)
	go func() {
		defer lister.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			seen := map[string]bool{}
			var twice string
			err := e.fs.ReadDir(e.ctx, root(), d, 0, true, func(de *vfs.DirEntry) bool {
				if seen[de.Name] {
					twice = de.Name
					return false
				}
				seen[de.Name] = true
				return true
			})
			if err == nil && twice != "" {
				err = fmt.Errorf("yielded %q twice", twice)
			}
			if err != nil {
				errs <- fmt.Errorf("ReadDir: %w", err) // one error at most: the lister stops
				return
			}
		}
	}()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.worker(d, w, rounds); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(stop)
	lister.Wait()
	close(errs)
	for err := range errs {
		e.t.Error(err)
	}
	if got := e.names(d); len(got) != workers {
		e.t.Errorf("after the run d lists %v, want one file per worker", got)
	}
}

func (e *env) worker(d vfs.Handle, w, rounds int) error {
	ctx := e.ctx
	for i := range rounds {
		name := fmt.Sprintf("w%d-%d", w, i)
		h, _, _, err := e.fs.Create(ctx, root(), d, name, mode(0o644), true)
		if err != nil {
			return fmt.Errorf("create %s: %w", name, err)
		}
		data := bytes.Repeat([]byte{byte(w), byte(i)}, 100*(i+1))
		if _, _, err := e.fs.Write(ctx, root(), h, 0, data, vfs.Unstable); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		buf := make([]byte, len(data)+1)
		n, eof, err := e.fs.Read(ctx, root(), h, 0, buf)
		if err != nil || !eof || !bytes.Equal(buf[:n], data) {
			return fmt.Errorf("read %s: %d bytes eof %v err %v", name, n, eof, err)
		}
		if _, _, err := e.fs.Lookup(ctx, root(), d, name); err != nil {
			return fmt.Errorf("lookup %s: %w", name, err)
		}
		if i%2 == 0 {
			if err := e.fs.Rename(ctx, root(), d, name, d, name+"r"); err != nil {
				return fmt.Errorf("rename %s: %w", name, err)
			}
			name += "r"
		}
		if i == rounds-1 {
			break // keep the last one
		}
		if err := e.fs.Remove(ctx, root(), d, name); err != nil {
			return fmt.Errorf("remove %s: %w", name, err)
		}
	}
	return nil
}
