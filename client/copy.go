package client

import (
	"context"
	"errors"
	"io/fs"

	"github.com/gonfs/gonfs/client/nfs4"
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
)

// ErrCopyUnsupported is returned by CopyFile when the server cannot copy
// by itself (NFSv3, NFSv4.1, or a 4.2 server without COPY); the caller
// copies through the client instead.
var ErrCopyUnsupported = errors.New("client: server-side copy unsupported")

// CopyFile copies file src to dst (created or truncated with perm) within
// the server with NFSv4.2 COPY (RFC 7862 §15.2), without the data
// crossing the network, and returns the bytes copied.
func (c *Client) CopyFile(ctx context.Context, src, dst string, perm fs.FileMode) (int64, error) {
	b, ok := c.b.(*v4)
	if !ok || b.c.Minor() < 2 {
		return 0, ErrCopyUnsupported
	}
	sp, err := clean("copy", src)
	if err != nil {
		return 0, err
	}
	dp, err := clean("copy", dst)
	if err != nil {
		return 0, err
	}
	so, sa, err := b.c.OpenFile(ctx, sp, nfs4.AccessRead, nfs4.NoCreate, 0, false)
	if err != nil {
		return 0, pathErr("copy", src, err)
	}
	defer so.Close(ctx)
	if sa.Type != x.NF4REG {
		return 0, pathErr("copy", src, errors.New("not a regular file"))
	}
	do, _, err := b.c.OpenFile(ctx, dp, nfs4.AccessWrite, nfs4.Unchecked, UnixMode(perm), true)
	if err != nil {
		return 0, pathErr("copy", dst, err)
	}
	var done uint64
	for done < sa.Size {
		n, err := so.CopyTo(ctx, do, done, done, sa.Size-done)
		if err != nil {
			do.Close(ctx)
			if nfs4.IsStatus(err, x.NFS4ERR_NOTSUPP) || nfs4.IsStatus(err, x.NFS4ERR_OP_ILLEGAL) {
				return 0, ErrCopyUnsupported
			}
			return int64(done), pathErr("copy", dst, err)
		}
		if n == 0 {
			break // the source shrank meanwhile
		}
		done += n
	}
	// A synchronous COPY's data may be unstable (RFC 7862 §15.2.3):
	// commit before reporting success.
	if _, err := do.Commit(ctx); err != nil {
		do.Close(ctx)
		return int64(done), pathErr("copy", dst, err)
	}
	return int64(done), pathErr("copy", dst, do.Close(ctx))
}
