package state

import (
	"testing"
	"time"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

// mount40 makes and confirms an NFSv4.0 client ID.
func (e *env) mount40(owner string) ClientID {
	e.t.Helper()
	r, st := e.m.SetClientID(SetClientIDArgs{Owner: []byte(owner), Verifier: verf(1), Principal: "sys:0"})
	wantStatus(e.t, "SETCLIENTID", st, OK)
	_, _, st = e.m.SetClientIDConfirm(r.ClientID, r.Confirm, "sys:0")
	wantStatus(e.t, "SETCLIENTID_CONFIRM", st, OK)
	return r.ClientID
}

// RFC 7530 §9.1.7: one request of an owner at a time (the second gets
// NFS4ERR_DELAY, as the first may still be answered); a token from an
// earlier request changes nothing; the errors of §9.1.7 leave the seqid.
func TestSeqidOwnerBusy40(t *testing.T) {
	e := newEnv(t)
	id := e.mount40("c")
	args := SeqidArgs{Kind: OpenOwner, ClientID: id, Owner: []byte("oo"), Seqid: 5}
	r, st := e.m.BeginSeqid(args)
	wantStatus(t, "first", st, OK)
	_, st = e.m.BeginSeqid(args)
	wantStatus(t, "while busy", st, errDelay)
	e.m.EndSeqid(r.Token, EndArgs{Status: nfs4xdr.NFS4ERR_BAD_STATEID})
	e.m.EndSeqid(r.Token, EndArgs{Status: OK, Reply: []byte{1}}) // stale: ignored
	// BAD_STATEID kept the owner new: any seqid is still its first.
	r, st = e.m.BeginSeqid(SeqidArgs{Kind: OpenOwner, ClientID: id, Owner: []byte("oo"), Seqid: 9})
	wantStatus(t, "after a non-advancing error", st, OK)
	e.m.EndSeqid(r.Token, EndArgs{Status: nfs4xdr.NFS4ERR_NOENT, Reply: []byte{0, 0, 0, 2}})
	r, st = e.m.BeginSeqid(SeqidArgs{Kind: OpenOwner, ClientID: id, Owner: []byte("oo"), Seqid: 9})
	wantStatus(t, "replay", st, OK)
	if r.Replay == nil || r.Replay.Status != nfs4xdr.NFS4ERR_NOENT || string(r.Replay.Reply) != "\x00\x00\x00\x02" {
		t.Fatalf("replay %+v", r.Replay)
	}
	_, st = e.m.BeginSeqid(SeqidArgs{Kind: OpenOwner, ClientID: id, Owner: []byte("oo"), Seqid: 11})
	wantStatus(t, "skipped seqid", st, nfs4xdr.NFS4ERR_BAD_SEQID)
}

// RFC 7530 §9.1.8 (the server may forget owners without state): an owner
// idle for a lease with nothing open is forgotten at Tick, and starts
// afresh; one that holds an open is kept.
func TestOwnerReaping40(t *testing.T) {
	e := newEnv(t)
	id := e.mount40("c")
	file := lock.FileKey("f")
	for _, owner := range []string{"idle", "holder"} {
		r, st := e.m.BeginSeqid(SeqidArgs{Kind: OpenOwner, ClientID: id, Owner: []byte(owner), Seqid: 1})
		wantStatus(t, "begin", st, OK)
		if owner == "holder" {
			e.mustOpen(id, owner, file, lock.ShareRead, lock.ShareNone)
		}
		e.m.EndSeqid(r.Token, EndArgs{Status: OK, Reply: []byte{0, 0, 0, 0}})
	}
	// Both renew the lease as they go; the client stays.
	for range 3 {
		e.clk.advance(lease / 2)
		if _, st := e.m.Renew(id); st != OK {
			t.Fatalf("RENEW: %v", st)
		}
		e.m.Tick()
	}
	_, st := e.m.BeginSeqid(SeqidArgs{Kind: OpenOwner, ClientID: id, Owner: []byte("idle"), Seqid: 42})
	wantStatus(t, "reaped owner starts afresh", st, OK)
	_, st = e.m.BeginSeqid(SeqidArgs{Kind: OpenOwner, ClientID: id, Owner: []byte("holder"), Seqid: 42})
	wantStatus(t, "holder keeps its seqid", st, nfs4xdr.NFS4ERR_BAD_SEQID)
}

// RFC 7530 §9.6.2 vs RFC 8881 §18.51.3: a 4.0 client has no
// RECLAIM_COMPLETE, so after grace it opens at once; during grace it gets
// NFS4ERR_GRACE like anyone, and a previous client may reclaim.
func TestGrace40(t *testing.T) {
	e := newEnv(t, ClientRecord{Owner: []byte("back"), Principal: "sys:0"})
	back := e.mount40("back")
	_, st := e.open(back, "oo", "f", lock.ShareRead, lock.ShareNone)
	wantStatus(t, "new open during grace", st, errGrace)
	_, _, st = e.m.Open(OpenArgs{ClientID: back, Owner: []byte("oo"), File: "f", Access: lock.ShareRead, Reclaim: true})
	wantStatus(t, "reclaim during grace", st, OK)
	e.clk.advance(lease + time.Second)
	e.m.Tick()
	fresh := e.mount40("fresh")
	_, st = e.open(fresh, "oo", "g", lock.ShareRead, lock.ShareNone)
	wantStatus(t, "open after grace without RECLAIM_COMPLETE", st, OK)
}

// RFC 7530 §16.29, §16.34: a 4.0 client whose expired state was revoked
// hears NFS4ERR_EXPIRED from RENEW, unless it has already recovered by
// confirming its client ID again; its old stateids are EXPIRED.
func TestRevokedThenReconfirmed40(t *testing.T) {
	e := newEnv(t)
	id := e.mount40("c")
	sid := e.mustOpen(id, "oo", "f", lock.ShareBoth, lock.ShareNone)
	e.clk.advance(lease + time.Second)
	other := e.mount40("d")
	e.mustOpen(other, "oo", "f", lock.ShareRead, lock.ShareBoth) // revokes c's open
	r, st := e.m.SetClientID(SetClientIDArgs{Owner: []byte("c"), Verifier: verf(1), Principal: "sys:0"})
	wantStatus(t, "SETCLIENTID again", st, OK)
	if r.ClientID != id {
		t.Fatalf("client ID %x, want %x (callback update)", r.ClientID, id)
	}
	_, _, st = e.m.SetClientIDConfirm(r.ClientID, r.Confirm, "sys:0")
	wantStatus(t, "SETCLIENTID_CONFIRM again", st, OK)
	_, st = e.m.Renew(id)
	wantStatus(t, "RENEW after recovering", st, OK)
	_, _, st = e.m.Close(0, "f", sid)
	wantStatus(t, "CLOSE of the revoked open", st, errExpired)
}
