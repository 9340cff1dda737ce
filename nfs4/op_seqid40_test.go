package nfs4

import (
	"bytes"
	"context"
	"testing"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// resultBytes is the encoded i-th result of a reply, opnum first.
func resultBytes(t *testing.T, res *x.COMPOUND4res, i int) []byte {
	t.Helper()
	return xdr.Marshal(nil, &res.Resarray[i])
}

// RFC 7530 §16.16.5, §16.18: the first OPEN of a new open-owner asks for
// OPEN_CONFIRM; its stateid is not usable before; OPEN_CONFIRM bumps the
// stateid's seqid; a confirmed owner's OPEN asks nothing; a second
// OPEN_CONFIRM is NFS4ERR_BAD_STATEID.
func TestOpenConfirmFlow(t *testing.T) {
	f := newFixture(t, "")
	cl := f.newClient40(root)
	res := cl.call(opPutrootfh(), cl.create40Arg("oo", "f"), opGetfh())
	f.wantStatus(res, x.NFS4_OK, 3)
	ok := res.Resarray[1].Opopen.Resok4
	fh := res.Resarray[2].Opgetfh.Resok4.Object
	if ok.Rflags&x.OPEN4_RESULT_CONFIRM == 0 {
		t.Fatalf("rflags %#x: no OPEN4_RESULT_CONFIRM for a new owner", ok.Rflags)
	}
	// CLOSE before the confirm: the owner's stateids are not usable
	// (and the seqid still advances past nothing: BAD_STATEID keeps it).
	res = cl.call(opPutfh(fh), close40Arg(ok.Stateid, cl.next["oo"]+1))
	if res.Status != x.NFS4ERR_BAD_STATEID {
		t.Fatalf("CLOSE before OPEN_CONFIRM: %v", statuses(res))
	}
	res = cl.call(opPutfh(fh), openConfirmArg(ok.Stateid, cl.seq("oo")))
	f.wantStatus(res, x.NFS4_OK, 2)
	sid := res.Resarray[1].OpopenConfirm.Resok4.OpenStateid
	if sid.Other != ok.Stateid.Other || sid.Seqid != ok.Stateid.Seqid+1 {
		t.Fatalf("OPEN_CONFIRM stateid %v, want %v with seqid+1", sid, ok.Stateid)
	}
	res = cl.call(opPutfh(fh), openConfirmArg(sid, cl.seq("oo")))
	if res.Status != x.NFS4ERR_BAD_STATEID {
		t.Fatalf("second OPEN_CONFIRM: %v", statuses(res))
	}
	cl.next["oo"]-- // BAD_STATEID does not advance the seqid
	// A further OPEN by the confirmed owner asks nothing.
	res = cl.call(opPutrootfh(), cl.create40Arg("oo", "g"))
	f.wantStatus(res, x.NFS4_OK, 2)
	if res.Resarray[1].Opopen.Resok4.Rflags&x.OPEN4_RESULT_CONFIRM != 0 {
		t.Fatal("OPEN4_RESULT_CONFIRM for a confirmed owner")
	}
	// CLOSE answers the stateid with its seqid incremented (RFC 7530
	// §16.2.4), not NFSv4.1's invalid stateid.
	res = cl.call(opPutfh(fh), close40Arg(sid, cl.seq("oo")))
	f.wantStatus(res, x.NFS4_OK, 2)
	if got := res.Resarray[1].Opclose.OpenStateid; got.Other != sid.Other || got.Seqid != sid.Seqid+1 {
		t.Fatalf("CLOSE stateid %v, want %v with seqid+1", got, sid)
	}
}

// RFC 7530 §9.1.7, §9.1.9: a request with the owner's last seqid is
// answered with the last reply, byte for byte, without running again; a
// seqid that is neither the last nor the next is NFS4ERR_BAD_SEQID.
func TestSeqidReplay40(t *testing.T) {
	f := newFixture(t, "")
	cl := f.newClient40(root)
	fh, _ := cl.openConfirmed("oo", "f")

	// OPEN: a second OPEN of the owner upgrades nothing but bumps the
	// stateid; its retransmission must not bump it again.
	openSeq := cl.seq("oo")
	openOp := cl.open40Arg("oo", openSeq, x.OPEN4_SHARE_ACCESS_READ, x.OPEN4_SHARE_DENY_NONE, noCreate, claimNull("f"))
	first, rawFirst := cl.callRaw(opPutrootfh(), openOp, opGetfh())
	f.wantStatus(first, x.NFS4_OK, 3)
	again, rawAgain := cl.callRaw(opPutrootfh(), openOp, opGetfh())
	f.wantStatus(again, x.NFS4_OK, 3)
	if !bytes.Equal(rawFirst, rawAgain) {
		t.Fatalf("OPEN replay differs:\n%x\n%x", resultBytes(t, first, 1), resultBytes(t, again, 1))
	}
	// The replayed OPEN made its file current again, for GETFH.
	if !bytes.Equal(again.Resarray[2].Opgetfh.Resok4.Object, fh) {
		t.Fatal("GETFH after a replayed OPEN is not the opened file")
	}
	sid := first.Resarray[1].Opopen.Resok4.Stateid

	// LOCK through a new lock-owner, sequenced by the open-owner.
	lockOp := cl.lock40New(x.WRITE_LT, 0, 10, sid, cl.seq("oo"), "lo", 0)
	first = cl.call(opPutfh(fh), lockOp)
	f.wantStatus(first, x.NFS4_OK, 2)
	again = cl.call(opPutfh(fh), lockOp)
	f.wantStatus(again, x.NFS4_OK, 2)
	if !bytes.Equal(resultBytes(t, first, 1), resultBytes(t, again, 1)) {
		t.Fatal("LOCK replay differs")
	}
	lsid := first.Resarray[1].Oplock.Resok4.LockStateid
	// LOCK through the existing lock-owner: lock_seqid 0 was the first.
	lockOp = lock40Exist(x.WRITE_LT, 20, 10, lsid, 1)
	first = cl.call(opPutfh(fh), lockOp)
	f.wantStatus(first, x.NFS4_OK, 2)
	again = cl.call(opPutfh(fh), lockOp)
	if !bytes.Equal(resultBytes(t, first, 1), resultBytes(t, again, 1)) {
		t.Fatal("LOCK (existing owner) replay differs")
	}
	lsid = first.Resarray[1].Oplock.Resok4.LockStateid
	// A seqid from the past or the future: BAD_SEQID.
	for _, seq := range []x.Seqid4{0, 3, 7} {
		res := cl.call(opPutfh(fh), locku40Arg(x.WRITE_LT, lsid, seq, 0, 30))
		if res.Status != x.NFS4ERR_BAD_SEQID {
			t.Fatalf("LOCKU seqid %d: %v, want NFS4ERR_BAD_SEQID", seq, statuses(res))
		}
	}
	res := cl.call(opPutfh(fh), locku40Arg(x.WRITE_LT, lsid, 2, 0, 30))
	f.wantStatus(res, x.NFS4_OK, 2)

	// CLOSE and its retransmission after the stateid is gone.
	closeOp := close40Arg(sid, cl.seq("oo"))
	first = cl.call(opPutfh(fh), closeOp)
	f.wantStatus(first, x.NFS4_OK, 2)
	again = cl.call(opPutfh(fh), closeOp)
	f.wantStatus(again, x.NFS4_OK, 2)
	if !bytes.Equal(resultBytes(t, first, 1), resultBytes(t, again, 1)) {
		t.Fatal("CLOSE replay differs")
	}
	// The last seqid on another operation is no retransmission.
	res = cl.call(opPutrootfh(), cl.open40Arg("oo", closeOp.Opclose.Seqid, x.OPEN4_SHARE_ACCESS_READ, 0, noCreate, claimNull("f")))
	if res.Status != x.NFS4ERR_BAD_SEQID {
		t.Fatalf("OPEN with the seqid of the last CLOSE: %v", statuses(res))
	}
	// The next seqid on the closed stateid: it is gone.
	res = cl.call(opPutfh(fh), close40Arg(sid, cl.seq("oo")))
	if res.Status != x.NFS4ERR_BAD_STATEID {
		t.Fatalf("CLOSE of a closed stateid: %v", statuses(res))
	}
}

// RFC 7530 §9.1.7: the errors listed there leave the owner's seqid where
// it was; any other reply, errors included, advances it and is replayed.
func TestSeqidAdvance40(t *testing.T) {
	f := newFixture(t, "")
	cl := f.newClient40(root)
	cl.openConfirmed("oo", "f")
	// NOENT advances the seqid: the retransmission is a replay.
	seq := cl.seq("oo")
	missing := cl.open40Arg("oo", seq, x.OPEN4_SHARE_ACCESS_READ, x.OPEN4_SHARE_DENY_NONE, noCreate, claimNull("missing"))
	first := cl.call(opPutrootfh(), missing)
	if first.Status != x.NFS4ERR_NOENT {
		t.Fatalf("OPEN missing: %v", statuses(first))
	}
	f.seed("missing", "", 0o644, 0)
	again := cl.call(opPutrootfh(), missing)
	if again.Status != x.NFS4ERR_NOENT {
		t.Fatalf("replayed OPEN ran again: %v", statuses(again))
	}
	// NOFILEHANDLE does not: the same seqid then runs for real.
	seq = cl.seq("oo")
	open := cl.open40Arg("oo", seq, x.OPEN4_SHARE_ACCESS_READ, x.OPEN4_SHARE_DENY_NONE, noCreate, claimNull("missing"))
	if res := cl.call(open); res.Status != x.NFS4ERR_NOFILEHANDLE {
		t.Fatalf("OPEN without a filehandle: %v", statuses(res))
	}
	f.wantStatus(cl.call(opPutrootfh(), open), x.NFS4_OK, 2)
	// An unknown client ID is STALE_CLIENTID, whatever the seqid.
	bad := *cl
	bad.cid++
	if res := bad.call(opPutrootfh(), bad.open40Arg("oo", 1, x.OPEN4_SHARE_ACCESS_READ, 0, noCreate, claimNull("f"))); res.Status != x.NFS4ERR_STALE_CLIENTID {
		t.Fatalf("OPEN with an unknown client ID: %v", statuses(res))
	}
}

// RFC 7530 §16.2.3, §16.16: NFSv4.0 compounds have no current stateid
// and none of NFSv4.1's claims or create modes.
func TestCompound40Rules(t *testing.T) {
	f := newFixture(t, "")
	cl := f.newClient40(root)
	fh, _ := cl.openConfirmed("oo", "f")
	res := cl.call(opPutfh(fh), readArg(currentSid, 0, 1))
	if res.Status != x.NFS4ERR_BAD_STATEID {
		t.Fatalf("READ with the current-stateid value: %v", statuses(res))
	}
	claimFH := x.OpenClaim4{Claim: x.CLAIM_FH}
	res = cl.call(opPutfh(fh), cl.open40Arg("oo", cl.seq("oo"), x.OPEN4_SHARE_ACCESS_READ, 0, noCreate, claimFH))
	if res.Status != x.NFS4ERR_BADXDR {
		t.Fatalf("OPEN CLAIM_FH in 4.0: %v", statuses(res))
	}
	cl.next["oo"]--
	excl41 := createHow(x.EXCLUSIVE4_1, x.Fattr4{}, x.Verifier4{1})
	res = cl.call(opPutrootfh(), cl.open40Arg("oo", cl.seq("oo"), x.OPEN4_SHARE_ACCESS_READ, 0, excl41, claimNull("h")))
	if res.Status != x.NFS4ERR_BADXDR {
		t.Fatalf("OPEN EXCLUSIVE4_1 in 4.0: %v", statuses(res))
	}
	// Without sessions nothing negotiates a bound on operations: past
	// the server's, NFS4ERR_RESOURCE (RFC 7530 §15.2).
	many := make([]x.NfsArgop4, maxOps40+1)
	for i := range many {
		many[i] = opPutrootfh()
	}
	if res := cl.call(many...); res.Status != x.NFS4ERR_RESOURCE {
		t.Fatalf("%d operations: %v", len(many), res.Status)
	}
	f.wantStatus(cl.call(many[:maxOps40]...), x.NFS4_OK, maxOps40)
	// NFSv4.0-only operations are NOTSUPP in 4.1 (RFC 8881 §18.35 ff).
	s := f.newSession(root)
	res = s.call(opRenew(cl.cid))
	if res.Status != x.NFS4ERR_NOTSUPP {
		t.Fatalf("RENEW in 4.1: %v", statuses(res))
	}
}

// RFC 7530 has no NFS4ERR_WRONG_TYPE: an OPEN of a FIFO is
// NFS4ERR_SYMLINK (§16.16.6), READ of it NFS4ERR_INVAL (§16.23.5); the
// replay of that OPEN says the same.
func TestWrongType40(t *testing.T) {
	f := newFixture(t, "")
	cl := f.newClient40(root)
	res := cl.call(opPutrootfh(), argCreate(x.Createtype4{Type: x.NF4FIFO}, "fifo", x.Fattr4{}), opGetfh())
	f.wantStatus(res, x.NFS4_OK, 3)
	fifo := res.Resarray[2].Opgetfh.Resok4.Object
	open := cl.open40Arg("oo", cl.seq("oo"), x.OPEN4_SHARE_ACCESS_READ, 0, noCreate, claimNull("fifo"))
	for range 2 { // the second is a replay
		if res := cl.call(opPutrootfh(), open); res.Status != x.NFS4ERR_SYMLINK {
			t.Fatalf("OPEN of a FIFO: %v", statuses(res))
		}
	}
	if res := cl.call(opPutfh(fifo), readArg(anonSid, 0, 1)); res.Status != x.NFS4ERR_INVAL {
		t.Fatalf("READ of a FIFO: %v", statuses(res))
	}
	// NFSv4.1 keeps NFS4ERR_WRONG_TYPE.
	s := f.newSession(root)
	if res := s.call(opPutfh(fifo), readArg(anonSid, 0, 1)); res.Status != x.NFS4ERR_WRONG_TYPE {
		t.Fatalf("READ of a FIFO in 4.1: %v", statuses(res))
	}
}

// FuzzCompound40 sends arbitrary COMPOUND4args of any minor version (the
// seeds are NFSv4.0's) through ServeRPC with a confirmed 4.0 client and an
// open file present, twice, so that the second may be an owner replay.
// ServeRPC must not panic and a Success reply must decode.
func FuzzCompound40(f *testing.F) {
	cl := &client40{cid: 0x100000001}
	seed := func(ops ...x.NfsArgop4) {
		args := x.COMPOUND4args{Tag: x.Utf8strCs("seed"), Minorversion: 0, Argarray: ops}
		f.Add(xdr.Marshal(nil, &args))
	}
	sid := x.Stateid4{Seqid: 2, Other: [12]byte{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}}
	seed(opSetclientid("fuzz", x.Verifier4{1}, x.CbClient4{}, 0))
	seed(opSetclientidConfirm(0x100000001, x.Verifier4{0x80, 0, 0, 1, 0, 0, 0, 1}), opRenew(0x100000001))
	seed(opPutrootfh(), cl.open40Arg("oo", 2, x.OPEN4_SHARE_ACCESS_BOTH, 0, noCreate, claimNull("f")), opGetfh())
	seed(opPutrootfh(), opLookup("f"), cl.lock40New(x.WRITE_LT, 0, 1, sid, 3, "lo", 0))
	seed(opPutrootfh(), opLookup("f"), close40Arg(sid, 3), openConfirmArg(sid, 4))
	seed(cl.releaseLockownerArg("lo"))
	f.Fuzz(func(t *testing.T, body []byte) {
		fx := newFixture(t, "")
		c := fx.newClient40(root)
		c.openConfirmed("oo", "f")
		for range 2 {
			call := &sunrpc.Call{XID: 1, Prog: x.NFS4_PROGRAM, Vers: x.NFS_V4, Proc: x.NFSPROC4_COMPOUND,
				Args: body, Transport: "tcp", Remote: fx.remote}
			call.Cred.Flavor = rpcxdr.AUTH_SYS
			var w xdr.Writer
			if fx.srv.ServeRPC(context.Background(), call, &w) != sunrpc.Success {
				return
			}
			var res x.COMPOUND4res
			if err := xdr.Unmarshal(w.Bytes(), &res); err != nil {
				t.Fatalf("reply does not decode: %v\n%x", err, w.Bytes())
			}
		}
		fx.srv.Close()
	})
}
