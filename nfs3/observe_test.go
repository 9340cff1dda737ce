package nfs3

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonfs/gonfs/debuglog"
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// opRecord is one Recorder.Op call.
type opRecord struct {
	ver, minor, op uint32
	status         int32
	client         netip.Addr
	export         uint32
}

type fakeRecorder struct {
	mu  sync.Mutex
	ops []opRecord
}

func (r *fakeRecorder) Op(ver, minor, op uint32, status int32, d time.Duration, client netip.Addr, export uint32) {
	if d < 0 {
		panic("negative duration")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, opRecord{ver, minor, op, status, client, export})
}

func (r *fakeRecorder) take() []opRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	ops := r.ops
	r.ops = nil
	return ops
}

// The Recorder gets the status the client was sent on every path,
// including those that set it without going through status().
func TestRecorder(t *testing.T) {
	rec := &fakeRecorder{}
	e := newEnvOpts(t, Options{Recorder: rec})
	u := e.user()
	root := e.root["/rw"]
	fh := u.create(root, "f", 0o644)
	rec.take()
	bad := nfs3xdr.NfsFh3{Data: bytes.Repeat([]byte{7}, 40)}

	tests := []struct {
		name   string
		proc   uint32
		args   xdr.Marshaler
		want   nfs3xdr.Nfsstat3
		export uint32
	}{
		{"NULL", nfs3xdr.NFSPROC3_NULL, nil, nfs3xdr.NFS3_OK, ^uint32(0)},
		{"GETATTR", nfs3xdr.NFSPROC3_GETATTR, &nfs3xdr.GETATTR3args{Object: fh}, nfs3xdr.NFS3_OK, 1},
		{"LOOKUP missing", nfs3xdr.NFSPROC3_LOOKUP, &nfs3xdr.LOOKUP3args{What: diropargs(root, "nope")}, nfs3xdr.NFS3ERR_NOENT, 1},
		{"GETATTR forged handle", nfs3xdr.NFSPROC3_GETATTR, &nfs3xdr.GETATTR3args{Object: bad}, nfs3xdr.NFS3ERR_BADHANDLE, ^uint32(0)},
		{"SETATTR guard mismatch", nfs3xdr.NFSPROC3_SETATTR, &nfs3xdr.SETATTR3args{Object: fh,
			Guard: nfs3xdr.Sattrguard3{Check: true, ObjCtime: nfs3xdr.Nfstime3{Seconds: 1}}}, nfs3xdr.NFS3ERR_NOT_SYNC, 1},
		{"READDIR too small", nfs3xdr.NFSPROC3_READDIR, &nfs3xdr.READDIR3args{Dir: root, Count: 1}, nfs3xdr.NFS3ERR_TOOSMALL, 1},
		{"READ", nfs3xdr.NFSPROC3_READ, &nfs3xdr.READ3args{File: fh, Count: 10}, nfs3xdr.NFS3_OK, 1},
	}
	for _, tt := range tests {
		var args []byte
		if tt.args != nil {
			args = xdr.Marshal(nil, tt.args)
		}
		st, body := u.raw(tt.proc, args)
		if st != sunrpc.Success {
			t.Fatalf("%s: RPC status %v", tt.name, st)
		}
		if tt.proc != nfs3xdr.NFSPROC3_NULL {
			if got, _ := decodeReply(tt.proc, body); got != tt.want {
				t.Fatalf("%s: sent %v, test expects %v", tt.name, got, tt.want)
			}
		}
		want := opRecord{3, 0, tt.proc, int32(tt.want), testRemote.Addr(), tt.export}
		if got := rec.take(); len(got) != 1 || got[0] != want {
			t.Errorf("%s: recorded %+v, want [%+v]", tt.name, got, want)
		}
	}

	// Calls answered with an RPC error have no nfsstat3 to record.
	if st, _ := u.raw(nfs3xdr.NFSPROC3_GETATTR, []byte{1, 2}); st != sunrpc.GarbageArgs {
		t.Fatalf("garbage arguments: %v", st)
	}
	if st, _ := u.raw(99, nil); st != sunrpc.ProcUnavail {
		t.Fatalf("procedure 99: %v", st)
	}
	if got := rec.take(); len(got) != 0 {
		t.Errorf("RPC errors recorded as operations: %+v", got)
	}
}

// The nfs3 debug switch turns the per-request and per-failure lines on and
// off while the server runs.
func TestDebugSwitch(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	sw := new(debuglog.Switches)
	inner := slog.NewTextHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelInfo})
	log := slog.New(debuglog.NewHandler(inner, sw)).With("sub", "nfs3")
	e := newEnvOpts(t, Options{Logger: log})
	u := e.user()
	root := e.root["/rw"]
	lookupMissing := func() {
		var res nfs3xdr.LOOKUP3res
		u.call(nfs3xdr.NFSPROC3_LOOKUP, &nfs3xdr.LOOKUP3args{What: diropargs(root, "nope")}, &res)
		must(t, "LOOKUP", res.Status, nfs3xdr.NFS3ERR_NOENT)
	}
	output := func() string {
		mu.Lock()
		defer mu.Unlock()
		s := buf.String()
		buf.Reset()
		return s
	}

	lookupMissing()
	if out := output(); out != "" {
		t.Errorf("switch off, yet logged:\n%s", out)
	}

	sw.Set(debuglog.NFS3)
	lookupMissing()
	u.getattr(root)
	out := output()
	for _, want := range []string{
		`msg="nfs3: procedure failed" sub=nfs3 xid=0x1 client=127.0.0.1:40000 op=LOOKUP status=NFS3ERR_NOENT err=`,
		`msg="nfs3: request" sub=nfs3 xid=0x1 client=127.0.0.1:40000 op=LOOKUP status=NFS3ERR_NOENT`,
		`msg="nfs3: request" sub=nfs3 xid=0x1 client=127.0.0.1:40000 op=GETATTR status=NFS3_OK`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("switch on: no line with %q in\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n"); n != 3 {
		t.Errorf("switch on: %d lines, want 3:\n%s", n, out)
	}

	sw.Clear(debuglog.NFS3)
	lookupMissing()
	if out := output(); out != "" {
		t.Errorf("switch off again, yet logged:\n%s", out)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// The observability hook costs no allocation per request when the
// recorder does not allocate and the debug switch is off.
func TestObserveAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	e := newEnvOpts(t, Options{Recorder: nopRecorder{},
		Logger: slog.New(debuglog.NewHandler(slog.DiscardHandler, new(debuglog.Switches))).With("sub", "nfs3")})
	u := e.user()
	fh := u.create(e.root["/rw"], "f", 0o644)
	call := &sunrpc.Call{Prog: nfs3xdr.NFS_PROGRAM, Vers: nfs3xdr.NFS_V3, Proc: nfs3xdr.NFSPROC3_GETATTR,
		Cred: u.cred, Remote: u.remote, Transport: "tcp", Args: xdr.Marshal(nil, &nfs3xdr.GETATTR3args{Object: fh})}
	w := xdr.Writer{Buf: make([]byte, 0, 4096)}
	ctx := context.Background()
	run := func() {
		w.Buf = w.Buf[:0]
		e.srv.ServeRPC(ctx, call, &w)
	}
	run()
	withHook := testing.AllocsPerRun(200, run)
	e.srv.rec, e.srv.log = nil, slog.New(slog.DiscardHandler)
	without := testing.AllocsPerRun(200, run)
	if withHook != without {
		t.Errorf("GETATTR allocates %v times with the hook, %v without", withHook, without)
	}
}

type nopRecorder struct{}

func (nopRecorder) Op(uint32, uint32, uint32, int32, time.Duration, netip.Addr, uint32) {}
