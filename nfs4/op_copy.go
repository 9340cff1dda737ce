package nfs4

import (
	"context"
	"encoding/binary"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/nfs4/state"
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// Server-side copy (RFC 7862 §4, §15.2, §15.8, §15.9, §16.1), intra-server
// only: COPY with a source server list and COPY_NOTIFY are
// NFS4ERR_NOTSUPP, as knfsd answers with inter-server copy disabled.
//
// A COPY of at most syncCopyLimit bytes, or one the client asks to be
// synchronous, is done before the reply. A larger one runs in the
// background when fewer than maxAsyncCopies do already (else it too is
// done before the reply, which §15.2.3 allows whatever the client asked):
// the reply carries a copy stateid, OFFLOAD_STATUS reports progress,
// OFFLOAD_CANCEL stops it, and CB_OFFLOAD tells the client the outcome over
// the back channel. The copy runs in steps of copyStep bytes, through the
// backend's vfs.RangeCopier when both files are in one backend that has
// one, else through Read and Write.
//
// Data is copied as unstable writes: results say UNSTABLE4 with the write
// verifier, and the client sends COMMIT (§15.2.3).

const (
	// syncCopyLimit: local disks copy 64 MiB in well under a second,
	// inside any client's RPC timeout.
	syncCopyLimit = 64 << 20
	// maxAsyncCopies bounds the background copies of one server.
	maxAsyncCopies = 4
	// copyStep is the granularity of progress and of cancellation.
	copyStep = 16 << 20
	// keepDoneCopies is how many finished background copies stay
	// answerable by OFFLOAD_STATUS (the client may poll instead of
	// waiting for CB_OFFLOAD, §15.9).
	keepDoneCopies = 64
)

// copyMarker starts the "other" field of copy stateids. State stateids
// start with the boot epoch, which never reaches this value.
var copyMarker = [4]byte{'c', 'p', 'y', 0}

// copyJob is one background copy.
type copyJob struct {
	other  [12]byte
	client state.ClientID
	cancel context.CancelFunc
	copied atomic.Uint64
	done   chan struct{} // closed when the copy has stopped
	// Set before done is closed.
	status x.Nfsstat4
}

// copyTable holds a server's background copies. Its zero value works.
type copyTable struct {
	mu       sync.Mutex
	jobs     map[[12]byte]*copyJob
	finished [][12]byte // oldest first
	running  int
	next     uint64
	// notify sends CB_OFFLOAD; nil means the server's callback sender.
	// Tests replace it.
	notify func(ctx context.Context, s *Server, id state.ClientID, args x.CB_OFFLOAD4args) error
}

// copies returns s's copy table.
func (s *Server) copies() *copyTable { return &s.copyTab }

// add registers a background copy for client, which cancel stops, if
// fewer than maxAsyncCopies run, and returns it.
func (t *copyTable) add(client state.ClientID, cancel context.CancelFunc) *copyJob {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.running >= maxAsyncCopies {
		return nil
	}
	if t.jobs == nil {
		t.jobs = make(map[[12]byte]*copyJob)
	}
	t.next++
	j := &copyJob{client: client, cancel: cancel, done: make(chan struct{})}
	copy(j.other[:4], copyMarker[:])
	binary.BigEndian.PutUint64(j.other[4:], t.next)
	t.jobs[j.other] = j
	t.running++
	return j
}

// finish records the end of j, forgetting the oldest finished copies
// beyond keepDoneCopies.
func (t *copyTable) finish(j *copyJob, status x.Nfsstat4) {
	t.mu.Lock()
	defer t.mu.Unlock()
	j.status = status
	close(j.done)
	t.running--
	if _, ok := t.jobs[j.other]; !ok {
		return // cancelled: already forgotten
	}
	t.finished = append(t.finished, j.other)
	if len(t.finished) > keepDoneCopies {
		delete(t.jobs, t.finished[0])
		t.finished = t.finished[1:]
	}
}

// lookup finds client's copy by its stateid.
func (t *copyTable) lookup(client state.ClientID, sid x.Stateid4) *copyJob {
	t.mu.Lock()
	defer t.mu.Unlock()
	j := t.jobs[sid.Other]
	if j == nil || j.client != client {
		return nil
	}
	return j
}

// forget drops j (OFFLOAD_CANCEL).
func (t *copyTable) forget(j *copyJob) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.jobs, j.other)
	if i := slices.Index(t.finished, j.other); i >= 0 {
		t.finished = slices.Delete(t.finished, i, i+1)
	}
}

// copyParams is one copy between two files.
type copyParams struct {
	srcFS, dstFS     vfs.FS
	src, dst         vfs.Handle
	srcCred, dstCred vfs.Cred
	srcOff, dstOff   uint64
	count            uint64
}

// run copies p.count bytes in steps, storing progress, and returns the
// bytes copied. It stops early at the end of the source (which shrank
// since COPY looked) or when ctx ends.
func (p *copyParams) run(ctx context.Context, progress *atomic.Uint64) (uint64, error) {
	rc, fast := p.dstFS.(vfs.RangeCopier)
	fast = fast && p.srcFS == p.dstFS
	var done uint64
	for done < p.count {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		step := min(p.count-done, copyStep)
		var n uint64
		var err error
		if fast {
			n, err = rc.CopyRange(ctx, &p.srcCred, p.src, p.srcOff+done, p.dst, p.dstOff+done, step)
		} else {
			n, err = p.readWrite(ctx, done, step)
		}
		done += n
		if progress != nil {
			progress.Store(done)
		}
		if err != nil {
			return done, err
		}
		if n < step {
			break
		}
	}
	return done, nil
}

// readWrite copies step bytes from done on with Read and Write, for
// copies between backends or through a backend without vfs.RangeCopier.
func (p *copyParams) readWrite(ctx context.Context, done, step uint64) (uint64, error) {
	buf := make([]byte, min(step, maxIO))
	var n uint64
	for n < step {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k := min(uint64(len(buf)), step-n)
		got, _, err := p.srcFS.Read(ctx, &p.srcCred, p.src, p.srcOff+done+n, buf[:k])
		if err != nil {
			return n, err
		}
		if got == 0 {
			return n, nil
		}
		m, _, err := p.dstFS.Write(ctx, &p.dstCred, p.dst, p.dstOff+done+n, buf[:got], vfs.Unstable)
		n += uint64(m)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// savedFile is ioFile for the saved filehandle, the source of COPY and
// CLONE (RFC 7862 §15.2.3, §15.13.3): a regular file and a stateid of
// this client that allows want on it. It returns its attributes and the
// caller's rights in its export.
func (c *compound) savedFile(wire x.Stateid4, want lock.ShareMode) (vfs.Attr, namespace.Access, x.Nfsstat4) {
	if !c.saved.valid() {
		return vfs.Attr{}, namespace.Access{}, x.NFS4ERR_NOFILEHANDLE
	}
	if c.saved.pseudo() {
		return vfs.Attr{}, namespace.Access{}, x.NFS4ERR_ISDIR
	}
	a, err := c.saved.e.FS.GetAttr(c.ctx, c.saved.h)
	if err != nil {
		return a, namespace.Access{}, errStatus(err)
	}
	if st := regularStatus(a.Type); st != x.NFS4_OK {
		return a, namespace.Access{}, st
	}
	acc, st := c.accessTo(c.saved.e)
	if st != x.NFS4_OK {
		return a, acc, st
	}
	return a, acc, c.checkStateid(c.saved, wire, want)
}

// sameFile reports whether the saved and current filehandles name one
// file.
func (c *compound) sameFile() bool {
	return c.saved.e == c.cur.e && string(c.saved.h) == string(c.cur.h)
}

// COPY, RFC 7862 §15.2: from the saved filehandle (source) to the current
// one (destination).
func (c *compound) opCopy(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var args x.COPY4args
	if !c.decode(r, w, &args) {
		return x.NFS4ERR_BADXDR
	}
	if len(args.CaSourceServer) > 0 {
		return c.fail(w, x.NFS4ERR_NOTSUPP) // inter-server copy, §15.2.3
	}
	if st := c.needFH(); st != x.NFS4_OK {
		return c.fail(w, st)
	}
	srcAttr, srcAcc, st := c.savedFile(args.CaSrcStateid, lock.ShareRead)
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	if _, st := c.ioFile(args.CaDstStateid, lock.ShareWrite); st != x.NFS4_OK {
		return c.fail(w, st)
	}
	dstAcc, _ := c.access()
	// §15.2.3: a source range past the end of the source is
	// NFS4ERR_INVAL; ca_count 0 means to its end.
	srcOff, count := uint64(args.CaSrcOffset), uint64(args.CaCount)
	if srcOff > srcAttr.Size || count > srcAttr.Size-srcOff {
		return c.fail(w, x.NFS4ERR_INVAL)
	}
	if count == 0 {
		count = srcAttr.Size - srcOff
	}
	dstOff := uint64(args.CaDstOffset)
	if dstOff > ^uint64(0)-count {
		return c.fail(w, x.NFS4ERR_INVAL)
	}
	if c.sameFile() && srcOff < dstOff+count && dstOff < srcOff+count {
		return c.fail(w, x.NFS4ERR_INVAL)
	}
	p := &copyParams{
		srcFS: c.saved.e.FS, dstFS: c.cur.e.FS, src: c.saved.h, dst: c.cur.h,
		srcCred: srcAcc.Cred, dstCred: dstAcc.Cred, srcOff: srcOff, dstOff: dstOff, count: count,
	}
	verf := c.writeVerifier()
	res := x.COPY4res{CrStatus: x.NFS4_OK, CrResok4: x.COPY4resok{
		CrResponse:     x.WriteResponse4{WrCommitted: x.UNSTABLE4, WrWriteverf: verf},
		CrRequirements: x.CopyRequirements4{CrConsecutive: true, CrSynchronous: true},
	}}
	if !args.CaSynchronous && count > syncCopyLimit {
		if sid, ok := c.startCopy(p, verf); ok {
			res.CrResok4.CrResponse.WrCallbackId = []x.Stateid4{sid}
			res.CrResok4.CrRequirements.CrSynchronous = false
			res.Encode(w)
			return x.NFS4_OK
		}
	}
	n, err := p.run(c.ctx, nil)
	if err != nil && n == 0 {
		return c.fail(w, errStatus(err))
	}
	// A copy cut short by an error after some bytes reports them
	// (§15.2.3: wr_count is what was copied).
	res.CrResok4.CrResponse.WrCount = x.Length4(n)
	res.Encode(w)
	return x.NFS4_OK
}

// startCopy runs p in the background and returns its copy stateid; false
// when the server runs as many copies as it may, or is closing.
func (c *compound) startCopy(p *copyParams, verf x.Verifier4) (x.Stateid4, bool) {
	s := c.s
	t := s.copies()
	ctx, cancel := context.WithCancel(context.Background())
	j := t.add(c.cid, cancel)
	if j == nil {
		cancel()
		return x.Stateid4{}, false
	}
	sid := x.Stateid4{Seqid: 1, Other: j.other}
	fh := s.wire(c.cur)
	started := s.spawn(func(sctx context.Context) {
		defer cancel()
		stop := context.AfterFunc(sctx, cancel)
		defer stop()
		n, err := p.run(ctx, &j.copied)
		st := errStatus(err)
		t.finish(j, st)
		if ctx.Err() != nil {
			return // cancelled (OFFLOAD_CANCEL or Close): no CB_OFFLOAD, §15.8.3
		}
		info := x.OffloadInfo4{CoaStatus: st, CoaBytesCopied: x.Length4(n)}
		if st == x.NFS4_OK {
			info.CoaResok4 = x.WriteResponse4{WrCount: x.Length4(n), WrCommitted: x.UNSTABLE4, WrWriteverf: verf}
		}
		args := x.CB_OFFLOAD4args{CoaFh: fh, CoaStateid: sid, CoaOffloadInfo: info}
		notify := t.notify
		if notify == nil {
			notify = sendOffload
		}
		if err := notify(sctx, s, j.client, args); err != nil {
			s.log.Info("nfs4: CB_OFFLOAD not delivered", "err", err)
		}
	})
	if !started {
		cancel()
		t.finish(j, x.NFS4ERR_DELAY)
		t.forget(j)
		return x.Stateid4{}, false
	}
	return sid, true
}

// sendOffload sends CB_OFFLOAD (RFC 7862 §16.1) through the callback
// sender.
func sendOffload(ctx context.Context, s *Server, id state.ClientID, args x.CB_OFFLOAD4args) error {
	res, err := s.SendCallback(ctx, id, x.NfsCbArgop4{Argop: x.OP_CB_OFFLOAD, Opcboffload: args})
	if err != nil {
		return err
	}
	if res.Status != x.NFS4_OK {
		return cbStatusError(res.Status)
	}
	return nil
}

// cbStatusError is a callback the client answered with an error.
type cbStatusError x.Nfsstat4

func (e cbStatusError) Error() string { return "nfs4: callback answered " + x.Nfsstat4(e).String() }

// OFFLOAD_STATUS, RFC 7862 §15.9: how far a background copy got, and its
// status once it is over.
func (c *compound) opOffloadStatus(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var args x.OFFLOAD_STATUS4args
	if !c.decode(r, w, &args) {
		return x.NFS4ERR_BADXDR
	}
	if st := c.needFH(); st != x.NFS4_OK {
		return c.fail(w, st)
	}
	j := c.s.copies().lookup(c.cid, args.OsaStateid)
	if j == nil {
		return c.fail(w, x.NFS4ERR_BAD_STATEID)
	}
	res := x.OFFLOAD_STATUS4res{OsrStatus: x.NFS4_OK, OsrResok4: x.OFFLOAD_STATUS4resok{OsrCount: x.Length4(j.copied.Load())}}
	select {
	case <-j.done:
		res.OsrResok4.OsrComplete = []x.Nfsstat4{j.status}
	default:
	}
	res.Encode(w)
	return x.NFS4_OK
}

// OFFLOAD_CANCEL, RFC 7862 §15.8: stop a background copy (what it copied
// stays) and forget its stateid. Cancelling one that is over only
// forgets it.
func (c *compound) opOffloadCancel(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var args x.OFFLOAD_CANCEL4args
	if !c.decode(r, w, &args) {
		return x.NFS4ERR_BADXDR
	}
	if st := c.needFH(); st != x.NFS4_OK {
		return c.fail(w, st)
	}
	t := c.s.copies()
	j := t.lookup(c.cid, args.OcaStateid)
	if j == nil {
		return c.fail(w, x.NFS4ERR_BAD_STATEID)
	}
	t.forget(j)
	j.cancel()
	res := x.OFFLOAD_CANCEL4res{OcrStatus: x.NFS4_OK}
	res.Encode(w)
	return x.NFS4_OK
}
