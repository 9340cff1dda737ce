package nfs4

import (
	"context"
	"errors"
	"time"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/sunrpc"
)

// outcome is what one transmission of a COMPOUND came to, and how many
// bytes of READ data went to the sink (-1: none, see sunrpc.Sink).
type outcome struct {
	res  *x.COMPOUND4res
	sunk int
	err  error
}

// send runs ops behind a SEQUENCE on slot of s, owning the slot until the
// reply: it releases it, with the sequence id advanced when the server
// processed the SEQUENCE, or drops it when the session is gone. A
// connection that fails is replaced and the same request, same slot and
// sequence id, is sent again (RFC 8881 §2.10.6.2: the reply cache answers
// it if the server executed it already).
//
// A COMPOUND that ends with a WRITE sends the WRITE's data as the call's
// Tail, without copying it into the message (its data is the last item of
// the arguments, RFC 8881 §18.32.1); one with a sink has the data of its
// READ placed in it (see readSink).
func (c *Client) send(s *session, slot uint32, sink *sunrpc.Sink, ops []x.NfsArgop4) outcome {
	args := x.COMPOUND4args{Minorversion: c.opts.Minor, Argarray: make([]x.NfsArgop4, 0, len(ops)+1)}
	args.Argarray = append(args.Argarray, x.NfsArgop4{Argop: x.OP_SEQUENCE, Opsequence: &x.SEQUENCE4args{
		SaSessionid: s.id, SaSequenceid: s.seq[slot], SaSlotid: x.Slotid4(slot), SaHighestSlotid: s.highest,
		SaCachethis: mutates(ops),
	}})
	args.Argarray = append(args.Argarray, ops...)
	o := sunrpc.CallOptions{Sink: sink}
	if last := &args.Argarray[len(args.Argarray)-1]; last.Argop == x.OP_WRITE && last.Opwrite != nil && len(last.Opwrite.Data) > 0 {
		// A copy with the data left out: the caller's ops stay as
		// they are.
		w := *last.Opwrite
		o.Tail, w.Data = w.Data, nil
		*last = x.NfsArgop4{Argop: x.OP_WRITE, Opwrite: &w}
	}
	wait := 50 * time.Millisecond
	for {
		rpc, gen, err := c.conn()
		if err != nil {
			return outcome{err: err}
		}
		res := new(x.COMPOUND4res)
		// Not the caller's context: the slot's fate must be learnt even
		// if the caller gives up (see Compound).
		sunk, err := rpc.CallWith(context.Background(), x.NFS4_PROGRAM, x.NFS_V4, x.NFSPROC4_COMPOUND, &args, res, &o)
		if err != nil {
			// A call that failed on a connection already replaced
			// (closed under it by reconnect) is a transport failure
			// too.
			if isTransport(err) || c.replaced(gen) {
				if rerr := c.reconnect(gen); rerr == nil {
					continue
				}
			}
			s.release(slot)
			return outcome{err: err}
		}
		c.lastReply.Store(time.Now().UnixNano())
		if len(res.Resarray) == 0 || res.Resarray[0].Resop != x.OP_SEQUENCE {
			s.release(slot)
			return outcome{res: res, sunk: sunk}
		}
		switch res.Resarray[0].Opsequence.SrStatus {
		case x.NFS4_OK:
			s.seq[slot]++
			s.release(slot)
		case x.NFS4ERR_DELAY:
			// RFC 8881 §15.1.1.3: a SEQUENCE refused with DELAY is
			// sent again in full with the same slot and sequence ID.
			// It must be: after a lost reply this is the server
			// saying the original still runs (§2.10.6.2), so the
			// sequence ID is taken; sent on another slot the
			// request would run twice, and the next request on this
			// slot would get the original's cached reply (a false
			// retry, §2.10.6.1.3.1).
			time.Sleep(wait)
			wait = min(2*wait, 2*time.Second)
			continue
		case x.NFS4ERR_RETRY_UNCACHED_REP:
			// The server ran this sequence ID but kept no reply
			// (§2.10.6.1.3): the ID is used up either way.
			s.seq[slot]++
			s.release(slot)
		case x.NFS4ERR_BADSESSION, x.NFS4ERR_DEADSESSION:
			// The slot table died with the session.
		default:
			s.release(slot)
		}
		return outcome{res: res, sunk: sunk}
	}
}

// mutates reports whether ops change state on the server, so that their
// reply must be cached for a replay after a lost connection to be
// answered instead of executed again (sa_cachethis, RFC 8881 §2.10.6.1.3).
// Replies of reads are not cached: they are large, and running a read
// again is harmless.
func mutates(ops []x.NfsArgop4) bool {
	for _, op := range ops {
		switch op.Argop {
		case x.OP_WRITE, x.OP_CREATE, x.OP_REMOVE, x.OP_RENAME, x.OP_LINK, x.OP_OPEN, x.OP_CLOSE,
			x.OP_OPEN_DOWNGRADE, x.OP_LOCK, x.OP_LOCKU, x.OP_SETATTR, x.OP_COMMIT, x.OP_COPY,
			x.OP_SETXATTR, x.OP_REMOVEXATTR, x.OP_DELEGRETURN, x.OP_RECLAIM_COMPLETE,
			x.OP_ALLOCATE, x.OP_DEALLOCATE, x.OP_CLONE, x.OP_FREE_STATEID:
			return true
		}
	}
	return false
}

// replaced reports whether connection generation gen has been replaced.
func (c *Client) replaced(gen uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.closed && c.connGen != gen
}

// once sends ops once on the current session and returns the raw reply.
func (c *Client) once(ctx context.Context, sink *sunrpc.Sink, ops []x.NfsArgop4) (outcome, *session, uint64) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return outcome{err: ErrClosed}, nil, 0
	}
	s, epoch := c.sess, c.epoch
	c.mu.Unlock()
	slot, err := s.acquire(ctx)
	if err != nil {
		return outcome{err: err}, s, epoch
	}
	done := make(chan outcome, 1)
	go func() { done <- c.send(s, slot, sink, ops) }()
	select {
	case o := <-done:
		return o, s, epoch
	case <-ctx.Done():
		// The request goes on (see Compound), but the caller's
		// buffer must be left alone from now on.
		if sink != nil {
			sink.Detach()
		}
		return outcome{err: ctx.Err()}, s, epoch
	}
}

// seqStatus returns the status of the SEQUENCE in res, if it is there.
func seqStatus(res *x.COMPOUND4res) (x.Nfsstat4, bool) {
	if len(res.Resarray) == 0 || res.Resarray[0].Resop != x.OP_SEQUENCE {
		return 0, false
	}
	return res.Resarray[0].Opsequence.SrStatus, true
}

// result turns a reply into the results of the caller's ops and the error
// of the op that failed.
func result(res *x.COMPOUND4res) ([]x.NfsResop4, error) {
	if res.Status == x.NFS4_OK {
		return res.Resarray[1:], nil
	}
	st, ok := seqStatus(res)
	if !ok {
		return nil, &Error{Op: x.OP_SEQUENCE, Status: res.Status}
	}
	if st != x.NFS4_OK {
		return nil, &Error{Op: x.OP_SEQUENCE, Status: st}
	}
	last := res.Resarray[len(res.Resarray)-1]
	return res.Resarray[1:], &Error{Op: last.Resop, Status: res.Status}
}

// compoundOnce sends ops once, without recovery (recovery itself uses it).
func (c *Client) compoundOnce(ctx context.Context, ops ...x.NfsArgop4) ([]x.NfsResop4, error) {
	o, _, _ := c.once(ctx, nil, ops)
	if o.err != nil {
		return nil, o.err
	}
	return result(o.res)
}

// Compound sends ops behind a SEQUENCE and returns their results (without
// SEQUENCE's). If an op fails, the results up to it are returned with an
// *Error naming it.
//
// Recovery happens here: a dead session (NFS4ERR_BADSESSION,
// DEADSESSION) is replaced by a new one, and a lost client ID
// (STALE_CLIENTID, or CREATE_SESSION refused after a server restart) by a
// new client ID whose opens are reclaimed (RFC 8881 §8.4.2.1); then ops
// are sent again. DELAY and GRACE are retried with a growing pause.
// Stateids the caller put in ops may be stale after recovery; the Open
// methods refresh theirs.
//
// If ctx ends first, Compound returns ctx.Err() while the request already
// sent completes in the background, so that its slot's sequence stays
// right.
func (c *Client) Compound(ctx context.Context, ops ...x.NfsArgop4) ([]x.NfsResop4, error) {
	res, _, err := c.compound(ctx, nil, ops)
	return res, err
}

// compound is Compound with a sink for the data of a READ among ops; it
// also returns how many bytes went there (-1: none, the data is in the
// READ's results).
func (c *Client) compound(ctx context.Context, sink *sunrpc.Sink, ops []x.NfsArgop4) ([]x.NfsResop4, int, error) {
	wait := 50 * time.Millisecond
	for {
		o, s, epoch := c.once(ctx, sink, ops)
		if o.err != nil {
			return nil, -1, o.err
		}
		res := o.res
		st := res.Status
		if sst, ok := seqStatus(res); ok && sst != x.NFS4_OK {
			st = sst
		}
		switch st {
		case x.NFS4ERR_BADSESSION, x.NFS4ERR_DEADSESSION:
			if err := c.recoverSession(ctx, s); err != nil {
				return nil, -1, err
			}
			continue
		case x.NFS4ERR_STALE_CLIENTID, x.NFS4ERR_EXPIRED:
			if err := c.recoverClient(ctx, epoch); err != nil {
				return nil, -1, err
			}
			continue
		case x.NFS4ERR_DELAY, x.NFS4ERR_GRACE:
			select {
			case <-ctx.Done():
				return nil, -1, ctx.Err()
			case <-time.After(wait):
			}
			wait = min(2*wait, 2*time.Second)
			continue
		}
		rs, err := result(res)
		return rs, o.sunk, err
	}
}

// recoverSession replaces session s after the server said it is gone
// (RFC 8881 §2.10.13.1); if the client ID is gone too, the whole client.
func (c *Client) recoverSession(ctx context.Context, s *session) error {
	c.recoverMu.Lock()
	defer c.recoverMu.Unlock()
	c.mu.Lock()
	cur := c.sess
	c.mu.Unlock()
	if cur != s {
		return nil // recovered already
	}
	c.log.Info("nfs4: session lost; creating a new one")
	err := c.createSession(ctx)
	var e *Error
	if errors.As(err, &e) && (e.Status == x.NFS4ERR_STALE_CLIENTID || e.Status == x.NFS4ERR_EXPIRED) {
		c.log.Info("nfs4: client ID lost; establishing a new one")
		return c.newClient(ctx, true)
	}
	return err
}

// recoverClient replaces the client ID of the given epoch (RFC 8881
// §8.4.2: the server restarted or expired the lease) and reclaims opens.
func (c *Client) recoverClient(ctx context.Context, epoch uint64) error {
	c.recoverMu.Lock()
	defer c.recoverMu.Unlock()
	c.mu.Lock()
	cur := c.epoch
	c.mu.Unlock()
	if cur != epoch {
		return nil
	}
	c.log.Info("nfs4: client ID lost; establishing a new one")
	return c.newClient(ctx, true)
}

// isConnErr reports a call that failed because the client is closed.
func isConnErr(err error) bool {
	return errors.Is(err, ErrClosed) || errors.Is(err, sunrpc.ErrClientClosed)
}
