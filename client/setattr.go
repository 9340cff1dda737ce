package client

import (
	"context"
	"time"

	"github.com/gonfs/gonfs/client/nfs4"
	x3 "github.com/gonfs/gonfs/proto/nfs3xdr"
)

// setAttr says which attributes of a path to set (nil: unchanged; a zero
// time: the server's clock).
type setAttr struct {
	uid, gid     *uint32
	atime, mtime *time.Time
}

// Chtimes sets the access and modification times of name (a zero time
// means the server's current time).
func (c *Client) Chtimes(ctx context.Context, name string, atime, mtime time.Time) error {
	return c.setattr(ctx, "chtimes", name, &setAttr{atime: &atime, mtime: &mtime})
}

// Chown changes the owner and group of name; a negative id is left alone.
func (c *Client) Chown(ctx context.Context, name string, uid, gid int) error {
	s := &setAttr{}
	if uid >= 0 {
		u := uint32(uid)
		s.uid = &u
	}
	if gid >= 0 {
		g := uint32(gid)
		s.gid = &g
	}
	return c.setattr(ctx, "chown", name, s)
}

// Truncate changes the size of file name.
func (c *Client) Truncate(ctx context.Context, name string, size int64) error {
	f, err := c.OpenFile(ctx, name, 1 /* O_WRONLY */, 0)
	if err != nil {
		return err
	}
	err = f.Truncate(ctx, size)
	if cerr := f.CloseContext(ctx); err == nil {
		err = cerr
	}
	return err
}

func (c *Client) setattr(ctx context.Context, op, name string, s *setAttr) error {
	p, err := clean(op, name)
	if err != nil {
		return err
	}
	err = c.b.setattr(ctx, p, s)
	c.touched(p)
	return pathErr(op, name, err)
}

func (b *v4) setattr(ctx context.Context, p string, s *setAttr) error {
	return b.c.SetattrPath(ctx, p, &nfs4.SetAttr{Uid: s.uid, Gid: s.gid, Atime: s.atime, Mtime: s.mtime})
}

func (b *v3) setattr(ctx context.Context, p string, s *setAttr) error {
	fh, _, err := b.resolve(ctx, p)
	if err != nil {
		return err
	}
	var sa x3.Sattr3
	if s.uid != nil {
		sa.Uid = x3.SetUid3{SetIt: true, Uid: x3.Uid3(*s.uid)}
	}
	if s.gid != nil {
		sa.Gid = x3.SetGid3{SetIt: true, Gid: x3.Gid3(*s.gid)}
	}
	how := func(t *time.Time) (x3.TimeHow, x3.Nfstime3) {
		switch {
		case t == nil:
			return x3.DONT_CHANGE, x3.Nfstime3{}
		case t.IsZero():
			return x3.SET_TO_SERVER_TIME, x3.Nfstime3{}
		}
		return x3.SET_TO_CLIENT_TIME, x3.Nfstime3{Seconds: uint32(t.Unix()), Nseconds: uint32(t.Nanosecond())}
	}
	sa.Atime.SetIt, sa.Atime.Atime = how(s.atime)
	sa.Mtime.SetIt, sa.Mtime.Mtime = how(s.mtime)
	return b.c.Setattr(ctx, fh, sa)
}
