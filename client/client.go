package client

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/gonfs/gonfs/client/nfs4"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
)

// DefaultMaxInFlight bounds the READs or WRITEs one ReadAt or WriteAt has
// in flight at once.
const DefaultMaxInFlight = 16

// Options configure Dial. The zero value works.
type Options struct {
	// Auth is the AUTH_SYS credential of every call. Default: the
	// process's uid, gid and groups, and the host name as machine name.
	// The URL's uid= and gid= override its ids.
	Auth *rpcxdr.AuthsysParms
	// MaxInFlight bounds the RPCs one ReadAt or WriteAt issues at once
	// (default DefaultMaxInFlight).
	MaxInFlight int
	// Owner overrides the NFSv4 client owner (see nfs4.Options.Owner).
	Owner []byte
	// Logger receives NFSv4 recovery events (default: discard).
	Logger *slog.Logger

	// NoCache turns off the attribute, name and data caches and
	// delegations: every call goes to the server.
	NoCache bool
	// AcRegMin and AcRegMax bound how long a regular file's attributes
	// are used without asking the server again, AcDirMin and AcDirMax a
	// directory's (defaults DefaultAcRegMin and so on, as Linux's nfs(5)
	// options). Within the bounds, the time is a tenth of the file's age
	// since it last changed. AcDirMin is also the lifetime of cached
	// names, positive and negative.
	AcRegMin, AcRegMax, AcDirMin, AcDirMax time.Duration
	// CacheSize bounds the file data cached, all files together (default
	// DefaultCacheSize).
	CacheSize int64
	// NoDelegations makes the NFSv4 client ask for no delegations.
	NoDelegations bool
}

// Client is a connection to one NFS server, by NFSv3 or NFSv4.1/4.2. Names
// are slash-separated paths from the server's root, as io/fs names ("."
// is the root). A Client is safe for concurrent use.
//
// Client implements fs.FS, fs.ReadDirFS and fs.StatFS with
// context.Background(); the methods that take a context are the same
// with cancellation.
type Client struct {
	b           backend
	version     string
	maxInFlight int
	cache       *cache // nil with Options.NoCache
}

// backend is one protocol version's implementation. Paths are clean and
// relative ("" is the root).
type backend interface {
	stat(ctx context.Context, p string) (*FileInfo, error)
	lstat(ctx context.Context, p string) (*FileInfo, error)
	readDir(ctx context.Context, p string, fn func(*FileInfo) error) error
	// open returns the file's handle and fresh attributes (the
	// revalidation of close-to-open).
	open(ctx context.Context, p string, flag int, perm fs.FileMode) (handle, *FileInfo, error)
	mkdir(ctx context.Context, p string, perm fs.FileMode) error
	remove(ctx context.Context, p string) error
	rename(ctx context.Context, from, to string) error
	symlink(ctx context.Context, target, p string) error
	link(ctx context.Context, oldname, newname string) error
	readlink(ctx context.Context, p string) (string, error)
	chmod(ctx context.Context, p string, mode fs.FileMode) error
	setattr(ctx context.Context, p string, s *setAttr) error
	ioSizes() (read, write int)
	close() error
}

// handle is an open regular file of a backend. readAt and writeAt are one
// RPC each, of at most the backend's ioSizes.
type handle interface {
	readAt(ctx context.Context, p []byte, off int64) (n int, eof bool, err error)
	writeAt(ctx context.Context, p []byte, off int64) error
	sync(ctx context.Context) error
	stat(ctx context.Context) (*FileInfo, error)
	truncate(ctx context.Context, size int64) error
	lock(ctx context.Context, write bool, off, length int64) error
	unlock(ctx context.Context, off, length int64) error
	close(ctx context.Context) error
	delegation() nfs4.DelegType
}

// Dial parses rawURL (see URL) and connects to its server. The URL's path
// is not opened; use URL.Name with the Client's methods.
func Dial(ctx context.Context, rawURL string, opts Options) (*Client, error) {
	u, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return DialURL(ctx, u, opts)
}

// DialURL connects to the server of u. With no version in u it tries
// NFSv4.2, then 4.1, then 3, moving on when the server refuses the version
// (PROG_MISMATCH or NFS4ERR_MINOR_VERS_MISMATCH) or does not answer NFSv4
// at all.
func DialURL(ctx context.Context, u *URL, opts Options) (*Client, error) {
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = DefaultMaxInFlight
	}
	auth := defaultAuth(opts.Auth)
	if u.UID != nil {
		auth.Uid = *u.UID
	}
	if u.GID != nil {
		auth.Gid = *u.GID
	}
	var cch *cache
	var dh nfs4.DelegationHandler
	if !opts.NoCache {
		cch = newCache(&opts)
		if !opts.NoDelegations {
			dh = delegHandler{cch}
		}
	}
	versions := []string{u.Version}
	if u.Version == "" {
		versions = []string{"4.2", "4.1", "3"}
	}
	var errs []error
	for _, v := range versions {
		var b backend
		var err error
		if v == "3" {
			b, err = dialV3(ctx, u, auth)
		} else {
			b, err = dialV4(ctx, u, auth, v, opts, dh)
		}
		if err == nil {
			return &Client{b: b, version: v, maxInFlight: opts.MaxInFlight, cache: cch}, nil
		}
		errs = append(errs, fmt.Errorf("NFSv%s: %w", v, err))
		if !refused(err) {
			break
		}
	}
	return nil, fmt.Errorf("client: %s: %w", u, errors.Join(errs...))
}

// refused reports an error after which the next version is worth trying.
func refused(err error) bool {
	var ae *sunrpc.AcceptError
	if errors.As(err, &ae) && (ae.Stat == rpcxdr.PROG_MISMATCH || ae.Stat == rpcxdr.PROG_UNAVAIL) {
		return true
	}
	return errors.Is(err, nfs4.ErrMinorVersion) || errors.Is(err, errV4Unreachable)
}

func defaultAuth(a *rpcxdr.AuthsysParms) *rpcxdr.AuthsysParms {
	if a != nil {
		c := *a
		return &c
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "gonfs-client"
	}
	out := &rpcxdr.AuthsysParms{Machinename: host, Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid())}
	if gs, err := os.Getgroups(); err == nil {
		for _, g := range gs {
			if len(out.Gids) < 16 && uint32(g) != out.Gid {
				out.Gids = append(out.Gids, uint32(g))
			}
		}
	}
	return out
}

// Version returns the protocol version in use: "3", "4.1" or "4.2".
func (c *Client) Version() string { return c.version }

// Close ends the connection (and the NFSv4 client's state on the server).
func (c *Client) Close() error { return c.b.close() }

// clean checks an io/fs name and returns the backend's form of it.
func clean(op, name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return "", nil
	}
	return name, nil
}

func pathErr(op, name string, err error) error {
	if err == nil {
		return nil
	}
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// StatContext returns the attributes of name, following a final symlink
// as far as the server does (it resolves none itself: see LstatContext).
func (c *Client) StatContext(ctx context.Context, name string) (*FileInfo, error) {
	p, err := clean("stat", name)
	if err != nil {
		return nil, err
	}
	fi, err := c.cachedStat(ctx, p, c.b.stat)
	return fi, pathErr("stat", name, err)
}

// cachedStat answers from the attribute and name caches, or asks the
// server and fills them.
func (c *Client) cachedStat(ctx context.Context, p string, stat func(context.Context, string) (*FileInfo, error)) (*FileInfo, error) {
	if c.cache == nil {
		return stat(ctx, p)
	}
	if fi, exists, ok := c.cache.lookup(p); ok {
		if !exists {
			return nil, fs.ErrNotExist
		}
		return fi, nil
	}
	c.cache.getattrs.Add(1)
	fi, err := stat(ctx, p)
	switch {
	case err == nil:
		c.cache.put(p, fi)
	case errors.Is(err, fs.ErrNotExist):
		c.cache.putNegative(p)
	}
	return fi, err
}

// touched tells the caches that names ps changed.
func (c *Client) touched(ps ...string) {
	if c.cache != nil {
		c.cache.touched(ps...)
	}
}

// CacheStats returns the counts of the caches (zero with NoCache).
func (c *Client) CacheStats() CacheStats {
	if c.cache == nil {
		return CacheStats{}
	}
	return c.cache.stats()
}

// DropCaches forgets every cached attribute, name and clean data block
// (dirty data stays until it is written back).
func (c *Client) DropCaches() {
	if c.cache == nil {
		return
	}
	c.cache.mu.Lock()
	clear(c.cache.attrs)
	clear(c.cache.names)
	files := make([]*fileCache, 0, len(c.cache.files))
	for _, f := range c.cache.files {
		files = append(files, f)
	}
	c.cache.mu.Unlock()
	for _, f := range files {
		f.mu.Lock()
		f.dropCleanLocked(-1)
		f.mu.Unlock()
	}
}

// LstatContext returns the attributes of name without following a final
// symlink.
func (c *Client) LstatContext(ctx context.Context, name string) (*FileInfo, error) {
	p, err := clean("lstat", name)
	if err != nil {
		return nil, err
	}
	fi, err := c.cachedStat(ctx, p, c.b.lstat)
	return fi, pathErr("lstat", name, err)
}

// Stat is StatContext with context.Background() (fs.StatFS).
func (c *Client) Stat(name string) (fs.FileInfo, error) {
	fi, err := c.StatContext(context.Background(), name)
	if err != nil {
		return nil, err
	}
	return fi, nil
}

// ReadDirContext lists directory name, sorted by name, with each entry's
// attributes (READDIRPLUS or READDIR with attributes: one round trip per
// batch of entries, none per entry).
func (c *Client) ReadDirContext(ctx context.Context, name string) ([]fs.DirEntry, error) {
	p, err := clean("readdir", name)
	if err != nil {
		return nil, err
	}
	var out []fs.DirEntry
	err = c.b.readDir(ctx, p, func(fi *FileInfo) error {
		out = append(out, fs.FileInfoToDirEntry(fi))
		return nil
	})
	if err != nil {
		return nil, pathErr("readdir", name, err)
	}
	sortEntries(out)
	return out, nil
}

// ReadDir is ReadDirContext with context.Background() (fs.ReadDirFS).
func (c *Client) ReadDir(name string) ([]fs.DirEntry, error) {
	return c.ReadDirContext(context.Background(), name)
}

// Open opens name for reading (fs.FS); a directory can be read with
// ReadDir on the returned file.
func (c *Client) Open(name string) (fs.File, error) {
	f, err := c.OpenFile(context.Background(), name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Mkdir creates directory name.
func (c *Client) Mkdir(ctx context.Context, name string, perm fs.FileMode) error {
	p, err := clean("mkdir", name)
	if err != nil {
		return err
	}
	err = c.b.mkdir(ctx, p, perm)
	c.touched(p)
	return pathErr("mkdir", name, err)
}

// MkdirAll creates directory name and any parents missing.
func (c *Client) MkdirAll(ctx context.Context, name string, perm fs.FileMode) error {
	p, err := clean("mkdir", name)
	if err != nil || p == "" {
		return err
	}
	if fi, err := c.b.stat(ctx, p); err == nil {
		if fi.IsDir() {
			return nil
		}
		return pathErr("mkdir", name, errNotDir)
	}
	if dir := path.Dir(p); dir != "." {
		if err := c.MkdirAll(ctx, dir, perm); err != nil {
			return err
		}
	}
	err = c.b.mkdir(ctx, p, perm)
	c.touched(p)
	if errors.Is(err, fs.ErrExist) {
		if fi, serr := c.b.stat(ctx, p); serr == nil && fi.IsDir() {
			return nil
		}
	}
	return pathErr("mkdir", name, err)
}

// Remove removes a file or an empty directory.
func (c *Client) Remove(ctx context.Context, name string) error {
	p, err := clean("remove", name)
	if err != nil {
		return err
	}
	err = c.b.remove(ctx, p)
	c.touched(p)
	return pathErr("remove", name, err)
}

// RemoveAll removes name and everything below it. A name that does not
// exist is not an error.
func (c *Client) RemoveAll(ctx context.Context, name string) error {
	fi, err := c.LstatContext(ctx, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		ents, err := c.ReadDirContext(ctx, name)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if err := c.RemoveAll(ctx, path.Join(name, e.Name())); err != nil {
				return err
			}
		}
	}
	return c.Remove(ctx, name)
}

// Rename renames (moves) from to to, replacing to if it exists.
func (c *Client) Rename(ctx context.Context, from, to string) error {
	p, err := clean("rename", from)
	if err != nil {
		return err
	}
	q, err := clean("rename", to)
	if err != nil {
		return err
	}
	err = c.b.rename(ctx, p, q)
	c.touched(p, q)
	return pathErr("rename", from, err)
}

// Symlink creates symbolic link name pointing at target.
func (c *Client) Symlink(ctx context.Context, target, name string) error {
	p, err := clean("symlink", name)
	if err != nil {
		return err
	}
	err = c.b.symlink(ctx, target, p)
	c.touched(p)
	return pathErr("symlink", name, err)
}

// Link creates newname as a hard link to oldname.
func (c *Client) Link(ctx context.Context, oldname, newname string) error {
	p, err := clean("link", oldname)
	if err != nil {
		return err
	}
	q, err := clean("link", newname)
	if err != nil {
		return err
	}
	err = c.b.link(ctx, p, q)
	c.touched(p, q)
	return pathErr("link", newname, err)
}

// Readlink returns the target of symbolic link name.
func (c *Client) Readlink(ctx context.Context, name string) (string, error) {
	p, err := clean("readlink", name)
	if err != nil {
		return "", err
	}
	s, err := c.b.readlink(ctx, p)
	return s, pathErr("readlink", name, err)
}

// Chmod changes the permission bits of name.
func (c *Client) Chmod(ctx context.Context, name string, mode fs.FileMode) error {
	p, err := clean("chmod", name)
	if err != nil {
		return err
	}
	err = c.b.chmod(ctx, p, mode)
	c.touched(p)
	return pathErr("chmod", name, err)
}

// NFS4 returns the underlying NFSv4 client, or nil over NFSv3, for what
// the friendly API does not cover (xattrs, SEEK, COPY, raw COMPOUNDs).
func (c *Client) NFS4() *nfs4.Client {
	if b, ok := c.b.(*v4); ok {
		return b.c
	}
	return nil
}

var errNotDir = errors.New("not a directory")

func sortEntries(es []fs.DirEntry) {
	slices.SortFunc(es, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
}
