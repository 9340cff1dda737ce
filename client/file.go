package client

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"sync"
	"syscall"

	"github.com/gonfs/gonfs/client/nfs4"
)

// File is an open file of a Client. ReadAt and WriteAt split large
// requests into READs and WRITEs of the server's transfer size and keep
// up to Options.MaxInFlight of them in flight at once; writes are UNSTABLE
// and made durable by Sync and Close (COMMIT, resending what a server
// restart lost). A File is safe for concurrent use; Read, Write and Seek
// share one offset, ReadAt and WriteAt do not touch it.
//
// The io methods (Read, Write, ReadAt, WriteAt, Close, Sync) use
// context.Background(); the *Context variants take a context.
type File struct {
	c      *Client
	name   string
	h      handle     // nil for a directory
	fc     *fileCache // nil without caching
	key    string
	flag   int
	dir    *FileInfo
	offMu  sync.Mutex // serializes Read, Write and Seek
	offset int64
	mu     sync.Mutex
	ents   []fs.DirEntry // directory entries not yet returned
	listed bool
	closed bool
}

// OpenFile opens name with os.OpenFile's flags (O_RDONLY, O_WRONLY,
// O_RDWR, O_CREATE, O_EXCL, O_TRUNC, O_APPEND) and permission bits for a
// created file. A directory opens for ReadDir only.
func (c *Client) OpenFile(ctx context.Context, name string, flag int, perm fs.FileMode) (*File, error) {
	p, err := clean("open", name)
	if err != nil {
		return nil, err
	}
	f := &File{c: c, name: name, flag: flag}
	if p == "" {
		fi, err := c.b.stat(ctx, p)
		if err != nil {
			return nil, pathErr("open", name, err)
		}
		f.dir = fi
		return f, nil
	}
	h, fi, err := c.b.open(ctx, p, flag, perm)
	if errors.Is(err, syscall.EISDIR) && flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE) == 0 {
		fi, err = c.b.stat(ctx, p)
		if err == nil {
			f.dir = fi
			return f, nil
		}
	}
	if err != nil {
		return nil, pathErr("open", name, err)
	}
	if fi.IsDir() {
		h.close(ctx)
		if flag&(os.O_WRONLY|os.O_RDWR) != 0 {
			return nil, pathErr("open", name, syscall.EISDIR)
		}
		f.dir = fi
		return f, nil
	}
	f.h = h
	if c.cache != nil {
		if flag&(os.O_CREATE|os.O_TRUNC) != 0 {
			c.touched(p)
		}
		c.attach(f, fi, p)
	}
	return f, nil
}

// attach joins an opened file to its data cache. The attributes OPEN
// returned are the revalidation of close-to-open (RFC 8881 §10.3.1): a
// change attribute that moved since the data was cached drops it, unless
// the client holds a delegation (then only it can have changed the
// file).
func (c *Client) attach(f *File, fi *FileInfo, p string) {
	rs, ws := c.b.ioSizes()
	fc := c.cache.file(fi.key, min(rs, ws, 1<<20))
	f.fc, f.key = fc, fi.key
	fc.io.Lock()
	d := f.h.delegation()
	fc.mu.Lock()
	if !fc.wdeleg.Load() && d == nfs4.DelegWrite {
		fc.size, fc.granted = fi.size, fc.mods
	}
	fc.mu.Unlock()
	fc.delegated.Store(d != nfs4.DelegNone)
	fc.wdeleg.Store(d == nfs4.DelegWrite)
	fc.revalidate(fi.attr.Change)
	fc.mu.Lock()
	if fc.opens == nil {
		fc.opens = make(map[*File]struct{})
	}
	fc.opens[f] = struct{}{}
	if f.writable() {
		fc.writers++
	}
	if fc.wdeleg.Load() {
		fi.size = fc.size
	}
	fc.mu.Unlock()
	fc.io.Unlock()
	c.cache.put(p, fi)
}

// writable reports a file opened for writing.
func (f *File) writable() bool { return f.flag&(os.O_WRONLY|os.O_RDWR) != 0 }

// Create creates or truncates name for writing, like os.Create.
func (c *Client) Create(ctx context.Context, name string) (*File, error) {
	return c.OpenFile(ctx, name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

// Name returns the name the file was opened with.
func (f *File) Name() string { return f.name }

func (f *File) check(op string) error {
	f.mu.Lock()
	closed := f.closed
	f.mu.Unlock()
	if closed {
		return &fs.PathError{Op: op, Path: f.name, Err: fs.ErrClosed}
	}
	if f.h == nil {
		return &fs.PathError{Op: op, Path: f.name, Err: syscall.EISDIR}
	}
	return nil
}

// parallel runs fn on the chunks of [off, off+len(p)) of at most size
// bytes, MaxInFlight at a time. It returns the bytes done contiguously
// from the start, and io.EOF if a chunk came up short (the file ends).
func (f *File) parallel(ctx context.Context, p []byte, off int64, size int, fn func(ctx context.Context, p []byte, off int64) (int, bool, error)) (n int, err error) {
	type result struct {
		n   int
		eof bool
	}
	chunks := (len(p) + size - 1) / size
	res := make([]result, chunks)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		errMu    sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
		cancel() // the other chunks are useless now
	}
	sem := make(chan struct{}, f.c.maxInFlight)
	var wg sync.WaitGroup
	for i := range chunks {
		lo := i * size
		hi := min(lo+size, len(p))
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			fail(ctx.Err())
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			n, eof, err := fn(ctx, p[lo:hi], off+int64(lo))
			res[i] = result{n, eof}
			if err != nil {
				fail(err)
			}
		}()
	}
	wg.Wait()
	for i, r := range res {
		n += r.n
		if r.eof || r.n < min(size, len(p)-i*size) {
			if firstErr != nil && r.n < min(size, len(p)-i*size) && !r.eof {
				return n, firstErr
			}
			return n, io.EOF
		}
	}
	return n, firstErr
}

// ReadAtContext reads len(p) bytes at off; fewer only at the end of the
// file (io.EOF) or on error. With caching, the data comes from the file's
// data cache where it is valid.
func (f *File) ReadAtContext(ctx context.Context, p []byte, off int64) (int, error) {
	if err := f.check("read"); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if f.fc == nil {
		return f.readRaw(ctx, p, off)
	}
	if !f.fc.delegated.Load() && !f.attrFresh() {
		// Attributes past their time: revalidate before trusting the
		// cached data.
		if _, err := f.StatContext(ctx); err != nil {
			return 0, err
		}
	}
	n, err := f.fc.read(ctx, f, p, off)
	if err != nil && err != io.EOF {
		err = &fs.PathError{Op: "read", Path: f.name, Err: err}
	}
	return n, err
}

// attrFresh reports whether the file's cached attributes are in time.
func (f *File) attrFresh() bool {
	c := f.c.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.attrs[f.key]
	return a != nil && !c.now().After(a.expires)
}

// readRaw reads from the server, bypassing the cache.
func (f *File) readRaw(ctx context.Context, p []byte, off int64) (int, error) {
	rsize, _ := f.c.b.ioSizes()
	n, err := f.parallel(ctx, p, off, rsize, func(ctx context.Context, p []byte, off int64) (int, bool, error) {
		// A READ may return less than asked (RFC 1813 §3.3.6); go on
		// until the chunk is full or the file ends.
		done := 0
		for done < len(p) {
			n, eof, err := f.h.readAt(ctx, p[done:], off+int64(done))
			done += n
			if err != nil || eof || n == 0 {
				return done, eof || n == 0, err
			}
		}
		return done, false, nil
	})
	if err != nil && err != io.EOF {
		err = &fs.PathError{Op: "read", Path: f.name, Err: err}
	}
	return n, err
}

// ReadAt implements io.ReaderAt.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	return f.ReadAtContext(context.Background(), p, off)
}

// WriteAtContext writes p at off: to the server, or, under a write
// delegation, into the data cache to be written back later (RFC 8881
// §10.4.1).
func (f *File) WriteAtContext(ctx context.Context, p []byte, off int64) (int, error) {
	if err := f.check("write"); err != nil {
		return 0, err
	}
	if f.fc == nil {
		return f.writeRaw(ctx, p, off)
	}
	if f.fc.wdeleg.Load() && f.h.delegation() != nfs4.DelegWrite {
		// The delegation died with the client ID (a server restart):
		// the buffered data stays dirty until written back, new writes
		// go to the server.
		f.fc.wdeleg.Store(false)
		f.fc.delegated.Store(false)
	}
	if f.fc.wdeleg.Load() {
		f.fc.io.Lock()
		if f.fc.wdeleg.Load() {
			err := f.fc.buffer(ctx, f, p, off)
			f.fc.io.Unlock()
			f.setCachedSize()
			if err != nil {
				return 0, &fs.PathError{Op: "write", Path: f.name, Err: err}
			}
			return len(p), nil
		}
		f.fc.io.Unlock()
	}
	n, err := f.writeRaw(ctx, p, off)
	f.fc.wrote(p[:n], off)
	f.c.cache.forgetAttr(f.key)
	return n, err
}

// setCachedSize makes the cached attributes show the size of a file
// written under a write delegation.
func (f *File) setCachedSize() {
	f.fc.mu.Lock()
	size := f.fc.size
	f.fc.mu.Unlock()
	c := f.c.cache
	c.mu.Lock()
	if a := c.attrs[f.key]; a != nil {
		a.fi.size = size
		a.fi.mtime = c.now()
	}
	c.mu.Unlock()
}

// writeRaw writes to the server, bypassing the cache.
func (f *File) writeRaw(ctx context.Context, p []byte, off int64) (int, error) {
	_, wsize := f.c.b.ioSizes()
	n, err := f.parallel(ctx, p, off, wsize, func(ctx context.Context, p []byte, off int64) (int, bool, error) {
		if err := f.h.writeAt(ctx, p, off); err != nil {
			return 0, false, err
		}
		return len(p), false, nil
	})
	if err != nil {
		err = &fs.PathError{Op: "write", Path: f.name, Err: err}
	}
	return n, err
}

// WriteAt implements io.WriterAt.
func (f *File) WriteAt(p []byte, off int64) (int, error) {
	return f.WriteAtContext(context.Background(), p, off)
}

// Read implements io.Reader at the file's offset.
func (f *File) Read(p []byte) (int, error) {
	f.offMu.Lock()
	defer f.offMu.Unlock()
	n, err := f.ReadAtContext(context.Background(), p, f.offset)
	f.offset += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// Write implements io.Writer at the file's offset (at the end with
// O_APPEND).
func (f *File) Write(p []byte) (int, error) {
	f.offMu.Lock()
	defer f.offMu.Unlock()
	if f.flag&os.O_APPEND != 0 && f.h != nil {
		fi, err := f.statNow(context.Background())
		if err != nil {
			return 0, &fs.PathError{Op: "write", Path: f.name, Err: err}
		}
		f.offset = fi.Size()
	}
	n, err := f.WriteAtContext(context.Background(), p, f.offset)
	f.offset += int64(n)
	return n, err
}

// Seek implements io.Seeker.
func (f *File) Seek(offset int64, whence int) (int64, error) {
	f.offMu.Lock()
	defer f.offMu.Unlock()
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.offset
	case io.SeekEnd:
		fi, err := f.StatContext(context.Background())
		if err != nil {
			return 0, err
		}
		offset += fi.Size()
	default:
		return 0, &fs.PathError{Op: "seek", Path: f.name, Err: fs.ErrInvalid}
	}
	if offset < 0 {
		return 0, &fs.PathError{Op: "seek", Path: f.name, Err: fs.ErrInvalid}
	}
	f.offset = offset
	return offset, nil
}

// StatContext returns the file's current attributes (from the attribute
// cache while they are fresh, or while a delegation is held).
func (f *File) StatContext(ctx context.Context) (*FileInfo, error) {
	if f.h == nil {
		return f.dir, nil
	}
	if f.fc != nil {
		c := f.c.cache
		c.mu.Lock()
		a := c.attrs[f.key]
		if a != nil && (!c.now().After(a.expires) || f.fc.delegated.Load()) {
			fi := a.fi
			c.mu.Unlock()
			c.attrHits.Add(1)
			fi.name = path.Base(f.name)
			return &fi, nil
		}
		c.mu.Unlock()
	}
	return f.statNow(ctx)
}

// statNow asks the server for the file's attributes, except for the size
// of a file with writes buffered under a write delegation, which only
// this client knows.
func (f *File) statNow(ctx context.Context) (*FileInfo, error) {
	if f.fc != nil {
		f.c.cache.getattrs.Add(1)
	}
	fi, err := f.h.stat(ctx)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: f.name, Err: err}
	}
	fi.name = path.Base(f.name)
	if f.fc != nil {
		f.fc.mu.Lock()
		if f.fc.wdeleg.Load() {
			fi.size = f.fc.size
		}
		f.fc.mu.Unlock()
		f.c.cache.put("-", fi)
	}
	return fi, nil
}

// Stat implements fs.File.
func (f *File) Stat() (fs.FileInfo, error) {
	fi, err := f.StatContext(context.Background())
	if err != nil {
		return nil, err
	}
	return fi, nil
}

// SyncContext commits the file's writes to stable storage.
func (f *File) SyncContext(ctx context.Context) error {
	if err := f.check("sync"); err != nil {
		return err
	}
	if err := f.writeBack(ctx); err != nil {
		return &fs.PathError{Op: "sync", Path: f.name, Err: err}
	}
	if err := f.h.sync(ctx); err != nil {
		return &fs.PathError{Op: "sync", Path: f.name, Err: err}
	}
	return nil
}

// writeBack sends the file's dirty cached data to the server.
func (f *File) writeBack(ctx context.Context) error {
	if f.fc == nil {
		return nil
	}
	f.fc.io.Lock()
	defer f.fc.io.Unlock()
	return f.fc.flush(ctx, f)
}

// Sync is SyncContext with context.Background().
func (f *File) Sync() error { return f.SyncContext(context.Background()) }

// Truncate changes the file's size.
func (f *File) Truncate(ctx context.Context, size int64) error {
	if err := f.check("truncate"); err != nil {
		return err
	}
	if f.fc != nil {
		f.fc.io.Lock()
		defer f.fc.io.Unlock()
		if err := f.fc.flush(ctx, f); err != nil {
			return &fs.PathError{Op: "truncate", Path: f.name, Err: err}
		}
	}
	err := f.h.truncate(ctx, size)
	if f.fc != nil {
		f.fc.truncated(size)
		f.c.cache.forgetAttr(f.key)
	}
	if err != nil {
		return &fs.PathError{Op: "truncate", Path: f.name, Err: err}
	}
	return nil
}

// Lock takes a byte-range lock on [off, off+length) (length 0: to the end
// of the file), exclusive if write, without waiting: a conflicting lock is
// an error matching syscall.EAGAIN. Over NFSv3 this is NLM; a blocking
// NLM lock would need a callback listener, which the client does not run.
func (f *File) Lock(ctx context.Context, write bool, off, length int64) error {
	if err := f.check("lock"); err != nil {
		return err
	}
	if err := f.h.lock(ctx, write, off, length); err != nil {
		return &fs.PathError{Op: "lock", Path: f.name, Err: err}
	}
	return nil
}

// Unlock releases a byte-range lock.
func (f *File) Unlock(ctx context.Context, off, length int64) error {
	if err := f.check("unlock"); err != nil {
		return err
	}
	if err := f.h.unlock(ctx, off, length); err != nil {
		return &fs.PathError{Op: "unlock", Path: f.name, Err: err}
	}
	return nil
}

// CloseContext commits the file's writes and closes it.
func (f *File) CloseContext(ctx context.Context) error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return &fs.PathError{Op: "close", Path: f.name, Err: fs.ErrClosed}
	}
	f.closed = true
	f.mu.Unlock()
	if f.h == nil {
		return nil
	}
	var err error
	if f.fc != nil {
		err = f.detach(ctx)
	}
	if cerr := f.h.close(ctx); err == nil {
		err = cerr
	}
	if err != nil {
		return &fs.PathError{Op: "close", Path: f.name, Err: err}
	}
	return nil
}

// detach is the close half of close-to-open: dirty data is written back
// and committed before CLOSE, and a writer takes the change attribute its
// writes produced as the data cache's new validator.
func (f *File) detach(ctx context.Context) error {
	fc := f.fc
	fc.io.Lock()
	err := fc.flush(ctx, f)
	if err == nil && f.writable() {
		if err = f.h.sync(ctx); err == nil {
			_, err = f.statNow(ctx)
		}
	}
	fc.mu.Lock()
	delete(fc.opens, f)
	if f.writable() {
		fc.writers--
	}
	fc.mu.Unlock()
	fc.io.Unlock()
	return err
}

// Close implements io.Closer.
func (f *File) Close() error { return f.CloseContext(context.Background()) }

// ReadDir implements fs.ReadDirFile for a directory.
func (f *File) ReadDir(n int) ([]fs.DirEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dir == nil {
		return nil, &fs.PathError{Op: "readdir", Path: f.name, Err: syscall.ENOTDIR}
	}
	if !f.listed {
		ents, err := f.c.ReadDirContext(context.Background(), f.name)
		if err != nil {
			return nil, err
		}
		f.ents, f.listed = ents, true
	}
	if n <= 0 {
		out := f.ents
		f.ents = nil
		return out, nil
	}
	if len(f.ents) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(f.ents))
	out := f.ents[:n]
	f.ents = f.ents[n:]
	return out, nil
}

var (
	_ fs.ReadDirFile     = (*File)(nil)
	_ io.ReaderAt        = (*File)(nil)
	_ io.WriterAt        = (*File)(nil)
	_ io.ReadWriteSeeker = (*File)(nil)
	_ fs.FS              = (*Client)(nil)
	_ fs.ReadDirFS       = (*Client)(nil)
	_ fs.StatFS          = (*Client)(nil)
)
