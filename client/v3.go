package client

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"hash/fnv"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gonfs/gonfs/client/nfs3"
	"github.com/gonfs/gonfs/client/nfs4"
	x "github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
)

// v3 is the NFSv3 backend: paths resolve through MOUNT (the deepest
// export above them) and LOOKUP per component.
type v3 struct {
	c          *nfs3.Client
	rsize      int
	wsize      int
	lockOwners atomic.Int32
}

func dialV3(ctx context.Context, u *URL, auth *rpcxdr.AuthsysParms) (backend, error) {
	c, err := nfs3.Dial(ctx, u.Host, nfs3.Options{Auth: auth, Port: u.Port, MountPort: u.MountPort})
	if err != nil {
		return nil, err
	}
	b := &v3{c: c, rsize: 1 << 20, wsize: 1 << 20}
	root, _, err := c.Root(ctx, "/")
	if err == nil {
		if info, err := c.FSInfo(ctx, root); err == nil {
			b.rsize = clampIO(info.Rtmax)
			b.wsize = clampIO(info.Wtmax)
		}
	}
	return b, nil
}

// clampIO keeps a server's transfer size within sane bounds.
func clampIO(n uint32) int {
	return int(min(max(n, 4096), 1<<20))
}

func (b *v3) ioSizes() (int, int) { return b.rsize, b.wsize }
func (b *v3) close() error        { return b.c.Close() }

// resolve returns the handle of p.
func (b *v3) resolve(ctx context.Context, p string) (nfs3.Fh, *x.Fattr3, error) {
	fh, rest, err := b.c.Root(ctx, "/"+p)
	if err != nil {
		return nil, nil, err
	}
	var attr *x.Fattr3
	for _, name := range strings.Split(rest, "/") {
		if name == "" {
			continue
		}
		if fh, attr, err = b.c.Lookup(ctx, fh, name); err != nil {
			return nil, nil, err
		}
	}
	return fh, attr, nil
}

// parent returns the handle of p's directory and p's last name.
func (b *v3) parent(ctx context.Context, p string) (nfs3.Fh, string, error) {
	dir, name := path.Split(p)
	fh, _, err := b.resolve(ctx, strings.TrimSuffix(dir, "/"))
	return fh, name, err
}

func info3(name string, a *x.Fattr3) *FileInfo {
	return &FileInfo{
		name: name, size: int64(a.Size), mode: fileMode(uint32(a.Type), uint32(a.Mode)),
		mtime: time3(a.Mtime),
		attr: Attr{Uid: uint32(a.Uid), Gid: uint32(a.Gid), Nlink: a.Nlink, Fileid: uint64(a.Fileid), Used: uint64(a.Used),
			Rdev: [2]uint32{a.Rdev.Specdata1, a.Rdev.Specdata2}, Atime: time3(a.Atime), Ctime: time3(a.Ctime), Change: change3(a)},
	}
}

// change3 is the NFSv3 stand-in for a change attribute (RFC 1813 §4.x
// leaves cache validation to the client; like the Linux client we take
// ctime, mtime and size together): it moves whenever one of them does.
func change3(a *x.Fattr3) uint64 {
	h := fnv.New64a()
	var b [8 * 5]byte
	binary.BigEndian.PutUint32(b[0:], uint32(a.Ctime.Seconds))
	binary.BigEndian.PutUint32(b[4:], uint32(a.Ctime.Nseconds))
	binary.BigEndian.PutUint32(b[8:], uint32(a.Mtime.Seconds))
	binary.BigEndian.PutUint32(b[12:], uint32(a.Mtime.Nseconds))
	binary.BigEndian.PutUint64(b[16:], uint64(a.Size))
	h.Write(b[:24])
	return h.Sum64()
}

func time3(t x.Nfstime3) time.Time { return time.Unix(int64(t.Seconds), int64(t.Nseconds)) }

func baseName(p string) string {
	if p == "" {
		return "."
	}
	return path.Base(p)
}

func (b *v3) lstat(ctx context.Context, p string) (*FileInfo, error) {
	fh, attr, err := b.resolve(ctx, p)
	if err != nil {
		return nil, err
	}
	if attr == nil {
		if attr, err = b.c.Getattr(ctx, fh); err != nil {
			return nil, err
		}
	}
	fi := info3(baseName(p), attr)
	fi.key = string(fh)
	return fi, nil
}

func (b *v3) stat(ctx context.Context, p string) (*FileInfo, error) { return b.lstat(ctx, p) }

func (b *v3) readDir(ctx context.Context, p string, fn func(*FileInfo) error) error {
	fh, _, err := b.resolve(ctx, p)
	if err != nil {
		return err
	}
	return b.c.ReadDirPlus(ctx, fh, func(e nfs3.Entry) error {
		a := e.Attr
		if a == nil && e.Fh != nil {
			a, _ = b.c.Getattr(ctx, e.Fh)
		}
		if a == nil {
			a = &x.Fattr3{Fileid: x.Fileid3(e.Fileid)}
		}
		return fn(info3(e.Name, a))
	})
}

func sattrMode(perm fs.FileMode) x.Sattr3 {
	return x.Sattr3{Mode: x.SetMode3{SetIt: true, Mode: x.Mode3(UnixMode(perm))}}
}

func (b *v3) open(ctx context.Context, p string, flag int, perm fs.FileMode) (handle, *FileInfo, error) {
	var fh nfs3.Fh
	var err error
	switch {
	case flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
		// EXCLUSIVE with a verifier that makes a retransmitted CREATE
		// find its own file; the attributes follow in a SETATTR
		// (RFC 1813 §3.3.8).
		dir, name, perr := b.parent(ctx, p)
		if perr != nil {
			return nil, nil, perr
		}
		var verf x.Createverf3
		rand.Read(verf[:])
		if fh, err = b.c.Create(ctx, dir, name, x.EXCLUSIVE, x.Sattr3{}, verf); err == nil {
			err = b.c.Setattr(ctx, fh, sattrMode(perm))
		}
	case flag&os.O_CREATE != 0:
		dir, name, perr := b.parent(ctx, p)
		if perr != nil {
			return nil, nil, perr
		}
		s := sattrMode(perm)
		if flag&os.O_TRUNC != 0 {
			s.Size = x.SetSize3{SetIt: true}
		}
		fh, err = b.c.Create(ctx, dir, name, x.UNCHECKED, s, x.Createverf3{})
	default:
		fh, _, err = b.resolve(ctx, p)
		if err == nil && flag&os.O_TRUNC != 0 {
			err = b.c.Setattr(ctx, fh, x.Sattr3{Size: x.SetSize3{SetIt: true}})
		}
	}
	if err != nil {
		return nil, nil, err
	}
	a, err := b.c.Getattr(ctx, fh)
	if err != nil {
		return nil, nil, err
	}
	var owner [8]byte
	rand.Read(owner[:])
	h := &h3{b: b, fh: fh, w: b.c.NewWriter(fh), name: baseName(p),
		owner: nfs3.LockOwner{Owner: owner[:], Svid: int32(os.Getpid()&0xffff)<<12 | b.lockOwners.Add(1)&0xfff}}
	fi := info3(baseName(p), a)
	fi.key = string(fh)
	return h, fi, nil
}

func (b *v3) mkdir(ctx context.Context, p string, perm fs.FileMode) error {
	dir, name, err := b.parent(ctx, p)
	if err != nil {
		return err
	}
	_, err = b.c.Mkdir(ctx, dir, name, sattrMode(perm))
	return err
}

func (b *v3) remove(ctx context.Context, p string) error {
	dir, name, err := b.parent(ctx, p)
	if err != nil {
		return err
	}
	_, a, err := b.c.Lookup(ctx, dir, name)
	if err != nil {
		return err
	}
	if a != nil && a.Type == x.NF3DIR {
		return b.c.Rmdir(ctx, dir, name)
	}
	err = b.c.Remove(ctx, dir, name)
	if a == nil && errors.Is(err, syscall.EISDIR) {
		return b.c.Rmdir(ctx, dir, name)
	}
	return err
}

func (b *v3) rename(ctx context.Context, from, to string) error {
	fd, fn, err := b.parent(ctx, from)
	if err != nil {
		return err
	}
	td, tn, err := b.parent(ctx, to)
	if err != nil {
		return err
	}
	return b.c.Rename(ctx, fd, fn, td, tn)
}

func (b *v3) symlink(ctx context.Context, target, p string) error {
	dir, name, err := b.parent(ctx, p)
	if err != nil {
		return err
	}
	_, err = b.c.Symlink(ctx, dir, name, target, x.Sattr3{})
	return err
}

func (b *v3) link(ctx context.Context, oldname, newname string) error {
	fh, _, err := b.resolve(ctx, oldname)
	if err != nil {
		return err
	}
	dir, name, err := b.parent(ctx, newname)
	if err != nil {
		return err
	}
	return b.c.Link(ctx, fh, dir, name)
}

func (b *v3) readlink(ctx context.Context, p string) (string, error) {
	fh, _, err := b.resolve(ctx, p)
	if err != nil {
		return "", err
	}
	return b.c.Readlink(ctx, fh)
}

func (b *v3) chmod(ctx context.Context, p string, mode fs.FileMode) error {
	fh, _, err := b.resolve(ctx, p)
	if err != nil {
		return err
	}
	return b.c.Setattr(ctx, fh, sattrMode(mode))
}

// h3 is an open NFSv3 file. NFSv3 has no open state: the handle is all.
type h3 struct {
	b     *v3
	fh    nfs3.Fh
	w     *nfs3.Writer
	name  string
	owner nfs3.LockOwner
}

func (h *h3) readAt(ctx context.Context, p []byte, off int64) (int, bool, error) {
	return h.b.c.Read(ctx, h.fh, p, uint64(off))
}

func (h *h3) writeAt(ctx context.Context, p []byte, off int64) error {
	_, err := h.w.WriteAt(ctx, p, uint64(off))
	return err
}

func (h *h3) sync(ctx context.Context) error { return h.w.Commit(ctx) }

func (h *h3) stat(ctx context.Context) (*FileInfo, error) {
	a, err := h.b.c.Getattr(ctx, h.fh)
	if err != nil {
		return nil, err
	}
	fi := info3(h.name, a)
	fi.key = string(h.fh)
	return fi, nil
}

func (h *h3) delegation() nfs4.DelegType { return nfs4.DelegNone }

func (h *h3) truncate(ctx context.Context, size int64) error {
	return h.b.c.Setattr(ctx, h.fh, x.Sattr3{Size: x.SetSize3{SetIt: true, Size: x.Size3(size)}})
}

func (h *h3) lock(ctx context.Context, write bool, off, length int64) error {
	return h.b.c.Lock(ctx, h.fh, h.owner, write, uint64(off), uint64(length))
}

func (h *h3) unlock(ctx context.Context, off, length int64) error {
	return h.b.c.Unlock(ctx, h.fh, h.owner, uint64(off), uint64(length))
}

func (h *h3) close(ctx context.Context) error { return h.w.Commit(ctx) }
