package nfs3

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"syscall"
	"testing"

	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// runAll runs every procedure but NULL with sampleArgs(fh, dir) and returns
// the statuses, failing on a reply that does not decode.
func runAll(t *testing.T, c *client, fh, dir nfs3xdr.NfsFh3) map[uint32]nfs3xdr.Nfsstat3 {
	t.Helper()
	out := map[uint32]nfs3xdr.Nfsstat3{}
	for proc := uint32(1); proc < numProcs; proc++ {
		st, body := c.raw(proc, xdr.Marshal(nil, sampleArgs(proc, fh, dir)))
		if st != sunrpc.Success {
			t.Fatalf("%s: RPC status %v", nfs3xdr.NFS_V3ProcName(proc), st)
		}
		status, err := decodeReply(proc, body)
		if err != nil {
			t.Fatalf("%s: reply does not decode: %v", nfs3xdr.NFS_V3ProcName(proc), err)
		}
		out[proc] = status
	}
	return out
}

// TestStaleHandle: the handle of a removed file (and of a removed
// directory) is NFS3ERR_STALE for every procedure (RFC 1813 §2.6).
func TestStaleHandle(t *testing.T) {
	e := newEnv(t)
	u := e.user()
	root := e.root["/rw"]
	gone := u.create(root, "gone", 0o644)
	goneDir := u.mkdir(root, "gonedir", 0o755)
	for _, p := range []uint32{nfs3xdr.NFSPROC3_REMOVE, nfs3xdr.NFSPROC3_RMDIR} {
		name := map[uint32]string{nfs3xdr.NFSPROC3_REMOVE: "gone", nfs3xdr.NFSPROC3_RMDIR: "gonedir"}[p]
		var res nfs3xdr.REMOVE3res
		u.call(p, &nfs3xdr.REMOVE3args{Object: diropargs(root, name)}, &res)
		must(t, "remove", res.Status, nfs3xdr.NFS3_OK)
	}
	// A new file may take the inode number; the handle must not name it.
	u.create(root, "newcomer", 0o644)
	for proc, st := range runAll(t, u, gone, goneDir) {
		if st != nfs3xdr.NFS3ERR_STALE {
			t.Errorf("%s with a removed file's handle: %v, want NFS3ERR_STALE", nfs3xdr.NFS_V3ProcName(proc), st)
		}
	}
}

// TestForgedHandle: bytes a client made up are refused before any backend
// sees them: NFS3ERR_BADHANDLE when they are not a handle of ours at all,
// NFS3ERR_STALE when the MAC does not verify (package fhandle).
func TestForgedHandle(t *testing.T) {
	e := newEnv(t)
	u := e.user()
	good := u.create(e.root["/rw"], "f", 0o644).Data
	flip := func(i int) []byte {
		b := slices.Clone(good)
		b[i] ^= 0x01
		return b
	}
	otherExport := slices.Clone(good)
	otherExport[5] = 4 // export id 1 → 4 (/other), MAC unchanged
	tests := []struct {
		name string
		fh   []byte
		want []nfs3xdr.Nfsstat3
	}{
		{"empty", nil, []nfs3xdr.Nfsstat3{nfs3xdr.NFS3ERR_BADHANDLE}},
		{"short", good[:5], []nfs3xdr.Nfsstat3{nfs3xdr.NFS3ERR_BADHANDLE}},
		{"truncated", good[:len(good)-1], []nfs3xdr.Nfsstat3{nfs3xdr.NFS3ERR_BADHANDLE, nfs3xdr.NFS3ERR_STALE}},
		{"version", flip(0), []nfs3xdr.Nfsstat3{nfs3xdr.NFS3ERR_BADHANDLE}},
		{"export id", otherExport, []nfs3xdr.Nfsstat3{nfs3xdr.NFS3ERR_STALE}},
		{"backend handle", flip(8), []nfs3xdr.Nfsstat3{nfs3xdr.NFS3ERR_STALE}},
		{"mac", flip(len(good) - 1), []nfs3xdr.Nfsstat3{nfs3xdr.NFS3ERR_STALE}},
		{"64 zero bytes", make([]byte, 64), []nfs3xdr.Nfsstat3{nfs3xdr.NFS3ERR_BADHANDLE, nfs3xdr.NFS3ERR_STALE}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fh := nfs3xdr.NfsFh3{Data: tt.fh}
			for proc, st := range runAll(t, u, fh, fh) {
				if !slices.Contains(tt.want, st) {
					t.Errorf("%s: %v, want one of %v", nfs3xdr.NFS_V3ProcName(proc), st, tt.want)
				}
			}
		})
	}
}

// TestGarbageArgs: arguments that do not decode exactly, short or with
// bytes left over, are GARBAGE_ARGS (RFC 5531 §9), as is a file handle
// longer than NFS3_FHSIZE.
func TestGarbageArgs(t *testing.T) {
	e := newEnv(t)
	u := e.user()
	dir := e.root["/rw"]
	fh := u.create(dir, "f", 0o644)
	long := nfs3xdr.NfsFh3{Data: make([]byte, nfs3xdr.NFS3_FHSIZE+1)}
	for proc := uint32(0); proc < numProcs; proc++ {
		valid := marshal(sampleArgs(proc, fh, dir))
		cases := map[string][]byte{"trailing": append(slices.Clone(valid), 0, 0, 0, 0)}
		if len(valid) > 0 {
			cases["empty"] = nil
			cases["short by one"] = valid[:len(valid)-1]
			cases["short by four"] = valid[:len(valid)-4]
			cases["long handle"] = marshal(sampleArgs(proc, long, long))
		}
		for name, args := range cases {
			if st, _ := u.raw(proc, args); st != sunrpc.GarbageArgs {
				t.Errorf("%s %s: %v, want GARBAGE_ARGS", nfs3xdr.NFS_V3ProcName(proc), name, st)
			}
		}
	}
	// Nothing ran: the file is untouched.
	if a := u.getattr(fh); a.Size != 0 {
		t.Errorf("garbage changed the file: %+v", a)
	}
}

func TestNullAndUnknownProc(t *testing.T) {
	e := newEnv(t)
	for _, c := range []*client{e.user(), e.anon()} {
		if st, body := c.raw(nfs3xdr.NFSPROC3_NULL, nil); st != sunrpc.Success || len(body) != 0 {
			t.Errorf("NULL: %v with %d bytes", st, len(body))
		}
	}
	for _, proc := range []uint32{numProcs, 100, 1<<31 + 1, ^uint32(0)} {
		if st, _ := e.user().raw(proc, nil); st != sunrpc.ProcUnavail {
			t.Errorf("procedure %d: %v, want PROC_UNAVAIL", proc, st)
		}
	}
}

// TestAuthorization: the export's sec= list and client list decide, per
// request, with NFS3ERR_ACCES for a caller the export refuses.
func TestAuthorization(t *testing.T) {
	e := newEnv(t)
	gss := e.anon()
	gss.cred.Flavor = rpcxdr.RPCSEC_GSS
	stranger := e.user()
	stranger.remote = netip.MustParseAddrPort("192.0.2.1:700")
	tests := []struct {
		name   string
		c      *client
		export string
		want   nfs3xdr.Nfsstat3
	}{
		{"sys on sec=sys", e.user(), "/rw", nfs3xdr.NFS3_OK},
		{"none on sec=sys", e.anon(), "/rw", nfs3xdr.NFS3ERR_ACCES},
		{"none on sec=none", e.anon(), "/anon", nfs3xdr.NFS3_OK},
		{"sys on sec=none", e.user(), "/anon", nfs3xdr.NFS3ERR_ACCES},
		{"address not listed", stranger, "/rw", nfs3xdr.NFS3ERR_ACCES},
		// An unknown flavor is not AUTH_NONE in disguise.
		{"other flavor on sec=none", gss, "/anon", nfs3xdr.NFS3ERR_ACCES},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var res nfs3xdr.GETATTR3res
			tt.c.call(nfs3xdr.NFSPROC3_GETATTR, &nfs3xdr.GETATTR3args{Object: e.root[tt.export]}, &res)
			must(t, "GETATTR", res.Status, tt.want)
		})
	}
	// AUTH_NONE is the anonymous user: what it creates belongs to 65534.
	fh := e.anon().create(e.root["/anon"], "f", 0o644)
	if a := e.anon().getattr(fh); a.Uid != 65534 || a.Gid != 65534 {
		t.Errorf("AUTH_NONE file owned by %d:%d, want 65534:65534", a.Uid, a.Gid)
	}
}

// TestIdempotent: the procedures whose replay does harm are the ones the
// duplicate request cache must hold (RFC 1813 §4.6).
func TestIdempotent(t *testing.T) {
	e := newEnv(t)
	nonIdempotent := []uint32{nfs3xdr.NFSPROC3_SETATTR, nfs3xdr.NFSPROC3_WRITE, nfs3xdr.NFSPROC3_CREATE,
		nfs3xdr.NFSPROC3_MKDIR, nfs3xdr.NFSPROC3_SYMLINK, nfs3xdr.NFSPROC3_MKNOD, nfs3xdr.NFSPROC3_REMOVE,
		nfs3xdr.NFSPROC3_RMDIR, nfs3xdr.NFSPROC3_RENAME, nfs3xdr.NFSPROC3_LINK}
	for proc := uint32(0); proc < numProcs+2; proc++ {
		if got, want := e.srv.Idempotent(proc), !slices.Contains(nonIdempotent, proc); got != want {
			t.Errorf("Idempotent(%s) = %v", nfs3xdr.NFS_V3ProcName(proc), got)
		}
	}
}

// conflicts is a fake ConflictChecker that records what it is asked and
// answers with err.
type conflicts struct {
	mu    sync.Mutex
	asked []string
	err   error
}

func (c *conflicts) CheckModify(ctx context.Context, e *namespace.Export, h vfs.Handle) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked = append(c.asked, "modify")
	return c.err
}

func (c *conflicts) CheckName(ctx context.Context, e *namespace.Export, dir vfs.Handle, name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked = append(c.asked, "name "+name)
	return c.err
}

// TestConflicts: every procedure that changes a file or a name asks the
// conflict checker first, and a Delay answer is NFS3ERR_JUKEBOX with
// nothing changed.
func TestConflicts(t *testing.T) {
	cc := &conflicts{}
	e := newEnvOpts(t, Options{Conflicts: cc})
	u := e.user()
	dir := e.root["/rw"]
	fh := u.create(dir, "f", 0o644)
	u.mkdir(dir, "d", 0o755)
	before := u.getattr(dir)
	cc.err = syscall.EAGAIN
	cc.asked = nil
	for proc, st := range runAll(t, u, fh, dir) {
		switch proc {
		case nfs3xdr.NFSPROC3_SETATTR, nfs3xdr.NFSPROC3_WRITE, nfs3xdr.NFSPROC3_CREATE, nfs3xdr.NFSPROC3_MKDIR,
			nfs3xdr.NFSPROC3_SYMLINK, nfs3xdr.NFSPROC3_MKNOD, nfs3xdr.NFSPROC3_REMOVE, nfs3xdr.NFSPROC3_RMDIR,
			nfs3xdr.NFSPROC3_RENAME, nfs3xdr.NFSPROC3_LINK:
			if st != nfs3xdr.NFS3ERR_JUKEBOX {
				t.Errorf("%s: %v, want NFS3ERR_JUKEBOX", nfs3xdr.NFS_V3ProcName(proc), st)
			}
		default:
			if st != nfs3xdr.NFS3_OK && st != nfs3xdr.NFS3ERR_INVAL {
				t.Errorf("%s: %v", nfs3xdr.NFS_V3ProcName(proc), st)
			}
		}
	}
	if after := u.getattr(dir); after != before {
		t.Errorf("a delayed change changed the directory")
	}
	if a := u.getattr(fh); a.Mode != 0o644 || a.Size != 0 {
		t.Errorf("a delayed change changed the file: %+v", a)
	}
	slices.Sort(cc.asked)
	want := []string{"modify", "modify", "modify", "name d", "name f", "name f", "name fifo", "name new", "name newdir", "name newlink"}
	if !slices.Equal(cc.asked, want) {
		t.Errorf("checker asked %q, want %q", cc.asked, want)
	}
}

// TestWccAroundFailures: a procedure that fails after resolving its file
// still reports the file's attributes, and one whose handle does not
// resolve reports none (RFC 1813 §2.6: post_op_attr is optional).
func TestWccAroundFailures(t *testing.T) {
	e := newEnv(t)
	u := e.user()
	bad := nfs3xdr.NfsFh3{Data: []byte("not a handle")}
	var res nfs3xdr.WRITE3res
	u.call(nfs3xdr.NFSPROC3_WRITE, &nfs3xdr.WRITE3args{File: bad, Count: 1, Data: []byte("x")}, &res)
	must(t, "WRITE", res.Status, nfs3xdr.NFS3ERR_BADHANDLE)
	if res.Resfail.FileWcc.Before.AttributesFollow || res.Resfail.FileWcc.After.AttributesFollow {
		t.Errorf("attributes for a handle that does not resolve: %+v", res.Resfail.FileWcc)
	}
}

// TestEndToEnd runs the server behind a real sunrpc.Server on loopback
// and drives it with sunrpc.Client: large transfers, a listing, and the
// RPC-level errors.
func TestEndToEnd(t *testing.T) {
	e := newEnv(t)
	rpc := sunrpc.NewServer(sunrpc.Options{})
	rpc.Register(nfs3xdr.NFS_PROGRAM, nfs3xdr.NFS_V3, e.srv)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- rpc.ServeTCP(l) }()
	ctx := context.Background()
	defer func() {
		if err := rpc.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-served
	}()
	c, err := sunrpc.Dial(ctx, "tcp", l.Addr().String(), sunrpc.ClientOptions{
		Auth: &rpcxdr.AuthsysParms{Machinename: "e2e", Uid: 1000, Gid: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	call := func(proc uint32, args xdr.Marshaler, res xdr.Unmarshaler) {
		t.Helper()
		if err := c.Call(ctx, nfs3xdr.NFS_PROGRAM, nfs3xdr.NFS_V3, proc, args, res); err != nil {
			t.Fatalf("%s: %v", nfs3xdr.NFS_V3ProcName(proc), err)
		}
	}
	root := e.root["/rw"]

	var fi nfs3xdr.FSINFO3res
	call(nfs3xdr.NFSPROC3_FSINFO, &nfs3xdr.FSINFO3args{Fsroot: root}, &fi)
	must(t, "FSINFO", fi.Status, nfs3xdr.NFS3_OK)

	var cr nfs3xdr.CREATE3res
	call(nfs3xdr.NFSPROC3_CREATE, &nfs3xdr.CREATE3args{Where: diropargs(root, "big"),
		How: nfs3xdr.Createhow3{Mode: nfs3xdr.GUARDED, ObjAttributes: modeAttr(0o644)}}, &cr)
	must(t, "CREATE", cr.Status, nfs3xdr.NFS3_OK)
	fh := cr.Resok.Obj.Handle

	// One transfer of the advertised maximum each way.
	data := make([]byte, fi.Resok.Wtmax)
	for i := range data {
		data[i] = byte(i * 7)
	}
	var wr nfs3xdr.WRITE3res
	call(nfs3xdr.NFSPROC3_WRITE, &nfs3xdr.WRITE3args{File: fh, Count: nfs3xdr.Count3(len(data)), Stable: nfs3xdr.UNSTABLE, Data: data}, &wr)
	must(t, "WRITE", wr.Status, nfs3xdr.NFS3_OK)
	if int(wr.Resok.Count) != len(data) || wr.Resok.Verf != e.srv.WriteVerifier() {
		t.Errorf("WRITE count %d verf %x", wr.Resok.Count, wr.Resok.Verf)
	}
	var cm nfs3xdr.COMMIT3res
	call(nfs3xdr.NFSPROC3_COMMIT, &nfs3xdr.COMMIT3args{File: fh}, &cm)
	if cm.Status != nfs3xdr.NFS3_OK || cm.Resok.Verf != wr.Resok.Verf {
		t.Errorf("COMMIT %v verf %x", cm.Status, cm.Resok.Verf)
	}
	var rd nfs3xdr.READ3res
	call(nfs3xdr.NFSPROC3_READ, &nfs3xdr.READ3args{File: fh, Count: nfs3xdr.Count3(fi.Resok.Rtmax)}, &rd)
	must(t, "READ", rd.Status, nfs3xdr.NFS3_OK)
	if !bytes.Equal(rd.Resok.Data, data) || !rd.Resok.Eof {
		t.Errorf("READ gave %d bytes eof %v", len(rd.Resok.Data), rd.Resok.Eof)
	}

	var rdp nfs3xdr.READDIRPLUS3res
	call(nfs3xdr.NFSPROC3_READDIRPLUS, &nfs3xdr.READDIRPLUS3args{Dir: root, Dircount: 16384, Maxcount: 131072}, &rdp)
	must(t, "READDIRPLUS", rdp.Status, nfs3xdr.NFS3_OK)
	var got []string
	for en := rdp.Resok.Reply.Entries; en != nil; en = en.Nextentry {
		got = append(got, string(en.Name))
	}
	if !slices.Equal(got, []string{".", "..", "big"}) || !rdp.Resok.Reply.Eof {
		t.Errorf("READDIRPLUS %v eof %v", got, rdp.Resok.Reply.Eof)
	}

	var ae *sunrpc.AcceptError
	err = c.Call(ctx, nfs3xdr.NFS_PROGRAM, nfs3xdr.NFS_V3, numProcs, nil, nil)
	if !errors.As(err, &ae) || ae.Stat != rpcxdr.PROC_UNAVAIL {
		t.Errorf("unknown procedure: %v, want PROC_UNAVAIL", err)
	}
	err = c.Call(ctx, nfs3xdr.NFS_PROGRAM, nfs3xdr.NFS_V3, nfs3xdr.NFSPROC3_GETATTR, &nfs3xdr.READ3args{File: fh}, new(nfs3xdr.GETATTR3res))
	if !errors.As(err, &ae) || ae.Stat != rpcxdr.GARBAGE_ARGS {
		t.Errorf("garbage: %v, want GARBAGE_ARGS", err)
	}

	// AUTH_NONE is refused by the sec=sys export but the call still gets
	// an NFS reply.
	c.SetAuth(nil)
	var ga nfs3xdr.GETATTR3res
	call(nfs3xdr.NFSPROC3_GETATTR, &nfs3xdr.GETATTR3args{Object: fh}, &ga)
	must(t, "GETATTR with AUTH_NONE", ga.Status, nfs3xdr.NFS3ERR_ACCES)
}
