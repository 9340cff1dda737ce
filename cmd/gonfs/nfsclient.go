package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gonfs/gonfs/client"
)

// What the client tools (ls, cat, cp, put, rm, mkdir, stat) share: dialing
// a URL, a file tree that is either local or on a server, and the progress
// bar.

// isURL reports whether s names an NFS file rather than a local one.
func isURL(s string) bool { return strings.HasPrefix(s, "nfs://") }

// dialURL parses s and connects to its server.
func dialURL(ctx context.Context, s string) (*client.Client, *client.URL, error) {
	u, err := client.ParseURL(s)
	if err != nil {
		return nil, nil, err
	}
	c, err := client.DialURL(ctx, u, client.Options{})
	if err != nil {
		return nil, nil, err
	}
	return c, u, nil
}

// eachURL dials each URL in turn and runs fn on it, stopping at the first
// error.
func eachURL(ctx context.Context, urls []string, fn func(c *client.Client, u *client.URL) error) error {
	for _, s := range urls {
		c, u, err := dialURL(ctx, s)
		if err != nil {
			return err
		}
		err = fn(c, u)
		c.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// place is a file in a local directory tree or on an NFS server.
type place struct {
	c    *client.Client // nil: local
	name string         // NFS: io/fs name from the root; local: a path
}

func (p place) String() string { return p.name }

func (p place) join(elem string) place {
	if p.c == nil {
		return place{name: filepath.Join(p.name, elem)}
	}
	return place{c: p.c, name: path.Join(p.name, elem)}
}

func (p place) base() string {
	if p.c == nil {
		return filepath.Base(p.name)
	}
	return path.Base(p.name)
}

func (p place) stat(ctx context.Context) (fs.FileInfo, error) {
	if p.c == nil {
		return os.Stat(p.name)
	}
	return p.c.StatContext(ctx, p.name)
}

func (p place) readDir(ctx context.Context) ([]fs.DirEntry, error) {
	if p.c == nil {
		return os.ReadDir(p.name)
	}
	return p.c.ReadDirContext(ctx, p.name)
}

func (p place) mkdir(ctx context.Context, perm fs.FileMode) error {
	if p.c == nil {
		return os.Mkdir(p.name, perm)
	}
	return p.c.Mkdir(ctx, p.name, perm)
}

type readerAtCloser interface {
	io.ReaderAt
	io.Closer
}

type writerAtCloser interface {
	io.WriterAt
	io.Closer
}

func (p place) openRead(ctx context.Context) (readerAtCloser, error) {
	if p.c == nil {
		return os.Open(p.name)
	}
	return p.c.OpenFile(ctx, p.name, os.O_RDONLY, 0)
}

func (p place) create(ctx context.Context, perm fs.FileMode) (writerAtCloser, error) {
	if p.c == nil {
		return os.OpenFile(p.name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	}
	return p.c.OpenFile(ctx, p.name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
}

// copyChunk is how much one ReadAt/WriteAt pair moves: large enough that
// the client library keeps its 16 RPCs in flight.
const copyChunk = 16 << 20

// copyFile copies src to dst, reporting bytes to pr.
func copyFile(ctx context.Context, src, dst place, perm fs.FileMode, pr *progress) error {
	if src.c != nil && dst.c == src.c {
		// Both on one server: let it copy (NFSv4.2 COPY) if it can.
		if n, err := src.c.CopyFile(ctx, src.name, dst.name, perm); err == nil {
			pr.add(n)
			return nil
		} else if err != client.ErrCopyUnsupported {
			return err
		}
	}
	r, err := src.openRead(ctx)
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := dst.create(ctx, perm)
	if err != nil {
		return err
	}
	buf := make([]byte, copyChunk)
	var off int64
	for {
		if err := ctx.Err(); err != nil {
			w.Close()
			return err
		}
		n, rerr := r.ReadAt(buf, off)
		if n > 0 {
			if _, err := w.WriteAt(buf[:n], off); err != nil {
				w.Close()
				return err
			}
			off += int64(n)
			pr.add(int64(n))
		}
		if rerr == io.EOF || (rerr == nil && n == 0) {
			break
		}
		if rerr != nil {
			w.Close()
			return rerr
		}
	}
	return w.Close()
}

// progress draws a one-line progress bar on a terminal; elsewhere it is
// silent.
type progress struct {
	w     io.Writer
	total int64
	start time.Time

	mu    sync.Mutex
	done  int64
	last  time.Time
	label string
}

// newProgress returns a bar for total bytes written to stderr if it is a
// terminal, or a silent one.
func newProgress(errOut io.Writer, total int64) *progress {
	f, ok := errOut.(*os.File)
	if !ok {
		return &progress{}
	}
	if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err != nil {
		return &progress{}
	}
	return &progress{w: f, total: total, start: time.Now()}
}

func (p *progress) setLabel(s string) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	p.label = s
	p.mu.Unlock()
}

func (p *progress) add(n int64) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	if now := time.Now(); now.Sub(p.last) >= 200*time.Millisecond || p.done >= p.total {
		p.last = now
		p.draw()
	}
}

func (p *progress) draw() {
	const width = 30
	frac := 1.0
	if p.total > 0 {
		frac = min(float64(p.done)/float64(p.total), 1)
	}
	filled := int(frac * width)
	rate := float64(p.done) / max(time.Since(p.start).Seconds(), 0.001)
	label := p.label
	if len(label) > 30 {
		label = "…" + label[len(label)-29:]
	}
	fmt.Fprintf(p.w, "\r%-30s [%s%s] %3.0f%% %s/%s %s/s ", label, strings.Repeat("=", filled), strings.Repeat(" ", width-filled),
		frac*100, size(p.done), size(p.total), size(int64(rate)))
}

// finish ends the bar's line.
func (p *progress) finish() {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draw()
	fmt.Fprintln(p.w)
}

// size formats a byte count.
func size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
