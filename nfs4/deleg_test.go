package nfs4

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonfs/gonfs/nfs3"
	"github.com/gonfs/gonfs/nfs4/fattr"
	"github.com/gonfs/gonfs/nfs4/state"
	"github.com/gonfs/gonfs/nlm"
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// Delegations over real connections: each client has its back channel on
// its own TCP connection, as CREATE_SESSION4_FLAG_CONN_BACK_CHAN makes
// it, and a callback service (delegCB) that records CB_RECALL and answers
// CB_GETATTR with the attributes a test gives it.

var (
	_ nfs3.ConflictChecker = (*Conflicts)(nil)
	_ nlm.Delegations      = (*Conflicts)(nil)
)

// delegCB is the callback service of a test client.
type delegCB struct {
	minor    atomic.Uint32 // of the last CB_COMPOUND
	nulls    chan struct{}
	recalls  chan x.CB_RECALL4args
	getattrs chan x.CB_GETATTR4args

	mu sync.Mutex
	// The answer to CB_GETATTR: its status and, when NFS4_OK, change and
	// size.
	gaStatus     x.Nfsstat4
	change, size uint64
}

func newDelegCB() *delegCB {
	return &delegCB{nulls: make(chan struct{}, 16), recalls: make(chan x.CB_RECALL4args, 16), getattrs: make(chan x.CB_GETATTR4args, 16)}
}

func (cb *delegCB) setAttrs(st x.Nfsstat4, change, size uint64) {
	cb.mu.Lock()
	cb.gaStatus, cb.change, cb.size = st, change, size
	cb.mu.Unlock()
}

func (cb *delegCB) ServeRPC(ctx context.Context, call *sunrpc.Call, w *xdr.Writer) sunrpc.Status {
	if call.Prog != x.NFS4_CALLBACK || call.Vers != x.NFS_CB {
		return sunrpc.ProgUnavail
	}
	switch call.Proc {
	case x.CB_NULL:
		cb.nulls <- struct{}{}
		return sunrpc.Success
	case x.CB_COMPOUND:
	default:
		return sunrpc.ProcUnavail
	}
	var args x.CB_COMPOUND4args
	if err := xdr.Unmarshal(call.Args, &args); err != nil {
		return sunrpc.GarbageArgs
	}
	cb.minor.Store(args.Minorversion)
	res := x.CB_COMPOUND4res{Tag: args.Tag}
	for _, op := range args.Argarray {
		r := x.NfsCbResop4{Resop: op.Argop}
		switch op.Argop {
		case x.OP_CB_SEQUENCE:
			a := op.Opcbsequence
			r.Opcbsequence = x.CB_SEQUENCE4res{CsrResok4: x.CB_SEQUENCE4resok{CsrSessionid: a.CsaSessionid, CsrSequenceid: a.CsaSequenceid}}
		case x.OP_CB_RECALL:
			cb.recalls <- op.Opcbrecall
		case x.OP_CB_GETATTR:
			cb.mu.Lock()
			r.Opcbgetattr.Status = cb.gaStatus
			var vals xdr.Writer
			vals.Uint64(cb.change)
			vals.Uint64(cb.size)
			r.Opcbgetattr.Resok4.ObjAttributes = x.Fattr4{Attrmask: cbGetattrAttrs.Bitmap4(), AttrVals: vals.Bytes()}
			cb.mu.Unlock()
			cb.getattrs <- op.Opcbgetattr
			if r.Opcbgetattr.Status != x.NFS4_OK {
				res.Status = r.Opcbgetattr.Status
				res.Resarray = append(res.Resarray, r)
				res.Encode(w)
				return sunrpc.Success
			}
		}
		res.Resarray = append(res.Resarray, r)
	}
	res.Encode(w)
	return sunrpc.Success
}

// client41 is a client of the fixture's server over TCP with a back
// channel.
type client41 struct {
	f     *fixture
	minor uint32
	c     *sunrpc.Client
	cb    *delegCB
	cid   x.Clientid4
	sid   x.Sessionid4
	seq   x.Sequenceid4
}

// dial41 connects a new client to addr, creates its session with a back
// channel (and waits for the server's CB_NULL probe), and sends
// RECLAIM_COMPLETE.
func (f *fixture) dial41(addr string) *client41 {
	f.t.Helper()
	return f.dialMinor(addr, 1)
}

// dialMinor is dial41 for a client of minor version 1 or 2.
func (f *fixture) dialMinor(addr string, minor uint32) *client41 {
	f.t.Helper()
	cb := newDelegCB()
	c, err := sunrpc.Dial(context.Background(), "tcp", addr, sunrpc.ClientOptions{
		Handler: cb, Auth: &rpcxdr.AuthsysParms{Machinename: "deleg", Uid: 0}})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { c.Close() })
	w := &client41{f: f, c: c, cb: cb, minor: minor}
	res := w.raw(opExchangeID(fmt.Sprintf("deleg-client-%d", ownerCounter.Add(1)), x.Verifier4{1}, 0))
	f.wantStatus(res, x.NFS4_OK, 1)
	ex := res.Resarray[0].OpexchangeId.EirResok4
	res = w.raw(opCreateSession(ex.EirClientid, ex.EirSequenceid, x.CREATE_SESSION4_FLAG_CONN_BACK_CHAN))
	f.wantStatus(res, x.NFS4_OK, 1)
	w.cid, w.sid = ex.EirClientid, res.Resarray[0].OpcreateSession.CsrResok4.CsrSessionid
	<-cb.nulls
	f.wantStatus(w.call(x.NfsArgop4{Argop: x.OP_RECLAIM_COMPLETE, OpreclaimComplete: &x.RECLAIM_COMPLETE4args{}}), x.NFS4_OK, 2)
	return w
}

func (w *client41) raw(ops ...x.NfsArgop4) *x.COMPOUND4res {
	w.f.t.Helper()
	args := x.COMPOUND4args{Tag: x.Utf8strCs("deleg"), Minorversion: w.minor, Argarray: ops}
	var res x.COMPOUND4res
	if err := w.c.Call(context.Background(), x.NFS4_PROGRAM, x.NFS_V4, x.NFSPROC4_COMPOUND, &args, &res); err != nil {
		w.f.t.Fatal(err)
	}
	return &res
}

// call sends SEQUENCE (slot 0) and ops.
func (w *client41) call(ops ...x.NfsArgop4) *x.COMPOUND4res {
	w.f.t.Helper()
	w.seq++
	seq := x.NfsArgop4{Argop: x.OP_SEQUENCE, Opsequence: &x.SEQUENCE4args{SaSessionid: w.sid, SaSequenceid: w.seq}}
	return w.raw(append([]x.NfsArgop4{seq}, ops...)...)
}

// flags runs a lone SEQUENCE and returns sr_status_flags.
func (w *client41) flags() uint32 {
	w.f.t.Helper()
	res := w.call()
	w.f.wantStatus(res, x.NFS4_OK, 1)
	return res.Resarray[0].Opsequence.SrResok4.SrStatusFlags
}

// open opens (or creates) name in the root with access (want bits
// included) and returns what OPEN gave.
func (w *client41) open(owner, name string, access uint32) opened {
	w.f.t.Helper()
	res := w.call(opPutrootfh(), createName(owner, name, access, denyNone, 0o666), opGetfh())
	w.f.wantStatus(res, x.NFS4_OK, 4)
	ok := res.Resarray[2].Opopen.Resok4
	return opened{fh: res.Resarray[3].Opgetfh.Resok4.Object, sid: ok.Stateid, res: ok}
}

// openStatus runs OPEN of an existing name and returns its status.
func (w *client41) openStatus(owner, name string, access uint32) x.Nfsstat4 {
	w.f.t.Helper()
	return lastStatus(w.call(opPutrootfh(), openName(owner, name, access, denyNone)))
}

func opDelegreturn(sid x.Stateid4) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_DELEGRETURN, Opdelegreturn: &x.DELEGRETURN4args{DelegStateid: sid}}
}

func opWantDeleg(want uint32, claim x.DelegClaim4) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_WANT_DELEGATION, OpwantDelegation: &x.WANT_DELEGATION4args{WdaWant: want, WdaClaim: claim}}
}

func opGetattrOf(attrs ...uint32) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_GETATTR, Opgetattr: &x.GETATTR4args{AttrRequest: fattr.Of(attrs...).Bitmap4()}}
}

// delegOf returns the delegation stateid and type of an OPEN reply.
func delegOf(o opened) (x.Stateid4, x.OpenDelegationType4) {
	d := o.res.Delegation
	switch d.DelegationType {
	case x.OPEN_DELEGATE_READ:
		return d.Read.Stateid, d.DelegationType
	case x.OPEN_DELEGATE_WRITE:
		return d.Write.Stateid, d.DelegationType
	}
	return x.Stateid4{}, d.DelegationType
}

// mustDeleg opens name for a and wants a delegation of type typ.
func (w *client41) mustDeleg(owner, name string, access uint32, typ x.OpenDelegationType4) (opened, x.Stateid4) {
	w.f.t.Helper()
	o := w.open(owner, name, access)
	sid, got := delegOf(o)
	if got != typ {
		w.f.t.Fatalf("OPEN %s: delegation %v %v, want %v", name, got, o.res.Delegation.OdWhynone.OndWhy, typ)
	}
	return o, sid
}

// wantRecall waits for the CB_RECALL of sid.
func (w *client41) wantRecall(sid x.Stateid4, fh []byte, truncate bool) {
	w.f.t.Helper()
	r := <-w.cb.recalls
	if r.Stateid != sid || string(r.Fh) != string(fh) || r.Truncate != truncate {
		w.f.t.Fatalf("CB_RECALL %+v, want stateid %+v truncate %v", r, sid, truncate)
	}
}

// noRecall checks that no CB_RECALL has arrived. Recalls leave from a
// goroutine; a later recall sent over the same back channel slot would
// queue behind an earlier one, so the callers check this after a
// callback they waited for.
func (w *client41) noRecall() {
	w.f.t.Helper()
	select {
	case r := <-w.cb.recalls:
		w.f.t.Fatalf("unexpected CB_RECALL %+v", r)
	default:
	}
}

// RFC 8881 §10.4.4, §18.6, §20.2: another client's OPEN for writing
// recalls a read delegation with CB_RECALL {stateid, fh} and gets
// NFS4ERR_DELAY until the holder's DELEGRETURN; then it succeeds.
func TestDelegReadRecalledByOpen(t *testing.T) {
	f := newFixture(t, "")
	addr := f.listen()
	a, b := f.dial41(addr), f.dial41(addr)
	o, d := a.mustDeleg("oa", "f", accRead, x.OPEN_DELEGATE_READ)

	// Readers share: another client's read open gets its own read
	// delegation.
	if o := b.open("ob", "f", accRead); o.res.Delegation.DelegationType != x.OPEN_DELEGATE_READ {
		t.Fatalf("read open by another client: delegation %v", o.res.Delegation.DelegationType)
	}
	if st := b.openStatus("ob2", "f", accBoth); st != x.NFS4ERR_DELAY {
		t.Fatalf("write open against the read delegation: %v, want NFS4ERR_DELAY", st)
	}
	a.wantRecall(d, o.fh, false)
	if st := b.openStatus("ob2", "f", accBoth); st != x.NFS4ERR_DELAY {
		t.Fatalf("retry before DELEGRETURN: %v", st)
	}
	// The holder reads with its delegation stateid until it returns it.
	res := a.call(opPutfh(o.fh), readArg(d, 0, 10), opDelegreturn(d))
	f.wantStatus(res, x.NFS4_OK, 4)
	a.noRecall()
	if st := b.openStatus("ob2", "f", accBoth); st != x.NFS4_OK {
		t.Fatalf("write open after DELEGRETURN: %v", st)
	}
	if got := f.state.DelegCounters()[f.ns.Exports()[0].ID]; got != (state.DelegCounters{Grants: 2, Recalls: 1, Returns: 1}) {
		t.Errorf("counters %+v", got)
	}
}

// RFC 8881 §10.4.3, §20.1: a GETATTR of size and change by another
// client of a file under a write delegation reports the holder's values,
// asked with CB_GETATTR.
func TestDelegWriteGetattr(t *testing.T) {
	f := newFixture(t, "")
	addr := f.listen()
	a, b := f.dial41(addr), f.dial41(addr)
	o, _ := a.mustDeleg("oa", "f", accBoth, x.OPEN_DELEGATE_WRITE)
	res := a.call(opPutfh(o.fh), opGetattrOf(x.FATTR4_CHANGE, x.FATTR4_SIZE))
	f.wantStatus(res, x.NFS4_OK, 3)
	change0, size0, _, _, err := cbAttrValues(&res.Resarray[2].Opgetattr.Resok4.ObjAttributes)
	if err != nil {
		t.Fatal(err)
	}
	// getattr asks as B, retrying the NFS4ERR_DELAY that a CB_GETATTR
	// slower than cbGetattrWait would cause, and consumes the
	// CB_GETATTRs it caused.
	getattr := func() (uint64, uint64) {
		t.Helper()
		for {
			res := b.call(opPutfh(o.fh), opGetattrOf(x.FATTR4_CHANGE, x.FATTR4_SIZE))
			if lastStatus(res) == x.NFS4ERR_DELAY {
				<-a.cb.getattrs
				continue
			}
			f.wantStatus(res, x.NFS4_OK, 3)
			if ga := <-a.cb.getattrs; string(ga.Fh) != string(o.fh) {
				t.Errorf("CB_GETATTR for fh %x", ga.Fh)
			}
			ch, sz, _, _, err := cbAttrValues(&res.Resarray[2].Opgetattr.Resok4.ObjAttributes)
			if err != nil {
				t.Fatal(err)
			}
			return ch, sz
		}
	}
	// The holder has not written: the server's values.
	a.cb.setAttrs(x.NFS4_OK, change0, 999)
	if ch, sz := getattr(); ch != change0 || sz != size0 {
		t.Errorf("unmodified: change %d size %d, want %d %d", ch, sz, change0, size0)
	}
	// The holder has written 5 bytes it has not sent.
	a.cb.setAttrs(x.NFS4_OK, change0+1, 5)
	if ch, sz := getattr(); ch == change0 || sz != 5 {
		t.Errorf("modified: change %d size %d, want a new change and size 5", ch, sz)
	}
	// The holder's own GETATTR does not call back.
	res = a.call(opPutfh(o.fh), opGetattrOf(x.FATTR4_SIZE))
	f.wantStatus(res, x.NFS4_OK, 3)
	// A holder that cannot answer is recalled; the GETATTR is delayed.
	a.cb.setAttrs(x.NFS4ERR_BADHANDLE, 0, 0)
	res = b.call(opPutfh(o.fh), opGetattrOf(x.FATTR4_SIZE))
	if st := lastStatus(res); st != x.NFS4ERR_DELAY {
		t.Fatalf("GETATTR after a failed CB_GETATTR: %v", st)
	}
	<-a.cb.getattrs
	d, _ := delegOf(o)
	a.wantRecall(d, o.fh, false)
}

// RFC 8881 §10.4.4, §18.25.4, §18.26.4, §18.30.4: REMOVE, RENAME (of
// or over the file), LINK and SETATTR of the size or mode by another
// client recall the delegation and get NFS4ERR_DELAY until it is
// returned.
func TestDelegRecallOnChanges(t *testing.T) {
	size0, mode := uint64(0), uint32(0o600)
	tests := []struct {
		name     string
		truncate bool
		op       func(root []byte, fh []byte) []x.NfsArgop4
	}{
		{"remove", false, func(root, fh []byte) []x.NfsArgop4 {
			return []x.NfsArgop4{opPutfh(root), {Argop: x.OP_REMOVE, Opremove: &x.REMOVE4args{Target: x.Component4("f")}}}
		}},
		{"rename of", false, func(root, fh []byte) []x.NfsArgop4 {
			return []x.NfsArgop4{opPutfh(root), opSavefh(), {Argop: x.OP_RENAME, Oprename: &x.RENAME4args{Oldname: x.Component4("f"), Newname: x.Component4("g")}}}
		}},
		{"rename over", false, func(root, fh []byte) []x.NfsArgop4 {
			return []x.NfsArgop4{opPutfh(root), opSavefh(), {Argop: x.OP_RENAME, Oprename: &x.RENAME4args{Oldname: x.Component4("other"), Newname: x.Component4("f")}}}
		}},
		{"link", false, func(root, fh []byte) []x.NfsArgop4 {
			return []x.NfsArgop4{opPutfh(fh), opSavefh(), opPutfh(root), {Argop: x.OP_LINK, Oplink: &x.LINK4args{Newname: x.Component4("f2")}}}
		}},
		{"setattr size", true, func(root, fh []byte) []x.NfsArgop4 {
			return []x.NfsArgop4{opPutfh(fh), {Argop: x.OP_SETATTR, Opsetattr: &x.SETATTR4args{ObjAttributes: attrs(nil, &size0)}}}
		}},
		{"setattr mode", false, func(root, fh []byte) []x.NfsArgop4 {
			return []x.NfsArgop4{opPutfh(fh), {Argop: x.OP_SETATTR, Opsetattr: &x.SETATTR4args{ObjAttributes: attrs(&mode, nil)}}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "")
			f.seed("other", "", 0o666, 0)
			addr := f.listen()
			a, b := f.dial41(addr), f.dial41(addr)
			o, d := a.mustDeleg("oa", "f", accRead, x.OPEN_DELEGATE_READ)
			f.wantStatus(a.call(opPutfh(o.fh), closeArg(o.sid)), x.NFS4_OK, 3) // the delegation outlives the open
			root := b.call(opPutrootfh(), opGetfh()).Resarray[2].Opgetfh.Resok4.Object
			if st := lastStatus(b.call(tt.op(root, o.fh)...)); st != x.NFS4ERR_DELAY {
				t.Fatalf("%s against a delegation: %v, want NFS4ERR_DELAY", tt.name, st)
			}
			a.wantRecall(d, o.fh, tt.truncate)
			// The holder's own change does not recall.
			f.wantStatus(a.call(opPutfh(o.fh), opGetattrOf(x.FATTR4_SIZE)), x.NFS4_OK, 3)
			f.wantStatus(a.call(opPutfh(o.fh), opDelegreturn(d)), x.NFS4_OK, 3)
			if st := lastStatus(b.call(tt.op(root, o.fh)...)); st != x.NFS4_OK {
				t.Fatalf("%s after DELEGRETURN: %v", tt.name, st)
			}
		})
	}
}

// RFC 8881 §10.4.4 across protocols: an NFSv3 WRITE to a delegated file
// asks the Conflicts checker, is answered NFS3ERR_JUKEBOX while the
// delegation is recalled, and succeeds once it is returned.
func TestDelegNFSv3Write(t *testing.T) {
	f := newFixture(t, "")
	addr := f.listen()
	a := f.dial41(addr)
	o, d := a.mustDeleg("oa", "f", accRead, x.OPEN_DELEGATE_READ)
	v3 := nfs3.New(f.ns, nfs3.Options{Conflicts: f.srv.Conflicts()})
	write := func() nfs3xdr.Nfsstat3 {
		t.Helper()
		args := nfs3xdr.WRITE3args{File: nfs3xdr.NfsFh3{Data: o.fh}, Count: 2, Stable: nfs3xdr.FILE_SYNC, Data: []byte("v3")}
		call := &sunrpc.Call{XID: 1, Prog: nfs3xdr.NFS_PROGRAM, Vers: nfs3xdr.NFS_V3, Proc: nfs3xdr.NFSPROC3_WRITE,
			Args: xdr.Marshal(nil, &args), Transport: "tcp", Remote: f.remote, Local: netip.MustParseAddrPort("127.0.0.1:2049")}
		call.Cred.Flavor = rpcxdr.AUTH_SYS
		var w xdr.Writer
		if st := v3.ServeRPC(context.Background(), call, &w); st != sunrpc.Success {
			t.Fatalf("ServeRPC: %v", st)
		}
		var res nfs3xdr.WRITE3res
		if err := xdr.Unmarshal(w.Bytes(), &res); err != nil {
			t.Fatal(err)
		}
		return res.Status
	}
	if st := write(); st != nfs3xdr.NFS3ERR_JUKEBOX {
		t.Fatalf("NFSv3 WRITE against a delegation: %v, want NFS3ERR_JUKEBOX", st)
	}
	a.wantRecall(d, o.fh, false)
	f.wantStatus(a.call(opPutfh(o.fh), opDelegreturn(d)), x.NFS4_OK, 3)
	if st := write(); st != nfs3xdr.NFS3_OK {
		t.Fatalf("NFSv3 WRITE after DELEGRETURN: %v", st)
	}
	if got := f.content("f"); got != "v3" {
		t.Errorf("content %q", got)
	}
}

// RFC 8881 §10.4.6, §8.2.2, §18.46.3, §18.48, §18.38: a holder that
// does not return a recalled delegation within a lease loses it: the
// conflicting OPEN proceeds, the stateid answers NFS4ERR_DELEG_REVOKED,
// and SEQUENCE carries SEQ4_STATUS_RECALLABLE_STATE_REVOKED until
// FREE_STATEID.
func TestDelegRevokedAfterLease(t *testing.T) {
	f := newFixture(t, "")
	addr := f.listen()
	a, b := f.dial41(addr), f.dial41(addr)
	o, d := a.mustDeleg("oa", "f", accRead, x.OPEN_DELEGATE_READ)
	if st := b.openStatus("ob", "f", accWrite); st != x.NFS4ERR_DELAY {
		t.Fatalf("conflicting open: %v", st)
	}
	a.wantRecall(d, o.fh, false)
	lease := f.state.LeaseTime()
	// Both clients keep their leases; the holder just does not return
	// the delegation.
	for _, step := range []time.Duration{lease / 2, lease / 2} {
		f.clock.Advance(step)
		a.flags()
		b.flags()
	}
	if st := b.openStatus("ob", "f", accWrite); st != x.NFS4ERR_DELAY {
		t.Fatalf("open exactly a lease after the recall: %v", st)
	}
	f.clock.Advance(time.Second)
	a.flags()
	f.srv.tick()
	if st := b.openStatus("ob", "f", accWrite); st != x.NFS4_OK {
		t.Fatalf("open after revocation: %v", st)
	}
	res := a.call(opPutfh(o.fh), readArg(d, 0, 10))
	if st := lastStatus(res); st != x.NFS4ERR_DELEG_REVOKED {
		t.Fatalf("READ with the revoked delegation: %v", st)
	}
	if fl := a.flags(); fl&x.SEQ4_STATUS_RECALLABLE_STATE_REVOKED == 0 {
		t.Fatalf("flags %#x, want RECALLABLE_STATE_REVOKED", fl)
	}
	res = a.call(x.NfsArgop4{Argop: x.OP_TEST_STATEID, OptestStateid: &x.TEST_STATEID4args{TsStateids: []x.Stateid4{d}}})
	f.wantStatus(res, x.NFS4_OK, 2)
	if got := res.Resarray[1].OptestStateid.TsrResok4.TsrStatusCodes; len(got) != 1 || got[0] != x.NFS4ERR_DELEG_REVOKED {
		t.Fatalf("TEST_STATEID %v", got)
	}
	f.wantStatus(a.call(x.NfsArgop4{Argop: x.OP_FREE_STATEID, OpfreeStateid: &x.FREE_STATEID4args{FsaStateid: d}}), x.NFS4_OK, 2)
	if fl := a.flags(); fl&x.SEQ4_STATUS_RECALLABLE_STATE_REVOKED != 0 {
		t.Fatalf("flags %#x after FREE_STATEID", fl)
	}
}

// RFC 8881 §10.2, §18.16.3: delegations are refused, with the why-not
// code of OPEN_DELEGATE_NONE_EXT, when the export or the server turns
// them off, when the client has no back channel, when another client
// writes the file, and for a while after a recall.
func TestDelegPolicyRefusals(t *testing.T) {
	want := uint32(accRead | x.OPEN4_SHARE_ACCESS_WANT_READ_DELEG)
	check := func(t *testing.T, o opened, why x.WhyNoDelegation4) {
		t.Helper()
		d := o.res.Delegation
		if d.DelegationType != x.OPEN_DELEGATE_NONE_EXT || d.OdWhynone.OndWhy != why {
			t.Fatalf("delegation %v %v, want OPEN_DELEGATE_NONE_EXT %v", d.DelegationType, d.OdWhynone.OndWhy, why)
		}
	}
	t.Run("export nodelegations", func(t *testing.T) {
		f := newFixture(t, "/ *(rw,no_root_squash,insecure,nodelegations)\n")
		a := f.dial41(f.listen())
		check(t, a.open("oa", "f", want), x.WND4_RESOURCE)
	})
	t.Run("switched off", func(t *testing.T) {
		f := newFixture(t, "")
		a := f.dial41(f.listen())
		f.state.SetDelegations(false)
		check(t, a.open("oa", "f", want), x.WND4_RESOURCE)
	})
	t.Run("no back channel", func(t *testing.T) {
		f := newFixture(t, "")
		s := f.newSession(root)
		check(t, s.open(createName("o", "f", want, denyNone, 0o666)), x.WND4_RESOURCE)
	})
	t.Run("another client writes", func(t *testing.T) {
		f := newFixture(t, "")
		addr := f.listen()
		a, b := f.dial41(addr), f.dial41(addr)
		b.open("ob", "f", accWrite|x.OPEN4_SHARE_ACCESS_WANT_NO_DELEG)
		check(t, a.open("oa", "f", want), x.WND4_CONTENTION)
	})
	t.Run("cool-down after a recall", func(t *testing.T) {
		f := newFixture(t, "")
		addr := f.listen()
		a, b := f.dial41(addr), f.dial41(addr)
		o, d := a.mustDeleg("oa", "f", accRead, x.OPEN_DELEGATE_READ)
		b.openStatus("ob", "f", accWrite)
		a.wantRecall(d, o.fh, false)
		f.wantStatus(a.call(opPutfh(o.fh), opDelegreturn(d)), x.NFS4_OK, 3)
		check(t, a.open("oa", "f", want), x.WND4_CONTENTION)
	})
}

// RFC 8881 §18.49: WANT_DELEGATION gives a delegation without an OPEN,
// under the same policy; §18.39: no directory delegations.
func TestWantDelegation(t *testing.T) {
	f := newFixture(t, "")
	f.seed("f", "x", 0o666, 0)
	addr := f.listen()
	a := f.dial41(addr)
	fh := a.call(opPutrootfh(), opLookup("f"), opGetfh()).Resarray[3].Opgetfh.Resok4.Object
	claimFH := x.DelegClaim4{DcClaim: x.CLAIM_FH}

	res := a.call(opPutfh(fh), opWantDeleg(x.OPEN4_SHARE_ACCESS_WANT_READ_DELEG, claimFH))
	f.wantStatus(res, x.NFS4_OK, 3)
	d := res.Resarray[2].OpwantDelegation.WdrResok4
	if d.DelegationType != x.OPEN_DELEGATE_READ {
		t.Fatalf("WANT_DELEGATION: %v %v", d.DelegationType, d.OdWhynone.OndWhy)
	}
	f.wantStatus(a.call(opPutfh(fh), opDelegreturn(d.Read.Stateid)), x.NFS4_OK, 3)

	tests := []struct {
		name  string
		dir   bool
		want  uint32
		claim x.DelegClaim4
		st    x.Nfsstat4
		why   x.WhyNoDelegation4
	}{
		{name: "no preference", want: x.OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE, claim: claimFH, st: x.NFS4ERR_INVAL},
		{name: "undefined want", want: 0x0600, claim: claimFH, st: x.NFS4ERR_INVAL},
		{name: "no delegation", want: x.OPEN4_SHARE_ACCESS_WANT_NO_DELEG, claim: claimFH, why: x.WND4_NOT_WANTED},
		{name: "directory", dir: true, want: x.OPEN4_SHARE_ACCESS_WANT_ANY_DELEG, claim: claimFH, why: x.WND4_IS_DIR},
		{name: "deleg_prev_fh", want: x.OPEN4_SHARE_ACCESS_WANT_READ_DELEG, claim: x.DelegClaim4{DcClaim: x.CLAIM_DELEG_PREV_FH}, st: x.NFS4ERR_NOTSUPP},
		{name: "previous outside grace", want: x.OPEN4_SHARE_ACCESS_WANT_READ_DELEG,
			claim: x.DelegClaim4{DcClaim: x.CLAIM_PREVIOUS, DcDelegateType: x.OPEN_DELEGATE_READ}, st: x.NFS4ERR_NO_GRACE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := opPutfh(fh)
			if tt.dir {
				target = opPutrootfh()
			}
			res := a.call(target, opWantDeleg(tt.want, tt.claim))
			if st := lastStatus(res); st != tt.st {
				t.Fatalf("status %v, want %v", st, tt.st)
			}
			if tt.st != x.NFS4_OK {
				return
			}
			if d := res.Resarray[2].OpwantDelegation.WdrResok4; d.DelegationType != x.OPEN_DELEGATE_NONE_EXT || d.OdWhynone.OndWhy != tt.why {
				t.Fatalf("delegation %v %v, want NONE_EXT %v", d.DelegationType, d.OdWhynone.OndWhy, tt.why)
			}
		})
	}
	res = a.call(opPutrootfh(), x.NfsArgop4{Argop: x.OP_GET_DIR_DELEGATION, OpgetDirDelegation: &x.GET_DIR_DELEGATION4args{}})
	if st := lastStatus(res); st != x.NFS4ERR_DIRDELEG_UNAVAIL {
		t.Fatalf("GET_DIR_DELEGATION: %v", st)
	}
}

// RFC 8881 §18.16.3: the holder opens under its delegation with
// CLAIM_DELEG_CUR_FH or CLAIM_DELEGATE_CUR while returning it; the
// stateid must be its delegation of that file.
func TestOpenClaimDelegCur(t *testing.T) {
	f := newFixture(t, "")
	addr := f.listen()
	a, b := f.dial41(addr), f.dial41(addr)
	o, d := a.mustDeleg("oa", "f", accBoth, x.OPEN_DELEGATE_WRITE)
	o2, _ := a.mustDeleg("oa", "g", accBoth, x.OPEN_DELEGATE_WRITE)
	if st := b.openStatus("ob", "f", accRead); st != x.NFS4ERR_DELAY {
		t.Fatalf("conflicting open: %v", st)
	}
	a.wantRecall(d, o.fh, false)
	curFH := func(sid x.Stateid4) x.OpenClaim4 {
		return x.OpenClaim4{Claim: x.CLAIM_DELEG_CUR_FH, OcDelegateStateid: sid}
	}
	res := a.call(opPutfh(o.fh), openArg("local", accRead, denyNone, noCreate, curFH(d)))
	f.wantStatus(res, x.NFS4_OK, 3)
	res = a.call(opPutrootfh(), openArg("local2", accWrite, denyNone, noCreate, x.OpenClaim4{Claim: x.CLAIM_DELEGATE_CUR,
		DelegateCurInfo: x.OpenClaimDelegateCur4{DelegateStateid: d, File: x.Component4("f")}}))
	f.wantStatus(res, x.NFS4_OK, 3)
	d2, _ := delegOf(o2)
	res = a.call(opPutfh(o.fh), openArg("local3", accRead, denyNone, noCreate, curFH(d2)))
	if st := lastStatus(res); st != x.NFS4ERR_BAD_STATEID {
		t.Fatalf("claim with the delegation of another file: %v", st)
	}
	res = b.call(opPutfh(o.fh), openArg("thief", accRead, denyNone, noCreate, curFH(d)))
	if st := lastStatus(res); st != x.NFS4ERR_BAD_STATEID {
		t.Fatalf("claim with another client's delegation: %v", st)
	}
}

// NLM asks Conflicts before granting a lock (nlm.Delegations): an
// exclusive lock recalls every delegation, a shared one only write
// delegations.
func TestDelegConflictsForLock(t *testing.T) {
	f := newFixture(t, "")
	addr := f.listen()
	a := f.dial41(addr)
	or, dr := a.mustDeleg("oa", "r", accRead, x.OPEN_DELEGATE_READ)
	ow, dw := a.mustDeleg("oa", "w", accBoth, x.OPEN_DELEGATE_WRITE)
	k := f.srv.Conflicts()
	if err := k.RecallForLock(nlm.FileKey(f.ns.Exports()[0], mustResolve(f, or.fh)), false); err != nil {
		t.Fatalf("shared lock against a read delegation: %v", err)
	}
	if err := k.RecallForLock(nlm.FileKey(f.ns.Exports()[0], mustResolve(f, ow.fh)), false); err != ErrRecallPending {
		t.Fatalf("shared lock against a write delegation: %v", err)
	}
	a.wantRecall(dw, ow.fh, false)
	if err := k.RecallForLock(nlm.FileKey(f.ns.Exports()[0], mustResolve(f, or.fh)), true); err != ErrRecallPending {
		t.Fatalf("exclusive lock against a read delegation: %v", err)
	}
	a.wantRecall(dr, or.fh, false)
}

// RFC 8881 §20.9.3, RFC 7862 §1.4: callbacks carry the minor version of
// the client's session, which answers another one
// NFS4ERR_MINOR_VERS_MISMATCH.
func TestDelegCallbackMinorVersion(t *testing.T) {
	f := newFixture(t, "")
	addr := f.listen()
	for _, minor := range []uint32{1, 2} {
		a, b := f.dialMinor(addr, minor), f.dialMinor(addr, 1)
		name := fmt.Sprintf("f%d", minor)
		o, d := a.mustDeleg("oa", name, accRead, x.OPEN_DELEGATE_READ)
		if st := b.openStatus("ob", name, accWrite); st != x.NFS4ERR_DELAY {
			t.Fatalf("conflicting open: %v", st)
		}
		a.wantRecall(d, o.fh, false)
		if got := a.cb.minor.Load(); got != minor {
			t.Errorf("CB_COMPOUND minor version %d to a client of minor version %d", got, minor)
		}
	}
}
