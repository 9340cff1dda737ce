package server_test

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gonfs/gonfs/debuglog"
	"github.com/gonfs/gonfs/exports"
	"github.com/gonfs/gonfs/metrics"
	"github.com/gonfs/gonfs/proto/mountxdr"
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/server"
	"github.com/gonfs/gonfs/stats"
	"github.com/gonfs/gonfs/sunrpc"
)

// syncBuffer is a log destination shared by the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// take returns what was logged since the last take.
func (s *syncBuffer) take() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.b.String()
	s.b.Reset()
	return out
}

// observed is a running server over a fresh directory holding the file
// "present", with its log in a buffer and an RPC client.
type observed struct {
	srv  *server.Server
	log  *syncBuffer
	clnt *sunrpc.Client
	root nfs3xdr.NfsFh3
}

func startObserved(t *testing.T, level slog.Level) *observed {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "present"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := &observed{log: &syncBuffer{}}
	srv, err := server.New(server.Options{
		Exports:  exports.Default(dir),
		Listen:   "127.0.0.1:0",
		StateDir: t.TempDir(),
		Portmap:  "off",
		Logger:   slog.New(slog.NewTextHandler(o.log, &slog.HandlerOptions{Level: level})),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	o.srv = srv
	o.clnt, err = sunrpc.Dial(context.Background(), "tcp", srv.Addr().String(), sunrpc.ClientOptions{Auth: sysCred})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.clnt.Close() })
	return o
}

// mount calls MOUNT MNT of "/" and keeps the root handle.
func (o *observed) mount(t *testing.T) {
	t.Helper()
	path := mountxdr.Dirpath("/")
	var res mountxdr.Mountres3
	if err := o.clnt.Call(context.Background(), mountxdr.MOUNT_PROGRAM, mountxdr.MOUNT_V3, mountxdr.MOUNTPROC3_MNT, &path, &res); err != nil {
		t.Fatal(err)
	}
	if res.FhsStatus != mountxdr.MNT3_OK {
		t.Fatalf("MNT /: %v", res.FhsStatus)
	}
	o.root = nfs3xdr.NfsFh3{Data: res.Mountinfo.Fhandle}
}

func (o *observed) getattr(t *testing.T) {
	t.Helper()
	var res nfs3xdr.GETATTR3res
	if err := o.clnt.Call(context.Background(), nfs3xdr.NFS_PROGRAM, nfs3xdr.NFS_V3, nfs3xdr.NFSPROC3_GETATTR,
		&nfs3xdr.GETATTR3args{Object: o.root}, &res); err != nil {
		t.Fatal(err)
	}
	if res.Status != nfs3xdr.NFS3_OK {
		t.Fatalf("GETATTR /: %v", res.Status)
	}
}

func (o *observed) lookup(t *testing.T, name string, want nfs3xdr.Nfsstat3) {
	t.Helper()
	var res nfs3xdr.LOOKUP3res
	if err := o.clnt.Call(context.Background(), nfs3xdr.NFS_PROGRAM, nfs3xdr.NFS_V3, nfs3xdr.NFSPROC3_LOOKUP,
		&nfs3xdr.LOOKUP3args{What: nfs3xdr.Diropargs3{Dir: o.root, Name: nfs3xdr.Filename3(name)}}, &res); err != nil {
		t.Fatal(err)
	}
	if res.Status != want {
		t.Fatalf("LOOKUP %s: %v, want %v", name, res.Status, want)
	}
}

// A scripted sequence of calls through a real server gives exact counts,
// at the RPC level and per NFS operation, per client and per export; the
// Prometheus scrape of the same server agrees.
func TestStatsThroughServer(t *testing.T) {
	o := startObserved(t, slog.LevelInfo)
	ctx := context.Background()
	if err := o.clnt.Call(ctx, nfs3xdr.NFS_PROGRAM, nfs3xdr.NFS_V3, nfs3xdr.NFSPROC3_NULL, nil, nil); err != nil {
		t.Fatal(err)
	}
	o.mount(t)
	o.getattr(t)
	o.getattr(t)
	o.lookup(t, "present", nfs3xdr.NFS3_OK)
	o.lookup(t, "absent", nfs3xdr.NFS3ERR_NOENT)
	o.lookup(t, "absent", nfs3xdr.NFS3ERR_NOENT)
	err := o.clnt.Call(ctx, nfs3xdr.NFS_PROGRAM, nfs3xdr.NFS_V3, 99, nil, nil)
	wantAccept(t, err, "procedure 99", 3) // PROC_UNAVAIL

	snap := o.srv.Stats().Snapshot()
	if want := (stats.RPCTotals{Calls: 8, BadCalls: 1, BadFmt: 1}); snap.RPC != want {
		t.Errorf("RPC totals %+v, want %+v", snap.RPC, want)
	}
	rpcWant := []struct {
		prog, vers, proc uint32
		st               stats.RPCStatus
		n                uint64
	}{
		{nfs3xdr.NFS_PROGRAM, 3, nfs3xdr.NFSPROC3_NULL, stats.RPCSuccess, 1},
		{mountxdr.MOUNT_PROGRAM, 3, mountxdr.MOUNTPROC3_MNT, stats.RPCSuccess, 1},
		{nfs3xdr.NFS_PROGRAM, 3, nfs3xdr.NFSPROC3_GETATTR, stats.RPCSuccess, 2},
		{nfs3xdr.NFS_PROGRAM, 3, nfs3xdr.NFSPROC3_LOOKUP, stats.RPCSuccess, 3},
		{nfs3xdr.NFS_PROGRAM, 3, stats.OtherProc, stats.RPCProcUnavail, 1}, // 99 is beyond MaxProc
	}
	for _, w := range rpcWant {
		var got uint64
		if p := snap.Program(w.prog, w.vers); p != nil && p.Proc(w.proc) != nil {
			got = p.Proc(w.proc).Status[w.st]
		}
		if got != w.n {
			t.Errorf("%s %s %v: %d, want %d", stats.ProgramName(w.prog), stats.ProcName(w.prog, w.vers, w.proc), w.st, got, w.n)
		}
	}

	v3 := snap.Version(3, 0)
	if v3 == nil {
		t.Fatal("no NFSv3 operations counted")
	}
	opWant := []struct {
		op uint32
		st nfs3xdr.Nfsstat3
		n  uint64
	}{
		{nfs3xdr.NFSPROC3_NULL, nfs3xdr.NFS3_OK, 1},
		{nfs3xdr.NFSPROC3_GETATTR, nfs3xdr.NFS3_OK, 2},
		{nfs3xdr.NFSPROC3_LOOKUP, nfs3xdr.NFS3_OK, 1},
		{nfs3xdr.NFSPROC3_LOOKUP, nfs3xdr.NFS3ERR_NOENT, 2},
	}
	var ops uint64
	for _, w := range opWant {
		ops += w.n
		var got uint64
		if o := v3.Op(w.op); o != nil {
			got = o.StatusCount(int32(w.st))
		}
		if got != w.n {
			t.Errorf("v3 %s %v: %d, want %d", stats.OpName(3, w.op), w.st, got, w.n)
		}
	}
	if len(v3.Errors) != 1 || v3.Errors[0] != (stats.StatusCount{Status: int32(nfs3xdr.NFS3ERR_NOENT), Count: 2}) {
		t.Errorf("v3 errors %+v, want NFS3ERR_NOENT 2", v3.Errors)
	}
	if len(snap.Clients) != 1 || snap.Clients[0].Calls != 8 || snap.Clients[0].Ops != ops || snap.Clients[0].OpErrors != 2 ||
		!snap.Clients[0].Addr.IsLoopback() {
		t.Errorf("clients %+v, want one loopback client with 8 calls, %d ops, 2 errors", snap.Clients, ops)
	}
	exp := o.srv.Namespace().Exports()[0]
	if len(snap.Exports) != 1 || snap.Exports[0].ID != exp.ID || snap.Exports[0].Ops != 5 || snap.Exports[0].Errors != 2 {
		t.Errorf("exports %+v, want export %d with 5 ops (NULL has no file), 2 errors", snap.Exports, exp.ID)
	}

	var table bytes.Buffer
	if err := stats.FormatNFSStat(&table, snap); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"calls      badcalls   badfmt     badauth    badclnt\n8          1          1          0          0       \n",
		"null         getattr      setattr      lookup       access       readlink     \n" +
			"1        16% 2        33% 0         0% 3        50% 0         0% 0         0% \n",
	} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("nfsstat output lacks %q:\n%s", want, table.String())
		}
	}

	// The Prometheus view of the same server.
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewCollector(o.srv.Stats(), metrics.Options{}))
	mctx, cancel := context.WithCancel(ctx)
	l, err := metrics.Serve(mctx, "127.0.0.1:0", reg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		l.Wait()
	}()
	resp, err := http.Get("http://" + l.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := map[string]bool{}
	for sc := bufio.NewScanner(resp.Body); sc.Scan(); {
		lines[sc.Text()] = true
	}
	for _, want := range []string{
		`gonfs_nfs_ops_total{op="lookup",status="NFS3ERR_NOENT",version="3"} 2`,
		`gonfs_nfs_ops_total{op="lookup",status="NFS3_OK",version="3"} 1`,
		`gonfs_rpc_calls_total{procedure="mnt",program="mountd",status="SUCCESS",version="3"} 1`,
		`gonfs_rpc_calls_total{procedure="other",program="nfs",status="PROC_UNAVAIL",version="3"} 1`,
	} {
		if !lines[want] {
			t.Errorf("scrape lacks %s", want)
		}
	}
}

// The server's debug switches change what its loggers write while it
// runs, without a restart.
func TestDebugSwitchesThroughServer(t *testing.T) {
	o := startObserved(t, slog.LevelInfo)
	o.mount(t)
	sw := o.srv.Debug()
	if sw.String() != "" {
		t.Fatalf("switches %q at Info level, want all off", sw.String())
	}
	o.log.take()

	o.lookup(t, "absent", nfs3xdr.NFS3ERR_NOENT)
	if out := o.log.take(); strings.Contains(out, "level=DEBUG") {
		t.Errorf("nfs3 switch off, yet debug lines:\n%s", out)
	}

	sw.Set(debuglog.NFS3)
	o.lookup(t, "absent", nfs3xdr.NFS3ERR_NOENT)
	out := o.log.take()
	for _, want := range []string{`msg="nfs3: procedure failed"`, `msg="nfs3: request"`, "status=NFS3ERR_NOENT", "op=LOOKUP"} {
		if !strings.Contains(out, want) {
			t.Errorf("nfs3 switch on: no %q in\n%s", want, out)
		}
	}

	sw.Clear(debuglog.NFS3)
	o.lookup(t, "absent", nfs3xdr.NFS3ERR_NOENT)
	if out := o.log.take(); strings.Contains(out, "level=DEBUG") {
		t.Errorf("nfs3 switch off again, yet debug lines:\n%s", out)
	}
}

// A logger enabled at Debug level starts with every switch on, so
// `--log-level debug` keeps meaning "everything".
func TestDebugLevelTurnsSwitchesOn(t *testing.T) {
	o := startObserved(t, slog.LevelDebug)
	if got := len(o.srv.Debug().On()); got != len(debuglog.Subsystems()) {
		t.Errorf("%d switches on at Debug level, want all %d", got, len(debuglog.Subsystems()))
	}
}
