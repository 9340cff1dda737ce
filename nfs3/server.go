package nfs3

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/gonfs/gonfs/debuglog"
	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/nfserr"
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// Transfer sizes advertised in FSINFO. One MiB is what the Linux client
// uses at most; sunrpc.DefaultMaxRecordSize leaves room for a WRITE of it
// with its header.
const (
	maxIO   = 1 << 20
	prefIO  = 1 << 20
	dirPref = 64 << 10
	ioMult  = 4096
)

// Options configure a Server. The zero value works.
type Options struct {
	Logger *slog.Logger
	// Now gives the time (default time.Now). The write verifier is taken
	// from it at New, so it changes with every server start.
	Now func() time.Time
	// Conflicts, when set, is asked before an operation that changes a
	// file or a name, so that state kept by other protocols (NFSv4
	// delegations) can be recalled first. It returns nfserr-classified
	// errors; Delay becomes NFS3ERR_JUKEBOX.
	Conflicts ConflictChecker
	// Recorder, when set, is told the outcome of every procedure that
	// produced a reply (observability hook).
	Recorder Recorder
}

// Recorder receives the outcome of each NFSv3 procedure: version 3, minor
// 0, the procedure number, the nfsstat3 sent (NFS3_OK for NULL), the time
// the procedure took, the client's address, and the ID of the export of
// its file handle or ^uint32(0) when none was resolved. *stats.Stats
// implements it. It is called on the request's goroutine and must not
// block.
type Recorder interface {
	Op(ver, minor uint32, op uint32, status int32, d time.Duration, client netip.Addr, export uint32)
}

// ConflictChecker lets the NFSv4 state layer veto or delay NFSv3 changes
// (RFC 8881 §10.4.4: a delegation must be recalled before another client
// changes the file).
type ConflictChecker interface {
	CheckModify(ctx context.Context, e *namespace.Export, h vfs.Handle) error
	CheckName(ctx context.Context, e *namespace.Export, dir vfs.Handle, name string) error
}

// Server serves NFS version 3 (RFC 1813).
type Server struct {
	ns   *namespace.Namespace
	log  *slog.Logger
	now  func() time.Time
	verf nfs3xdr.Writeverf3
	cc   ConflictChecker
	rec  Recorder // observability hook; may be nil

	requests sync.Pool // of *request
}

// New returns an NFSv3 server for the exports of ns.
func New(ns *namespace.Namespace, opts Options) *Server {
	s := &Server{ns: ns, log: opts.Logger, now: opts.Now, cc: opts.Conflicts, rec: opts.Recorder}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	// The write verifier must differ between server instances so that a
	// client re-sends unstable writes a restart may have lost (RFC 1813
	// §3.3.7); the start time in nanoseconds does.
	binary.BigEndian.PutUint64(s.verf[:], uint64(s.now().UnixNano()))
	return s
}

// WriteVerifier returns the verifier of this server instance.
func (s *Server) WriteVerifier() [8]byte { return s.verf }

// procFunc runs one procedure. Each decodes its arguments with a direct
// call, "args.Decode(r); r.Done() != nil" meaning GARBAGE_ARGS (bytes left
// over are garbage too, RFC 5531 §9), which keeps the arguments on the
// stack where a call through xdr.Unmarshaler would not.
type procFunc func(s *Server, rq *request, r *xdr.Reader, w *xdr.Writer) sunrpc.Status

// procs is indexed by procedure number (RFC 1813 §3.3).
var procs = [...]procFunc{
	nfs3xdr.NFSPROC3_NULL:        (*Server).null,
	nfs3xdr.NFSPROC3_GETATTR:     (*Server).getattr,
	nfs3xdr.NFSPROC3_SETATTR:     (*Server).setattr,
	nfs3xdr.NFSPROC3_LOOKUP:      (*Server).lookup,
	nfs3xdr.NFSPROC3_ACCESS:      (*Server).access,
	nfs3xdr.NFSPROC3_READLINK:    (*Server).readlink,
	nfs3xdr.NFSPROC3_READ:        (*Server).read,
	nfs3xdr.NFSPROC3_WRITE:       (*Server).write,
	nfs3xdr.NFSPROC3_CREATE:      (*Server).create,
	nfs3xdr.NFSPROC3_MKDIR:       (*Server).mkdir,
	nfs3xdr.NFSPROC3_SYMLINK:     (*Server).symlink,
	nfs3xdr.NFSPROC3_MKNOD:       (*Server).mknod,
	nfs3xdr.NFSPROC3_REMOVE:      (*Server).remove,
	nfs3xdr.NFSPROC3_RMDIR:       (*Server).rmdir,
	nfs3xdr.NFSPROC3_RENAME:      (*Server).rename,
	nfs3xdr.NFSPROC3_LINK:        (*Server).link,
	nfs3xdr.NFSPROC3_READDIR:     (*Server).readdir,
	nfs3xdr.NFSPROC3_READDIRPLUS: (*Server).readdirplus,
	nfs3xdr.NFSPROC3_FSSTAT:      (*Server).fsstat,
	nfs3xdr.NFSPROC3_FSINFO:      (*Server).fsinfo,
	nfs3xdr.NFSPROC3_PATHCONF:    (*Server).pathconf,
	nfs3xdr.NFSPROC3_COMMIT:      (*Server).commit,
}

// ServeRPC implements sunrpc.Handler.
func (s *Server) ServeRPC(ctx context.Context, call *sunrpc.Call, w *xdr.Writer) sunrpc.Status {
	if call.Proc >= uint32(len(procs)) {
		return sunrpc.ProcUnavail
	}
	// The request, with its argument reader, is pooled: procedures are
	// called through a table, so it would otherwise always be allocated.
	rq, _ := s.requests.Get().(*request)
	if rq == nil {
		rq = new(request)
	}
	rq.ctx, rq.call = ctx, call
	rq.r.Reset(call.Args)
	// Observability hook: stats and the per-request debug line.
	var start time.Time
	if s.rec != nil {
		start = time.Now()
	}
	res := len(w.Buf)
	st := procs[call.Proc](s, rq, &rq.r, w)
	s.observe(rq, start, st, w.Buf[res:])
	*rq = request{} // drop references to the call, whose buffers sunrpc reuses
	s.requests.Put(rq)
	return st
}

// Idempotent implements sunrpc.Idempotency: the procedures whose replay
// would do harm go through the duplicate request cache (RFC 1813 §4.6
// names them; knfsd caches the same set).
func (s *Server) Idempotent(proc uint32) bool {
	switch proc {
	case nfs3xdr.NFSPROC3_SETATTR, nfs3xdr.NFSPROC3_WRITE, nfs3xdr.NFSPROC3_CREATE,
		nfs3xdr.NFSPROC3_MKDIR, nfs3xdr.NFSPROC3_SYMLINK, nfs3xdr.NFSPROC3_MKNOD,
		nfs3xdr.NFSPROC3_REMOVE, nfs3xdr.NFSPROC3_RMDIR, nfs3xdr.NFSPROC3_RENAME,
		nfs3xdr.NFSPROC3_LINK:
		return false
	}
	return true
}

// request is the per-call context of one procedure. It lives only while
// the procedure runs (see ServeRPC).
type request struct {
	ctx  context.Context
	call *sunrpc.Call
	e    *namespace.Export
	acc  namespace.Access
	r    xdr.Reader
}

// file resolves fh and authorizes the caller in its export. It is called
// first by every procedure; the export and identity it finds are kept in rq.
func (s *Server) file(rq *request, fh *nfs3xdr.NfsFh3) (vfs.Handle, error) {
	e, h, err := s.ns.Resolve(fh.Data)
	if err != nil {
		return nil, err
	}
	acc, err := s.ns.Authorize(rq.ctx, e, namespace.CallerOf(rq.call))
	if err != nil {
		s.log.Debug("nfs3: access refused", "client", rq.call.Remote, "export", e.Config.Path, "err", err)
		return nil, err
	}
	rq.e, rq.acc = e, acc
	return h, nil
}

// writable fails with EROFS on a read-only export.
func (rq *request) writable() error {
	if rq.acc.ReadOnly {
		return syscall.EROFS
	}
	return nil
}

// status maps err to an NFSv3 status and logs the errors the protocol has
// no name for.
func (s *Server) status(rq *request, err error) nfs3xdr.Nfsstat3 {
	if err == nil {
		return nfs3xdr.NFS3_OK
	}
	if nfserr.Of(err) == nfserr.ServerFault {
		s.log.Error("nfs3: unexpected backend error", "proc", nfs3xdr.NFS_V3ProcName(rq.call.Proc),
			"client", rq.call.Remote, "err", err)
	}
	st := nfserr.NFS3(err)
	// Observability hook: one debug line per failed procedure, with the
	// error behind the status (only this path knows it).
	if s.log.Enabled(rq.ctx, slog.LevelDebug) {
		s.log.LogAttrs(rq.ctx, slog.LevelDebug, "nfs3: procedure failed", debuglog.XID(rq.call.XID),
			debuglog.Client(rq.call.Remote), debuglog.Op(nfs3xdr.NFS_V3ProcName(rq.call.Proc)),
			debuglog.Status(st), debuglog.Err(err))
	}
	return st
}

// observe reports a procedure's outcome: to the Recorder when it replied
// with results, and as one debug line when the nfs3 debug switch is on.
// The status is read back from the results the procedure appended (every
// RFC 1813 result but NULL's begins with its nfsstat3), so that what is
// counted is what the client was sent, whichever path of the procedure
// set it. Calls answered with an RPC error have no nfsstat3: the RPC
// layer counts them.
func (s *Server) observe(rq *request, start time.Time, rst sunrpc.Status, results []byte) {
	debug := s.log.Enabled(rq.ctx, slog.LevelDebug)
	if rst != sunrpc.Success {
		if debug {
			s.log.LogAttrs(rq.ctx, slog.LevelDebug, "nfs3: request", debuglog.XID(rq.call.XID),
				debuglog.Client(rq.call.Remote), debuglog.Op(nfs3xdr.NFS_V3ProcName(rq.call.Proc)), debuglog.Status(rst))
		}
		return
	}
	if s.rec == nil && !debug {
		return
	}
	var st nfs3xdr.Nfsstat3
	if rq.call.Proc != nfs3xdr.NFSPROC3_NULL && len(results) >= 4 {
		st = nfs3xdr.Nfsstat3(binary.BigEndian.Uint32(results))
	}
	if s.rec != nil {
		export := ^uint32(0)
		if rq.e != nil {
			export = rq.e.ID
		}
		s.rec.Op(3, 0, rq.call.Proc, int32(st), time.Since(start), rq.call.Remote.Addr(), export)
	}
	if debug {
		s.log.LogAttrs(rq.ctx, slog.LevelDebug, "nfs3: request", debuglog.XID(rq.call.XID),
			debuglog.Client(rq.call.Remote), debuglog.Op(nfs3xdr.NFS_V3ProcName(rq.call.Proc)), debuglog.Status(st))
	}
}

// checkName validates a name a client sends for a new or looked-up entry.
// knfsd answers a name with '/' or NUL with NFS3ERR_ACCES; so do we.
func (s *Server) checkName(rq *request, name nfs3xdr.Filename3) error {
	if len(name) == 0 {
		return errNoEnt
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '/' || name[i] == 0 {
			return errAcces
		}
	}
	if rq.e != nil && uint32(len(name)) > rq.e.Info.MaxName {
		return errNameTooLong
	}
	return nil
}

// checkNewName is checkName for a name being created: "." and ".." exist.
func (s *Server) checkNewName(rq *request, name nfs3xdr.Filename3) error {
	if name == "." || name == ".." {
		return errExist
	}
	return s.checkName(rq, name)
}

func (s *Server) null(rq *request, r *xdr.Reader, w *xdr.Writer) sunrpc.Status {
	if r.Done() != nil {
		return sunrpc.GarbageArgs
	}
	return sunrpc.Success
}

// errIs reports whether err is target, for the few places that branch.
func errIs(err, target error) bool { return errors.Is(err, target) }
