package nfs3

import (
	"context"
	"fmt"
	"os"

	"github.com/gonfs/gonfs/proto/nlmxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// LockOwner names the holder of NLM locks: Owner is the opaque owner handle
// (oh) and Svid the process-like id; the server treats locks with equal
// (caller name, oh, svid) as one owner's.
type LockOwner struct {
	Owner []byte
	Svid  int32
}

// nlmClient returns the connection to the server's NLM service, dialled
// on first use at the port the portmapper names (or Options.NLMPort, or
// the NFS port).
func (c *Client) nlmClient(ctx context.Context) (*sunrpc.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nlm != nil {
		return c.nlm, nil
	}
	port := c.opts.NLMPort
	if port == 0 {
		port = c.lookupPort(ctx, nlmxdr.NLM_PROG, nlmxdr.NLM4_VERS, c.opts.Port)
	}
	nc, err := sunrpc.Dial(ctx, "tcp", c.addr(port), sunrpc.ClientOptions{Auth: c.opts.Auth})
	if err != nil {
		return nil, fmt.Errorf("nfs3: NLM: %w", err)
	}
	c.nlm = nc
	return nc, nil
}

func callerName() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "gonfs-client"
	}
	return h
}

func (c *Client) nlmCall(ctx context.Context, proc uint32, args xdr.Marshaler, res xdr.Unmarshaler) error {
	nc, err := c.nlmClient(ctx)
	if err != nil {
		return err
	}
	if err := nc.Call(ctx, nlmxdr.NLM_PROG, nlmxdr.NLM4_VERS, proc, args, res); err != nil {
		return fmt.Errorf("nfs3: %s: %w", nlmxdr.NLM4_VERSProcName(proc), err)
	}
	return nil
}

func nlmLock(fh Fh, o LockOwner, off, length uint64) nlmxdr.Nlm4Lock {
	return nlmxdr.Nlm4Lock{CallerName: callerName(), Fh: nlmxdr.Netobj(fh), Oh: nlmxdr.Netobj(o.Owner), Svid: o.Svid, LOffset: off, LLen: length}
}

// Lock takes a byte-range lock (NLM4_LOCK, non-blocking); length 0 means
// to the end of the file. A conflicting lock is an *Error that matches
// syscall.EAGAIN.
func (c *Client) Lock(ctx context.Context, fh Fh, o LockOwner, exclusive bool, off, length uint64) error {
	args := nlmxdr.Nlm4Lockargs{Cookie: cookie(), Exclusive: exclusive, Alock: nlmLock(fh, o, off, length)}
	var res nlmxdr.Nlm4Res
	if err := c.nlmCall(ctx, nlmxdr.NLMPROC4_LOCK, &args, &res); err != nil {
		return err
	}
	return lockErr("LOCK", res.Stat.Stat)
}

// Unlock releases a byte-range lock (NLM4_UNLOCK).
func (c *Client) Unlock(ctx context.Context, fh Fh, o LockOwner, off, length uint64) error {
	args := nlmxdr.Nlm4Unlockargs{Cookie: cookie(), Alock: nlmLock(fh, o, off, length)}
	var res nlmxdr.Nlm4Res
	if err := c.nlmCall(ctx, nlmxdr.NLMPROC4_UNLOCK, &args, &res); err != nil {
		return err
	}
	return lockErr("UNLOCK", res.Stat.Stat)
}

// TestLock asks whether a lock could be granted (NLM4_TEST); it returns
// the conflicting holder, or nil.
func (c *Client) TestLock(ctx context.Context, fh Fh, o LockOwner, exclusive bool, off, length uint64) (*nlmxdr.Nlm4Holder, error) {
	args := nlmxdr.Nlm4Testargs{Cookie: cookie(), Exclusive: exclusive, Alock: nlmLock(fh, o, off, length)}
	var res nlmxdr.Nlm4Testres
	if err := c.nlmCall(ctx, nlmxdr.NLMPROC4_TEST, &args, &res); err != nil {
		return nil, err
	}
	if res.Stat.Stat == nlmxdr.NLM4_DENIED {
		h := res.Stat.Holder
		return &h, nil
	}
	return nil, lockErr("TEST", res.Stat.Stat)
}

// cookie returns an NLM cookie; the server echoes it and nothing here
// matches on it (calls are synchronous), so a fixed small value serves.
func cookie() nlmxdr.Netobj { return nlmxdr.Netobj{0, 0, 0, 1} }
