package nfs4

import (
	"slices"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/nlm"
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// readHeader is the size of a READ4res up to its data: status, eof and
// the data's length.
const readHeader = 4 + 4 + 4

// ioFile checks the current filehandle and stateid of a READ or WRITE
// (RFC 8881 §18.22.3, §18.32.3, §8.2.2): a regular file, and a stateid
// that lets this client do want on it. It returns the file's attributes.
func (c *compound) ioFile(wire x.Stateid4, want lock.ShareMode) (vfs.Attr, x.Nfsstat4) {
	a, st := c.currentRegular()
	if st != x.NFS4_OK {
		return a, st
	}
	acc, st := c.access()
	if st != x.NFS4_OK {
		return a, st
	}
	if want&lock.ShareWrite != 0 && acc.ReadOnly {
		return a, x.NFS4ERR_ROFS
	}
	return a, c.checkStateid(c.cur, wire, want)
}

// checkStateid checks that the stateid the client sent (the current one
// substituted) allows want on f (RFC 8881 §8.2.2, §9.1.4). The effects
// only revoke courtesy clients' opens, which is done before the answer;
// apply logs its failures, and an I/O check does not fail for them.
func (c *compound) checkStateid(f fileRef, wire x.Stateid4, want lock.ShareMode) x.Nfsstat4 {
	sid, st := c.stateid(wire)
	if st != x.NFS4_OK {
		return st
	}
	eff, st := c.s.state.CheckAccess(c.cid, nlm.FileKey(f.e, f.h), sid, want)
	_ = c.s.apply(eff)
	return st
}

// READ, RFC 8881 §18.22. The file's bytes are read straight into the
// reply buffer's spare capacity, just past where the header goes, so the
// data is copied once (as the NFSv3 READ does). Permission to read is the
// backend's to decide for the caller, as for any other read.
func (c *compound) opRead(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var args x.READ4args
	if !c.decode(r, w, &args) {
		return x.NFS4ERR_BADXDR
	}
	a, st := c.ioFile(args.Stateid, lock.ShareRead)
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	// Reserve no more than the file holds, so that a small file read
	// with rsize-sized requests does not make every reply 1 MiB. A file
	// that grows meanwhile gives a short read without eof, and the
	// client reads on.
	want := min(uint64(args.Count), maxIO)
	if off := uint64(args.Offset); off >= a.Size {
		want = 0
	} else {
		want = min(want, a.Size-off)
	}
	// The reply must also fit the session's ca_maxresponsesize
	// (RFC 8881 §2.10.6.4). A read that would overflow it is shortened,
	// which a client handles like any short read, rather than failed
	// with NFS4ERR_REP_TOO_BIG; w.Len() counts whatever precedes the
	// COMPOUND too, so the bound errs on the safe side. When not even a
	// word fits, the loop's REP_TOO_BIG stands.
	if limit := uint64(c.limits.MaxResponseSize); limit != 0 {
		used := uint64(w.Len()) + rpcReplyHeader + readHeader
		if room := (limit - min(limit, used)) &^ 3; room > 0 {
			want = min(want, room)
		}
	}
	count := int(want)
	acc, _ := c.access()
	if sr, ok := c.cur.e.FS.(vfs.SpanReader); ok && !c.cacheThis && c.call.CanAttach(count) {
		return c.readSpan(sr, &acc.Cred, uint64(args.Offset), count, w)
	}
	w.Buf = slices.Grow(w.Buf, readHeader+count+3)
	start := len(w.Buf) + readHeader
	data := w.Buf[start : start+count]
	n, eof, err := c.cur.e.FS.Read(c.ctx, &acc.Cred, c.cur.h, uint64(args.Offset), data)
	if err != nil {
		return c.fail(w, errStatus(err))
	}
	// The header goes in front of the data, which stays where it is
	// because the capacity was reserved above.
	w.Uint32(uint32(x.NFS4_OK))
	w.Bool(eof)
	w.Uint32(uint32(n))
	if len(w.Buf) != start {
		panic("nfs4: READ header size mismatch")
	}
	w.Buf = w.Buf[:start+n]
	var pad [3]byte
	w.Buf = append(w.Buf, pad[:(4-n&3)&3]...)
	return x.NFS4_OK
}

// readSpan answers READ with the data attached to the reply
// (sunrpc.Call.AttachFile), sent from the file when the reply is written.
// Only a reply the session does not cache can be answered so: the slot
// keeps reply bytes, and the span is not among them.
func (c *compound) readSpan(sr vfs.SpanReader, cred *vfs.Cred, off uint64, count int, w *xdr.Writer) x.Nfsstat4 {
	sp, err := sr.ReadSpan(c.ctx, cred, c.cur.h, off, count)
	if err != nil {
		return c.fail(w, errStatus(err))
	}
	resStart := len(w.Buf)
	w.Uint32(uint32(x.NFS4_OK))
	w.Bool(sp.EOF)
	w.Uint32(uint32(sp.Len)) // the data goes right after, at the attachment point
	if sp.Len > 0 && !c.call.AttachFile(w, sunrpc.FileSpan{FD: sp.FD, Off: sp.Off, Len: sp.Len, Release: sp.Release}) {
		// Not after CanAttach said yes on this goroutine.
		sp.Release()
		w.Buf = w.Buf[:resStart]
		return c.fail(w, x.NFS4ERR_SERVERFAULT)
	}
	var pad [3]byte
	w.Buf = append(w.Buf, pad[:(4-sp.Len&3)&3]...)
	return x.NFS4_OK
}

// writeVerifier is the write verifier of this server instance (RFC 8881
// §18.32.3): it changes whenever unstable data may have been lost, so
// that clients send it again before trusting COMMIT.
func (c *compound) writeVerifier() x.Verifier4 { return c.s.verf }

// WRITE, RFC 8881 §18.32. An UNSTABLE4 write may reach stable storage
// anyway; the reply says how far it got.
func (c *compound) opWrite(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var args x.WRITE4args
	if !c.decode(r, w, &args) {
		return x.NFS4ERR_BADXDR
	}
	if args.Stable < x.UNSTABLE4 || args.Stable > x.FILE_SYNC4 {
		return c.fail(w, x.NFS4ERR_BADXDR)
	}
	if _, st := c.ioFile(args.Stateid, lock.ShareWrite); st != x.NFS4_OK {
		return c.fail(w, st)
	}
	acc, _ := c.access()
	asked := vfs.Stability(args.Stable)
	n, got, err := c.cur.e.FS.Write(c.ctx, &acc.Cred, c.cur.h, uint64(args.Offset), args.Data, asked)
	if err != nil {
		return c.fail(w, errStatus(err))
	}
	res := x.WRITE4res{Status: x.NFS4_OK, Resok4: x.WRITE4resok{
		Count:     x.Count4(n),
		Committed: x.StableHow4(max(got, asked)),
		Writeverf: c.writeVerifier(),
	}}
	res.Encode(w)
	return x.NFS4_OK
}

// COMMIT, RFC 8881 §18.3. The whole file is flushed whatever the range:
// fsync has no narrower form that also covers metadata. A range that
// runs past 2^64 is NFS4ERR_INVAL (§18.3.3). COMMIT takes no stateid and
// flushing changes nothing a client could see, so no permission is
// checked beyond the export's.
func (c *compound) opCommit(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var args x.COMMIT4args
	if !c.decode(r, w, &args) {
		return x.NFS4ERR_BADXDR
	}
	if _, st := c.currentRegular(); st != x.NFS4_OK {
		return c.fail(w, st)
	}
	if _, st := c.access(); st != x.NFS4_OK {
		return c.fail(w, st)
	}
	if args.Count != 0 && uint64(args.Offset) > ^uint64(0)-uint64(args.Count) {
		return c.fail(w, x.NFS4ERR_INVAL)
	}
	if err := c.cur.e.FS.Commit(c.ctx, c.cur.h); err != nil {
		return c.fail(w, errStatus(err))
	}
	res := x.COMMIT4res{Status: x.NFS4_OK, Resok4: x.COMMIT4resok{Writeverf: c.writeVerifier()}}
	res.Encode(w)
	return x.NFS4_OK
}
