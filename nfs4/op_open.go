package nfs4

import (
	"errors"
	"syscall"
	"time"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/nfs4/fattr"
	"github.com/gonfs/gonfs/nfs4/state"
	"github.com/gonfs/gonfs/nlm"
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// share_access bits other than the access itself (RFC 8881 §18.16.3):
// the delegation want in 0xFF00 and two flags, which shape the delegation
// part of the reply (deleg.go).
const (
	shareAccessMask = x.OPEN4_SHARE_ACCESS_BOTH
	// DELEG_TIMESTAMPS (RFC 9754) asks for delegated timestamps; we
	// accept and ignore it, as the SIGNAL and PUSH hints: a client learns
	// whether timestamps were delegated from the delegation type it gets
	// back, and open_arguments does not advertise it.
	shareWantFlags = x.OPEN4_SHARE_ACCESS_WANT_SIGNAL_DELEG_WHEN_RESRC_AVAIL |
		x.OPEN4_SHARE_ACCESS_WANT_PUSH_DELEG_WHEN_UNCONTENDED |
		x.OPEN4_SHARE_ACCESS_WANT_DELEG_TIMESTAMPS
	shareAccessKnown = shareAccessMask | x.OPEN4_SHARE_ACCESS_WANT_DELEG_MASK | shareWantFlags
)

// Modes of files OPEN creates when the client sends none. Clients send
// the mode they want (having applied their umask); EXCLUSIVE4 carries no
// attributes at all, and the client sets them with SETATTR afterwards, so
// until then only the creator may use the file.
const (
	defaultCreateMode    = 0o666
	defaultExclusiveMode = 0o600
)

// splitShareAccess checks share_access and share_deny and returns the
// access and deny modes and the delegation want (RFC 8881 §18.16.3:
// undefined bits, no access, or an unknown want are NFS4ERR_INVAL).
func splitShareAccess(access, deny uint32) (acc, den lock.ShareMode, want uint32, st x.Nfsstat4) {
	want = access & x.OPEN4_SHARE_ACCESS_WANT_DELEG_MASK
	if access&^shareAccessKnown != 0 || access&shareAccessMask == 0 || deny > x.OPEN4_SHARE_DENY_BOTH ||
		want > x.OPEN4_SHARE_ACCESS_WANT_CANCEL {
		return 0, 0, 0, x.NFS4ERR_INVAL
	}
	return lock.ShareMode(access & shareAccessMask), lock.ShareMode(deny), want, x.NFS4_OK
}

// regularStatus is the status for using a file of type t where a regular
// file is needed (OPEN, READ, WRITE, COMMIT, LOCK: RFC 8881 §18.16.3,
// §18.22.3, §18.32.3): NFS4ERR_ISDIR for a directory, NFS4ERR_SYMLINK for
// a symlink, NFS4ERR_WRONG_TYPE for anything else.
func regularStatus(t vfs.FileType) x.Nfsstat4 {
	switch t {
	case vfs.TypeRegular:
		return x.NFS4_OK
	case vfs.TypeDirectory:
		return x.NFS4ERR_ISDIR
	case vfs.TypeSymlink:
		return x.NFS4ERR_SYMLINK
	}
	return x.NFS4ERR_WRONG_TYPE
}

// currentRegular checks that the current filehandle is a regular file of
// an export and returns its attributes. Pseudo directories are
// directories.
func (c *compound) currentRegular() (vfs.Attr, x.Nfsstat4) {
	if st := c.needFH(); st != x.NFS4_OK {
		return vfs.Attr{}, st
	}
	if c.cur.pseudo() {
		return vfs.Attr{}, x.NFS4ERR_ISDIR
	}
	a, err := c.cur.e.FS.GetAttr(c.ctx, c.cur.h)
	if err != nil {
		return vfs.Attr{}, errStatus(err)
	}
	return a, regularStatus(a.Type)
}

// fileKey is the lock table key of the current file, shared with NLM.
func (c *compound) fileKey() lock.FileKey { return nlm.FileKey(c.cur.e, c.cur.h) }

// verifierTimes turns a create verifier into the atime and mtime that keep
// it (whole seconds, which every backend stores): the approach of knfsd
// and of our NFSv3 exclusive create, so that a retransmitted create finds
// its own file (RFC 8881 §18.16.3).
func verifierTimes(v x.Verifier4) (atime, mtime time.Time) {
	a := uint32(v[0])<<24 | uint32(v[1])<<16 | uint32(v[2])<<8 | uint32(v[3])
	m := uint32(v[4])<<24 | uint32(v[5])<<16 | uint32(v[6])<<8 | uint32(v[7])
	return time.Unix(int64(a), 0), time.Unix(int64(m), 0)
}

// verifierAttrs are the attributes reported in attrset after an exclusive
// create: those holding the verifier, which tells the client to set them
// with SETATTR (RFC 8881 §18.16.4).
var verifierAttrs = fattr.Of(x.FATTR4_TIME_ACCESS, x.FATTR4_TIME_MODIFY)

// openTarget is what resolving an OPEN's claim produced.
type openTarget struct {
	h       vfs.Handle
	attr    vfs.Attr
	created bool
	// truncate is a size to set once the open is granted: the size in
	// the createattrs of UNCHECKED4, which may open an existing file
	// (RFC 8881 §18.16.3).
	truncate *uint64
	attrset  fattr.Bitmap
	cinfo    x.ChangeInfo4
}

// OPEN, RFC 8881 §18.16. The file is looked up or created first, without
// any state; then the share reservation is taken through the state
// manager; then a size in the createattrs is applied, so that a file
// another open denies writing is never truncated. The seqid and the
// open-owner's client ID are NFSv4.0 fields that NFSv4.1 ignores
// (§18.16.3): the client is the session's.
func (c *compound) opOpen(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var args x.OPEN4args
	if !c.decode(r, w, &args) {
		return x.NFS4ERR_BADXDR
	}
	if st := c.needFH(); st != x.NFS4_OK {
		return c.fail(w, st)
	}
	access, deny, want, st := splitShareAccess(args.ShareAccess, args.ShareDeny)
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	if len(args.Owner.Owner) == 0 {
		return c.fail(w, x.NFS4ERR_INVAL)
	}
	create := args.Openhow.Opentype == x.OPEN4_CREATE
	if !create && args.Openhow.Opentype != x.OPEN4_NOCREATE {
		return c.fail(w, x.NFS4ERR_BADXDR)
	}
	if create && (args.Openhow.How.Mode < x.UNCHECKED4 || args.Openhow.How.Mode > x.EXCLUSIVE4_1) {
		return c.fail(w, x.NFS4ERR_BADXDR)
	}
	reclaim := false
	var tgt openTarget
	switch args.Claim.Claim {
	case x.CLAIM_NULL:
		tgt, st = c.openByName(&args)
	case x.CLAIM_PREVIOUS:
		reclaim = true
		tgt, st = c.openCurrent(&args)
	case x.CLAIM_FH:
		tgt, st = c.openCurrent(&args)
	case x.CLAIM_DELEGATE_CUR, x.CLAIM_DELEG_CUR_FH:
		// The holder of a delegation opens what it opened locally
		// (RFC 8881 §10.4.4; deleg.go).
		tgt, st = c.openDelegCur(&args)
	case x.CLAIM_DELEGATE_PREV, x.CLAIM_DELEG_PREV_FH:
		// Reclaiming delegations across a client restart needs stable
		// delegation records, which the server does not keep; the RFC
		// lets such a server answer NFS4ERR_NOTSUPP (§18.16.3).
		st = x.NFS4ERR_NOTSUPP
	default:
		st = x.NFS4ERR_BADXDR
	}
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	e := c.cur.e
	acc, _ := c.access() // decided by the claim already
	if access&lock.ShareWrite != 0 && acc.ReadOnly {
		return c.fail(w, x.NFS4ERR_ROFS)
	}
	if tgt.truncate != nil && access&lock.ShareWrite == 0 {
		// Truncating needs a write open: knfsd answers the same.
		return c.fail(w, x.NFS4ERR_INVAL)
	}
	if !tgt.created {
		if st := c.openPermission(&acc, e, tgt.h, &tgt.attr, access); st != x.NFS4_OK {
			return c.fail(w, st)
		}
	}
	file := nlm.FileKey(e, tgt.h)
	res, eff, st := c.s.state.Open(state.OpenArgs{ClientID: c.cid, Owner: args.Owner.Owner, File: file,
		Access: access, Deny: deny, Reclaim: reclaim})
	// The effects only wake NLM waiters (never recovery records), and
	// apply logs its own failures.
	_ = c.s.apply(eff)
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	if tgt.truncate != nil {
		if _, err := e.FS.SetAttr(c.ctx, &acc.Cred, tgt.h, vfs.SetAttr{Size: tgt.truncate}); err != nil {
			c.undoOpen(file, res.Stateid)
			return c.fail(w, errStatus(err))
		}
		tgt.attrset.Set(x.FATTR4_SIZE)
	}
	// The delegation is decided once the open is held (RFC 8881 §10.4;
	// deleg.go). A reclaim names the type it held (§9.11).
	var reclaimDeleg x.OpenDelegationType4
	if reclaim {
		reclaimDeleg = args.Claim.DelegateType
	}
	deleg, st := c.openDelegation(e, tgt.h, &tgt.attr, res.Access, want, reclaimDeleg)
	if st != x.NFS4_OK {
		c.undoOpen(file, res.Stateid)
		return c.fail(w, st)
	}
	out := x.OPEN4res{Status: x.NFS4_OK, Resok4: x.OPEN4resok{
		Stateid: x.Stateid4(res.Stateid),
		Cinfo:   tgt.cinfo,
		// POSIX byte-range locks: overlapping and adjacent ranges of one
		// owner merge and split (RFC 8881 §18.16.4). OPEN4_RESULT_CONFIRM
		// is NFSv4.0 only.
		Rflags:     x.OPEN4_RESULT_LOCKTYPE_POSIX | c.openConfirmFlag40(),
		Attrset:    tgt.attrset.Bitmap4(),
		Delegation: deleg,
	}}
	out.Encode(w)
	// The opened file and its open stateid become current (RFC 8881
	// §16.2.3.1.2).
	c.putCurrent(fileRef{e: e, h: tgt.h})
	c.setStateid(res.Stateid)
	return x.NFS4_OK
}

// undoOpen takes back an open granted for an OPEN that then failed. Only
// a new open (seqid 1) is closed: an upgrade of an existing one keeps its
// wider modes, which is harmless, since closing would lose the modes the
// owner held before.
func (c *compound) undoOpen(file lock.FileKey, sid state.Stateid) {
	if sid.Seqid != 1 {
		return
	}
	_, eff, st := c.s.state.Close(c.cid, file, sid)
	_ = c.s.apply(eff)
	if st != x.NFS4_OK {
		c.s.log.Error("nfs4: closing a failed open", "status", st)
	}
}

// openCurrent resolves CLAIM_FH and CLAIM_PREVIOUS: the current filehandle
// is the file. OPEN4_CREATE then finds the file existing: UNCHECKED4
// opens it (applying a size), the guarded and exclusive modes are
// NFS4ERR_EXIST, as for a name that exists.
func (c *compound) openCurrent(args *x.OPEN4args) (openTarget, x.Nfsstat4) {
	a, st := c.currentRegular()
	if st != x.NFS4_OK {
		return openTarget{}, st
	}
	if _, st := c.access(); st != x.NFS4_OK {
		return openTarget{}, st
	}
	tgt := openTarget{h: c.cur.h, attr: a}
	if args.Openhow.Opentype == x.OPEN4_CREATE {
		how := &args.Openhow.How
		if how.Mode != x.UNCHECKED4 {
			return openTarget{}, x.NFS4ERR_EXIST
		}
		set, st := c.createAttrs(&how.Createattrs)
		if st != x.NFS4_OK {
			return openTarget{}, st
		}
		tgt.truncate = existingSize(set.Attr.Size)
	}
	return tgt, x.NFS4_OK
}

// createAttrs decodes the createattrs of OPEN (RFC 8881 §18.16.3) through
// fattr, the one place fattr4 is translated.
func (c *compound) createAttrs(f *x.Fattr4) (fattr.Set, x.Nfsstat4) {
	set, err := fattr.Decode(f, c.attrExport(c.cur.e), true)
	if err != nil {
		return fattr.Set{}, attrStatus(err)
	}
	return set, x.NFS4_OK
}

// openByName resolves CLAIM_NULL: the current filehandle is the directory
// and the claim names the file in it, which OPEN4_CREATE may create.
func (c *compound) openByName(args *x.OPEN4args) (openTarget, x.Nfsstat4) {
	name := args.Claim.File
	if st := c.checkName(name); st != x.NFS4_OK {
		return openTarget{}, st
	}
	create := args.Openhow.Opentype == x.OPEN4_CREATE
	if c.cur.pseudo() {
		// Everything in the pseudo-filesystem is a directory, and
		// nothing can be created there.
		_, ok := c.cur.p.Child(string(name))
		switch {
		case ok:
			return openTarget{}, x.NFS4ERR_ISDIR
		case create:
			return openTarget{}, x.NFS4ERR_ROFS
		}
		return openTarget{}, x.NFS4ERR_NOENT
	}
	acc, st := c.access()
	if st != x.NFS4_OK {
		return openTarget{}, st
	}
	fs, dir := c.cur.e.FS, c.cur.h
	if !create {
		h, a, err := fs.Lookup(c.ctx, &acc.Cred, dir, string(name))
		if err != nil {
			return openTarget{}, c.dirError(err)
		}
		if st := regularStatus(a.Type); st != x.NFS4_OK {
			return openTarget{}, st
		}
		ch := c.dirChange(c.cur)
		return openTarget{h: h, attr: a, cinfo: changeInfo(ch, ch)}, x.NFS4_OK
	}
	// New state may not be taken during grace (RFC 8881 §8.4.2); check
	// before creating, so a refused OPEN leaves no file behind.
	if c.s.state.InGrace() {
		return openTarget{}, x.NFS4ERR_GRACE
	}
	how := &args.Openhow.How
	if acc.ReadOnly {
		// Clients send OPEN4_CREATE for every O_CREAT open, so an
		// existing file opened that way must still open on a read-only
		// export.
		h, a, err := fs.Lookup(c.ctx, &acc.Cred, dir, string(name))
		if err != nil || how.Mode != x.UNCHECKED4 {
			return openTarget{}, x.NFS4ERR_ROFS
		}
		if st := regularStatus(a.Type); st != x.NFS4_OK {
			return openTarget{}, st
		}
		set, st := c.createAttrs(&how.Createattrs)
		if st != x.NFS4_OK {
			return openTarget{}, st
		}
		if set.Attr.Size != nil {
			return openTarget{}, x.NFS4ERR_ROFS
		}
		return openTarget{h: h, attr: a}, x.NFS4_OK
	}
	before, err := fs.GetAttr(c.ctx, dir)
	if err != nil {
		return openTarget{}, errStatus(err)
	}
	if before.Type != vfs.TypeDirectory {
		return openTarget{}, c.notDirStatus(c.cur)
	}
	tgt, st := c.createFile(&acc, dir, string(name), how)
	if st != x.NFS4_OK {
		return openTarget{}, st
	}
	tgt.cinfo = changeInfo(before.Change, c.dirChange(c.cur))
	return tgt, x.NFS4_OK
}

// dirError maps an error of a lookup or create in the current directory.
func (c *compound) dirError(err error) x.Nfsstat4 {
	if errors.Is(err, syscall.ENOTDIR) {
		return c.notDirStatus(c.cur)
	}
	return errStatus(err)
}

// createFile runs the createmode of an OPEN4_CREATE (RFC 8881 §18.16.3).
func (c *compound) createFile(acc *namespace.Access, dir vfs.Handle, name string, how *x.Createhow4) (openTarget, x.Nfsstat4) {
	fs := c.cur.e.FS
	var set fattr.Set
	var verf x.Verifier4
	exclusive := false
	switch how.Mode {
	case x.UNCHECKED4, x.GUARDED4:
		var st x.Nfsstat4
		if set, st = c.createAttrs(&how.Createattrs); st != x.NFS4_OK {
			return openTarget{}, st
		}
		exclusive = how.Mode == x.GUARDED4
	case x.EXCLUSIVE4:
		verf, exclusive = how.Createverf, true
	case x.EXCLUSIVE4_1:
		var st x.Nfsstat4
		if set, st = c.createAttrs(&how.ChCreateboth.CvaAttrs); st != x.NFS4_OK {
			return openTarget{}, st
		}
		// Only suppattr_exclcreat may come with the verifier, since the
		// verifier lives in the times (RFC 8881 §18.16.3).
		if !set.Applied.AndNot(fattr.ExclCreat(c.minor)).IsEmpty() {
			return openTarget{}, x.NFS4ERR_INVAL
		}
		verf, exclusive = how.ChCreateboth.CvaVerf, true
	}
	attrs := set.Attr
	var size *uint64
	if !exclusive {
		// UNCHECKED4 may find the file existing, and Create would then
		// truncate it before the share reservation is checked: the size
		// is applied once the open is granted. A file the other modes
		// create is new, so it gets its size at once.
		size, attrs.Size = attrs.Size, nil
	}
	if attrs.Mode == nil {
		m := uint32(defaultCreateMode)
		if how.Mode == x.EXCLUSIVE4 || how.Mode == x.EXCLUSIVE4_1 {
			m = defaultExclusiveMode
		}
		attrs.Mode = &m
	}
	verifying := how.Mode == x.EXCLUSIVE4 || how.Mode == x.EXCLUSIVE4_1
	var atime, mtime time.Time
	if verifying {
		atime, mtime = verifierTimes(verf)
	}
	h, a, created, err := fs.Create(c.ctx, &acc.Cred, dir, name, attrs, exclusive)
	switch {
	case errors.Is(err, syscall.EEXIST):
		eh, ea, lerr := fs.Lookup(c.ctx, &acc.Cred, dir, name)
		if lerr != nil {
			return openTarget{}, errStatus(err)
		}
		if st := regularStatus(ea.Type); st != x.NFS4_OK && how.Mode == x.UNCHECKED4 {
			return openTarget{}, st
		}
		if verifying && ea.Type == vfs.TypeRegular && ea.Atime.Unix() == atime.Unix() && ea.Mtime.Unix() == mtime.Unix() {
			// A retransmission of our own exclusive create: answer as
			// the first time (RFC 8881 §18.16.3).
			return openTarget{h: eh, attr: ea, created: true, attrset: set.Applied.Or(verifierAttrs)}, x.NFS4_OK
		}
		return openTarget{}, x.NFS4ERR_EXIST
	case err != nil:
		return openTarget{}, c.dirError(err)
	}
	if !created {
		// UNCHECKED4 found a regular file: only the size applies to it.
		return openTarget{h: h, attr: a, truncate: existingSize(size)}, x.NFS4_OK
	}
	tgt := openTarget{h: h, attr: a, created: true, truncate: size, attrset: set.Applied}
	if size != nil {
		tgt.attrset.Clear(x.FATTR4_SIZE) // reported once it is applied
	}
	if verifying {
		a, err = fs.SetAttr(c.ctx, &acc.Cred, h, vfs.SetAttr{
			Atime: vfs.TimeClient, AtimeTime: atime, Mtime: vfs.TimeClient, MtimeTime: mtime})
		if err != nil {
			return openTarget{}, errStatus(err)
		}
		tgt.attr = a
		tgt.attrset = tgt.attrset.Or(verifierAttrs)
	}
	return tgt, x.NFS4_OK
}

// openPermission decides whether the caller may open an existing file for
// access (RFC 8881 §18.16.3): reading needs read permission and writing
// modify permission. As knfsd does, execute permission is enough to read
// (a client must read a file to run it) and the file's owner may open it
// whatever its mode (a file created read-only is still written by its
// creator).
func (c *compound) openPermission(acc *namespace.Access, e *namespace.Export, h vfs.Handle, a *vfs.Attr, access lock.ShareMode) x.Nfsstat4 {
	var want uint32
	if access&lock.ShareRead != 0 {
		want |= x.ACCESS4_READ | x.ACCESS4_EXECUTE
	}
	if access&lock.ShareWrite != 0 {
		want |= x.ACCESS4_MODIFY
	}
	got, err := e.FS.Access(c.ctx, &acc.Cred, h, want)
	if err != nil {
		return errStatus(err)
	}
	ok := (access&lock.ShareRead == 0 || got&(x.ACCESS4_READ|x.ACCESS4_EXECUTE) != 0) &&
		(access&lock.ShareWrite == 0 || got&x.ACCESS4_MODIFY != 0)
	if !ok && a.UID != acc.Cred.UID {
		return x.NFS4ERR_ACCESS
	}
	return x.NFS4_OK
}

// existingSize is the part of an UNCHECKED4 size that applies to a file
// that already exists: size 0 truncates it (how clients send O_TRUNC),
// any other size is ignored, as the attributes of a create that found the
// file are (RFC 7530 §16.16.5, RFC 8881 §18.16.4; knfsd does the same).
func existingSize(size *uint64) *uint64 {
	if size != nil && *size == 0 {
		return size
	}
	return nil
}
