package trace

import (
	"time"

	"github.com/gonfs/gonfs/proto/mountxdr"
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	n4 "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/xdr"
)

var fh3 = nfs3xdr.NfsFh3{Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}}

// nfs3Session: MOUNT MNT, then NFSv3 GETATTR, LOOKUP (NOENT), READ.
func nfs3Session(c *capture, cli, srv string) {
	k := c.dial(cli, srv)
	k.call(rec(rpcCall(1, mountxdr.MOUNT_PROGRAM, 3, mountxdr.MOUNTPROC3_MNT, ptr(mountxdr.Dirpath("/export")))))
	c.wait(time.Millisecond)
	k.reply(rec(rpcReply(1, &mountxdr.Mountres3{FhsStatus: mountxdr.MNT3_OK,
		Mountinfo: mountxdr.Mountres3Ok{Fhandle: fh3.Data, AuthFlavors: []int32{1}}})))
	k.call(rec(rpcCall(2, nfs3xdr.NFS_PROGRAM, 3, nfs3xdr.NFSPROC3_GETATTR, &nfs3xdr.GETATTR3args{Object: fh3})))
	c.wait(200 * time.Microsecond)
	k.reply(rec(rpcReply(2, &nfs3xdr.GETATTR3res{Status: nfs3xdr.NFS3_OK})))
	k.call(rec(rpcCall(3, nfs3xdr.NFS_PROGRAM, 3, nfs3xdr.NFSPROC3_LOOKUP,
		&nfs3xdr.LOOKUP3args{What: nfs3xdr.Diropargs3{Dir: fh3, Name: "missing"}})))
	k.reply(rec(rpcReply(3, &nfs3xdr.LOOKUP3res{Status: nfs3xdr.NFS3ERR_NOENT})))
	k.call(rec(rpcCall(4, nfs3xdr.NFS_PROGRAM, 3, nfs3xdr.NFSPROC3_READ,
		&nfs3xdr.READ3args{File: fh3, Offset: 0, Count: 4096})))
	c.wait(3 * time.Millisecond)
	data := make([]byte, 4096)
	// A 4 KiB reply in three segments, as a real stack sends it.
	k.send(false, rec(rpcReply(4, &nfs3xdr.READ3res{Status: nfs3xdr.NFS3_OK,
		Resok: nfs3xdr.READ3resok{Count: 4096, Eof: true, Data: data}})), 1448, 1448)
	k.close()
}

func ptr[T any](v T) *T { return &v }

// v4 builds COMPOUND args.
func v4(minor uint32, ops ...n4.NfsArgop4) *n4.COMPOUND4args {
	return &n4.COMPOUND4args{Minorversion: minor, Argarray: ops}
}

func v4res(status n4.Nfsstat4, ops ...n4.NfsResop4) *n4.COMPOUND4res {
	return &n4.COMPOUND4res{Status: status, Resarray: ops}
}

var sess = n4.Sessionid4{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}

func exchangeID(owner string, verf byte) n4.NfsArgop4 {
	return n4.NfsArgop4{Argop: n4.OP_EXCHANGE_ID, OpexchangeId: &n4.EXCHANGE_ID4args{
		EiaClientowner: n4.ClientOwner4{CoVerifier: n4.Verifier4{verf}, CoOwnerid: []byte(owner)},
		EiaFlags:       n4.EXCHGID4_FLAG_USE_NON_PNFS,
	}}
}

func exchangeIDRes(st n4.Nfsstat4, clientid uint64) n4.NfsResop4 {
	return n4.NfsResop4{Resop: n4.OP_EXCHANGE_ID, OpexchangeId: &n4.EXCHANGE_ID4res{EirStatus: st,
		EirResok4: n4.EXCHANGE_ID4resok{EirClientid: n4.Clientid4(clientid), EirServerOwner: n4.ServerOwner4{SoMajorId: []byte("srv")}}}}
}

func createSession(clientid uint64) n4.NfsArgop4 {
	return n4.NfsArgop4{Argop: n4.OP_CREATE_SESSION, OpcreateSession: &n4.CREATE_SESSION4args{
		CsaClientid: n4.Clientid4(clientid), CsaSequence: 1, CsaCbProgram: 0x40000000,
		CsaSecParms: []n4.CallbackSecParms4{{CbSecflavor: 0}},
	}}
}

func createSessionRes(st n4.Nfsstat4) n4.NfsResop4 {
	return n4.NfsResop4{Resop: n4.OP_CREATE_SESSION, OpcreateSession: &n4.CREATE_SESSION4res{CsrStatus: st,
		CsrResok4: n4.CREATE_SESSION4resok{CsrSessionid: sess, CsrSequence: 1}}}
}

func sequence(slot, seq uint32) n4.NfsArgop4 {
	return n4.NfsArgop4{Argop: n4.OP_SEQUENCE, Opsequence: &n4.SEQUENCE4args{SaSessionid: sess, SaSequenceid: n4.Sequenceid4(seq), SaSlotid: n4.Slotid4(slot)}}
}

func sequenceRes(st n4.Nfsstat4) n4.NfsResop4 {
	return n4.NfsResop4{Resop: n4.OP_SEQUENCE, Opsequence: &n4.SEQUENCE4res{SrStatus: st, SrResok4: n4.SEQUENCE4resok{SrSessionid: sess}}}
}

func op(o n4.NfsOpnum4) n4.NfsArgop4 { return n4.NfsArgop4{Argop: o} }

func lookup(name string) n4.NfsArgop4 {
	return n4.NfsArgop4{Argop: n4.OP_LOOKUP, Oplookup: &n4.LOOKUP4args{Objname: n4.Component4(name)}}
}

func getattr() n4.NfsArgop4 {
	return n4.NfsArgop4{Argop: n4.OP_GETATTR, Opgetattr: &n4.GETATTR4args{AttrRequest: n4.Bitmap4{0x10}}}
}

// simpleRes is the result of an op whose result is only a status (or
// whose resok we leave empty), encoded straight.
func simpleRes(o n4.NfsOpnum4, st n4.Nfsstat4) n4.NfsResop4 {
	r := n4.NfsResop4{Resop: o}
	switch o {
	case n4.OP_PUTROOTFH:
		r.Opputrootfh = &n4.PUTROOTFH4res{Status: st}
	case n4.OP_PUTFH:
		r.Opputfh = &n4.PUTFH4res{Status: st}
	case n4.OP_LOOKUP:
		r.Oplookup = &n4.LOOKUP4res{Status: st}
	case n4.OP_GETATTR:
		r.Opgetattr = &n4.GETATTR4res{Status: st}
	case n4.OP_OPEN:
		r.Opopen = &n4.OPEN4res{Status: st}
	case n4.OP_RECLAIM_COMPLETE:
		r.OpreclaimComplete = &n4.RECLAIM_COMPLETE4res{RcrStatus: st}
	}
	return r
}

const owner = "Linux NFSv4.1 web"

// nfs41Session: EXCHANGE_ID, CREATE_SESSION, RECLAIM_COMPLETE, a LOOKUP,
// and a CB_COMPOUND (CB_SEQUENCE, CB_RECALL) on the backchannel.
func nfs41Session(c *capture, cli, srv string) {
	k := c.dial(cli, srv)
	k.call(rec(rpcCall(0x100, n4.NFS4_PROGRAM, 4, 1, v4(1, exchangeID(owner, 1)))))
	k.reply(rec(rpcReply(0x100, v4res(n4.NFS4_OK, exchangeIDRes(n4.NFS4_OK, 0xabc)))))
	k.call(rec(rpcCall(0x101, n4.NFS4_PROGRAM, 4, 1, v4(1, createSession(0xabc)))))
	k.reply(rec(rpcReply(0x101, v4res(n4.NFS4_OK, createSessionRes(n4.NFS4_OK)))))
	k.call(rec(rpcCall(0x102, n4.NFS4_PROGRAM, 4, 1, v4(1, sequence(0, 1), op(n4.OP_RECLAIM_COMPLETE)))))
	k.reply(rec(rpcReply(0x102, v4res(n4.NFS4_OK, sequenceRes(n4.NFS4_OK), simpleRes(n4.OP_RECLAIM_COMPLETE, n4.NFS4_OK)))))
	k.call(rec(rpcCall(0x103, n4.NFS4_PROGRAM, 4, 1, v4(1, sequence(0, 2), op(n4.OP_PUTROOTFH), lookup("data"), getattr()))))
	c.wait(2 * time.Millisecond)
	k.reply(rec(rpcReply(0x103, v4res(n4.NFS4ERR_NOENT, sequenceRes(n4.NFS4_OK), simpleRes(n4.OP_PUTROOTFH, n4.NFS4_OK),
		simpleRes(n4.OP_LOOKUP, n4.NFS4ERR_NOENT)))))
	// The server calls back on the same connection (RFC 8881 §2.10.3.1).
	cb := &n4.CB_COMPOUND4args{Minorversion: 1, Argarray: []n4.NfsCbArgop4{
		{Argop: n4.OP_CB_SEQUENCE, Opcbsequence: n4.CB_SEQUENCE4args{CsaSessionid: sess, CsaSequenceid: 1}},
		{Argop: n4.OP_CB_RECALL, Opcbrecall: n4.CB_RECALL4args{Fh: n4.NfsFh4{9, 9}}},
	}}
	k.reply(rec(rpcCall(7, 0x40000000, 1, n4.CB_COMPOUND, cb)))
	k.call(rec(rpcReply(7, &n4.CB_COMPOUND4res{Status: n4.NFS4_OK, Resarray: []n4.NfsCbResop4{
		{Resop: n4.OP_CB_SEQUENCE, Opcbsequence: n4.CB_SEQUENCE4res{CsrStatus: n4.NFS4_OK}},
		{Resop: n4.OP_CB_RECALL, Opcbrecall: n4.CB_RECALL4res{Status: n4.NFS4_OK}},
	}})))
	k.close()
}

// collision: two clients, 10.0.0.1 and 10.0.0.2, with one client owner.
// Each EXCHANGE_ID with a new verifier makes the server drop the other's
// client record, so each then sees BADSESSION, STALE_CLIENTID, and starts
// over (RFC 8881 §18.35.5).
func collision(c *capture) {
	a := c.dial("10.0.0.1:700", "10.0.0.9:2049")
	b := c.dial("10.0.0.2:700", "10.0.0.9:2049")
	xid := uint32(0x200)
	do := func(k *conn, args xdr.Marshaler, res xdr.Marshaler) {
		xid++
		k.call(rec(rpcCall(xid, n4.NFS4_PROGRAM, 4, 1, args)))
		k.reply(rec(rpcReply(xid, res)))
		c.wait(50 * time.Millisecond)
	}
	verf := map[*conn]byte{a: 0xa, b: 0xb}
	for round := 0; round < 2; round++ {
		for _, k := range []*conn{a, b} {
			do(k, v4(1, exchangeID(owner, verf[k])), v4res(n4.NFS4_OK, exchangeIDRes(n4.NFS4_OK, 0xc1)))
			do(k, v4(1, createSession(0xc1)), v4res(n4.NFS4_OK, createSessionRes(n4.NFS4_OK)))
		}
		for _, k := range []*conn{a, b} {
			do(k, v4(1, sequence(0, 1), op(n4.OP_PUTROOTFH), getattr()), v4res(n4.NFS4ERR_BADSESSION, sequenceRes(n4.NFS4ERR_BADSESSION)))
			do(k, v4(1, createSession(0xc1)), v4res(n4.NFS4ERR_STALE_CLIENTID, createSessionRes(n4.NFS4ERR_STALE_CLIENTID)))
		}
	}
}

// nfs3Getattr is a GETATTR call and its reply.
func nfs3Getattr(xid uint32) ([]byte, []byte) {
	return rec(rpcCall(xid, nfs3xdr.NFS_PROGRAM, 3, nfs3xdr.NFSPROC3_GETATTR, &nfs3xdr.GETATTR3args{Object: fh3})),
		rec(rpcReply(xid, &nfs3xdr.GETATTR3res{Status: nfs3xdr.NFS3_OK}))
}

// retransmit: a GETATTR sent twice 2 s apart, then answered; a call never
// answered; a final exchange 10 s later so that the capture outlasts it.
func retransmit(c *capture) {
	k := c.dial("10.0.0.1:800", "10.0.0.9:2049")
	call5, reply5 := nfs3Getattr(5)
	k.call(call5)
	c.wait(2 * time.Second)
	k.call(call5)
	c.wait(10 * time.Millisecond)
	k.reply(reply5)
	call6, _ := nfs3Getattr(6)
	k.call(call6)
	c.wait(10 * time.Second)
	call7, reply7 := nfs3Getattr(7)
	k.call(call7)
	k.reply(reply7)
}
