package nfs4

import (
	"context"
	"time"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/xdr"
)

// DelegationHandler is what a caching layer above the Client tells it about
// delegated files (Options.Delegations). Its methods are called from
// backchannel goroutines, concurrently with everything else.
type DelegationHandler interface {
	// Recall is called when the server recalls the delegation of fh,
	// from a goroutine of its own after CB_RECALL was answered
	// (RFC 8881 §20.2.3): it writes back the file's dirty data and
	// COMMITs it, and the Client sends DELEGRETURN when it returns
	// (§10.4.1: data modified under a write delegation reaches the
	// server before the delegation goes back). Delegation(fh) already
	// reports none when Recall runs, so writes made meanwhile go to the
	// server at once.
	Recall(ctx context.Context, fh x.NfsFh4)
	// Getattr answers CB_GETATTR for a write-delegated file (§10.4.3,
	// §20.1): the change attribute and size as this client sees them,
	// with its cached writes. ok false answers from the server's values
	// (the client has nothing cached).
	Getattr(fh x.NfsFh4) (change, size uint64, ok bool)
}

// DelegType is the kind of a delegation the client holds.
type DelegType int

const (
	DelegNone DelegType = iota
	DelegRead
	DelegWrite
)

// delegation is one delegation held: its stateid, its kind and the client
// ID epoch it belongs to (a new client ID loses it, RFC 8881 §10.2.1).
type delegation struct {
	sid   x.Stateid4
	typ   DelegType
	epoch uint64
}

// Delegation returns the kind of live delegation the client holds on fh.
func (c *Client) Delegation(fh x.NfsFh4) DelegType {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.delegs[string(fh)]
	if d == nil || d.epoch != c.epoch {
		return DelegNone
	}
	return d.typ
}

// want is the share_access of an OPEN: without a DelegationHandler the
// client asks for no delegation (OPEN4_SHARE_ACCESS_WANT_NO_DELEG); with
// one it expresses no preference and takes what the server's policy gives
// (RFC 8881 §18.16.3).
func (c *Client) want(access uint32) uint32 {
	if c.opts.Delegations == nil {
		return access | x.OPEN4_SHARE_ACCESS_WANT_NO_DELEG
	}
	return access
}

// gotDelegation takes the delegation an OPEN granted: recorded when the
// client wants delegations, else handed straight back.
func (c *Client) gotDelegation(d *x.OpenDelegation4, fh x.NfsFh4, epoch uint64) {
	var sid x.Stateid4
	var recall bool
	typ := DelegNone
	switch d.DelegationType {
	case x.OPEN_DELEGATE_READ:
		sid, recall, typ = d.Read.Stateid, d.Read.Recall, DelegRead
	case x.OPEN_DELEGATE_WRITE:
		sid, recall, typ = d.Write.Stateid, d.Write.Recall, DelegWrite
	default:
		return
	}
	if c.opts.Delegations == nil || recall {
		go c.delegReturn(append(x.NfsFh4(nil), fh...), sid)
		return
	}
	c.mu.Lock()
	old := c.delegs[string(fh)]
	c.delegs[string(fh)] = &delegation{sid: sid, typ: typ, epoch: epoch}
	c.mu.Unlock()
	if old != nil && old.sid.Other != sid.Other && old.epoch == epoch {
		go c.delegReturn(append(x.NfsFh4(nil), fh...), old.sid)
	}
}

// recall handles CB_RECALL of fh's delegation sid: the delegation stops
// counting at once, the handler flushes, then DELEGRETURN (RFC 8881
// §10.4.1, §20.2).
func (c *Client) recall(fh x.NfsFh4, sid x.Stateid4) {
	c.mu.Lock()
	if d := c.delegs[string(fh)]; d != nil && d.sid.Other == sid.Other {
		delete(c.delegs, string(fh))
	}
	h := c.opts.Delegations
	c.mu.Unlock()
	if h != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		h.Recall(ctx, fh)
		cancel()
	}
	c.delegReturn(fh, sid)
}

// ReturnDelegations gives back every delegation held, after the handler
// flushed each file (used before Close).
func (c *Client) ReturnDelegations(ctx context.Context) {
	c.mu.Lock()
	type held struct {
		fh  x.NfsFh4
		sid x.Stateid4
	}
	var all []held
	for fh, d := range c.delegs {
		if d.epoch == c.epoch {
			all = append(all, held{x.NfsFh4(fh), d.sid})
		}
	}
	clear(c.delegs)
	h := c.opts.Delegations
	c.mu.Unlock()
	for _, d := range all {
		if h != nil {
			h.Recall(ctx, d.fh)
		}
		c.delegReturn(d.fh, d.sid)
	}
}

// cbGetattr answers CB_GETATTR (RFC 8881 §20.1) with the change attribute
// and size asked for, from the handler's view of the file. A file the
// client holds no delegation of is NFS4ERR_BADHANDLE (§20.1.3).
func (c *Client) cbGetattr(a *x.CB_GETATTR4args) x.CB_GETATTR4res {
	if c.Delegation(a.Fh) != DelegWrite || c.opts.Delegations == nil {
		return x.CB_GETATTR4res{Status: x.NFS4ERR_BADHANDLE}
	}
	change, size, ok := c.opts.Delegations.Getattr(a.Fh)
	if !ok {
		return x.CB_GETATTR4res{Status: x.NFS4ERR_BADHANDLE}
	}
	var w xdr.Writer
	var attrs []uint32
	// Values go in attribute-number order: change (3) before size (4).
	if isSet(a.AttrRequest, x.FATTR4_CHANGE) {
		attrs = append(attrs, x.FATTR4_CHANGE)
		w.Uint64(change)
	}
	if isSet(a.AttrRequest, x.FATTR4_SIZE) {
		attrs = append(attrs, x.FATTR4_SIZE)
		w.Uint64(size)
	}
	return x.CB_GETATTR4res{Status: x.NFS4_OK, Resok4: x.CB_GETATTR4resok{ObjAttributes: x.Fattr4{Attrmask: bitmap(attrs...), AttrVals: w.Buf}}}
}

// Delegation returns the kind of live delegation the client holds on the
// open file.
func (o *Open) Delegation() DelegType { return o.c.Delegation(o.FH) }
