// Package namespace joins the exports table to the backends that serve it:
// it gives each export a stable id, turns file handles into (export, backend
// handle) pairs and back, and decides per request what a client may do in an
// export (which identity it runs as, whether it may write).
//
// MOUNT, NFSv3, NLM and (later) the NFSv4 pseudo-filesystem all go through
// it, so every protocol applies the same access rules.
//
// A Namespace is safe for concurrent use. Its exports can be replaced while
// it serves (Reload, for `gonfs ctl reload`): every method reads one
// consistent view of the exports, swapped atomically, so a request sees
// either the old exports or the new ones, never a mix.
package namespace

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gonfs/gonfs/exports"
	"github.com/gonfs/gonfs/fhandle"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/vfs"
)

// Errors of Authorize, beside those of exports.
var (
	// ErrWrongSec: the request's auth flavor is not in the export's sec= list.
	ErrWrongSec = errors.New("namespace: auth flavor not allowed by the export")
	// ErrUnknownExport: a handle names an export this server no longer has.
	ErrUnknownExport = errors.New("namespace: handle names no current export")
)

// Export is one served export.
type Export struct {
	Config *exports.Export
	// ID is carried in every file handle of the export. It is the fsid=N
	// option when given, else a hash of the export path, so handles survive
	// restarts as long as the exports file names the same paths.
	ID   uint32
	FS   vfs.FS
	Root vfs.Handle
	Info vfs.Info
	// Mount is the pseudo-filesystem node the export's root is mounted
	// on (NFSv4).
	Mount *PseudoNode

	// origin is the Export that first opened FS: the same for every
	// generation of an export that Reload kept, so Authorize can tell
	// an export kept from one replaced under the same id.
	origin *Export
}

// FSID is the filesystem id clients see for the export: its own per export,
// so a client never takes files of two exports for one filesystem.
func (e *Export) FSID() uint64 { return uint64(e.ID) }

// Opener creates the backend for an export.
type Opener func(*exports.Export) (vfs.FS, error)

// Namespace is the set of served exports.
type Namespace struct {
	codec *fhandle.Codec
	open  Opener
	cur   atomic.Pointer[view]
	mu    sync.Mutex // serializes Reload
}

// view is one immutable generation of the exports.
type view struct {
	table *exports.Table
	byID  map[uint32]*Export
	list  []*Export

	pseudoRoot *PseudoNode
	pseudo     map[uint64]*PseudoNode // by FileID
}

// New opens a backend for every export of table.
func New(table *exports.Table, codec *fhandle.Codec, open Opener) (*Namespace, error) {
	n := &Namespace{codec: codec, open: open}
	v, _, err := n.build(table, nil)
	if err != nil {
		return nil, err
	}
	n.cur.Store(v)
	return n, nil
}

// build makes the view of table. An export of old with the same id and
// directory keeps its backend (and so its handles); every other export
// gets a new backend from the opener.
func (n *Namespace) build(table *exports.Table, old *view) (*view, ReloadResult, error) {
	v := &view{table: table, byID: map[uint32]*Export{}}
	var res ReloadResult
	for _, cfg := range table.Exports() {
		id := exportID(cfg)
		if prev, ok := v.byID[id]; ok {
			return nil, res, fmt.Errorf("exports %s and %s have the same id %d: give one an fsid= option", prev.Config.Path, cfg.Path, id)
		}
		var e *Export
		if was, ok := old.export(id); ok && was.Config.Dir == cfg.Dir {
			// A new Export, not an update of the old one: requests
			// holding the old one keep reading consistent fields.
			e = &Export{Config: cfg, ID: id, FS: was.FS, Root: was.Root, Info: was.Info, origin: was.origin}
			res.Kept = append(res.Kept, cfg.Path)
		} else {
			fs, err := n.open(cfg)
			if err != nil {
				return nil, res, fmt.Errorf("export %s: %w", cfg.Path, err)
			}
			info := vfs.DefaultInfo
			if in, ok := fs.(vfs.Informer); ok {
				info = in.Info()
			}
			e = &Export{Config: cfg, ID: id, FS: fs, Root: fs.Root(), Info: info}
			e.origin = e
			res.Added = append(res.Added, cfg.Path)
		}
		v.byID[id] = e
		v.list = append(v.list, e)
	}
	if old != nil {
		for _, e := range old.list {
			if now, ok := v.byID[e.ID]; !ok || now.origin != e.origin {
				res.Removed = append(res.Removed, e.Config.Path)
			}
		}
	}
	v.buildPseudo()
	return v, res, nil
}

func (v *view) export(id uint32) (*Export, bool) {
	if v == nil {
		return nil, false
	}
	e, ok := v.byID[id]
	return e, ok
}

// ReloadResult says what a Reload changed, by export path.
type ReloadResult struct {
	// Kept exports keep their id and backend: their handles stay valid.
	Kept []string `json:"kept"`
	// Added exports got a new backend from the opener.
	Added []string `json:"added"`
	// Removed exports are gone (or moved to another directory): their
	// handles now resolve to ErrUnknownExport, which the protocols
	// answer as a stale handle.
	Removed []string `json:"removed"`
}

// Reload replaces the exports with those of table without dropping what
// clients hold: an export that is still there with the same id (its fsid=
// or path) and directory keeps its backend, so its handles, locks and
// NFSv4 state stay valid; its client rules and options take effect at once
// (Authorize reads the current ones even for an Export obtained before).
// Exports no longer in table stop resolving. New exports get backends from
// the opener given to New. On error nothing changes. Backends of removed
// exports are not closed: requests may still be running in them; their
// owner closes them at shutdown.
func (n *Namespace) Reload(table *exports.Table) (ReloadResult, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	v, res, err := n.build(table, n.cur.Load())
	if err != nil {
		return ReloadResult{}, err
	}
	n.cur.Store(v)
	return res, nil
}

func exportID(cfg *exports.Export) uint32 {
	if cfg.Fsid.Kind == exports.FsidNum {
		return cfg.Fsid.Num
	}
	h := fnv.New32a()
	h.Write([]byte(cfg.Path))
	id := h.Sum32()
	if id == PseudoExportID {
		id = 1
	}
	return id
}

// Exports returns the exports in file order.
func (n *Namespace) Exports() []*Export { return slices.Clone(n.cur.Load().list) }

// Table returns the exports table currently served.
func (n *Namespace) Table() *exports.Table { return n.cur.Load().table }

// Find returns the export clients name by path (exact match).
func (n *Namespace) Find(path string) (*Export, bool) {
	v := n.cur.Load()
	cfg, ok := v.table.Lookup(path)
	if !ok {
		return nil, false
	}
	for _, e := range v.list {
		if e.Config == cfg {
			return e, true
		}
	}
	return nil, false
}

// Handle appends the wire handle of h in e to dst.
func (n *Namespace) Handle(dst []byte, e *Export, h vfs.Handle) []byte {
	return n.codec.Append(dst, e.ID, h)
}

// Resolve checks a wire handle and returns its export and backend handle
// (aliasing fh). Errors: fhandle.ErrBadHandle, fhandle.ErrStale,
// ErrUnknownExport.
func (n *Namespace) Resolve(fh []byte) (*Export, vfs.Handle, error) {
	id, h, err := n.codec.Decode(fh)
	if err != nil {
		return nil, nil, err
	}
	e, ok := n.cur.Load().byID[id]
	if !ok {
		return nil, nil, ErrUnknownExport
	}
	return e, h, nil
}

// Caller is who sends a request.
type Caller struct {
	Addr   netip.AddrPort
	Flavor exports.Flavor
	UID    uint32
	GID    uint32
	Groups []uint32
}

// Access is what a caller may do in an export.
type Access struct {
	Cred     vfs.Cred
	ReadOnly bool
	Decision exports.Decision
}

// Authorize applies the export's client rules to a caller: errors are
// exports.ErrDenied, exports.ErrInsecurePort and ErrWrongSec. The rules
// are the current ones of the export with e's id, so a Reload takes
// effect even for requests that resolved e before it; ErrUnknownExport
// when the export is gone.
func (n *Namespace) Authorize(ctx context.Context, e *Export, c Caller) (Access, error) {
	cur, ok := n.cur.Load().byID[e.ID]
	if !ok || (e.origin != nil && cur.origin != e.origin) {
		return Access{}, ErrUnknownExport
	}
	d, err := cur.Config.Access(ctx, c.Addr)
	if err != nil {
		return Access{}, err
	}
	if !slices.Contains(d.Sec, c.Flavor) {
		return Access{}, ErrWrongSec
	}
	opts := d.Options()
	uid, gid, groups := opts.Squash(c.UID, c.GID, c.Groups)
	if c.Flavor == exports.FlavorNone {
		// AUTH_NONE carries no identity: it is the anonymous user.
		uid, gid, groups = opts.AnonUID, opts.AnonGID, nil
	}
	return Access{Cred: vfs.Cred{UID: uid, GID: gid, Groups: groups}, ReadOnly: d.ReadOnly, Decision: d}, nil
}

// CallerOf is the caller of an RPC call. The auth flavor number is the
// exports flavor (sec=sys is AUTH_SYS, 1; sec=none AUTH_NONE, 0), so a
// flavor no export names matches no sec= entry and is refused; only
// AUTH_SYS carries an identity.
func CallerOf(call *sunrpc.Call) Caller {
	c := Caller{Addr: call.Remote, Flavor: exports.Flavor(call.Cred.Flavor)}
	if call.Cred.Flavor == rpcxdr.AUTH_SYS {
		c.UID, c.GID, c.Groups = call.Cred.Sys.Uid, call.Cred.Sys.Gid, call.Cred.Sys.Gids
	}
	return c
}
