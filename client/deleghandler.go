package client

import (
	"context"

	"github.com/gonfs/gonfs/client/nfs4"
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
)

// delegHandler connects the NFSv4 client's delegations to the data cache
// (nfs4.DelegationHandler).
type delegHandler struct{ c *cache }

func (h delegHandler) lookup(fh x.NfsFh4) *fileCache {
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	return h.c.files[string(fh)]
}

// Recall writes the file's dirty data back and COMMITs it before the
// delegation is returned (RFC 8881 §10.4.1); from here on the file's
// writes go straight to the server and its attributes are revalidated
// again.
func (h delegHandler) Recall(ctx context.Context, fh x.NfsFh4) {
	f := h.lookup(fh)
	if f == nil {
		return
	}
	f.io.Lock()
	defer f.io.Unlock()
	f.wdeleg.Store(false)
	f.delegated.Store(false)
	file := f.anyWriter()
	if file == nil {
		return
	}
	if err := f.flush(ctx, file); err == nil {
		file.h.sync(ctx)
	}
}

// Getattr reports the size and change attribute this client sees for a
// write-delegated file (RFC 8881 §10.4.3): the change the server gave
// while nothing was written locally, another one once something was.
func (h delegHandler) Getattr(fh x.NfsFh4) (change, size uint64, ok bool) {
	f := h.lookup(fh)
	if f == nil || !f.wdeleg.Load() {
		return 0, 0, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.change + (f.mods - f.granted), uint64(f.size), true
}

var _ nfs4.DelegationHandler = delegHandler{}
