// Package namespace joins the exports table to the backends that serve it:
// it gives each export a stable id, turns file handles into (export, backend
// handle) pairs and back, and decides per request what a client may do in an
// export (which identity it runs as, whether it may write).
//
// MOUNT, NFSv3, NLM and (later) the NFSv4 pseudo-filesystem all go through
// it, so every protocol applies the same access rules.
//
// A Namespace is immutable after New and safe for concurrent use; reloading
// exports builds a new one.
package namespace

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"

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
}

// FSID is the filesystem id clients see for the export: its own per export,
// so a client never takes files of two exports for one filesystem.
func (e *Export) FSID() uint64 { return uint64(e.ID) }

// Opener creates the backend for an export.
type Opener func(*exports.Export) (vfs.FS, error)

// Namespace is the set of served exports.
type Namespace struct {
	table *exports.Table
	codec *fhandle.Codec
	byID  map[uint32]*Export
	list  []*Export

	pseudoRoot *PseudoNode
	pseudo     map[uint64]*PseudoNode // by FileID
}

// New opens a backend for every export of table.
func New(table *exports.Table, codec *fhandle.Codec, open Opener) (*Namespace, error) {
	n := &Namespace{table: table, codec: codec, byID: map[uint32]*Export{}}
	for _, cfg := range table.Exports() {
		id := exportID(cfg)
		if prev, ok := n.byID[id]; ok {
			return nil, fmt.Errorf("exports %s and %s have the same id %d: give one an fsid= option", prev.Config.Path, cfg.Path, id)
		}
		fs, err := open(cfg)
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", cfg.Path, err)
		}
		info := vfs.DefaultInfo
		if in, ok := fs.(vfs.Informer); ok {
			info = in.Info()
		}
		e := &Export{Config: cfg, ID: id, FS: fs, Root: fs.Root(), Info: info}
		n.byID[id] = e
		n.list = append(n.list, e)
	}
	n.buildPseudo()
	return n, nil
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
func (n *Namespace) Exports() []*Export { return slices.Clone(n.list) }

// Table returns the exports table the namespace was built from.
func (n *Namespace) Table() *exports.Table { return n.table }

// Find returns the export clients name by path (exact match).
func (n *Namespace) Find(path string) (*Export, bool) {
	cfg, ok := n.table.Lookup(path)
	if !ok {
		return nil, false
	}
	for _, e := range n.list {
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
	e, ok := n.byID[id]
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
// exports.ErrDenied, exports.ErrInsecurePort and ErrWrongSec.
func (n *Namespace) Authorize(ctx context.Context, e *Export, c Caller) (Access, error) {
	d, err := e.Config.Access(ctx, c.Addr)
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
