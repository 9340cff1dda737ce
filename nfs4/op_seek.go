package nfs4

import (
	"errors"
	"syscall"

	"github.com/gonfs/gonfs/lock"
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// SEEK, RFC 7862 §15.11: where the next data or hole starts at or after
// sa_offset. A backend without vfs.Seeker has no holes it knows of: the
// whole file is data, with the virtual hole at its end that every file has
// (§15.11.3, §4.1 of RFC 7862's sparse file model).
//
// An offset at or past the end of the file is NFS4ERR_NXIO (§15.11.3).
// When no data follows sa_offset, §15.11.3 would answer NFS4_OK with
// sr_eof; like knfsd we answer NFS4ERR_NXIO instead, because the Linux
// client ignores sr_eof and hands sr_offset to lseek(SEEK_DATA), which
// must fail with ENXIO there.
func (c *compound) opSeek(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var args x.SEEK4args
	if !c.decode(r, w, &args) {
		return x.NFS4ERR_BADXDR
	}
	var whence vfs.SeekWhence
	switch args.SaWhat {
	case x.NFS4_CONTENT_DATA:
		whence = vfs.SeekData
	case x.NFS4_CONTENT_HOLE:
		whence = vfs.SeekHole
	default:
		// RFC 7862 §11.1.2.2: an arm of a union the server does not
		// support.
		return c.fail(w, x.NFS4ERR_UNION_NOTSUPP)
	}
	a, st := c.ioFile(args.SaStateid, lock.ShareRead)
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	off := uint64(args.SaOffset)
	if off >= a.Size {
		return c.fail(w, x.NFS4ERR_NXIO)
	}
	pos := off
	if sk, ok := c.cur.e.FS.(vfs.Seeker); ok {
		acc, _ := c.access()
		var err error
		pos, err = sk.Seek(c.ctx, &acc.Cred, c.cur.h, off, whence)
		if err != nil {
			return c.fail(w, errStatus(err))
		}
	} else if whence == vfs.SeekHole {
		pos = a.Size
	}
	res := x.SEEK4res{SaStatus: x.NFS4_OK, Resok4: x.SeekRes4{SrEof: pos >= a.Size, SrOffset: x.Offset4(pos)}}
	res.Encode(w)
	return x.NFS4_OK
}

// isNXIO reports a Seek that found nothing.
func isNXIO(err error) bool { return errors.Is(err, syscall.ENXIO) }
