package trace

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gonfs/gonfs/exports"
	"github.com/gonfs/gonfs/internal/wirecheck"
	"github.com/gonfs/gonfs/proto/mountxdr"
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/server"
	"github.com/gonfs/gonfs/sunrpc"
)

// TestTsharkPcapng: tshark rewrites a synthesised pcap as pcapng (its own
// writer, its own block layout and options); we read both the same.
func TestTsharkPcapng(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	c := newCapture(t, linkEthernet)
	nfs41Session(c, "10.1.0.5:901", "10.1.0.1:2049")
	nfs3Session(c, "10.1.0.6:871", "10.1.0.1:2049")
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.pcap"), filepath.Join(dir, "out.pcapng")
	if err := os.WriteFile(in, c.pcap(), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if b, err := exec.CommandContext(ctx, "tshark", "-r", in, "-w", out, "-F", "pcapng").CombinedOutput(); err != nil {
		t.Fatalf("tshark: %v\n%s", err, b)
	}
	ng, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := text(t, analyze(t, c.pcap(), Options{}))
	if got := text(t, analyze(t, ng, Options{})); got != want {
		t.Errorf("tshark's pcapng reads differently:\n%s\n--- pcap:\n%s", got, want)
	}
}

// TestRealSession captures, with tshark on loopback, a gonfs NFSv3
// session driven by our RPC client (MOUNT MNT, GETATTR, LOOKUP, READ) and
// checks that every call is decoded and matched with its reply.
func TestRealSession(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello"), []byte("hello, trace\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{
		Exports: exports.Default(dir), Listen: "127.0.0.1:0", StateDir: t.TempDir(), Portmap: "off",
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		srv.Shutdown(sctx)
	}()
	port := srv.Addr().Port()
	capt, err := wirecheck.Start(ctx, "lo", int(port), t.TempDir())
	if errors.Is(err, wirecheck.ErrUnavailable) {
		t.Skipf("no packet capture: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	cl, err := sunrpc.Dial(ctx, "tcp", srv.Addr().String(), sunrpc.ClientOptions{
		Auth: &rpcxdr.AuthsysParms{Machinename: "trace-test", Uid: 1000, Gid: 1000},
	})
	if err != nil {
		capt.Stop()
		t.Fatal(err)
	}
	var mnt mountxdr.Mountres3
	path := mountxdr.Dirpath("/")
	if err := cl.Call(ctx, mountxdr.MOUNT_PROGRAM, 3, mountxdr.MOUNTPROC3_MNT, &path, &mnt); err != nil || mnt.FhsStatus != mountxdr.MNT3_OK {
		t.Fatalf("MNT: %v %v", err, mnt.FhsStatus)
	}
	root := nfs3xdr.NfsFh3{Data: mnt.Mountinfo.Fhandle}
	var ga nfs3xdr.GETATTR3res
	must(t, cl.Call(ctx, nfs3xdr.NFS_PROGRAM, 3, nfs3xdr.NFSPROC3_GETATTR, &nfs3xdr.GETATTR3args{Object: root}, &ga))
	var lk nfs3xdr.LOOKUP3res
	must(t, cl.Call(ctx, nfs3xdr.NFS_PROGRAM, 3, nfs3xdr.NFSPROC3_LOOKUP, &nfs3xdr.LOOKUP3args{What: nfs3xdr.Diropargs3{Dir: root, Name: "hello"}}, &lk))
	if lk.Status != nfs3xdr.NFS3_OK {
		t.Fatalf("LOOKUP: %v", lk.Status)
	}
	var rd nfs3xdr.READ3res
	must(t, cl.Call(ctx, nfs3xdr.NFS_PROGRAM, 3, nfs3xdr.NFSPROC3_READ, &nfs3xdr.READ3args{File: lk.Resok.Object, Count: 100}, &rd))
	cl.Close()
	if _, err := capt.Stop(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(capt.Path())
	if err != nil {
		t.Fatal(err)
	}
	rep := analyze(t, file, Options{})
	want := []string{
		"call MOUNT v3 MNT", "reply MOUNT v3 MNT MNT3_OK",
		"call NFS v3 GETATTR", "reply NFS v3 GETATTR NFS3_OK",
		"call NFS v3 LOOKUP", "reply NFS v3 LOOKUP NFS3_OK",
		"call NFS v3 READ", "reply NFS v3 READ NFS3_OK",
	}
	if got := procs(rep); !slices.Equal(got, want) {
		var b bytes.Buffer
		rep.WriteText(&b, false)
		t.Errorf("decoded:\n%q\nwant %q\n%s", got, want, b.String())
	}
	if rep.Unanswered != 0 || rep.Orphans != 0 || len(rep.Findings) != 0 {
		t.Errorf("unanswered %d orphans %d findings %+v", rep.Unanswered, rep.Orphans, rep.Findings)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
