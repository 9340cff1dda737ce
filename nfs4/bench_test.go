package nfs4

// Benchmarks of the COMPOUND path: a request as the sunrpc layer hands it
// over (encoded arguments in a Call) through ServeRPC, the COMPOUND loop,
// SEQUENCE and the slot table, the op, the memfs backend and the encoding
// of the reply. The client's encoding is done once outside the loop: only
// the sequence ID is patched in place per request. Compare runs with
// benchstat (-count=10).

import (
	"bytes"
	"context"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/gonfs/gonfs/exports"
	"github.com/gonfs/gonfs/fhandle"
	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/nfs4/fattr"
	"github.com/gonfs/gonfs/nfs4/state"
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/vfs/memfs"
	"github.com/gonfs/gonfs/xdr"
)

// benchClient is one NFSv4.1 client of a Server over memfs, with a session
// and a 4 KiB file open for reading and writing.
type benchClient struct {
	b    *testing.B
	srv  *Server
	call sunrpc.Call
	sess x.Sessionid4
	seq  x.Sequenceid4
	fh   []byte
	sid  x.Stateid4
}

func newBenchClient(b *testing.B) *benchClient {
	b.Helper()
	table, err := exports.Parse(strings.NewReader("/ *(rw,no_root_squash,insecure)\n"), "bench")
	if err != nil {
		b.Fatal(err)
	}
	codec, err := fhandle.New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	ns, err := namespace.New(table, codec, func(*exports.Export) (vfs.FS, error) {
		return memfs.New(memfs.Options{RootMode: 0o777}), nil
	})
	if err != nil {
		b.Fatal(err)
	}
	locks := lock.NewTable(lock.Options{})
	st := state.New(state.Options{Locks: locks, BootEpoch: 1})
	c := &benchClient{b: b, srv: New(ns, Options{State: st, Store: &memStore{records: map[string]state.ClientRecord{}}})}
	c.call = sunrpc.Call{Prog: x.NFS4_PROGRAM, Vers: x.NFS_V4, Proc: x.NFSPROC4_COMPOUND, Transport: "tcp",
		Remote: netip.MustParseAddrPort("127.0.0.1:700"), Local: netip.MustParseAddrPort("127.0.0.1:2049")}
	c.call.Cred.Flavor = rpcxdr.AUTH_SYS
	c.call.Cred.Sys = rpcxdr.AuthsysParms{Machinename: "bench", Uid: 0, Gid: 0}

	res := c.compound(opExchangeID("bench-client", x.Verifier4{1}, 0))
	eid := res.Resarray[0].OpexchangeId.EirResok4
	res = c.compound(opCreateSession(eid.EirClientid, eid.EirSequenceid, 0))
	c.sess = res.Resarray[0].OpcreateSession.CsrResok4.CsrSessionid
	c.compound(c.sequence(), x.NfsArgop4{Argop: x.OP_RECLAIM_COMPLETE, OpreclaimComplete: &x.RECLAIM_COMPLETE4args{}})
	open := x.NfsArgop4{Argop: x.OP_OPEN, Opopen: &x.OPEN4args{
		ShareAccess: x.OPEN4_SHARE_ACCESS_BOTH | x.OPEN4_SHARE_ACCESS_WANT_NO_DELEG, ShareDeny: x.OPEN4_SHARE_DENY_NONE,
		Owner:   x.OpenOwner4{Clientid: eid.EirClientid, Owner: []byte("bench-owner")},
		Openhow: x.Openflag4{Opentype: x.OPEN4_CREATE, How: x.Createhow4{Mode: x.UNCHECKED4}},
		Claim:   claimNull("file"),
	}}
	res = c.compound(c.sequence(), opPutrootfh(), open, opGetfh())
	c.sid = res.Resarray[2].Opopen.Resok4.Stateid
	c.fh = res.Resarray[3].Opgetfh.Resok4.Object
	data := bytes.Repeat([]byte("gonfs"), 4096/5+1)[:4096]
	c.compound(c.sequence(), opPutfh(c.fh), x.NfsArgop4{Argop: x.OP_WRITE, Opwrite: &x.WRITE4args{Stateid: c.sid, Stable: x.FILE_SYNC4, Data: data}})
	return c
}

// sequence returns SEQUENCE on slot 0 with the next sequence ID.
func (c *benchClient) sequence() x.NfsArgop4 {
	c.seq++
	return x.NfsArgop4{Argop: x.OP_SEQUENCE, Opsequence: &x.SEQUENCE4args{SaSessionid: c.sess, SaSequenceid: c.seq}}
}

// serve runs one encoded COMPOUND through ServeRPC into w.
func (c *benchClient) serve(args []byte, w *xdr.Writer) {
	c.call.XID++
	c.call.Args = args
	w.Buf = w.Buf[:0]
	if st := c.srv.ServeRPC(context.Background(), &c.call, w); st != sunrpc.Success {
		c.b.Fatalf("ServeRPC: %v", st)
	}
}

// compound sends ops (minor version 1) and wants NFS4_OK.
func (c *benchClient) compound(ops ...x.NfsArgop4) *x.COMPOUND4res {
	c.b.Helper()
	var w xdr.Writer
	c.serve(xdr.Marshal(nil, &x.COMPOUND4args{Minorversion: 1, Argarray: ops}), &w)
	var res x.COMPOUND4res
	if err := xdr.Unmarshal(w.Bytes(), &res); err != nil || res.Status != x.NFS4_OK {
		c.b.Fatalf("compound %v: status %v, %v", ops[len(ops)-1].Argop, res.Status, err)
	}
	return &res
}

// loop encodes SEQUENCE and ops once, finds where the sequence ID sits in
// the encoding (the one word that differs between two sequence IDs), and
// then serves the request b.N times with the ID patched in place.
func (c *benchClient) loop(ops ...x.NfsArgop4) {
	b := c.b
	enc := func(seq x.Sequenceid4) []byte {
		s := x.NfsArgop4{Argop: x.OP_SEQUENCE, Opsequence: &x.SEQUENCE4args{SaSessionid: c.sess, SaSequenceid: seq}}
		return xdr.Marshal(nil, &x.COMPOUND4args{Minorversion: 1, Argarray: append([]x.NfsArgop4{s}, ops...)})
	}
	args, other := enc(1), enc(2)
	off := 0
	for off < len(args) && args[off] == other[off] {
		off++
	}
	off &^= 3
	c.compound(append([]x.NfsArgop4{c.sequence()}, ops...)...) // checks the ops succeed
	var w xdr.Writer
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		c.seq++
		binary.BigEndian.PutUint32(args[off:], uint32(c.seq))
		c.serve(args, &w)
	}
	b.StopTimer()
	var res x.COMPOUND4res
	if err := xdr.Unmarshal(w.Bytes(), &res); err != nil || res.Status != x.NFS4_OK {
		b.Fatalf("last reply: status %v, %v", res.Status, err)
	}
}

// BenchmarkCompoundGetattr is SEQUENCE, PUTFH, GETATTR of the attributes
// `ls -l` and the Linux client's revalidation ask for.
func BenchmarkCompoundGetattr(b *testing.B) {
	c := newBenchClient(b)
	attrs := fattr.Of(x.FATTR4_TYPE, x.FATTR4_CHANGE, x.FATTR4_SIZE, x.FATTR4_FILEID, x.FATTR4_MODE, x.FATTR4_NUMLINKS,
		x.FATTR4_OWNER, x.FATTR4_OWNER_GROUP, x.FATTR4_SPACE_USED, x.FATTR4_TIME_ACCESS, x.FATTR4_TIME_METADATA,
		x.FATTR4_TIME_MODIFY).Bitmap4()
	c.loop(opPutfh(c.fh), x.NfsArgop4{Argop: x.OP_GETATTR, Opgetattr: &x.GETATTR4args{AttrRequest: attrs}})
}

// BenchmarkCompoundRead4K is SEQUENCE, PUTFH, READ of 4 KiB with the open
// stateid.
func BenchmarkCompoundRead4K(b *testing.B) {
	c := newBenchClient(b)
	b.SetBytes(4096)
	c.loop(opPutfh(c.fh), x.NfsArgop4{Argop: x.OP_READ, Opread: &x.READ4args{Stateid: c.sid, Count: 4096}})
}
