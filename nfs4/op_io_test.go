package nfs4

import (
	"bytes"
	"math"
	"testing"
	"time"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/xdr"
)

func readArg(sid x.Stateid4, off uint64, count uint32) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_READ, Opread: &x.READ4args{Stateid: sid, Offset: x.Offset4(off), Count: x.Count4(count)}}
}

func writeArg(sid x.Stateid4, off uint64, stable x.StableHow4, data string) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_WRITE, Opwrite: &x.WRITE4args{Stateid: sid, Offset: x.Offset4(off), Stable: stable, Data: []byte(data)}}
}

func commitArg(off uint64, count uint32) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_COMMIT, Opcommit: &x.COMMIT4args{Offset: x.Offset4(off), Count: x.Count4(count)}}
}

// RFC 8881 §18.22.3, §18.22.4: READ within, across and past the end of
// the file, and eof. The reply, built around data read in place, is
// byte-exact what the generated READ4res encodes (padding included).
func TestRead(t *testing.T) {
	f := newFixture(t, "")
	f.seed("f", "0123456789", 0o644, 0)
	s := f.newSession(root)
	o := s.open(openName("o", "f", accRead, denyNone))
	tests := []struct {
		off   uint64
		count uint32
		data  string
		eof   bool
	}{
		{0, 4, "0123", false},
		{0, 10, "0123456789", true},
		{5, 100, "56789", true},
		{7, 3, "789", true},
		{9, 0, "", false},
		{10, 5, "", true},
		{20, 5, "", true},
		{1 << 62, 1 << 30, "", true}, // count beyond the cap
	}
	for _, tt := range tests {
		res, raw := s.callRaw(opPutfh(o.fh), readArg(o.sid, tt.off, tt.count))
		f.wantStatus(res, x.NFS4_OK, 3)
		rd := res.Resarray[2].Opread.Resok4
		if string(rd.Data) != tt.data || rd.Eof != tt.eof {
			t.Errorf("READ %d+%d: %q eof %v, want %q eof %v", tt.off, tt.count, rd.Data, rd.Eof, tt.data, tt.eof)
		}
		if again := xdr.Marshal(nil, res); !bytes.Equal(again, raw) {
			t.Errorf("READ %d+%d: reply\n%x\nis not the generated encoding\n%x", tt.off, tt.count, raw, again)
		}
	}
}

// RFC 8881 §8.2.3, §9.1.4, §18.22.3, §18.32.3: which stateids READ and
// WRITE accept.
func TestIOStateids(t *testing.T) {
	f := newFixture(t, "")
	f.seed("f", "data", 0o666, 0)
	f.seed("g", "data", 0o666, 0)
	a, b := f.newSession(root), f.newSession(root)
	ro := a.open(openName("reader", "f", accRead, denyNone))
	rw := a.open(openName("writer", "f", accBoth, denyNone))
	og := a.open(openName("writer", "g", accBoth, denyNone))
	closed := a.open(openName("closer", "f", accRead, denyNone))
	a.call(opPutfh(closed.fh), closeArg(closed.sid))
	stale := rw.sid
	stale.Other[3]++ // another boot epoch
	future := rw.sid
	future.Seqid++

	tests := []struct {
		name string
		s    *session
		op   x.NfsArgop4
		want x.Nfsstat4
	}{
		{"read through open", a, readArg(ro.sid, 0, 4), x.NFS4_OK},
		{"read through write open", a, readArg(rw.sid, 0, 4), x.NFS4_OK},
		{"write through read open", a, writeArg(ro.sid, 0, x.UNSTABLE4, "x"), x.NFS4ERR_OPENMODE},
		{"write through write open", a, writeArg(rw.sid, 0, x.UNSTABLE4, "x"), x.NFS4_OK},
		{"anonymous read", b, readArg(anonSid, 0, 4), x.NFS4_OK},
		{"anonymous write", b, writeArg(anonSid, 0, x.UNSTABLE4, "x"), x.NFS4_OK},
		{"bypass read", b, readArg(bypassSid, 0, 4), x.NFS4_OK},
		{"closed stateid", a, readArg(closed.sid, 0, 4), x.NFS4ERR_BAD_STATEID},
		{"another client's stateid", b, readArg(rw.sid, 0, 4), x.NFS4ERR_BAD_STATEID},
		{"another file's stateid", a, readArg(og.sid, 0, 4), x.NFS4ERR_BAD_STATEID},
		{"stale stateid", a, readArg(stale, 0, 4), x.NFS4ERR_STALE_STATEID},
		{"future seqid", a, readArg(future, 0, 4), x.NFS4ERR_BAD_STATEID},
		{"current stateid unset", a, readArg(currentSid, 0, 4), x.NFS4ERR_BAD_STATEID},
		{"bad stable_how", a, writeArg(rw.sid, 0, 3, "x"), x.NFS4ERR_BADXDR},
	}
	for _, tt := range tests {
		res := tt.s.call(opPutfh(ro.fh), tt.op)
		if st := lastStatus(res); st != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, st, tt.want)
		}
	}

	// A deny reservation of another client stops I/O without an open
	// (NFS4ERR_LOCKED); the bypass stateid still reads (§8.2.3).
	f.seed("h", "data", 0o666, 0)
	denied := a.open(openName("denier", "h", accRead, x.OPEN4_SHARE_DENY_BOTH))
	for _, tt := range []struct {
		name string
		op   x.NfsArgop4
		want x.Nfsstat4
	}{
		{"anonymous read against deny-read", readArg(anonSid, 0, 4), x.NFS4ERR_LOCKED},
		{"anonymous write against deny-write", writeArg(anonSid, 0, x.FILE_SYNC4, "x"), x.NFS4ERR_LOCKED},
		{"bypass read against deny-read", readArg(bypassSid, 0, 4), x.NFS4_OK},
		{"bypass write against deny-write", writeArg(bypassSid, 0, x.FILE_SYNC4, "x"), x.NFS4ERR_LOCKED},
	} {
		res := b.call(opPutfh(denied.fh), tt.op)
		if st := lastStatus(res); st != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, st, tt.want)
		}
	}
}

// RFC 8881 §18.22.3, §18.32.3, §18.3.3: READ, WRITE and COMMIT need a
// regular file.
func TestIOFileTypes(t *testing.T) {
	f := newFixture(t, "")
	s := f.newSession(root)
	for _, op := range []x.NfsArgop4{readArg(anonSid, 0, 1), writeArg(anonSid, 0, x.FILE_SYNC4, "x"), commitArg(0, 0)} {
		res := s.call(opPutrootfh(), op)
		if st := lastStatus(res); st != x.NFS4ERR_ISDIR {
			t.Errorf("%v of the root: %v, want ISDIR", op.Argop, st)
		}
		res = s.call(op)
		if st := lastStatus(res); st != x.NFS4ERR_NOFILEHANDLE {
			t.Errorf("%v without a filehandle: %v, want NOFILEHANDLE", op.Argop, st)
		}
	}
}

// RFC 8881 §18.32.3, §18.3.3: WRITE reports at least the stability asked
// for and the server's write verifier, which COMMIT repeats; a COMMIT
// range past 2^64 is NFS4ERR_INVAL.
func TestWriteCommit(t *testing.T) {
	f := newFixture(t, "")
	s := f.newSession(root)
	o := s.open(createName("o", "f", accBoth, denyNone, 0o644))
	var verf x.Verifier4
	for i, stable := range []x.StableHow4{x.UNSTABLE4, x.DATA_SYNC4, x.FILE_SYNC4} {
		res := s.call(opPutfh(o.fh), writeArg(o.sid, uint64(i*3), stable, "abc"))
		f.wantStatus(res, x.NFS4_OK, 3)
		wr := res.Resarray[2].Opwrite.Resok4
		if wr.Count != 3 || wr.Committed < stable {
			t.Errorf("WRITE %v: %+v", stable, wr)
		}
		if i > 0 && wr.Writeverf != verf {
			t.Errorf("verifier changed within one server instance: %x then %x", verf, wr.Writeverf)
		}
		verf = wr.Writeverf
	}
	if got := f.content("f"); got != "abcabcabc" {
		t.Errorf("content %q", got)
	}
	res := s.call(opPutfh(o.fh), commitArg(0, 0))
	f.wantStatus(res, x.NFS4_OK, 3)
	if got := res.Resarray[2].Opcommit.Resok4.Writeverf; got != verf {
		t.Errorf("COMMIT verifier %x, WRITE's %x", got, verf)
	}
	res = s.call(opPutfh(o.fh), commitArg(1<<63, 1<<31), commitArg(^uint64(0)-1, 2))
	if st := statuses(res); len(st) != 5 || st[0] != x.NFS4ERR_INVAL || st[3] != x.NFS4_OK || st[4] != x.NFS4ERR_INVAL {
		t.Errorf("COMMIT ranges: %v, want the second to be INVAL", st)
	}
}

// The verifier differs between server instances and is constant within
// one, so a client resends unstable writes after a restart (RFC 8881
// §18.32.3).
func TestWriteVerifierPerInstance(t *testing.T) {
	f := newFixture(t, "")
	c1, c2 := &compound{s: f.srv}, &compound{s: f.srv}
	if c1.writeVerifier() != c2.writeVerifier() {
		t.Errorf("one server gives two verifiers")
	}
	f.clock.Advance(time.Second)
	other := New(f.ns, Options{State: f.state, Now: f.clock.Now})
	if c1.writeVerifier() == (&compound{s: other}).writeVerifier() {
		t.Errorf("two server instances share a verifier")
	}
}

// RFC 8881 §2.10.6.4, §18.22.3: a READ larger than the session's
// ca_maxresponsesize allows is shortened to fit, without eof.
func TestReadFitsSession(t *testing.T) {
	f := newFixture(t, "")
	f.seed("f", string(bytes.Repeat([]byte("z"), 8192)), 0o644, 0)
	cid, seq := f.exchangeID(root, "small-replies", x.Verifier4{1})
	cs := opCreateSession(cid, seq, 0)
	cs.OpcreateSession.CsaForeChanAttrs.CaMaxresponsesize = 2048
	res := f.call(root, 1, cs)
	f.wantStatus(res, x.NFS4_OK, 1)
	ok := res.Resarray[0].OpcreateSession.CsrResok4
	limit := int(ok.CsrForeChanAttrs.CaMaxresponsesize)
	if limit >= 8192 {
		t.Fatalf("server raised ca_maxresponsesize to %d", limit)
	}
	s := &session{f: f, cred: root, minor: 1, cid: cid, id: ok.CsrSessionid, create: ok}
	s.reclaimComplete()
	o := s.open(openName("o", "f", accRead, denyNone))
	res, raw := s.callRaw(opPutfh(o.fh), readArg(o.sid, 0, 8192))
	f.wantStatus(res, x.NFS4_OK, 3)
	rd := res.Resarray[2].Opread.Resok4
	if len(rd.Data) == 0 || rd.Eof || len(raw)+rpcReplyHeader > limit {
		t.Errorf("READ gave %d bytes, eof %v, reply %d bytes; limit %d", len(rd.Data), rd.Eof, len(raw), limit)
	}
}

// fuzzOps are the operations FuzzFileStateOps feeds arbitrary arguments.
var fuzzOps = []x.NfsOpnum4{x.OP_OPEN, x.OP_CLOSE, x.OP_OPEN_DOWNGRADE, x.OP_READ, x.OP_WRITE,
	x.OP_COMMIT, x.OP_LOCK, x.OP_LOCKT, x.OP_LOCKU}

// FuzzFileStateOps sends SEQUENCE, PUTROOTFH, an OPEN that creates a file
// (so the current filehandle and stateid are set), and then one of the
// file state operations with arbitrary argument bytes. Whatever the bytes,
// the server must answer with a reply that decodes, results for at most
// the four operations, and no panic.
func FuzzFileStateOps(f *testing.F) {
	m := uint32(0o644)
	seeds := []x.NfsArgop4{
		createName("fz", "g", accBoth, denyNone, m),
		openArg("fz", accRead, denyNone, createHow(x.EXCLUSIVE4_1, attrs(&m, nil), x.Verifier4{3}), claimNull("h")),
		closeArg(currentSid),
		downgradeArg(currentSid, accRead, denyNone),
		readArg(currentSid, 0, 10),
		writeArg(currentSid, 3, x.UNSTABLE4, "hello"),
		commitArg(0, 0),
		lockNew(x.WRITE_LT, 0, 10, currentSid, "l"),
		locktArg(x.READ_LT, 0, math.MaxUint64, "l"),
		lockuArg(x.READ_LT, currentSid, 0, 1),
	}
	for _, op := range seeds {
		b := xdr.Marshal(nil, &op)
		f.Add(b[:4], b[4:])
	}
	f.Fuzz(func(t *testing.T, opnum, body []byte) {
		if len(opnum) < 1 {
			return
		}
		fx := newFixture(t, "")
		s := fx.newSession(root)
		s.seq++
		var w xdr.Writer
		tag := x.Utf8strCs("fz")
		tag.Encode(&w)
		w.Uint32(1) // minor version
		w.Uint32(4) // operations
		for _, op := range []x.NfsArgop4{s.sequence(s.seq, false), opPutrootfh(), createName("fz", "f", accBoth, denyNone, m)} {
			op.Encode(&w)
		}
		w.Uint32(uint32(fuzzOps[int(opnum[len(opnum)-1])%len(fuzzOps)]))
		w.Buf = append(w.Buf, body...)
		res, _ := fx.send(root, w.Bytes())
		if len(res.Resarray) > 4 {
			t.Fatalf("%d results for 4 operations", len(res.Resarray))
		}
	})
}
