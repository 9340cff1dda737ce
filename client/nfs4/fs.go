package nfs4

import (
	"context"
	"errors"
	"strings"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
)

// walk returns PUTROOTFH and a LOOKUP per component of p, a slash-separated
// path from the server's root ("" or "." is the root).
func walk(p string) []x.NfsArgop4 {
	ops := []x.NfsArgop4{PutRootFH()}
	for _, c := range strings.Split(p, "/") {
		if c != "" && c != "." {
			ops = append(ops, Lookup(c))
		}
	}
	return ops
}

// split returns the directory of p and its last component.
func split(p string) (dir, name string) {
	p = strings.Trim(p, "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i], p[i+1:]
	}
	return "", p
}

// Stat returns the attributes and handle of path p (PUTROOTFH, LOOKUP...,
// GETFH, GETATTR in one COMPOUND).
func (c *Client) Stat(ctx context.Context, p string) (x.NfsFh4, Attr, error) {
	ops := append(walk(p), GetFH(), Getattr(StatAttrs))
	res, err := c.Compound(ctx, ops...)
	if err != nil {
		return nil, Attr{}, err
	}
	n := len(res)
	a, err := DecodeAttr(&res[n-1].Opgetattr.Resok4.ObjAttributes)
	return res[n-2].Opgetfh.Resok4.Object, a, err
}

// GetattrFH returns the attributes of fh.
func (c *Client) GetattrFH(ctx context.Context, fh x.NfsFh4) (Attr, error) {
	res, err := c.Compound(ctx, PutFH(fh), Getattr(StatAttrs))
	if err != nil {
		return Attr{}, err
	}
	return DecodeAttr(&res[1].Opgetattr.Resok4.ObjAttributes)
}

// SetattrPath sets attributes of p with the anonymous stateid (RFC 8881
// §8.2.3: a size change needs an open's stateid, see Open.Truncate).
func (c *Client) SetattrPath(ctx context.Context, p string, s *SetAttr) error {
	_, err := c.Compound(ctx, append(walk(p), Setattr(x.Stateid4{}, s))...)
	return err
}

// DirEntry is one entry of ReadDir.
type DirEntry struct {
	Name string
	Attr Attr
}

// ReadDir lists directory p (RFC 8881 §18.23), calling fn for each entry,
// following cookies until EOF.
func (c *Client) ReadDir(ctx context.Context, p string, fn func(DirEntry) error) error {
	fh, _, err := c.Stat(ctx, p)
	if err != nil {
		return err
	}
	var cookie uint64
	var verf x.Verifier4
	for {
		res, err := c.Compound(ctx, PutFH(fh), Readdir(cookie, verf, StatAttrs))
		if err != nil {
			return err
		}
		ok := &res[1].Opreaddir.Resok4
		verf = ok.Cookieverf
		for e := ok.Reply.Entries; e != nil; e = e.Nextentry {
			cookie = uint64(e.Cookie)
			a, err := DecodeAttr(&e.Attrs)
			if err != nil {
				return err
			}
			if err := fn(DirEntry{Name: string(e.Name), Attr: a}); err != nil {
				return err
			}
		}
		if ok.Reply.Eof {
			return nil
		}
		if ok.Reply.Entries == nil {
			return &Error{Op: x.OP_READDIR, Status: x.NFS4ERR_TOOSMALL}
		}
	}
}

// Mkdir creates directory p (CREATE, RFC 8881 §18.4).
func (c *Client) Mkdir(ctx context.Context, p string, mode uint32) error {
	dir, name := split(p)
	_, err := c.Compound(ctx, append(walk(dir), Mkdir(name, &SetAttr{Mode: &mode}))...)
	return err
}

// Symlink creates symbolic link p pointing at target.
func (c *Client) Symlink(ctx context.Context, target, p string) error {
	dir, name := split(p)
	_, err := c.Compound(ctx, append(walk(dir), Symlink(name, target, &SetAttr{}))...)
	return err
}

// Readlink returns the target of symbolic link p.
func (c *Client) Readlink(ctx context.Context, p string) (string, error) {
	res, err := c.Compound(ctx, append(walk(p), Readlink())...)
	if err != nil {
		return "", err
	}
	return string(res[len(res)-1].Opreadlink.Resok4.Link), nil
}

// Remove removes p, a file or an empty directory (RFC 8881 §18.25).
func (c *Client) Remove(ctx context.Context, p string) error {
	dir, name := split(p)
	_, err := c.Compound(ctx, append(walk(dir), Remove(name))...)
	return err
}

// Rename renames from to to (RFC 8881 §18.26).
func (c *Client) Rename(ctx context.Context, from, to string) error {
	fd, fn := split(from)
	td, tn := split(to)
	ops := append(walk(fd), SaveFH())
	ops = append(ops, walk(td)...)
	_, err := c.Compound(ctx, append(ops, Rename(fn, tn))...)
	return err
}

// Link makes newname a hard link to oldname (RFC 8881 §18.9).
func (c *Client) Link(ctx context.Context, oldname, newname string) error {
	dir, name := split(newname)
	ops := append(walk(oldname), SaveFH())
	ops = append(ops, walk(dir)...)
	_, err := c.Compound(ctx, append(ops, Link(name))...)
	return err
}

// GetXattr returns the value of extended attribute name of p (RFC 8276
// §8.4.2).
func (c *Client) GetXattr(ctx context.Context, p, name string) ([]byte, error) {
	res, err := c.Compound(ctx, append(walk(p), GetXattr(name))...)
	if err != nil {
		return nil, err
	}
	return res[len(res)-1].Opgetxattr.GxrValue, nil
}

// SetXattr sets extended attribute name of p (RFC 8276 §8.4.3).
func (c *Client) SetXattr(ctx context.Context, p, name string, value []byte) error {
	_, err := c.Compound(ctx, append(walk(p), SetXattr(name, value, x.SETXATTR4_EITHER))...)
	return err
}

// ListXattrs lists the extended attribute names of p (RFC 8276 §8.4.4).
func (c *Client) ListXattrs(ctx context.Context, p string) ([]string, error) {
	var names []string
	var cookie uint64
	for {
		res, err := c.Compound(ctx, append(walk(p), ListXattrs(cookie))...)
		if err != nil {
			return nil, err
		}
		v := res[len(res)-1].Oplistxattrs.LxrValue
		for _, n := range v.LxrNames {
			names = append(names, string(n))
		}
		if v.LxrEof || len(v.LxrNames) == 0 {
			return names, nil
		}
		cookie = uint64(v.LxrCookie)
	}
}

// RemoveXattr removes extended attribute name of p (RFC 8276 §8.4.5).
func (c *Client) RemoveXattr(ctx context.Context, p, name string) error {
	_, err := c.Compound(ctx, append(walk(p), RemoveXattr(name))...)
	return err
}

// IsStatus reports whether err is an *Error with status st.
func IsStatus(err error, st x.Nfsstat4) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == st
}
