package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gonfs/gonfs/admin"
	"github.com/gonfs/gonfs/exports"
	"github.com/gonfs/gonfs/proto/mountxdr"
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/server"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/trace"
	"github.com/gonfs/gonfs/xdr"
)

// fixture is a running server with an exports file and an RPC client.
type fixture struct {
	srv       *server.Server
	dir, dir2 string
	file      string
	ctl       admin.Client
	clnt      *sunrpc.Client
	root      nfs3xdr.NfsFh3
}

func writeExports(t *testing.T, file, text string) {
	t.Helper()
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func start(t *testing.T) *fixture {
	t.Helper()
	tmp := t.TempDir()
	f := &fixture{dir: filepath.Join(tmp, "a"), dir2: filepath.Join(tmp, "b"), file: filepath.Join(tmp, "exports")}
	for _, d := range []string{f.dir, f.dir2} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeExports(t, f.file, f.dir+" 127.0.0.0/8(rw,insecure)\n")
	table, err := exports.ParseFile(f.file)
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(tmp, "state")
	sock := filepath.Join(tmp, "admin.sock")
	f.srv, err = server.New(server.Options{Exports: table, ExportsFile: f.file, Listen: "127.0.0.1:0",
		StateDir: state, Portmap: "off", AdminSocket: sock})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := f.srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if _, err := os.Stat(sock); !os.IsNotExist(err) {
			t.Errorf("admin socket left behind: %v", err)
		}
	})
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin socket %v, %v: want mode 0600", fi, err)
	}
	f.ctl = admin.Client{Socket: sock}
	f.clnt, err = sunrpc.Dial(context.Background(), "tcp", f.srv.Addr().String(),
		sunrpc.ClientOptions{Auth: &rpcxdr.AuthsysParms{Machinename: "ctl-test", Uid: 1000, Gid: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.clnt.Close() })
	return f
}

// do runs a command as `gonfs ctl` does: the request, then both the JSON
// reply (decoded into v) and the table.
func (f *fixture) do(t *testing.T, req admin.Request, v any) string {
	t.Helper()
	data, err := f.ctl.Do(context.Background(), req)
	if err != nil {
		t.Fatalf("%s %v: %v", req.Cmd, req.Args, err)
	}
	if v != nil {
		if err := json.Unmarshal(data, v); err != nil {
			t.Fatalf("%s: %v", req.Cmd, err)
		}
	}
	var out bytes.Buffer
	if err := admin.Render(&out, req.Cmd, data); err != nil {
		t.Fatalf("render %s: %v", req.Cmd, err)
	}
	return out.String()
}

func (f *fixture) mount(t *testing.T, path string) mountxdr.Mountstat3 {
	t.Helper()
	p := mountxdr.Dirpath(path)
	var res mountxdr.Mountres3
	if err := f.clnt.Call(context.Background(), mountxdr.MOUNT_PROGRAM, mountxdr.MOUNT_V3, mountxdr.MOUNTPROC3_MNT, &p, &res); err != nil {
		t.Fatal(err)
	}
	if res.FhsStatus == mountxdr.MNT3_OK {
		f.root = nfs3xdr.NfsFh3{Data: res.Mountinfo.Fhandle}
	}
	return res.FhsStatus
}

func (f *fixture) getattr(t *testing.T) nfs3xdr.Nfsstat3 {
	t.Helper()
	var res nfs3xdr.GETATTR3res
	if err := f.clnt.Call(context.Background(), nfs3xdr.NFS_PROGRAM, nfs3xdr.NFS_V3, nfs3xdr.NFSPROC3_GETATTR,
		&nfs3xdr.GETATTR3args{Object: f.root}, &res); err != nil {
		t.Fatal(err)
	}
	return res.Status
}

// raw is an already encoded argument or result body.
type raw []byte

func (r raw) Encode(w *xdr.Writer) { w.Buf = append(w.Buf, r...) }
func (r *raw) Decode(x *xdr.Reader) {
	*r = append((*r)[:0], x.Rest()...)
	x.Skip(len(*r))
}

// compound sends one NFSv4.1 COMPOUND with a single operation and decodes
// its result into res (RFC 8881 §16.2).
func (f *fixture) compound(t *testing.T, op uint32, args xdr.Marshaler, res xdr.Unmarshaler) {
	t.Helper()
	var w xdr.Writer
	w.Opaque(nil) // tag
	w.Uint32(1)   // minor version
	w.Uint32(1)
	w.Uint32(op)
	args.Encode(&w)
	var reply raw
	if err := f.clnt.Call(context.Background(), nfs4xdr.NFS4_PROGRAM, nfs4xdr.NFS_V4, 1, raw(w.Buf), &reply); err != nil {
		t.Fatal(err)
	}
	r := xdr.NewReader(reply)
	status := r.Uint32()
	r.Opaque(1024)
	if n, got := r.Uint32(), r.Uint32(); status != 0 || n != 1 || got != op {
		t.Fatalf("COMPOUND op %d: status %d, %d results, op %d", op, status, n, got)
	}
	res.Decode(r)
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
}

// v4client makes an NFSv4.1 client with a session (EXCHANGE_ID,
// CREATE_SESSION; RFC 8881 §18.35, §18.36) and returns its client ID.
func (f *fixture) v4client(t *testing.T, owner string) uint64 {
	t.Helper()
	var ex nfs4xdr.EXCHANGE_ID4res
	f.compound(t, uint32(nfs4xdr.OP_EXCHANGE_ID), &nfs4xdr.EXCHANGE_ID4args{
		EiaClientowner: nfs4xdr.ClientOwner4{CoVerifier: nfs4xdr.Verifier4{1, 2, 3}, CoOwnerid: []byte(owner)},
		EiaFlags:       nfs4xdr.EXCHGID4_FLAG_USE_NON_PNFS,
	}, &ex)
	if ex.EirStatus != nfs4xdr.NFS4_OK {
		t.Fatalf("EXCHANGE_ID: %v", ex.EirStatus)
	}
	attrs := nfs4xdr.ChannelAttrs4{CaMaxrequestsize: 1 << 20, CaMaxresponsesize: 1 << 20, CaMaxresponsesizeCached: 4096,
		CaMaxoperations: 16, CaMaxrequests: 4}
	var cs nfs4xdr.CREATE_SESSION4res
	f.compound(t, uint32(nfs4xdr.OP_CREATE_SESSION), &nfs4xdr.CREATE_SESSION4args{
		CsaClientid: ex.EirResok4.EirClientid, CsaSequence: ex.EirResok4.EirSequenceid,
		CsaForeChanAttrs: attrs, CsaBackChanAttrs: attrs, CsaCbProgram: 0x40000000,
		CsaSecParms: []nfs4xdr.CallbackSecParms4{{CbSecflavor: 0}},
	}, &cs)
	if cs.CsrStatus != nfs4xdr.NFS4_OK {
		t.Fatalf("CREATE_SESSION: %v", cs.CsrStatus)
	}
	return uint64(ex.EirResok4.EirClientid)
}

// TestEndToEnd drives every ctl command against a running server.
func TestEndToEnd(t *testing.T) {
	f := start(t)
	if st := f.mount(t, f.dir); st != mountxdr.MNT3_OK {
		t.Fatalf("MNT: %v", st)
	}
	if st := f.getattr(t); st != nfs3xdr.NFS3_OK {
		t.Fatalf("GETATTR: %v", st)
	}
	id := f.v4client(t, "ctl-test-owner\x01")
	idHex := fmt.Sprintf("%016x", id)

	t.Run("exports", func(t *testing.T) {
		var r admin.ExportsReply
		out := f.do(t, admin.Request{Cmd: admin.CmdExports}, &r)
		if len(r.Exports) != 1 || r.Exports[0].Path != f.dir || r.Exports[0].Rules[0].Client != "127.0.0.0/8" ||
			!strings.Contains(r.Table, f.dir) || !strings.Contains(out, f.dir) {
			t.Fatalf("exports: %+v\n%s", r, out)
		}
	})
	t.Run("clients", func(t *testing.T) {
		var r admin.ClientsReply
		out := f.do(t, admin.Request{Cmd: admin.CmdClients}, &r)
		if !r.NFS4.Available || len(r.NFS4.Clients) != 1 {
			t.Fatalf("clients: %+v", r)
		}
		c := r.NFS4.Clients[0]
		if c.ID != idHex || c.Owner != `"ctl-test-owner\x01"` || c.Lease != "active" || c.Sessions != 1 ||
			len(c.Verifiers) != 1 || len(c.Addrs) != 1 {
			t.Fatalf("client %+v", c)
		}
		if !strings.Contains(out, idHex) || !strings.Contains(out, "NLM hosts") {
			t.Fatalf("table:\n%s", out)
		}
	})
	t.Run("sessions", func(t *testing.T) {
		var r admin.SessionsReply
		f.do(t, admin.Request{Cmd: admin.CmdSessions}, &r)
		if !r.Available || len(r.Sessions) != 1 || r.Sessions[0].Client != idHex || r.Sessions[0].MaxOps == 0 {
			t.Fatalf("sessions: %+v", r)
		}
	})
	for _, cmd := range []string{admin.CmdOpens, admin.CmdLocks, admin.CmdDelegations} {
		t.Run(cmd, func(t *testing.T) {
			var r map[string]any
			f.do(t, admin.Request{Cmd: cmd}, &r)
		})
	}
	t.Run("inflight", func(t *testing.T) {
		// Nothing else runs: only the admin's own view, which is no RPC.
		var r admin.InflightReply
		f.do(t, admin.Request{Cmd: admin.CmdInflight}, &r)
		if len(r.Requests) != 0 {
			t.Fatalf("inflight while idle: %+v", r.Requests)
		}
	})
	t.Run("stats", func(t *testing.T) {
		var r admin.StatsReply
		out := f.do(t, admin.Request{Cmd: admin.CmdStats}, &r)
		if r.Snapshot == nil || r.Snapshot.RPC.Calls < 4 || !strings.Contains(out, "Server rpc stats") {
			t.Fatalf("stats: %+v\n%s", r.Snapshot, out)
		}
	})
	t.Run("debug", func(t *testing.T) {
		var r admin.DebugReply
		f.do(t, admin.Request{Cmd: admin.CmdDebug, Args: []string{"+nfs4", "rpc"}}, &r)
		if strings.Join(r.On, ",") != "rpc,nfs4" && strings.Join(r.On, ",") != "nfs4,rpc" {
			t.Fatalf("debug on: %v", r.On)
		}
		f.do(t, admin.Request{Cmd: admin.CmdDebug, Args: []string{"-rpc"}}, &r)
		if strings.Join(r.On, ",") != "nfs4" || !f.srv.Debug().Enabled(debugSub(t, "nfs4")) {
			t.Fatalf("debug on: %v", r.On)
		}
		if _, err := f.ctl.Do(context.Background(), admin.Request{Cmd: admin.CmdDebug, Args: []string{"bogus"}}); err == nil {
			t.Fatal("unknown subsystem accepted")
		}
	})
	t.Run("revoke", func(t *testing.T) {
		var r admin.RevokeReply
		f.do(t, admin.Request{Cmd: admin.CmdRevoke, Args: []string{idHex}}, &r)
		var c admin.ClientsReply
		f.do(t, admin.Request{Cmd: admin.CmdClients}, &c)
		if len(c.NFS4.Clients) != 0 {
			t.Fatalf("client still there after revoke: %+v", c.NFS4.Clients)
		}
		if _, err := f.ctl.Do(context.Background(), admin.Request{Cmd: admin.CmdRevoke, Args: []string{idHex}}); err == nil {
			t.Fatal("revoking a client twice succeeded")
		}
		f.do(t, admin.Request{Cmd: admin.CmdRevoke, Args: []string{"somehost"}, NLM: true}, &r)
		if r.Proto != "NLM" || r.Files != 0 {
			t.Fatalf("revoke --nlm: %+v", r)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		if _, err := f.ctl.Do(context.Background(), admin.Request{Cmd: "nonsense"}); err == nil {
			t.Fatal("unknown command accepted")
		}
	})
}

func debugSub(t *testing.T, name string) debuglogSubsystem {
	t.Helper()
	s, ok := debuglogParse(name)
	if !ok {
		t.Fatalf("no subsystem %s", name)
	}
	return s
}

// TestReloadThroughCtl changes the exports file under a client: the kept
// export's handle keeps working under its new rules, a new export is
// mountable, and a removed export's handle is stale.
func TestReloadThroughCtl(t *testing.T) {
	f := start(t)
	if st := f.mount(t, f.dir); st != mountxdr.MNT3_OK {
		t.Fatalf("MNT: %v", st)
	}
	rootA := f.root
	// Add b; a becomes read-only.
	writeExports(t, f.file, f.dir+" 127.0.0.0/8(ro,insecure)\n"+f.dir2+" 127.0.0.0/8(rw,insecure)\n")
	var r admin.ReloadReply
	out := f.do(t, admin.Request{Cmd: admin.CmdReload}, &r)
	if len(r.Kept) != 1 || r.Kept[0] != f.dir || len(r.Added) != 1 || r.Added[0] != f.dir2 || len(r.Removed) != 0 {
		t.Fatalf("reload: %+v\n%s", r, out)
	}
	if st := f.getattr(t); st != nfs3xdr.NFS3_OK {
		t.Fatalf("GETATTR of a kept export after reload: %v", st)
	}
	var ex admin.ExportsReply
	f.do(t, admin.Request{Cmd: admin.CmdExports}, &ex)
	if len(ex.Exports) != 2 || !strings.Contains(ex.Exports[0].Rules[0].Options, "ro") {
		t.Fatalf("exports after reload: %+v", ex.Exports)
	}
	if st := f.mount(t, f.dir2); st != mountxdr.MNT3_OK {
		t.Fatalf("MNT of the new export: %v", st)
	}
	// Remove a.
	writeExports(t, f.file, f.dir2+" 127.0.0.0/8(rw,insecure)\n")
	f.do(t, admin.Request{Cmd: admin.CmdReload}, &r)
	if len(r.Removed) != 1 || r.Removed[0] != f.dir {
		t.Fatalf("reload: %+v", r)
	}
	f.root = rootA
	if st := f.getattr(t); st != nfs3xdr.NFS3ERR_STALE {
		t.Fatalf("GETATTR of a removed export: %v, want NFS3ERR_STALE", st)
	}
	// A broken file changes nothing.
	writeExports(t, f.file, "relative/path *(rw)\n")
	if _, err := f.ctl.Do(context.Background(), admin.Request{Cmd: admin.CmdReload}); err == nil {
		t.Fatal("reload of a broken file succeeded")
	}
	f.do(t, admin.Request{Cmd: admin.CmdExports}, &ex)
	if len(ex.Exports) != 1 || ex.Exports[0].Path != f.dir2 {
		t.Fatalf("exports after failed reload: %+v", ex.Exports)
	}
}

// TestCaptureThroughCtl captures a scripted NFSv3 and NFSv4 session of the
// running server and decodes it with the trace analyzer: every call is
// matched with its reply.
func TestCaptureThroughCtl(t *testing.T) {
	f := start(t)
	file := filepath.Join(t.TempDir(), "cap.pcapng")
	var c admin.CaptureReply
	f.do(t, admin.Request{Cmd: admin.CmdCapture, Args: []string{"start", file}, Port: 2049}, &c)
	if !c.Running || c.Status.Path != file {
		t.Fatalf("capture start: %+v", c)
	}
	if _, err := f.ctl.Do(context.Background(), admin.Request{Cmd: admin.CmdCapture, Args: []string{"start", file + "2"}}); err == nil {
		t.Fatal("a second capture started")
	}
	f.mount(t, f.dir)
	for range 3 {
		f.getattr(t)
	}
	f.v4client(t, "capture-owner")
	out := f.do(t, admin.Request{Cmd: admin.CmdCapture, Args: []string{"stop"}}, &c)
	if c.Running || c.Status.Records != 12 || !strings.Contains(out, "stopped") {
		t.Fatalf("capture stop: %+v\n%s", c.Status, out)
	}
	fh, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	rep, err := trace.Analyze(fh, trace.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Calls != 6 || rep.Replies != 6 || rep.Unanswered != 0 || rep.Orphans != 0 || len(rep.Notes) != 0 {
		t.Fatalf("trace: %d calls, %d replies, %d unanswered, %d orphans, notes %q",
			rep.Calls, rep.Replies, rep.Unanswered, rep.Orphans, rep.Notes)
	}
	var procs []string
	for _, m := range rep.Messages {
		if m.Problem != "" {
			t.Errorf("frame %d: %s", m.Frame, m.Problem)
		}
		if !m.Reply {
			procs = append(procs, m.Program+" "+m.Proc)
		}
	}
	if got := strings.Join(procs, ","); !strings.Contains(got, "GETATTR") || !strings.Contains(got, "MNT") || !strings.Contains(got, "COMPOUND") {
		t.Fatalf("calls decoded: %s", got)
	}
}
