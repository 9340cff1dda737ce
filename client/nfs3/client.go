package nfs3

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gonfs/gonfs/portmap"
	"github.com/gonfs/gonfs/proto/mountxdr"
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/proto/pmapxdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// DefaultPort is the NFS port used when neither the caller nor the
// portmapper names one (RFC 1813 §1: 2049 by convention).
const DefaultPort = 2049

// portmapWait bounds how long Dial waits for a portmapper that may not
// exist (gonfs serves with the portmapper off in tests and on
// unprivileged hosts); without an answer the NFS port is used.
const portmapWait = 3 * time.Second

// Options configure a Client. The zero value works.
type Options struct {
	// Auth is the AUTH_SYS credential of every call; nil sends AUTH_NONE.
	Auth *rpcxdr.AuthsysParms
	// Port is the NFS port; 0 asks the portmapper on port 111 of the
	// host, then falls back to DefaultPort.
	Port int
	// MountPort is the MOUNT port; 0 asks the portmapper, then falls
	// back to the NFS port (where gonfs serves MOUNT too).
	MountPort int
	// NLMPort is the NLM port; 0 asks the portmapper, then falls back to
	// the NFS port.
	NLMPort int
}

// Fh is an NFSv3 file handle (RFC 1813 §2.3.3), opaque to the client.
type Fh = []byte

// Client speaks NFSv3, MOUNT and NLM to one server.
type Client struct {
	host string
	opts Options

	rpcMu   sync.Mutex // guards rpc, connGen and closed
	rpc     *sunrpc.Client
	connGen uint64
	closed  bool

	mu      sync.Mutex
	nlm     *sunrpc.Client
	exports []string // from MOUNT EXPORT, longest first
	mounts  map[string]Fh
}

// Dial connects to the NFSv3 service of host (a name or IP literal, no
// port) and fetches its export list. Nothing is mounted yet.
func Dial(ctx context.Context, host string, opts Options) (*Client, error) {
	c := &Client{host: host, opts: opts, mounts: make(map[string]Fh)}
	if c.opts.Port == 0 {
		c.opts.Port = c.lookupPort(ctx, nfs3xdr.NFS_PROGRAM, nfs3xdr.NFS_V3, DefaultPort)
	}
	rpc, err := sunrpc.Dial(ctx, "tcp", c.addr(c.opts.Port), sunrpc.ClientOptions{Auth: opts.Auth})
	if err != nil {
		return nil, fmt.Errorf("nfs3: %w", err)
	}
	c.rpc = rpc
	// A NULL call proves the server speaks version 3 (PROG_MISMATCH
	// otherwise), which lets a caller fall back.
	if err := rpc.Call(ctx, nfs3xdr.NFS_PROGRAM, nfs3xdr.NFS_V3, nfs3xdr.NFSPROC3_NULL, nil, nil); err != nil {
		rpc.Close()
		return nil, fmt.Errorf("nfs3: NULL: %w", err)
	}
	return c, nil
}

func (c *Client) addr(port int) string { return net.JoinHostPort(c.host, strconv.Itoa(port)) }

// lookupPort asks the portmapper where prog/vers listens over TCP and
// returns def when it cannot tell.
func (c *Client) lookupPort(ctx context.Context, prog, vers uint32, def int) int {
	pctx, cancel := context.WithTimeout(ctx, portmapWait)
	defer cancel()
	p, err := portmap.GetPort(pctx, c.host, prog, vers, pmapxdr.IPPROTO_TCP)
	if err != nil {
		return def
	}
	return int(p)
}

// Close closes the connections. Mounts are not unmounted (UMNT is
// advisory, RFC 1813 Appendix I).
func (c *Client) Close() error {
	c.mu.Lock()
	if c.nlm != nil {
		c.nlm.Close()
		c.nlm = nil
	}
	c.mu.Unlock()
	c.rpcMu.Lock()
	c.closed = true
	rpc := c.rpc
	c.rpcMu.Unlock()
	return rpc.Close()
}

// SetAuth changes the credential of later calls.
func (c *Client) SetAuth(a *rpcxdr.AuthsysParms) {
	c.rpcMu.Lock()
	defer c.rpcMu.Unlock()
	c.rpc.SetAuth(a)
	c.mu.Lock()
	c.opts.Auth = a
	if c.nlm != nil {
		c.nlm.SetAuth(a)
	}
	c.mu.Unlock()
}

// mountClient dials the MOUNT service for one exchange.
func (c *Client) mountClient(ctx context.Context) (*sunrpc.Client, error) {
	port := c.opts.MountPort
	if port == 0 {
		port = c.lookupPort(ctx, mountxdr.MOUNT_PROGRAM, mountxdr.MOUNT_V3, c.opts.Port)
	}
	mc, err := sunrpc.Dial(ctx, "tcp", c.addr(port), sunrpc.ClientOptions{Auth: c.opts.Auth})
	if err != nil {
		return nil, fmt.Errorf("nfs3: MOUNT: %w", err)
	}
	return mc, nil
}

// Exports returns the server's export paths (MOUNTPROC3_EXPORT).
func (c *Client) Exports(ctx context.Context) ([]string, error) {
	mc, err := c.mountClient(ctx)
	if err != nil {
		return nil, err
	}
	defer mc.Close()
	var ex exportsRes
	if err := mc.Call(ctx, mountxdr.MOUNT_PROGRAM, mountxdr.MOUNT_V3, mountxdr.MOUNTPROC3_EXPORT, nil, &ex); err != nil {
		return nil, fmt.Errorf("nfs3: MOUNT EXPORT: %w", err)
	}
	return ex.dirs, nil
}

// exportsRes decodes the export directories of an EXPORT reply (a list of
// exportnode, RFC 1813 Appendix I), skipping the groups.
type exportsRes struct{ dirs []string }

func (e *exportsRes) Decode(r *xdr.Reader) {
	for r.Bool() && r.Err() == nil {
		dir := r.String(mountxdr.MNTPATHLEN)
		for r.Bool() && r.Err() == nil {
			r.String(mountxdr.MNTNAMLEN)
		}
		if r.Err() == nil {
			e.dirs = append(e.dirs, dir)
		}
	}
}

// Mount mounts export dir (MOUNTPROC3_MNT) and returns its root handle.
func (c *Client) Mount(ctx context.Context, dir string) (Fh, error) {
	c.mu.Lock()
	fh, ok := c.mounts[dir]
	c.mu.Unlock()
	if ok {
		return fh, nil
	}
	mc, err := c.mountClient(ctx)
	if err != nil {
		return nil, err
	}
	defer mc.Close()
	arg := mountxdr.Dirpath(dir)
	var res mountxdr.Mountres3
	if err := mc.Call(ctx, mountxdr.MOUNT_PROGRAM, mountxdr.MOUNT_V3, mountxdr.MOUNTPROC3_MNT, &arg, &res); err != nil {
		return nil, fmt.Errorf("nfs3: MOUNT MNT %s: %w", dir, err)
	}
	if err := mountErr("MNT "+dir, res.FhsStatus); err != nil {
		return nil, err
	}
	fh = append(Fh(nil), res.Mountinfo.Fhandle...)
	c.mu.Lock()
	c.mounts[dir] = fh
	c.mu.Unlock()
	return fh, nil
}

// Root returns the handle of the export holding absolute path p and the
// rest of p below it: the longest export that is a prefix of p, mounted
// on first use. A server whose export list cannot be read is taken to
// export "/".
func (c *Client) Root(ctx context.Context, p string) (root Fh, rest string, err error) {
	p = path.Clean("/" + p)
	c.mu.Lock()
	ex := c.exports
	c.mu.Unlock()
	if ex == nil {
		ex, err = c.Exports(ctx)
		if err != nil || len(ex) == 0 {
			ex = []string{"/"}
		}
		// Longest first, so the first match is the deepest export.
		for i := range ex {
			for j := i + 1; j < len(ex); j++ {
				if len(ex[j]) > len(ex[i]) {
					ex[i], ex[j] = ex[j], ex[i]
				}
			}
		}
		c.mu.Lock()
		c.exports = ex
		c.mu.Unlock()
	}
	for _, e := range ex {
		e = path.Clean("/" + e)
		if p == e || e == "/" || strings.HasPrefix(p, e+"/") {
			fh, err := c.Mount(ctx, e)
			if err != nil {
				return nil, "", err
			}
			return fh, strings.TrimPrefix(strings.TrimPrefix(p, e), "/"), nil
		}
	}
	return nil, "", &Error{Proc: "MNT " + p, Mount: mountxdr.MNT3ERR_NOENT, errno: 2}
}

// call makes an NFSv3 call with hard-mount semantics: a call whose
// connection fails is sent again on a new connection, waiting for the
// server as long as ctx allows (a restarted server answers once it is
// back; file handles survive the restart). Retransmitting is what the
// kernel client does too: the duplicate request cache makes most repeats
// harmless, and WRITE, the one that matters for data, is idempotent.
func (c *Client) call(ctx context.Context, proc uint32, args xdr.Marshaler, res xdr.Unmarshaler) error {
	_, err := c.callWith(ctx, proc, args, res, nil)
	return err
}

// callWith is call with the options of sunrpc.Client.CallWith; it returns
// how many bytes of reply data the last attempt put in o.Sink.
func (c *Client) callWith(ctx context.Context, proc uint32, args xdr.Marshaler, res xdr.Unmarshaler, o *sunrpc.CallOptions) (int, error) {
	wait := 100 * time.Millisecond
	for {
		c.rpcMu.Lock()
		rpc, gen, closed := c.rpc, c.connGen, c.closed
		c.rpcMu.Unlock()
		if closed {
			return -1, fmt.Errorf("nfs3: %s: %w", nfs3xdr.NFS_V3ProcName(proc), sunrpc.ErrClientClosed)
		}
		sunk, err := rpc.CallWith(ctx, nfs3xdr.NFS_PROGRAM, nfs3xdr.NFS_V3, proc, args, res, o)
		if err == nil {
			return sunk, nil
		}
		if !transportErr(err) || ctx.Err() != nil {
			return -1, fmt.Errorf("nfs3: %s: %w", nfs3xdr.NFS_V3ProcName(proc), err)
		}
		if rerr := c.reconnect(ctx, gen); rerr != nil {
			return -1, fmt.Errorf("nfs3: %s: %w (reconnecting: %v)", nfs3xdr.NFS_V3ProcName(proc), err, rerr)
		}
		select {
		case <-ctx.Done():
			return -1, fmt.Errorf("nfs3: %s: %w", nfs3xdr.NFS_V3ProcName(proc), ctx.Err())
		case <-time.After(wait / 10):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// transportErr reports a failure of the connection rather than an answer
// from the server.
func transportErr(err error) bool {
	var ae *sunrpc.AcceptError
	var re *sunrpc.RejectError
	return !errors.As(err, &ae) && !errors.As(err, &re) && !errors.Is(err, sunrpc.ErrBadReply) &&
		!errors.Is(err, sunrpc.ErrClientClosed) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// reconnect replaces connection generation gen (once: a caller that finds
// it replaced already just retries), dialing until the server answers or
// ctx ends.
func (c *Client) reconnect(ctx context.Context, gen uint64) error {
	c.rpcMu.Lock()
	defer c.rpcMu.Unlock()
	if c.closed {
		return sunrpc.ErrClientClosed
	}
	if c.connGen != gen {
		return nil
	}
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		c.mu.Lock()
		auth := c.opts.Auth
		c.mu.Unlock()
		rpc, err := sunrpc.Dial(ctx, "tcp", c.addr(c.opts.Port), sunrpc.ClientOptions{Auth: auth})
		if err == nil {
			c.rpc.Close()
			c.rpc, c.connGen = rpc, c.connGen+1
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// ErrNoHandle is returned when a create-type reply carries no handle and
// the follow-up LOOKUP fails.
var ErrNoHandle = errors.New("nfs3: server returned no file handle")
