package nfs4

import (
	"context"
	"errors"
	"fmt"
	"math"
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

// Delegations (RFC 8881 §10.2-§10.4): the state package decides grants
// and conflicts (nfs4/state deleg.go); this file carries its decisions to
// the wire. Recalls leave as state.Effects and are sent here, each by a
// goroutine of its own with SendCallback, never under a lock nor on the
// request path; the request that caused them is answered NFS4ERR_DELAY
// (NFSv3: NFS3ERR_JUKEBOX, NLM: NLM4_DENIED_GRACE_PERIOD) and retried by
// its client. A recall that cannot be delivered is not retried: the
// delegation is revoked a lease after the recall either way.
//
// A GETATTR of size or change by another client of a file under a write
// delegation is the one request that waits for a callback: the holder is
// asked with CB_GETATTR (RFC 8881 §10.4.3, §20.1) and the GETATTR answers
// with its values, or with NFS4ERR_DELAY if no answer came within
// cbGetattrWait; a failed CB_GETATTR recalls the delegation.

// ErrRecallPending is what Conflicts answers NFSv3 and NLM while a
// delegation of the file is being recalled. It wraps EAGAIN, which nfserr
// classifies as Delay (NFS3ERR_JUKEBOX).
var ErrRecallPending = fmt.Errorf("nfs4: a delegation of the file is being recalled: %w", syscall.EAGAIN)

// cbGetattrWait bounds how long a GETATTR waits for the CB_GETATTR it
// caused. Clients answer callbacks from memory, so an answer that takes
// longer is not coming soon: the GETATTR gets NFS4ERR_DELAY and retries.
const cbGetattrWait = 2 * time.Second

// recallRetries and recallPause bound the resending of a CB_RECALL that a
// client answered NFS4ERR_DELAY (RFC 8881 §20.2.3 lets it).
const (
	recallRetries = 5
	recallPause   = 500 * time.Millisecond
)

// sendRecalls sends CB_RECALLs, each from its own goroutine.
func (s *Server) sendRecalls(rs []state.Recall) {
	for _, r := range rs {
		s.spawn(func(ctx context.Context) { s.sendRecall(ctx, r) })
	}
}

func (s *Server) sendRecall(ctx context.Context, r state.Recall) {
	op := x.NfsCbArgop4{Argop: x.OP_CB_RECALL, Opcbrecall: x.CB_RECALL4args{
		Stateid: x.Stateid4(r.Stateid), Truncate: r.Truncate, Fh: x.NfsFh4(r.FH)}}
	for try := 1; ; try++ {
		res, err := s.SendCallback(ctx, r.ClientID, op)
		var st x.Nfsstat4
		switch {
		case err != nil:
			s.log.Info("nfs4: CB_RECALL not delivered", "client", fmt.Sprintf("%016x", uint64(r.ClientID)), "err", err)
			return
		case len(res.Resarray) == 2:
			st = res.Resarray[1].Opcbrecall.Status
		default:
			st = res.Status
		}
		if st != x.NFS4ERR_DELAY || try == recallRetries {
			if st != x.NFS4_OK {
				s.log.Info("nfs4: CB_RECALL refused", "client", fmt.Sprintf("%016x", uint64(r.ClientID)), "status", st)
			}
			return
		}
		select {
		case <-time.After(recallPause):
		case <-ctx.Done():
			return
		}
	}
}

// recallFor asks the state to recall other clients' delegations of f
// that a request of this compound's client conflicts with (write: it
// changes the file or its name; else it only reads). OK means none stand
// in the way; NFS4ERR_DELAY that recalls are under way.
func (c *compound) recallFor(f fileRef, write, truncate bool) x.Nfsstat4 {
	if f.e == nil {
		return x.NFS4_OK // the pseudo-filesystem is never delegated
	}
	eff, st := c.s.state.RecallConflicts(state.ConflictArgs{ClientID: c.cid, File: nlm.FileKey(f.e, f.h), Write: write, Truncate: truncate})
	_ = c.s.apply(eff) // recalls only; apply logs its failures
	return st
}

// recallSetattr is recallDelegations for SETATTR (RFC 8881 §10.4.4): a
// change of size, mode or owner changes what every delegation holder may
// assume of the file; other attributes (times) only what a write
// delegation's holder caches.
func (c *compound) recallSetattr(set *vfs.SetAttr) error {
	write := set.Size != nil || set.Mode != nil || set.UID != nil || set.GID != nil
	truncate := set.Size != nil && *set.Size == 0
	if c.recallFor(c.cur, write, truncate) != x.NFS4_OK {
		return ErrRecallPending
	}
	return nil
}

// openDelegation decides the delegation part of an OPEN reply for the
// file just opened (h in e, with attributes a) with access, and the want
// bits of share_access; reclaim is CLAIM_PREVIOUS's delegate_type.
func (c *compound) openDelegation(e *namespace.Export, h vfs.Handle, a *vfs.Attr, access lock.ShareMode, want uint32,
	reclaim x.OpenDelegationType4) (x.OpenDelegation4, x.Nfsstat4) {
	acc, _ := c.access() // decided by the claim already
	r, st := c.s.state.Delegate(state.DelegArgs{
		ClientID: c.cid,
		File:     nlm.FileKey(e, h),
		Export:   e.ID,
		FH:       c.s.wire(fileRef{e: e, h: h}),
		Access:   access,
		Want:     want,
		Allowed:  acc.Decision.Options().Delegations,
		Reclaim:  state.DelegType(reclaim),
		Change:   a.Change,
	})
	if st != x.NFS4_OK {
		return x.OpenDelegation4{}, st
	}
	return c.delegationReply(r), x.NFS4_OK
}

// delegationReply encodes a state decision as open_delegation4
// (RFC 8881 §18.16). The permissions ACE is empty, as knfsd sends it: the
// client asks ACCESS rather than deciding from it. A write delegation
// sets no space limit (the backend has no reservations to promise).
func (c *compound) delegationReply(r state.DelegResult) x.OpenDelegation4 {
	perm := x.Nfsace4{Type: x.ACE4_ACCESS_ALLOWED_ACE_TYPE}
	switch r.Type {
	case state.DelegRead:
		return x.OpenDelegation4{DelegationType: x.OPEN_DELEGATE_READ, Read: x.OpenReadDelegation4{
			Stateid: x.Stateid4(r.Stateid), Recall: r.Recall, Permissions: perm}}
	case state.DelegWrite:
		return x.OpenDelegation4{DelegationType: x.OPEN_DELEGATE_WRITE, Write: x.OpenWriteDelegation4{
			Stateid: x.Stateid4(r.Stateid), Recall: r.Recall, Permissions: perm,
			SpaceLimit: x.NfsSpaceLimit4{Limitby: x.NFS_LIMIT_SIZE, Filesize: math.MaxUint64}}}
	}
	if !r.Ext || c.minor == 0 { // NFSv4.0 has no OPEN_DELEGATE_NONE_EXT
		return x.OpenDelegation4{DelegationType: x.OPEN_DELEGATE_NONE}
	}
	return x.OpenDelegation4{DelegationType: x.OPEN_DELEGATE_NONE_EXT, OdWhynone: x.OpenNoneDelegation4{OndWhy: r.Why}}
}

// openDelegCur resolves CLAIM_DELEGATE_CUR (the file by name in the
// current directory) and CLAIM_DELEG_CUR_FH (the current file): the
// holder of a delegation opens, typically while returning it, what it had
// opened locally (RFC 8881 §10.4.4, §18.16.3). The delegation stateid
// must be the client's, for that file, and not revoked.
func (c *compound) openDelegCur(args *x.OPEN4args) (openTarget, x.Nfsstat4) {
	var tgt openTarget
	var st x.Nfsstat4
	sid := args.Claim.OcDelegateStateid
	if args.Claim.Claim == x.CLAIM_DELEGATE_CUR {
		byName := *args
		byName.Claim.File = args.Claim.DelegateCurInfo.File
		byName.Openhow.Opentype = x.OPEN4_NOCREATE // the file exists: it is delegated
		sid = args.Claim.DelegateCurInfo.DelegateStateid
		tgt, st = c.openByName(&byName)
	} else {
		tgt, st = c.openCurrent(args)
	}
	if st != x.NFS4_OK {
		return openTarget{}, st
	}
	s, st := c.stateid(sid)
	if st != x.NFS4_OK {
		return openTarget{}, st
	}
	if st := c.s.state.TestDelegation(c.cid, nlm.FileKey(c.cur.e, tgt.h), s); st != x.NFS4_OK {
		return openTarget{}, st
	}
	return tgt, x.NFS4_OK
}

// delegGetattr is the CB_GETATTR step of GETATTR (RFC 8881 §10.4.3): when
// another client holds a write delegation of the current file and the
// request wants its size or change attribute, the holder, which may have
// written without telling the server, is asked for them.
func (c *compound) delegGetattr(req fattr.Bitmap, src *fattr.Source) x.Nfsstat4 {
	if c.cur.e == nil || src.Attr.Type != vfs.TypeRegular || !(req.Has(x.FATTR4_SIZE) || req.Has(x.FATTR4_CHANGE)) {
		return x.NFS4_OK
	}
	q, ok := c.s.state.WriteDelegated(c.cid, c.fileKey())
	if !ok {
		return x.NFS4_OK
	}
	type answer struct {
		change, size       uint64
		hasChange, hasSize bool
		status             x.Nfsstat4
	}
	got := make(chan answer, 1)
	srv := c.s
	if !srv.spawn(func(ctx context.Context) {
		var a answer
		a.change, a.size, a.hasChange, a.hasSize, a.status = srv.cbGetattr(ctx, q)
		if a.status != x.NFS4_OK {
			// The holder cannot be asked: it must give the delegation
			// back (or lose it a lease later). Done here, so that it
			// happens even when the GETATTR stopped waiting.
			_ = srv.apply(srv.state.RecallDelegation(q.Stateid))
		}
		got <- a
	}) {
		return x.NFS4ERR_DELAY
	}
	t := time.NewTimer(cbGetattrWait)
	defer t.Stop()
	var a answer
	select {
	case a = <-got:
	case <-t.C:
		return x.NFS4ERR_DELAY
	case <-c.ctx.Done():
		return x.NFS4ERR_DELAY
	}
	if a.status != x.NFS4_OK {
		return x.NFS4ERR_DELAY // recalled above
	}
	if !a.hasChange {
		return x.NFS4_OK // nothing to compare: the server's values stand
	}
	if !a.hasSize {
		a.size = src.Attr.Size
	}
	src.Attr.Change, src.Attr.Size = c.s.state.GetattrReply(q, src.Attr.Change, src.Attr.Size, a.change, a.size)
	return x.NFS4_OK
}

// cbGetattrAttrs are the attributes CB_GETATTR asks for.
var cbGetattrAttrs = fattr.Of(x.FATTR4_CHANGE, x.FATTR4_SIZE)

// cbGetattr sends CB_GETATTR for q and decodes the answer; a status other
// than NFS4_OK means there is none.
func (s *Server) cbGetattr(ctx context.Context, q state.GetattrQuery) (change, size uint64, hasChange, hasSize bool, st x.Nfsstat4) {
	op := x.NfsCbArgop4{Argop: x.OP_CB_GETATTR, Opcbgetattr: x.CB_GETATTR4args{Fh: x.NfsFh4(q.FH), AttrRequest: cbGetattrAttrs.Bitmap4()}}
	res, err := s.SendCallback(ctx, q.Holder, op)
	if err != nil {
		s.log.Info("nfs4: CB_GETATTR not delivered", "client", fmt.Sprintf("%016x", uint64(q.Holder)), "err", err)
		return 0, 0, false, false, x.NFS4ERR_DELAY
	}
	if res.Status != x.NFS4_OK || len(res.Resarray) != 2 || res.Resarray[1].Resop != x.OP_CB_GETATTR {
		return 0, 0, false, false, x.NFS4ERR_DELAY
	}
	r := &res.Resarray[1].Opcbgetattr
	if r.Status != x.NFS4_OK {
		return 0, 0, false, false, r.Status
	}
	change, size, hasChange, hasSize, err = cbAttrValues(&r.Resok4.ObjAttributes)
	if err != nil {
		return 0, 0, false, false, x.NFS4ERR_BADXDR
	}
	return change, size, hasChange, hasSize, x.NFS4_OK
}

// errCBAttr is a CB_GETATTR answer that does not decode.
var errCBAttr = errors.New("nfs4: CB_GETATTR attributes do not decode")

// cbAttrValues reads change and size from a CB_GETATTR answer (values in
// attribute number order, RFC 8881 §3.3.13). Attributes after size are
// ignored; one before change that was not asked for cannot be skipped
// without knowing its type, and makes the answer unusable.
func cbAttrValues(f *x.Fattr4) (change, size uint64, hasChange, hasSize bool, err error) {
	r := xdr.NewReader(f.AttrVals)
	for a := range fattr.FromWords(f.Attrmask).All() {
		switch {
		case a == x.FATTR4_CHANGE:
			change, hasChange = r.Uint64(), true
		case a == x.FATTR4_SIZE:
			size, hasSize = r.Uint64(), true
		case a < x.FATTR4_CHANGE:
			return 0, 0, false, false, errCBAttr
		default:
			return change, size, hasChange, hasSize, r.Err()
		}
	}
	return change, size, hasChange, hasSize, r.Err()
}

// Conflicts lets the NFSv3 and NLM servers recall NFSv4 delegations
// before they change or lock a file (RFC 8881 §10.4.4: every conflicting
// request recalls, whatever protocol it came by). It implements
// nfs3.ConflictChecker and nlm.Delegations; its answers are nil (go
// ahead) or ErrRecallPending (try again later). Safe for concurrent use.
type Conflicts struct{ s *Server }

// Conflicts returns the checker the NFSv3 server (nfs3.Options.Conflicts)
// and the NLM server (nlm.Server.SetDelegations) ask.
func (s *Server) Conflicts() *Conflicts { return &Conflicts{s: s} }

// CheckModify is asked before an NFSv3 WRITE, SETATTR or LINK changes h.
func (k *Conflicts) CheckModify(ctx context.Context, e *namespace.Export, h vfs.Handle) error {
	return k.check(nlm.FileKey(e, h), true)
}

// CheckName is asked before an NFSv3 CREATE, REMOVE, RENAME or LINK
// changes dir/name: the file the name holds, if any, is what may be
// delegated. It is looked up with the server's own rights, since the
// caller's are checked by the operation itself.
func (k *Conflicts) CheckName(ctx context.Context, e *namespace.Export, dir vfs.Handle, name string) error {
	h, _, err := e.FS.Lookup(ctx, vfs.RootCred(), dir, name)
	if err != nil {
		return nil // nothing there, nothing delegated; the operation reports
	}
	return k.check(nlm.FileKey(e, h), true)
}

// RecallForLock is asked before NLM grants a lock on file: an exclusive
// lock conflicts with every delegation, a shared one with write
// delegations (as knfsd's lockd opens the file for writing or reading).
func (k *Conflicts) RecallForLock(file lock.FileKey, exclusive bool) error {
	return k.check(file, exclusive)
}

func (k *Conflicts) check(file lock.FileKey, write bool) error {
	eff, st := k.s.state.RecallConflicts(state.ConflictArgs{File: file, Write: write})
	_ = k.s.apply(eff)
	if st != x.NFS4_OK {
		return ErrRecallPending
	}
	return nil
}
