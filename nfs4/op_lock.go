package nfs4

import (
	"github.com/gonfs/gonfs/nfs4/state"
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/xdr"
)

// lockExclusive checks a nfs_lock_type4 and says whether it asks for a
// write lock. The blocking types (READW_LT, WRITEW_LT) are hints that the
// client will poll: the server answers NFS4ERR_DENIED like for the others
// and offers no CB_NOTIFY_LOCK (RFC 8881 §9.6, §18.10.3). A value outside
// the enum does not decode (NFS4ERR_BADXDR).
func lockExclusive(t x.NfsLockType4) (exclusive, ok bool) {
	switch t {
	case x.READ_LT, x.READW_LT:
		return false, true
	case x.WRITE_LT, x.WRITEW_LT:
		return true, true
	}
	return false, false
}

// lockDenied turns the state's description of a conflicting lock into
// LOCK4denied (RFC 8881 §18.10.4).
func lockDenied(d *state.Denied) x.LOCK4denied {
	lt := x.READ_LT
	if d.Exclusive {
		lt = x.WRITE_LT
	}
	return x.LOCK4denied{Offset: x.Offset4(d.Offset), Length: x.Length4(d.Length), Locktype: lt,
		Owner: x.LockOwner4{Clientid: x.Clientid4(d.ClientID), Owner: d.Owner}}
}

// lockStart checks what LOCK, LOCKT and LOCKU share: the lock type, and
// a current filehandle that is a regular file of an export the caller may
// use. It says whether the type is a write lock.
func (c *compound) lockStart(t x.NfsLockType4) (exclusive bool, st x.Nfsstat4) {
	exclusive, ok := lockExclusive(t)
	if !ok {
		return false, x.NFS4ERR_BADXDR
	}
	if _, st := c.currentRegular(); st != x.NFS4_OK {
		return false, st
	}
	_, st = c.access()
	return exclusive, st
}

// LOCK, RFC 8881 §18.10. A new lock-owner comes with the open stateid it
// locks through (open_to_lock_owner4), a known one with its lock stateid
// (exist_lock_owner4); the NFSv4.0 seqids and the lock-owner's client ID
// are ignored in NFSv4.1. The lock stateid becomes the current stateid.
func (c *compound) opLock(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var args x.LOCK4args
	if !c.decode(r, w, &args) {
		return x.NFS4ERR_BADXDR
	}
	excl, st := c.lockStart(args.Locktype)
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	la := state.LockArgs{ClientID: c.cid, File: c.fileKey(), Exclusive: excl,
		Offset: uint64(args.Offset), Length: uint64(args.Length), Reclaim: args.Reclaim,
		NewOwner: args.Locker.NewLockOwner}
	if la.NewOwner {
		la.Owner = args.Locker.OpenOwner.LockOwner.Owner
		la.OpenStateid, st = c.stateid(args.Locker.OpenOwner.OpenStateid)
	} else {
		la.LockStateid, st = c.stateid(args.Locker.LockOwner.LockStateid)
	}
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	res, eff, st := c.s.state.Lock(la)
	_ = c.s.apply(eff) // NLM grants; apply logs failures
	switch {
	case st == x.NFS4ERR_DENIED && res.Denied != nil:
		// The DENIED arm of LOCK4res carries the conflicting lock.
		out := x.LOCK4res{Status: st, Denied: lockDenied(res.Denied)}
		out.Encode(w)
		return st
	case st != x.NFS4_OK:
		return c.fail(w, st)
	}
	out := x.LOCK4res{Status: x.NFS4_OK, Resok4: x.LOCK4resok{LockStateid: x.Stateid4(res.Stateid)}}
	out.Encode(w)
	c.setStateid(res.Stateid)
	return x.NFS4_OK
}

// LOCKT, RFC 8881 §18.11. The lock-owner need not be known to the server;
// its client ID is the session's.
func (c *compound) opLockt(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var args x.LOCKT4args
	if !c.decode(r, w, &args) {
		return x.NFS4ERR_BADXDR
	}
	excl, st := c.lockStart(args.Locktype)
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	denied, eff, st := c.s.state.LockTest(c.cid, c.fileKey(), args.Owner.Owner, excl, uint64(args.Offset), uint64(args.Length))
	_ = c.s.apply(eff)
	switch {
	case st == x.NFS4ERR_DENIED && denied != nil:
		out := x.LOCKT4res{Status: st, Denied: lockDenied(denied)}
		out.Encode(w)
		return st
	case st != x.NFS4_OK:
		return c.fail(w, st)
	}
	return c.fail(w, x.NFS4_OK)
}

// LOCKU, RFC 8881 §18.12. The lock type is checked for form only: an
// unlock releases the range whatever was locked there. NLM requests the
// release lets through are granted (Effects.Woken).
func (c *compound) opLocku(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var args x.LOCKU4args
	if !c.decode(r, w, &args) {
		return x.NFS4ERR_BADXDR
	}
	if _, st := c.lockStart(args.Locktype); st != x.NFS4_OK {
		return c.fail(w, st)
	}
	sid, st := c.stateid(args.LockStateid)
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	out, eff, st := c.s.state.Unlock(c.cid, c.fileKey(), sid, uint64(args.Offset), uint64(args.Length))
	_ = c.s.apply(eff)
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	res := x.LOCKU4res{Status: x.NFS4_OK, LockStateid: x.Stateid4(out)}
	res.Encode(w)
	c.setStateid(out)
	return x.NFS4_OK
}
