package nfs4

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// Access modes of an Open (OPEN4_SHARE_ACCESS_*).
const (
	AccessRead  = x.OPEN4_SHARE_ACCESS_READ
	AccessWrite = x.OPEN4_SHARE_ACCESS_WRITE
	AccessBoth  = x.OPEN4_SHARE_ACCESS_BOTH
)

// CreateMode says whether and how OpenFile creates the file.
type CreateMode int

const (
	NoCreate  CreateMode = iota
	Unchecked            // create if missing (UNCHECKED4)
	Exclusive            // fail if it exists (EXCLUSIVE4_1, RFC 8881 §18.16.3)
)

// Open is an open file: its handle and the open stateid of its own open
// owner, so that closing one Open never affects another of the same file.
// Its methods are safe for concurrent use.
type Open struct {
	c      *Client
	FH     x.NfsFh4
	access uint32
	owner  []byte

	mu        sync.Mutex
	sid       x.Stateid4
	epoch     uint64 // client ID epoch sid belongs to
	lockSid   *x.Stateid4
	lockOwner []byte
	closed    bool
}

// newOwner returns a fresh open or lock owner name (RFC 8881 §2.5.2),
// unique within this client ID.
func (c *Client) newOwner(kind string) []byte {
	return fmt.Appendf(nil, "%s-%d", kind, c.owners.Add(1))
}

func (c *Client) stateOwner(owner []byte) x.StateOwner4 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return x.StateOwner4{Clientid: c.clientID, Owner: owner}
}

// OpenFile opens (and with create, creates with permission bits mode)
// path p for access. With trunc the file is truncated to zero.
func (c *Client) OpenFile(ctx context.Context, p string, access uint32, create CreateMode, mode uint32, trunc bool) (*Open, Attr, error) {
	dir, name := split(p)
	o := &Open{c: c, access: access, owner: c.newOwner("open")}
	how := x.Openflag4{Opentype: x.OPEN4_NOCREATE}
	switch create {
	case Unchecked:
		s := &SetAttr{Mode: &mode}
		if trunc {
			zero := uint64(0)
			s.Size = &zero
		}
		how = x.Openflag4{Opentype: x.OPEN4_CREATE, How: x.Createhow4{Mode: x.UNCHECKED4, Createattrs: s.Encode()}}
	case Exclusive:
		var verf x.Verifier4
		rand.Read(verf[:])
		how = x.Openflag4{Opentype: x.OPEN4_CREATE, How: x.Createhow4{Mode: x.EXCLUSIVE4_1,
			ChCreateboth: x.Creatverfattr{CvaVerf: verf, CvaAttrs: (&SetAttr{Mode: &mode}).Encode()}}}
	}
	c.mu.Lock()
	epoch := c.epoch
	c.mu.Unlock()
	open := x.NfsArgop4{Argop: x.OP_OPEN, Opopen: &x.OPEN4args{
		ShareAccess: c.want(access), ShareDeny: x.OPEN4_SHARE_DENY_NONE,
		Owner: c.stateOwner(o.owner), Openhow: how,
		Claim: x.OpenClaim4{Claim: x.CLAIM_NULL, File: x.Component4(name)},
	}}
	ops := append(walk(dir), open, GetFH(), Getattr(StatAttrs))
	res, err := c.Compound(ctx, ops...)
	if err != nil && create == Exclusive && !IsStatus(err, x.NFS4ERR_EXIST) && isStatusAny(err, x.NFS4ERR_NOTSUPP, x.NFS4ERR_INVAL, x.NFS4ERR_ATTRNOTSUPP) {
		// A server without EXCLUSIVE4_1: GUARDED4 is exclusive too,
		// only not safe against a retransmitted OPEN.
		open.Opopen.Openhow.How = x.Createhow4{Mode: x.GUARDED4, Createattrs: (&SetAttr{Mode: &mode}).Encode()}
		res, err = c.Compound(ctx, ops...)
	}
	if err != nil {
		return nil, Attr{}, err
	}
	n := len(res)
	ok := &res[n-3].Opopen.Resok4
	o.sid, o.epoch = ok.Stateid, epoch
	o.FH = res[n-2].Opgetfh.Resok4.Object
	c.gotDelegation(&ok.Delegation, o.FH, epoch)
	a, err := DecodeAttr(&res[n-1].Opgetattr.Resok4.ObjAttributes)
	if err != nil {
		o.Close(ctx)
		return nil, Attr{}, err
	}
	if create == Exclusive && ok.Attrset != nil && !isSet(ok.Attrset, x.FATTR4_MODE) {
		// The server kept the verifier where the mode would go
		// (RFC 8881 §18.16.4): set the mode now.
		o.Setattr(ctx, &SetAttr{Mode: &mode})
	}
	if trunc && create != Unchecked && a.Size != 0 {
		if err := o.Truncate(ctx, 0); err != nil {
			o.Close(ctx)
			return nil, Attr{}, err
		}
		a.Size = 0
	}
	c.mu.Lock()
	c.opens[o] = struct{}{}
	c.mu.Unlock()
	return o, a, nil
}

func isStatusAny(err error, sts ...x.Nfsstat4) bool {
	for _, st := range sts {
		if IsStatus(err, st) {
			return true
		}
	}
	return false
}

// stateid returns the open stateid, re-opening the file first if it
// belongs to a client ID that was replaced and could not be reclaimed.
func (o *Open) stateid(ctx context.Context) (x.Stateid4, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return x.Stateid4{}, ErrClosed
	}
	o.c.mu.Lock()
	epoch := o.c.epoch
	o.c.mu.Unlock()
	if o.epoch == epoch {
		return o.sid, nil
	}
	// CLAIM_FH (RFC 8881 §18.16.3): open the file by its handle.
	res, err := o.c.Compound(ctx, PutFH(o.FH), x.NfsArgop4{Argop: x.OP_OPEN, Opopen: &x.OPEN4args{
		ShareAccess: o.c.want(o.access), Owner: o.c.stateOwner(o.owner), Openhow: x.Openflag4{Opentype: x.OPEN4_NOCREATE},
		Claim: x.OpenClaim4{Claim: x.CLAIM_FH},
	}})
	if err != nil {
		return x.Stateid4{}, err
	}
	o.sid, o.epoch, o.lockSid = res[1].Opopen.Resok4.Stateid, epoch, nil
	o.c.gotDelegation(&res[1].Opopen.Resok4.Delegation, o.FH, epoch)
	return o.sid, nil
}

// reclaimOpens reclaims every open after a new client ID (CLAIM_PREVIOUS,
// RFC 8881 §8.4.2.1; only during the server's grace period). One that
// cannot be reclaimed keeps its old epoch and is opened again by handle
// on next use. Locks are not reclaimed.
func (c *Client) reclaimOpens(ctx context.Context) {
	c.mu.Lock()
	opens := make([]*Open, 0, len(c.opens))
	for o := range c.opens {
		opens = append(opens, o)
	}
	epoch := c.epoch
	c.mu.Unlock()
	for _, o := range opens {
		o.mu.Lock()
		res, err := c.compoundOnce(ctx, PutFH(o.FH), x.NfsArgop4{Argop: x.OP_OPEN, Opopen: &x.OPEN4args{
			ShareAccess: c.want(o.access), Owner: c.stateOwner(o.owner), Openhow: x.Openflag4{Opentype: x.OPEN4_NOCREATE},
			Claim: x.OpenClaim4{Claim: x.CLAIM_PREVIOUS, DelegateType: x.OPEN_DELEGATE_NONE},
		}})
		if err == nil {
			o.sid, o.epoch, o.lockSid = res[1].Opopen.Resok4.Stateid, epoch, nil
			c.gotDelegation(&res[1].Opopen.Resok4.Delegation, o.FH, epoch)
		} else {
			c.log.Info("nfs4: reclaim failed; will reopen", "err", err)
		}
		o.mu.Unlock()
	}
}

// stale reports errors that mean the stateid died with its client ID.
func stale(err error) bool {
	return isStatusAny(err, x.NFS4ERR_BAD_STATEID, x.NFS4ERR_STALE_STATEID, x.NFS4ERR_EXPIRED, x.NFS4ERR_OLD_STATEID)
}

// do runs the COMPOUND that build makes from the open stateid, once more
// with a fresh stateid if the first was lost to a recovery meanwhile.
func (o *Open) do(ctx context.Context, build func(x.Stateid4) []x.NfsArgop4) ([]x.NfsResop4, error) {
	res, _, err := o.doSink(ctx, nil, build)
	return res, err
}

// doSink is do with a sink for the data of a READ (see Client.compound).
func (o *Open) doSink(ctx context.Context, sink *sunrpc.Sink, build func(x.Stateid4) []x.NfsArgop4) ([]x.NfsResop4, int, error) {
	for attempt := 0; ; attempt++ {
		o.c.mu.Lock()
		epoch := o.c.epoch
		o.c.mu.Unlock()
		sid, err := o.stateid(ctx)
		if err != nil {
			return nil, -1, err
		}
		res, sunk, err := o.c.compound(ctx, sink, build(sid))
		if err != nil && stale(err) && attempt < 2 {
			o.c.mu.Lock()
			changed := o.c.epoch != epoch
			o.c.mu.Unlock()
			if changed {
				continue
			}
		}
		return res, sunk, err
	}
}

// ReadAt reads up to len(p) bytes (at most MaxRead) at off. The data
// goes from the connection straight into p (see sunrpc.Sink); a reply
// with more data than p holds is an error.
func (o *Open) ReadAt(ctx context.Context, p []byte, off uint64) (n int, eof bool, err error) {
	sink := &sunrpc.Sink{Buf: p, Locate: locateRead4}
	res, sunk, err := o.doSink(ctx, sink, func(sid x.Stateid4) []x.NfsArgop4 {
		return []x.NfsArgop4{PutFH(o.FH), Read(sid, off, uint32(len(p)))}
	})
	if err != nil {
		return 0, false, err
	}
	if len(res) < 2 || res[1].Resop != x.OP_READ || res[1].Opread == nil {
		return 0, false, fmt.Errorf("nfs4: READ: %w: results of other operations", sunrpc.ErrBadReply)
	}
	r := &res[1].Opread.Resok4
	if sunk >= 0 {
		return sunk, r.Eof, nil
	}
	if len(r.Data) > len(p) {
		return 0, false, fmt.Errorf("nfs4: READ: %w: %d bytes of data for a %d-byte READ", sunrpc.ErrBadReply, len(r.Data), len(p))
	}
	return copy(p, r.Data), r.Eof, nil
}

// locateRead4 finds the data of the READ in the results of a COMPOUND
// that ReadAt sent (SEQUENCE, PUTFH, READ; RFC 8881 §16.2.3, §18.22.2):
// all must have succeeded. It declines anything else.
func locateRead4(results []byte) (off, n int, ok bool) {
	var r xdr.Reader
	r.Reset(results)
	if x.Nfsstat4(r.Uint32()) != x.NFS4_OK {
		return 0, 0, false
	}
	r.Opaque(xdr.Unbounded) // tag
	for range r.Uint32() {
		op := x.NfsOpnum4(r.Uint32())
		if x.Nfsstat4(r.Uint32()) != x.NFS4_OK || r.Err() != nil {
			return 0, 0, false
		}
		switch op {
		case x.OP_SEQUENCE:
			var sr x.SEQUENCE4resok
			sr.Decode(&r)
		case x.OP_PUTFH:
		case x.OP_READ:
			r.Bool() // eof
			n = int(r.Uint32())
			return r.Offset(), n, r.Err() == nil
		default:
			return 0, 0, false
		}
	}
	return 0, 0, false
}

// WriteAt writes p (at most MaxWrite bytes) at off with the given
// stability and returns the count, the stability given and the verifier.
func (o *Open) WriteAt(ctx context.Context, p []byte, off uint64, stable x.StableHow4) (int, x.StableHow4, x.Verifier4, error) {
	res, err := o.do(ctx, func(sid x.Stateid4) []x.NfsArgop4 {
		return []x.NfsArgop4{PutFH(o.FH), Write(sid, off, p, stable)}
	})
	if err != nil {
		return 0, 0, x.Verifier4{}, err
	}
	r := &res[1].Opwrite.Resok4
	return int(r.Count), r.Committed, r.Writeverf, nil
}

// Commit commits the file's unstable writes and returns the verifier.
func (o *Open) Commit(ctx context.Context) (x.Verifier4, error) {
	res, err := o.c.Compound(ctx, PutFH(o.FH), Commit(0, 0))
	if err != nil {
		return x.Verifier4{}, err
	}
	return res[1].Opcommit.Resok4.Writeverf, nil
}

// Getattr returns the file's attributes.
func (o *Open) Getattr(ctx context.Context) (Attr, error) { return o.c.GetattrFH(ctx, o.FH) }

// Setattr sets attributes with the open stateid.
func (o *Open) Setattr(ctx context.Context, s *SetAttr) error {
	_, err := o.do(ctx, func(sid x.Stateid4) []x.NfsArgop4 { return []x.NfsArgop4{PutFH(o.FH), Setattr(sid, s)} })
	return err
}

// Truncate sets the file's size.
func (o *Open) Truncate(ctx context.Context, size uint64) error {
	return o.Setattr(ctx, &SetAttr{Size: &size})
}

// Seek returns the offset of the next data (or hole) at or after off
// (RFC 7862 §15.11), and whether the file ends before it.
func (o *Open) Seek(ctx context.Context, off uint64, hole bool) (uint64, bool, error) {
	what := x.NFS4_CONTENT_DATA
	if hole {
		what = x.NFS4_CONTENT_HOLE
	}
	res, err := o.do(ctx, func(sid x.Stateid4) []x.NfsArgop4 { return []x.NfsArgop4{PutFH(o.FH), Seek(sid, off, what)} })
	if err != nil {
		return 0, false, err
	}
	r := res[1].Opseek.Resok4
	return uint64(r.SrOffset), r.SrEof, nil
}

// CopyTo copies count bytes (0: to the end) at srcOff of o to dstOff of
// dst on the server (COPY, RFC 7862 §15.2) and returns the bytes copied.
func (o *Open) CopyTo(ctx context.Context, dst *Open, srcOff, dstOff, count uint64) (uint64, error) {
	dsid, err := dst.stateid(ctx)
	if err != nil {
		return 0, err
	}
	res, err := o.do(ctx, func(sid x.Stateid4) []x.NfsArgop4 {
		return []x.NfsArgop4{PutFH(o.FH), SaveFH(), PutFH(dst.FH), Copy(sid, dsid, srcOff, dstOff, count)}
	})
	if err != nil {
		return 0, err
	}
	return uint64(res[3].Opcopy.CrResok4.CrResponse.WrCount), nil
}

// Lock takes a byte-range lock without waiting (LOCK, RFC 8881 §18.10);
// length 0 means to the end of the file. A conflict is an *Error with
// NFS4ERR_DENIED (matching syscall.EAGAIN).
func (o *Open) Lock(ctx context.Context, write bool, off, length uint64) error {
	lt := x.READ_LT
	if write {
		lt = x.WRITE_LT
	}
	if length == 0 {
		length = ^uint64(0) // NFS4_UINT64_MAX: to the end (§18.10.3)
	}
	o.mu.Lock()
	if o.lockOwner == nil {
		o.lockOwner = o.c.newOwner("lock")
	}
	o.mu.Unlock()
	res, err := o.do(ctx, func(sid x.Stateid4) []x.NfsArgop4 {
		o.mu.Lock()
		var locker x.Locker4
		if o.lockSid != nil {
			locker = x.Locker4{LockOwner: x.ExistLockOwner4{LockStateid: *o.lockSid}}
		} else {
			locker = x.Locker4{NewLockOwner: true, OpenOwner: x.OpenToLockOwner4{OpenStateid: sid, LockOwner: o.c.stateOwner(o.lockOwner)}}
		}
		o.mu.Unlock()
		return []x.NfsArgop4{PutFH(o.FH), {Argop: x.OP_LOCK, Oplock: &x.LOCK4args{Locktype: lt, Offset: x.Offset4(off), Length: x.Length4(length), Locker: locker}}}
	})
	if err != nil {
		return err
	}
	sid := res[1].Oplock.Resok4.LockStateid
	o.mu.Lock()
	o.lockSid = &sid
	o.mu.Unlock()
	return nil
}

// Unlock releases a byte-range lock (LOCKU, RFC 8881 §18.12).
func (o *Open) Unlock(ctx context.Context, off, length uint64) error {
	if length == 0 {
		length = ^uint64(0)
	}
	o.mu.Lock()
	ls := o.lockSid
	o.mu.Unlock()
	if ls == nil {
		return nil
	}
	res, err := o.c.Compound(ctx, PutFH(o.FH), x.NfsArgop4{Argop: x.OP_LOCKU, Oplocku: &x.LOCKU4args{Locktype: x.WRITE_LT, LockStateid: *ls, Offset: x.Offset4(off), Length: x.Length4(length)}})
	if err != nil {
		return err
	}
	sid := res[1].Oplocku.LockStateid
	o.mu.Lock()
	o.lockSid = &sid
	o.mu.Unlock()
	return nil
}

// Close closes the open (CLOSE, RFC 8881 §18.2); it releases the open's
// locks too.
func (o *Open) Close(ctx context.Context) error {
	o.c.mu.Lock()
	delete(o.c.opens, o)
	epoch := o.c.epoch
	o.c.mu.Unlock()
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return nil
	}
	o.closed = true
	sid, stale, locked := o.sid, o.epoch != epoch, o.lockSid != nil
	o.mu.Unlock()
	if stale {
		return nil // died with its client ID
	}
	if locked {
		// CLOSE with locks still held is NFS4ERR_LOCKS_HELD (RFC 8881
		// §18.2.4): release them first.
		o.Unlock(ctx, 0, 0)
	}
	_, err := o.c.Compound(ctx, PutFH(o.FH), x.NfsArgop4{Argop: x.OP_CLOSE, Opclose: &x.CLOSE4args{OpenStateid: sid}})
	if isStatusAny(err, x.NFS4ERR_BAD_STATEID, x.NFS4ERR_STALE_STATEID, x.NFS4ERR_EXPIRED) {
		err = nil
	}
	return err
}
