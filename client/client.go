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
}

// backend is one protocol version's implementation. Paths are clean and
// relative ("" is the root).
type backend interface {
	stat(ctx context.Context, p string) (*FileInfo, error)
	lstat(ctx context.Context, p string) (*FileInfo, error)
	readDir(ctx context.Context, p string, fn func(*FileInfo) error) error
	open(ctx context.Context, p string, flag int, perm fs.FileMode) (handle, *FileInfo, error)
	mkdir(ctx context.Context, p string, perm fs.FileMode) error
	remove(ctx context.Context, p string) error
	rename(ctx context.Context, from, to string) error
	symlink(ctx context.Context, target, p string) error
	link(ctx context.Context, oldname, newname string) error
	readlink(ctx context.Context, p string) (string, error)
	chmod(ctx context.Context, p string, mode fs.FileMode) error
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
			b, err = dialV4(ctx, u, auth, v, opts)
		}
		if err == nil {
			return &Client{b: b, version: v, maxInFlight: opts.MaxInFlight}, nil
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
	fi, err := c.b.stat(ctx, p)
	return fi, pathErr("stat", name, err)
}

// LstatContext returns the attributes of name without following a final
// symlink.
func (c *Client) LstatContext(ctx context.Context, name string) (*FileInfo, error) {
	p, err := clean("lstat", name)
	if err != nil {
		return nil, err
	}
	fi, err := c.b.lstat(ctx, p)
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
	return pathErr("mkdir", name, c.b.mkdir(ctx, p, perm))
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
	return pathErr("remove", name, c.b.remove(ctx, p))
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
	return pathErr("rename", from, c.b.rename(ctx, p, q))
}

// Symlink creates symbolic link name pointing at target.
func (c *Client) Symlink(ctx context.Context, target, name string) error {
	p, err := clean("symlink", name)
	if err != nil {
		return err
	}
	return pathErr("symlink", name, c.b.symlink(ctx, target, p))
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
	return pathErr("link", newname, c.b.link(ctx, p, q))
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
	return pathErr("chmod", name, c.b.chmod(ctx, p, mode))
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
