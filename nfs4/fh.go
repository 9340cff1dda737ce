package nfs4

import (
	"syscall"

	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/vfs"
)

// fileRef is a filehandle as a compound holds it: a file of an export, or
// a directory of the pseudo-filesystem (RFC 8881 §7.3).
type fileRef struct {
	e *namespace.Export     // nil in the pseudo-filesystem
	h vfs.Handle            // backend handle when e != nil
	p *namespace.PseudoNode // pseudo node when e == nil
}

func (f fileRef) valid() bool { return f.e != nil || f.p != nil }

// pseudo reports whether f is a pseudo-filesystem directory.
func (f fileRef) pseudo() bool { return f.e == nil && f.p != nil }

// isExportRoot reports whether f is the root of its export.
func (f fileRef) isExportRoot() bool {
	return f.e != nil && string(f.h) == string(f.e.Root)
}

// wire returns the wire handle of f.
func (s *Server) wire(f fileRef) []byte {
	if f.e != nil {
		return s.ns.Handle(nil, f.e, f.h)
	}
	return s.ns.PseudoHandle(nil, f.p)
}

// enterNode turns a pseudo node into the filehandle a client sees there:
// the export's root where an export is mounted, else the pseudo directory.
func enterNode(p *namespace.PseudoNode) fileRef {
	if p.Export != nil {
		return fileRef{e: p.Export, h: p.Export.Root}
	}
	return fileRef{p: p}
}

// accessTo is access for any export: what the caller may do in e.
func (c *compound) accessTo(e *namespace.Export) (namespace.Access, nfs4xdr.Nfsstat4) {
	if e == c.accFor {
		if c.accErr != nil {
			return namespace.Access{}, errStatus(c.accErr)
		}
		return c.acc, nfs4xdr.NFS4_OK
	}
	a, err := c.s.ns.Authorize(c.ctx, e, namespace.CallerOf(c.call))
	if err != nil {
		return namespace.Access{}, errStatus(err)
	}
	return a, nfs4xdr.NFS4_OK
}

// Exports may nest: with /a and /a/b/c exported, the directory b/c of
// export /a is covered by export /a/b/c's root, as a mount covers a
// directory (RFC 8881 §7.7: the client sees a filesystem boundary there).
// The pseudo tree records where each export is mounted; the two helpers
// below find the backend directories that correspond to its nodes. They
// look paths up with the server's own identity: the exports table names
// these paths already, and crossing a mount point needs no permission of
// its own.

// mountAt returns the pseudo node that name in directory dir of export e
// corresponds to, if any: the root of a nested export, or a directory on
// the way to one.
func (c *compound) mountAt(e *namespace.Export, dir vfs.Handle, name string) *namespace.PseudoNode {
	if e.Mount == nil {
		return nil
	}
	var found *namespace.PseudoNode
	var walk func(p *namespace.PseudoNode)
	walk = func(p *namespace.PseudoNode) {
		for _, ch := range p.Children {
			if found != nil {
				return
			}
			if ch.Name == name {
				if h, err := c.nodeHandle(e, p); err == nil && string(h) == string(dir) {
					found = ch
					return
				}
			}
			if ch.Export == nil {
				walk(ch)
			}
		}
	}
	walk(e.Mount)
	return found
}

// nodeHandle returns the backend handle, in e, of the directory at pseudo
// node p, which is e's mount node or below it.
func (c *compound) nodeHandle(e *namespace.Export, p *namespace.PseudoNode) (vfs.Handle, error) {
	var names []string
	for n := p; n != e.Mount; n = n.Parent {
		if n == nil {
			return nil, syscall.ENOENT
		}
		names = append(names, n.Name)
	}
	h := e.Root
	for i := len(names) - 1; i >= 0; i-- {
		var err error
		if h, _, err = e.FS.Lookup(c.ctx, vfs.RootCred(), h, names[i]); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// nodeRef is the file a client reaches at pseudo node p: an export's root
// where one is mounted, the directory of the export p lies in where one
// does, else the pseudo directory.
func (c *compound) nodeRef(p *namespace.PseudoNode) fileRef {
	if p.Export != nil {
		return fileRef{e: p.Export, h: p.Export.Root}
	}
	for a := p.Parent; a != nil; a = a.Parent {
		if a.Export != nil {
			if h, err := c.nodeHandle(a.Export, p); err == nil {
				return fileRef{e: a.Export, h: h}
			}
			break
		}
	}
	return fileRef{p: p}
}
