package mount

import (
	"context"
	"log/slog"
	"time"

	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/proto/mountxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// DefaultMaxMounts bounds the mount list when Options.MaxMounts is zero.
const DefaultMaxMounts = 4096

// Options configure a Server. The zero value works.
type Options struct {
	// Logger receives refusals (debug) and unexpected backend errors
	// (warn). Nil discards.
	Logger *slog.Logger
	// Clock stamps mount list entries. Nil means time.Now.
	Clock func() time.Time
	// MaxMounts bounds the mount list; further MNTs still succeed but
	// are not listed (the list is advisory). Zero means DefaultMaxMounts.
	MaxMounts int
}

// Server serves MOUNT version 3. Register it with a sunrpc.Server as
// program mountxdr.MOUNT_PROGRAM, version mountxdr.MOUNT_V3.
type Server struct {
	ns     *namespace.Namespace
	log    *slog.Logger
	now    func() time.Time
	mounts mountList
}

var (
	_ sunrpc.Handler     = (*Server)(nil)
	_ sunrpc.Idempotency = (*Server)(nil)
)

// New returns a Server for the exports of ns.
func New(ns *namespace.Namespace, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.MaxMounts <= 0 {
		opts.MaxMounts = DefaultMaxMounts
	}
	return &Server{
		ns:     ns,
		log:    opts.Logger,
		now:    opts.Clock,
		mounts: mountList{max: opts.MaxMounts},
	}
}

// Idempotent reports true for every procedure: repeating MNT or UMNT has
// the same effect as running it once (see the package documentation), so
// the duplicate request cache is not needed.
func (s *Server) Idempotent(proc uint32) bool { return true }

// ServeRPC implements sunrpc.Handler.
func (s *Server) ServeRPC(ctx context.Context, call *sunrpc.Call, w *xdr.Writer) sunrpc.Status {
	switch call.Proc {
	case mountxdr.MOUNTPROC3_NULL:
		if len(call.Args) != 0 {
			return sunrpc.GarbageArgs
		}
		return sunrpc.Success
	case mountxdr.MOUNTPROC3_MNT:
		var p mountxdr.Dirpath
		if !decode(call.Args, &p) {
			return sunrpc.GarbageArgs
		}
		res := s.mnt(ctx, call, string(p))
		res.Encode(w)
		return sunrpc.Success
	case mountxdr.MOUNTPROC3_DUMP:
		if len(call.Args) != 0 {
			return sunrpc.GarbageArgs
		}
		s.dump(w)
		return sunrpc.Success
	case mountxdr.MOUNTPROC3_UMNT:
		var p mountxdr.Dirpath
		if !decode(call.Args, &p) {
			return sunrpc.GarbageArgs
		}
		s.umnt(call, string(p))
		return sunrpc.Success
	case mountxdr.MOUNTPROC3_UMNTALL:
		if len(call.Args) != 0 {
			return sunrpc.GarbageArgs
		}
		s.umntall(call)
		return sunrpc.Success
	case mountxdr.MOUNTPROC3_EXPORT:
		if len(call.Args) != 0 {
			return sunrpc.GarbageArgs
		}
		s.export(w)
		return sunrpc.Success
	}
	return sunrpc.ProcUnavail
}

// decode decodes args into v and reports whether they were exactly one
// well-formed v.
func decode(args []byte, v xdr.Unmarshaler) bool {
	r := xdr.NewReader(args)
	v.Decode(r)
	return r.Done() == nil
}

// hostOf is the name a client has in the mount list: its address without
// the port (see the package documentation for why not the AUTH_SYS
// machine name).
func hostOf(call *sunrpc.Call) string { return call.Remote.Addr().String() }
