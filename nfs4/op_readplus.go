package nfs4

import (
	"slices"

	"github.com/gonfs/gonfs/lock"
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// maxReadPlusSegments bounds the data and hole segments of one READ_PLUS
// reply. Each costs 20 to 24 bytes beyond its data, which the client did
// not budget for when it chose rpa_count; past the bound the rest of the
// range goes out as one data segment (holes read as zeros).
const maxReadPlusSegments = 64

// READ_PLUS, RFC 7862 §15.10: READ that sends holes as (offset, length)
// instead of zeros. Holes are found with the backend's vfs.Seeker; a
// backend without one gets a single data segment, which §15.10.3 allows
// (a server need not report holes). The range is clipped to the file, so
// no hole runs past its end; data is read straight into the reply buffer
// as READ does (op_io.go).
func (c *compound) opReadPlus(r *xdr.Reader, w *xdr.Writer) x.Nfsstat4 {
	var args x.READ_PLUS4args
	if !c.decode(r, w, &args) {
		return x.NFS4ERR_BADXDR
	}
	a, st := c.ioFile(args.RpaStateid, lock.ShareRead)
	if st != x.NFS4_OK {
		return c.fail(w, st)
	}
	acc, _ := c.access()
	fs := c.cur.e.FS
	off := uint64(args.RpaOffset)
	end := off
	if off < a.Size {
		end = off + min(uint64(args.RpaCount), maxIO, a.Size-off)
	}

	resStart := w.Len()
	w.Uint32(uint32(x.NFS4_OK))
	eofAt := w.Reserve(4)
	countAt := w.Reserve(4)
	segments := 0
	eof := off >= a.Size
	sk, _ := fs.(vfs.Seeker)
	for pos := off; pos < end; {
		dataEnd := end
		if sk != nil && segments < maxReadPlusSegments-1 {
			next, err := sk.Seek(c.ctx, &acc.Cred, c.cur.h, pos, vfs.SeekData)
			switch {
			case isNXIO(err):
				next = end // only holes remain
			case err != nil:
				w.Buf = w.Buf[:resStart]
				return c.fail(w, errStatus(err))
			}
			if next > pos {
				holeEnd := min(next, end)
				w.Uint32(uint32(x.NFS4_CONTENT_HOLE))
				w.Uint64(pos)
				w.Uint64(holeEnd - pos)
				segments++
				pos = holeEnd
				eof = pos >= a.Size
				continue
			}
			hole, err := sk.Seek(c.ctx, &acc.Cred, c.cur.h, pos, vfs.SeekHole)
			if err == nil {
				dataEnd = min(max(hole, pos+1), end)
			}
		}
		want := dataEnd - pos
		n, rEOF, err := readSegment(c, w, fs, &acc.Cred, pos, want)
		if err != nil {
			w.Buf = w.Buf[:resStart]
			return c.fail(w, errStatus(err))
		}
		segments++
		pos += n
		eof = rEOF || pos >= a.Size
		if n < want {
			break // the file shrank: what we have is the answer
		}
	}
	w.PutUint32At(eofAt, boolWord(eof))
	w.PutUint32At(countAt, uint32(segments))
	return x.NFS4_OK
}

// readSegment appends one NFS4_CONTENT_DATA segment of up to n bytes at
// off, reading into the reply buffer's spare capacity, and returns the
// bytes it holds.
func readSegment(c *compound, w *xdr.Writer, fs vfs.FS, cred *vfs.Cred, off, n uint64) (uint64, bool, error) {
	w.Uint32(uint32(x.NFS4_CONTENT_DATA))
	w.Uint64(off)
	lenAt := w.Reserve(4)
	w.Buf = slices.Grow(w.Buf, int(n)+3)
	start := len(w.Buf)
	got, eof, err := fs.Read(c.ctx, cred, c.cur.h, off, w.Buf[start:start+int(n)])
	if err != nil {
		return 0, false, err
	}
	w.Buf = w.Buf[:start+got]
	var pad [3]byte
	w.Buf = append(w.Buf, pad[:(4-got&3)&3]...)
	w.PutUint32At(lenAt, uint32(got))
	return uint64(got), eof, nil
}

func boolWord(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
