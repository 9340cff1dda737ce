package client

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/gonfs/gonfs/client/internal/unstable"
	"github.com/gonfs/gonfs/client/nfs4"
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
)

// errV4Unreachable marks a failure to reach an NFSv4 server at all, after
// which NFSv3 (which may live on another port) is worth a try.
var errV4Unreachable = errors.New("no NFSv4 service")

// v4 is the NFSv4.1/4.2 backend: every path is one COMPOUND from
// PUTROOTFH, with LOOKUP per component.
type v4 struct {
	c *nfs4.Client
}

func dialV4(ctx context.Context, u *URL, auth *rpcxdr.AuthsysParms, vers string, opts Options, dh nfs4.DelegationHandler) (backend, error) {
	port := u.Port
	if port == 0 {
		port = 2049 // RFC 8881 §2.9.1: no portmapper for NFSv4
	}
	minor := uint32(2)
	if vers == "4.1" {
		minor = 1
	}
	c, err := nfs4.Dial(ctx, u.Addr(port), nfs4.Options{Auth: auth, Minor: minor, Owner: opts.Owner, Logger: opts.Logger, Delegations: dh})
	if err != nil {
		if !errors.Is(err, nfs4.ErrMinorVersion) && u.Version == "" && ctx.Err() == nil {
			var ne *nfs4.Error
			if !errors.As(err, &ne) {
				err = fmt.Errorf("%w: %w", errV4Unreachable, err)
			}
		}
		return nil, err
	}
	return &v4{c: c}, nil
}

func (b *v4) ioSizes() (int, int) { return int(b.c.MaxRead()), int(b.c.MaxWrite()) }
func (b *v4) close() error        { return b.c.Close() }

func info4(name string, a *nfs4.Attr) *FileInfo {
	return &FileInfo{
		name: name, size: int64(a.Size), mode: fileMode(uint32(a.Type), a.Mode), mtime: a.Mtime,
		attr: Attr{Uid: a.Uid, Gid: a.Gid, Nlink: a.Nlink, Fileid: a.Fileid, Used: a.Used, Rdev: a.Rdev, Atime: a.Atime, Ctime: a.Ctime, Change: a.Change},
	}
}

func (b *v4) lstat(ctx context.Context, p string) (*FileInfo, error) {
	fh, a, err := b.c.Stat(ctx, p)
	if err != nil {
		return nil, err
	}
	fi := info4(baseName(p), &a)
	fi.key = string(fh)
	return fi, nil
}

func (b *v4) stat(ctx context.Context, p string) (*FileInfo, error) { return b.lstat(ctx, p) }

func (b *v4) readDir(ctx context.Context, p string, fn func(*FileInfo) error) error {
	return b.c.ReadDir(ctx, p, func(e nfs4.DirEntry) error { return fn(info4(e.Name, &e.Attr)) })
}

func (b *v4) open(ctx context.Context, p string, flag int, perm fs.FileMode) (handle, *FileInfo, error) {
	access := uint32(nfs4.AccessRead)
	switch flag & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR) {
	case os.O_WRONLY:
		access = nfs4.AccessWrite
	case os.O_RDWR:
		access = nfs4.AccessBoth
	}
	create := nfs4.NoCreate
	if flag&os.O_CREATE != 0 {
		create = nfs4.Unchecked
		if flag&os.O_EXCL != 0 {
			create = nfs4.Exclusive
		}
	}
	o, a, err := b.c.OpenFile(ctx, p, access, create, UnixMode(perm), flag&os.O_TRUNC != 0)
	if err != nil {
		return nil, nil, err
	}
	fi := info4(baseName(p), &a)
	fi.key = string(o.FH)
	return &h4{o: o, name: baseName(p)}, fi, nil
}

func (b *v4) mkdir(ctx context.Context, p string, perm fs.FileMode) error {
	return b.c.Mkdir(ctx, p, UnixMode(perm))
}
func (b *v4) remove(ctx context.Context, p string) error        { return b.c.Remove(ctx, p) }
func (b *v4) rename(ctx context.Context, from, to string) error { return b.c.Rename(ctx, from, to) }
func (b *v4) symlink(ctx context.Context, target, p string) error {
	return b.c.Symlink(ctx, target, p)
}
func (b *v4) link(ctx context.Context, oldname, newname string) error {
	return b.c.Link(ctx, oldname, newname)
}
func (b *v4) readlink(ctx context.Context, p string) (string, error) { return b.c.Readlink(ctx, p) }
func (b *v4) chmod(ctx context.Context, p string, mode fs.FileMode) error {
	m := UnixMode(mode)
	return b.c.SetattrPath(ctx, p, &nfs4.SetAttr{Mode: &m})
}

// h4 is an open NFSv4 file: an Open (its own open owner and stateid).
type h4 struct {
	o    *nfs4.Open
	name string
	t    unstable.Tracker
}

func (h *h4) readAt(ctx context.Context, p []byte, off int64) (int, bool, error) {
	return h.o.ReadAt(ctx, p, uint64(off))
}

func (h *h4) writeAt(ctx context.Context, p []byte, off int64) error {
	n, committed, verf, err := h.o.WriteAt(ctx, p, uint64(off), x.UNSTABLE4)
	if err != nil {
		return err
	}
	if n != len(p) {
		return fmt.Errorf("nfs4: short WRITE: %d of %d bytes", n, len(p))
	}
	if committed != x.FILE_SYNC4 && h.t.Add(uint64(off), p, verf) >= 64<<20 {
		return h.sync(ctx)
	}
	return nil
}

func (h *h4) sync(ctx context.Context) error {
	return h.t.Commit(ctx,
		func(ctx context.Context) (unstable.Verifier, error) {
			v, err := h.o.Commit(ctx)
			return unstable.Verifier(v), err
		},
		func(ctx context.Context, off uint64, data []byte) error {
			n, _, _, err := h.o.WriteAt(ctx, data, off, x.FILE_SYNC4)
			if err == nil && n != len(data) {
				err = fmt.Errorf("nfs4: short WRITE on resend: %d of %d bytes", n, len(data))
			}
			return err
		})
}

func (h *h4) stat(ctx context.Context) (*FileInfo, error) {
	a, err := h.o.Getattr(ctx)
	if err != nil {
		return nil, err
	}
	fi := info4(h.name, &a)
	fi.key = string(h.o.FH)
	return fi, nil
}

// delegation reports the delegation the client holds on the open file.
func (h *h4) delegation() nfs4.DelegType { return h.o.Delegation() }

func (h *h4) truncate(ctx context.Context, size int64) error { return h.o.Truncate(ctx, uint64(size)) }
func (h *h4) lock(ctx context.Context, write bool, off, length int64) error {
	return h.o.Lock(ctx, write, uint64(off), uint64(length))
}
func (h *h4) unlock(ctx context.Context, off, length int64) error {
	return h.o.Unlock(ctx, uint64(off), uint64(length))
}

func (h *h4) close(ctx context.Context) error {
	err := h.sync(ctx)
	if cerr := h.o.Close(ctx); err == nil {
		err = cerr
	}
	return err
}
