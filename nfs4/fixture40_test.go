package nfs4

// NFSv4.0 helpers for op tests: a client that has done SETCLIENTID and
// SETCLIENTID_CONFIRM and sends compounds of minor version 0, with no
// SEQUENCE (RFC 7530 §16.2), keeping the seqid of each of its owners
// (RFC 7530 §9.1.7).

import (
	"fmt"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
)

// client40 is an NFSv4.0 client of the fixture's server.
type client40 struct {
	f       *fixture
	cred    cred
	id      string
	verf    x.Verifier4
	cid     x.Clientid4
	confirm x.Verifier4
	cb      x.CbClient4
	ident   uint32
	// next is the next seqid of each owner (by name; open-owners and
	// lock-owners must not share names in a test).
	next map[string]x.Seqid4
}

// newClient40 makes and confirms a client ID for a fresh client id string.
func (f *fixture) newClient40(c cred) *client40 {
	f.t.Helper()
	cl := f.client40(c, fmt.Sprintf("test-client40-%d", ownerCounter.Add(1)), x.Verifier4{4, 0})
	cl.setclientid()
	cl.confirmID()
	return cl
}

// client40 returns a client that has done nothing yet.
func (f *fixture) client40(c cred, id string, verf x.Verifier4) *client40 {
	return &client40{f: f, cred: c, id: id, verf: verf, next: map[string]x.Seqid4{},
		cb: x.CbClient4{CbProgram: 0x40000000, CbLocation: x.Netaddr4{NaRNetid: "tcp", NaRAddr: "127.0.0.1.3.232"}}}
}

// call sends ops in one compound of minor version 0.
func (cl *client40) call(ops ...x.NfsArgop4) *x.COMPOUND4res {
	cl.f.t.Helper()
	return cl.f.call(cl.cred, 0, ops...)
}

// callRaw is call that also returns the reply bytes.
func (cl *client40) callRaw(ops ...x.NfsArgop4) (*x.COMPOUND4res, []byte) {
	cl.f.t.Helper()
	return cl.f.callRaw(cl.cred, 0, ops...)
}

func opSetclientid(id string, verf x.Verifier4, cb x.CbClient4, ident uint32) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_SETCLIENTID, Opsetclientid: &x.SETCLIENTID4args{
		Client: x.NfsClientId4{Verifier: verf, Id: []byte(id)}, Callback: cb, CallbackIdent: ident}}
}

func opSetclientidConfirm(cid x.Clientid4, confirm x.Verifier4) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_SETCLIENTID_CONFIRM, OpsetclientidConfirm: &x.SETCLIENTID_CONFIRM4args{
		Clientid: cid, SetclientidConfirm: confirm}}
}

func opRenew(cid x.Clientid4) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_RENEW, Oprenew: &x.RENEW4args{Clientid: cid}}
}

// setclientidStatus sends SETCLIENTID and returns its status and result.
func (cl *client40) setclientidStatus() (x.Nfsstat4, x.SETCLIENTID4resok) {
	cl.f.t.Helper()
	res := cl.call(opSetclientid(cl.id, cl.verf, cl.cb, cl.ident))
	if len(res.Resarray) != 1 {
		cl.f.t.Fatalf("SETCLIENTID: %v", statuses(res))
	}
	return res.Status, res.Resarray[0].Opsetclientid.Resok4
}

// setclientid sends SETCLIENTID, wants success, and keeps the client ID
// and confirm verifier.
func (cl *client40) setclientid() {
	cl.f.t.Helper()
	st, ok := cl.setclientidStatus()
	if st != x.NFS4_OK {
		cl.f.t.Fatalf("SETCLIENTID: %v", st)
	}
	cl.cid, cl.confirm = ok.Clientid, ok.SetclientidConfirm
}

// confirmStatus sends SETCLIENTID_CONFIRM for cid and confirm.
func (cl *client40) confirmStatus(cid x.Clientid4, confirm x.Verifier4) x.Nfsstat4 {
	cl.f.t.Helper()
	return cl.call(opSetclientidConfirm(cid, confirm)).Status
}

// confirmID confirms the client's last SETCLIENTID and wants success.
func (cl *client40) confirmID() {
	cl.f.t.Helper()
	if st := cl.confirmStatus(cl.cid, cl.confirm); st != x.NFS4_OK {
		cl.f.t.Fatalf("SETCLIENTID_CONFIRM: %v", st)
	}
}

// seq returns the seqid for owner's next request (starting at 1) and
// counts it as used.
func (cl *client40) seq(owner string) x.Seqid4 {
	cl.next[owner]++
	return cl.next[owner]
}

// open40Arg is an NFSv4.0 OPEN by owner of this client.
func (cl *client40) open40Arg(owner string, seqid x.Seqid4, access, deny uint32, how x.Openflag4, claim x.OpenClaim4) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_OPEN, Opopen: &x.OPEN4args{Seqid: seqid, ShareAccess: access, ShareDeny: deny,
		Owner: x.OpenOwner4{Clientid: cl.cid, Owner: []byte(owner)}, Openhow: how, Claim: claim}}
}

// create40Arg creates name (UNCHECKED4, mode 0644) for reading and
// writing.
func (cl *client40) create40Arg(owner, name string) x.NfsArgop4 {
	mode := uint32(0o644)
	return cl.open40Arg(owner, cl.seq(owner), x.OPEN4_SHARE_ACCESS_BOTH, x.OPEN4_SHARE_DENY_NONE,
		createHow(x.UNCHECKED4, attrs(&mode, nil), x.Verifier4{}), claimNull(name))
}

func openConfirmArg(sid x.Stateid4, seqid x.Seqid4) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_OPEN_CONFIRM, OpopenConfirm: &x.OPEN_CONFIRM4args{OpenStateid: sid, Seqid: seqid}}
}

func close40Arg(sid x.Stateid4, seqid x.Seqid4) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_CLOSE, Opclose: &x.CLOSE4args{Seqid: seqid, OpenStateid: sid}}
}

// lock40New is LOCK with open_to_lock_owner4.
func (cl *client40) lock40New(lt x.NfsLockType4, off, length uint64, openSid x.Stateid4, openSeq x.Seqid4, owner string, lockSeq x.Seqid4) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_LOCK, Oplock: &x.LOCK4args{Locktype: lt, Offset: x.Offset4(off), Length: x.Length4(length),
		Locker: x.Locker4{NewLockOwner: true, OpenOwner: x.OpenToLockOwner4{OpenSeqid: openSeq, OpenStateid: openSid,
			LockSeqid: lockSeq, LockOwner: x.LockOwner4{Clientid: cl.cid, Owner: []byte(owner)}}}}}
}

// lock40Exist is LOCK with exist_lock_owner4.
func lock40Exist(lt x.NfsLockType4, off, length uint64, lockSid x.Stateid4, seq x.Seqid4) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_LOCK, Oplock: &x.LOCK4args{Locktype: lt, Offset: x.Offset4(off), Length: x.Length4(length),
		Locker: x.Locker4{LockOwner: x.ExistLockOwner4{LockStateid: lockSid, LockSeqid: seq}}}}
}

func locku40Arg(lt x.NfsLockType4, sid x.Stateid4, seq x.Seqid4, off, length uint64) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_LOCKU, Oplocku: &x.LOCKU4args{Locktype: lt, Seqid: seq, LockStateid: sid,
		Offset: x.Offset4(off), Length: x.Length4(length)}}
}

func (cl *client40) releaseLockownerArg(owner string) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_RELEASE_LOCKOWNER, OpreleaseLockowner: &x.RELEASE_LOCKOWNER4args{
		LockOwner: x.LockOwner4{Clientid: cl.cid, Owner: []byte(owner)}}}
}

// openConfirmed creates name as owner (PUTROOTFH, OPEN, GETFH), confirms
// the open if the server asks (RFC 7530 §16.18) and returns the file
// handle and the confirmed open stateid.
func (cl *client40) openConfirmed(owner, name string) ([]byte, x.Stateid4) {
	cl.f.t.Helper()
	res := cl.call(opPutrootfh(), cl.create40Arg(owner, name), opGetfh())
	cl.f.wantStatus(res, x.NFS4_OK, 3)
	ok := res.Resarray[1].Opopen.Resok4
	fh := res.Resarray[2].Opgetfh.Resok4.Object
	sid := ok.Stateid
	if ok.Rflags&x.OPEN4_RESULT_CONFIRM != 0 {
		res = cl.call(opPutfh(fh), openConfirmArg(sid, cl.seq(owner)))
		cl.f.wantStatus(res, x.NFS4_OK, 2)
		sid = res.Resarray[1].OpopenConfirm.Resok4.OpenStateid
	}
	return fh, sid
}
