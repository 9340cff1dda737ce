package bench

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/gonfs/gonfs/client"
	"github.com/gonfs/gonfs/client/nfs3"
	"github.com/gonfs/gonfs/client/nfs4"
	x3 "github.com/gonfs/gonfs/proto/nfs3xdr"
	x4 "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
)

// dir is a directory on the server: its handle, and for NFSv4 its path
// from the server's root (OPEN names its file by the current filehandle's
// directory, which the client library reaches by path).
type dir struct {
	fh   []byte
	path string
}

// conn is one connection to the server by one protocol version: one RPC
// (NFSv3) or one COMPOUND (NFSv4) per method, except where a method says
// otherwise. Safe for concurrent use.
type conn interface {
	// workDir returns the directory p (slash-separated from the server's
	// root), creating it and its parents if missing.
	workDir(ctx context.Context, p string) (dir, error)
	// sub returns directory name in d, creating it if missing.
	sub(ctx context.Context, d dir, name string) (dir, error)
	// open opens (with create, creates) file name in d for reading and
	// writing.
	open(ctx context.Context, d dir, name string, create bool) (file, error)
	// touch creates an empty file: CREATE over NFSv3; OPEN and CLOSE (two
	// COMPOUNDs, as creat() and close() make) over NFSv4.
	touch(ctx context.Context, d dir, name string) error
	// stat looks up name in d with its attributes (LOOKUP; NFSv4: PUTFH,
	// LOOKUP, GETATTR).
	stat(ctx context.Context, d dir, name string) (size uint64, err error)
	// getattr fetches the attributes of fh.
	getattr(ctx context.Context, fh []byte) error
	// remove removes name from d.
	remove(ctx context.Context, d dir, name string) error
	// list lists d with attributes as `ls -l` does (READDIRPLUS; NFSv4:
	// READDIR asking for attributes), one RPC per reply, and returns the
	// number of entries.
	list(ctx context.Context, d dir) (int, error)
	close() error
}

// file is an open regular file.
type file interface {
	fh() []byte
	read(ctx context.Context, p []byte, off uint64) (int, error)
	// write writes UNSTABLE (RFC 1813 §3.3.7, RFC 8881 §18.32), as clients
	// do for bulk data; commit makes it stable.
	write(ctx context.Context, p []byte, off uint64) error
	commit(ctx context.Context) error
	close(ctx context.Context) error
}

// dial opens one connection to the server of u by u.Version.
func dial(ctx context.Context, u *client.URL, auth *rpcxdr.AuthsysParms, depth int) (conn, error) {
	switch u.Version {
	case "3":
		c, err := nfs3.Dial(ctx, u.Host, nfs3.Options{Auth: auth, Port: u.Port, MountPort: u.MountPort})
		if err != nil {
			return nil, err
		}
		return &conn3{c: c}, nil
	case "4.1", "4.2":
		port := u.Port
		if port == 0 {
			port = 2049
		}
		minor := uint32(1)
		if u.Version == "4.2" {
			minor = 2
		}
		// A slot per worker and a spare for the lease renewal, so that
		// slots never bound the queue depth asked for.
		c, err := nfs4.Dial(ctx, u.Addr(port), nfs4.Options{Auth: auth, Minor: minor, Slots: depth + 1})
		if err != nil {
			return nil, err
		}
		return &conn4{c: c}, nil
	}
	return nil, fmt.Errorf("bench: give the URL a version (version=3, 4.1 or 4.2), not %q", u.Version)
}

// NFSv3.

type conn3 struct{ c *nfs3.Client }

var fileMode3 = x3.Sattr3{Mode: x3.SetMode3{SetIt: true, Mode: 0o644}}

func (c *conn3) workDir(ctx context.Context, p string) (dir, error) {
	fh, rest, err := c.c.Root(ctx, p)
	if err != nil {
		return dir{}, err
	}
	d := dir{fh: fh, path: p}
	for _, name := range strings.Split(rest, "/") {
		if name == "" {
			continue
		}
		if d, err = c.sub(ctx, d, name); err != nil {
			return dir{}, err
		}
	}
	return d, nil
}

func (c *conn3) sub(ctx context.Context, d dir, name string) (dir, error) {
	fh, _, err := c.c.Lookup(ctx, d.fh, name)
	if errors.Is(err, fs.ErrNotExist) {
		fh, err = c.c.Mkdir(ctx, d.fh, name, x3.Sattr3{Mode: x3.SetMode3{SetIt: true, Mode: 0o755}})
		if errors.Is(err, fs.ErrExist) { // another connection won the race
			fh, _, err = c.c.Lookup(ctx, d.fh, name)
		}
	}
	return dir{fh: fh, path: path.Join(d.path, name)}, err
}

func (c *conn3) open(ctx context.Context, d dir, name string, create bool) (file, error) {
	fh, _, err := c.c.Lookup(ctx, d.fh, name)
	if create && errors.Is(err, fs.ErrNotExist) {
		fh, err = c.c.Create(ctx, d.fh, name, x3.UNCHECKED, fileMode3, x3.Createverf3{})
	}
	if err != nil {
		return nil, err
	}
	return &file3{c: c.c, h: fh}, nil
}

func (c *conn3) touch(ctx context.Context, d dir, name string) error {
	_, err := c.c.Create(ctx, d.fh, name, x3.UNCHECKED, fileMode3, x3.Createverf3{})
	return err
}

func (c *conn3) stat(ctx context.Context, d dir, name string) (uint64, error) {
	_, a, err := c.c.Lookup(ctx, d.fh, name)
	if err != nil {
		return 0, err
	}
	if a == nil {
		return 0, nil
	}
	return uint64(a.Size), nil
}

func (c *conn3) getattr(ctx context.Context, fh []byte) error {
	_, err := c.c.Getattr(ctx, fh)
	return err
}

func (c *conn3) remove(ctx context.Context, d dir, name string) error {
	return c.c.Remove(ctx, d.fh, name)
}

func (c *conn3) list(ctx context.Context, d dir) (int, error) {
	n := 0
	err := c.c.ReadDirPlus(ctx, d.fh, func(nfs3.Entry) error { n++; return nil })
	return n, err
}

func (c *conn3) close() error { return c.c.Close() }

type file3 struct {
	c *nfs3.Client
	h []byte
}

func (f *file3) fh() []byte { return f.h }

func (f *file3) read(ctx context.Context, p []byte, off uint64) (int, error) {
	n, _, err := f.c.Read(ctx, f.h, p, off)
	return n, err
}

func (f *file3) write(ctx context.Context, p []byte, off uint64) error {
	n, _, _, err := f.c.Write(ctx, f.h, p, off, x3.UNSTABLE)
	if err == nil && n != len(p) {
		err = fmt.Errorf("nfs3: short WRITE: %d of %d bytes", n, len(p))
	}
	return err
}

func (f *file3) commit(ctx context.Context) error {
	_, err := f.c.Commit(ctx, f.h, 0, 0)
	return err
}

func (f *file3) close(context.Context) error { return nil }

// NFSv4.1 and 4.2.

type conn4 struct{ c *nfs4.Client }

// rel makes p relative to the server's root, the form nfs4 paths take.
func rel(p string) string { return strings.Trim(p, "/") }

func (c *conn4) workDir(ctx context.Context, p string) (dir, error) {
	fh, _, err := c.c.Stat(ctx, rel(p))
	if err == nil {
		return dir{fh: fh, path: rel(p)}, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return dir{}, err
	}
	d := dir{path: ""}
	if d.fh, _, err = c.c.Stat(ctx, ""); err != nil {
		return dir{}, err
	}
	for _, name := range strings.Split(rel(p), "/") {
		if d, err = c.sub(ctx, d, name); err != nil {
			return dir{}, err
		}
	}
	return d, nil
}

func (c *conn4) sub(ctx context.Context, d dir, name string) (dir, error) {
	p := path.Join(d.path, name)
	fh, _, err := c.c.Stat(ctx, p)
	if errors.Is(err, fs.ErrNotExist) {
		err = c.c.Mkdir(ctx, p, 0o755)
		if err == nil || errors.Is(err, fs.ErrExist) {
			fh, _, err = c.c.Stat(ctx, p)
		}
	}
	return dir{fh: fh, path: p}, err
}

func (c *conn4) open(ctx context.Context, d dir, name string, create bool) (file, error) {
	how := nfs4.NoCreate
	if create {
		how = nfs4.Unchecked
	}
	o, _, err := c.c.OpenFile(ctx, path.Join(d.path, name), nfs4.AccessBoth, how, 0o644, false)
	if err != nil {
		return nil, err
	}
	return file4{o}, nil
}

func (c *conn4) touch(ctx context.Context, d dir, name string) error {
	o, _, err := c.c.OpenFile(ctx, path.Join(d.path, name), nfs4.AccessWrite, nfs4.Unchecked, 0o644, false)
	if err != nil {
		return err
	}
	return o.Close(ctx)
}

func (c *conn4) stat(ctx context.Context, d dir, name string) (uint64, error) {
	res, err := c.c.Compound(ctx, nfs4.PutFH(d.fh), nfs4.Lookup(name), nfs4.Getattr(nfs4.StatAttrs))
	if err != nil {
		return 0, err
	}
	a, err := nfs4.DecodeAttr(&res[2].Opgetattr.Resok4.ObjAttributes)
	return a.Size, err
}

func (c *conn4) getattr(ctx context.Context, fh []byte) error {
	_, err := c.c.Compound(ctx, nfs4.PutFH(fh), nfs4.Getattr(nfs4.StatAttrs))
	return err
}

func (c *conn4) remove(ctx context.Context, d dir, name string) error {
	_, err := c.c.Compound(ctx, nfs4.PutFH(d.fh), nfs4.Remove(name))
	return err
}

// list is nfs4.Client.ReadDir without the path walk: READDIR from d's
// handle with the attributes `ls -l` shows, following cookies.
func (c *conn4) list(ctx context.Context, d dir) (int, error) {
	var cookie uint64
	var verf x4.Verifier4
	n := 0
	for {
		res, err := c.c.Compound(ctx, nfs4.PutFH(d.fh), nfs4.Readdir(cookie, verf, nfs4.StatAttrs))
		if err != nil {
			return n, err
		}
		ok := &res[1].Opreaddir.Resok4
		verf = ok.Cookieverf
		for e := ok.Reply.Entries; e != nil; e = e.Nextentry {
			cookie = uint64(e.Cookie)
			n++
		}
		if ok.Reply.Eof {
			return n, nil
		}
		if ok.Reply.Entries == nil {
			return n, errors.New("nfs4: READDIR made no progress")
		}
	}
}

func (c *conn4) close() error { return c.c.Close() }

type file4 struct{ o *nfs4.Open }

func (f file4) fh() []byte { return f.o.FH }

func (f file4) read(ctx context.Context, p []byte, off uint64) (int, error) {
	n, _, err := f.o.ReadAt(ctx, p, off)
	return n, err
}

func (f file4) write(ctx context.Context, p []byte, off uint64) error {
	n, _, _, err := f.o.WriteAt(ctx, p, off, x4.UNSTABLE4)
	if err == nil && n != len(p) {
		err = fmt.Errorf("nfs4: short WRITE: %d of %d bytes", n, len(p))
	}
	return err
}

func (f file4) commit(ctx context.Context) error {
	_, err := f.o.Commit(ctx)
	return err
}

func (f file4) close(ctx context.Context) error { return f.o.Close(ctx) }
