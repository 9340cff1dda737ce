package mount

import (
	"context"
	"errors"
	"path"
	"slices"
	"strings"

	"github.com/gonfs/gonfs/exports"
	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/nfserr"
	"github.com/gonfs/gonfs/proto/mountxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/vfs"
)

// mnt serves MOUNTPROC3_MNT (RFC 1813 Appendix I, "Procedure 1: MNT").
func (s *Server) mnt(ctx context.Context, call *sunrpc.Call, p string) mountxdr.Mountres3 {
	fail := func(st mountxdr.Mountstat3) mountxdr.Mountres3 { return mountxdr.Mountres3{FhsStatus: st} }
	if p == "" {
		// An empty path can only mean the root (libnfs sends it for a
		// URL that names a file directly under a root export, though
		// it then gives up on its own; nfs://host//file works).
		p = "/"
	}
	if !strings.HasPrefix(p, "/") {
		return fail(mountxdr.MNT3ERR_NOENT)
	}
	p = path.Clean(p)
	cfg, ok := s.ns.Table().Find(p)
	if !ok {
		s.log.DebugContext(ctx, "mount: MNT of a path that is not exported", "client", call.Remote.String(), "path", p)
		return fail(mountxdr.MNT3ERR_NOENT)
	}
	e, ok := s.ns.Find(cfg.Path)
	if !ok {
		// The table and the namespace are built together; this would be
		// a bug in namespace.New.
		s.log.WarnContext(ctx, "mount: export missing from the namespace", "export", cfg.Path)
		return fail(mountxdr.MNT3ERR_SERVERFAULT)
	}

	cred, sec, err := s.authorize(ctx, call, e)
	if err != nil {
		s.log.DebugContext(ctx, "mount: MNT refused", "client", call.Remote.String(),
			"flavor", uint32(call.Cred.Flavor), "path", p, "export", cfg.Path, "reason", err.Error())
		if errors.Is(err, exports.ErrDenied) || errors.Is(err, exports.ErrInsecurePort) || errors.Is(err, namespace.ErrWrongSec) {
			return fail(mountxdr.MNT3ERR_ACCES)
		}
		return fail(mountxdr.MNT3ERR_SERVERFAULT)
	}

	h, st := s.walk(ctx, call, e, &cred, strings.TrimPrefix(p, cfg.Path))
	if st != mountxdr.MNT3_OK {
		return fail(st)
	}

	flavors := make([]int32, len(sec))
	for i, f := range sec {
		flavors[i] = int32(f)
	}
	s.mounts.add(hostOf(call), p, s.now())
	return mountxdr.Mountres3{
		FhsStatus: mountxdr.MNT3_OK,
		Mountinfo: mountxdr.Mountres3Ok{Fhandle: s.ns.Handle(nil, e, h), AuthFlavors: flavors},
	}
}

// authorize checks the caller against export e and returns the identity
// the path walk runs as and the export's flavors for the reply.
func (s *Server) authorize(ctx context.Context, call *sunrpc.Call, e *namespace.Export) (vfs.Cred, []exports.Flavor, error) {
	acc, err := s.ns.Authorize(ctx, e, namespace.CallerOf(call))
	if err == nil {
		return acc.Cred, acc.Decision.Sec, nil
	}
	if !errors.Is(err, namespace.ErrWrongSec) {
		return vfs.Cred{}, nil, err
	}
	// A Kerberos export reached by a MNT over AUTH_SYS or AUTH_NONE: allowed,
	// as the anonymous user (see the package documentation).
	d, derr := e.Config.Access(ctx, call.Remote)
	if derr != nil || !slices.ContainsFunc(d.Sec, isGSS) {
		return vfs.Cred{}, nil, err
	}
	return vfs.Cred{UID: d.AnonUID, GID: d.AnonGID}, d.Sec, nil
}

func isGSS(f exports.Flavor) bool {
	return f == exports.FlavorKrb5 || f == exports.FlavorKrb5i || f == exports.FlavorKrb5p
}

// walk looks rel (a cleaned path below the export root, "" or "/..." form)
// up component by component from the root of e, following no symlink, and
// returns the handle of the directory it names.
func (s *Server) walk(ctx context.Context, call *sunrpc.Call, e *namespace.Export, cred *vfs.Cred, rel string) (vfs.Handle, mountxdr.Mountstat3) {
	h := e.Root
	for _, name := range strings.Split(rel, "/") {
		if name == "" {
			continue // the leading "/" of rel, or rel == ""
		}
		if len(name) > mountxdr.MNTNAMLEN {
			return nil, mountxdr.MNT3ERR_NAMETOOLONG
		}
		next, attr, err := e.FS.Lookup(ctx, cred, h, name)
		if err != nil {
			return nil, s.status(ctx, call, e, err)
		}
		if attr.Type != vfs.TypeDirectory {
			// A symlink is not followed, a file cannot be mounted.
			return nil, mountxdr.MNT3ERR_NOTDIR
		}
		h = next
	}
	return h, mountxdr.MNT3_OK
}

// status maps a backend error met during the walk, logging what has no
// MOUNT status.
func (s *Server) status(ctx context.Context, call *sunrpc.Call, e *namespace.Export, err error) mountxdr.Mountstat3 {
	if st, known := nfserr.MNT3(err); known {
		return st
	}
	s.log.WarnContext(ctx, "mount: lookup failed", "client", call.Remote.String(), "export", e.Config.Path, "err", err.Error())
	return mountxdr.MNT3ERR_SERVERFAULT
}
