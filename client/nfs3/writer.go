package nfs3

import (
	"context"
	"fmt"

	"github.com/gonfs/gonfs/client/internal/unstable"
	x "github.com/gonfs/gonfs/proto/nfs3xdr"
)

// MaxUncommitted is how many bytes of UNSTABLE writes a Writer keeps for
// resending before it commits on its own.
const MaxUncommitted = 64 << 20

// Writer writes one file with UNSTABLE WRITEs and COMMIT (RFC 1813
// §3.3.7, §3.3.21). It keeps a copy of every write not yet committed with
// the verifier it got, so that when a COMMIT returns another verifier
// (the server restarted and may have lost them) exactly those writes are
// sent again, FILE_SYNC, before Commit reports success.
type Writer struct {
	c  *Client
	fh Fh
	t  unstable.Tracker
}

// NewWriter returns a Writer for fh.
func (c *Client) NewWriter(fh Fh) *Writer { return &Writer{c: c, fh: fh} }

// WriteAt writes p at off with one UNSTABLE WRITE; p must fit the
// server's wtmax. A short write is an error.
func (w *Writer) WriteAt(ctx context.Context, p []byte, off uint64) (int, error) {
	n, committed, verf, err := w.c.Write(ctx, w.fh, p, off, x.UNSTABLE)
	if err != nil {
		return 0, err
	}
	if n != len(p) {
		return n, fmt.Errorf("nfs3: short WRITE: %d of %d bytes", n, len(p))
	}
	if committed == x.FILE_SYNC {
		return n, nil
	}
	if w.t.Add(off, p, verf) >= MaxUncommitted {
		return n, w.Commit(ctx)
	}
	return n, nil
}

// Commit commits everything written so far. Writes whose verifier differs
// from the one COMMIT returns are resent FILE_SYNC first.
func (w *Writer) Commit(ctx context.Context) error {
	return w.t.Commit(ctx,
		func(ctx context.Context) (unstable.Verifier, error) {
			v, err := w.c.Commit(ctx, w.fh, 0, 0)
			return unstable.Verifier(v), err
		},
		func(ctx context.Context, off uint64, data []byte) error {
			n, _, _, err := w.c.Write(ctx, w.fh, data, off, x.FILE_SYNC)
			if err == nil && n != len(data) {
				err = fmt.Errorf("nfs3: short WRITE on resend: %d of %d bytes", n, len(data))
			}
			return err
		})
}

// Uncommitted returns the number of bytes written but not yet committed.
func (w *Writer) Uncommitted() int { return w.t.Uncommitted() }
