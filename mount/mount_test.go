package mount

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gonfs/gonfs/exports"
	"github.com/gonfs/gonfs/fhandle"
	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/proto/mountxdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// fakeFS is a fixed tree that supports only what MOUNT uses (Root, Lookup,
// GetAttr); every other method panics through the nil embedded interface.
// Handles are the node paths, so a test can tell which node a handle
// names.
type fakeFS struct {
	vfs.FS
	nodes map[string]fakeNode
}

type fakeNode struct {
	typ  vfs.FileType
	mode uint32
	uid  uint32
}

// newFakeFS builds the tree every export of the tests serves.
func newFakeFS() *fakeFS {
	return &fakeFS{nodes: map[string]fakeNode{
		"/":                {vfs.TypeDirectory, 0o755, 0},
		"/a":               {vfs.TypeDirectory, 0o755, 0},
		"/a/b":             {vfs.TypeDirectory, 0o755, 0},
		"/file":            {vfs.TypeRegular, 0o644, 0},
		"/link":            {vfs.TypeSymlink, 0o777, 0},
		"/private":         {vfs.TypeDirectory, 0o700, 1000},
		"/private/inner":   {vfs.TypeDirectory, 0o755, 1000},
		"/broken/dir/here": {vfs.TypeDirectory, 0o755, 0}, // "/broken" is missing: lookup fails
	}}
}

func (f *fakeFS) Root() vfs.Handle { return vfs.Handle("/") }

func (f *fakeFS) GetAttr(ctx context.Context, h vfs.Handle) (vfs.Attr, error) {
	n, ok := f.nodes[string(h)]
	if !ok {
		return vfs.Attr{}, syscall.ESTALE
	}
	return vfs.Attr{Type: n.typ, Mode: n.mode, UID: n.uid}, nil
}

func (f *fakeFS) Lookup(ctx context.Context, c *vfs.Cred, dir vfs.Handle, name string) (vfs.Handle, vfs.Attr, error) {
	d, ok := f.nodes[string(dir)]
	switch {
	case !ok:
		return nil, vfs.Attr{}, syscall.ESTALE
	case d.typ != vfs.TypeDirectory:
		return nil, vfs.Attr{}, syscall.ENOTDIR
	case c.UID != d.uid && d.mode&0o001 == 0:
		return nil, vfs.Attr{}, syscall.EACCES
	}
	p := strings.TrimSuffix(string(dir), "/") + "/" + name
	n, ok := f.nodes[p]
	if !ok {
		return nil, vfs.Attr{}, syscall.ENOENT
	}
	return vfs.Handle(p), vfs.Attr{Type: n.typ, Mode: n.mode, UID: n.uid}, nil
}

const testExports = `
/srv      127.0.0.1(rw,insecure) 10.0.0.0/8(ro)
/secure   127.0.0.1(rw)
/denied   10.1.2.3(rw,insecure)
/nonesec  127.0.0.1(insecure,sec=none)
/krb      127.0.0.1(insecure,sec=krb5p:krb5)
`

// syncBuffer is a log sink the handler goroutines and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

type env struct {
	ns   *namespace.Namespace
	srv  *Server
	addr string
	log  *syncBuffer
}

// newServer returns a MOUNT Server over a namespace of testExports whose
// debug log goes to the returned buffer.
func newServer(t testing.TB) (*Server, *namespace.Namespace, *syncBuffer) {
	t.Helper()
	table, err := exports.Parse(strings.NewReader(testExports), "exports")
	if err != nil {
		t.Fatal(err)
	}
	codec, err := fhandle.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	ns, err := namespace.New(table, codec, func(*exports.Export) (vfs.FS, error) { return newFakeFS(), nil })
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	clock := func() time.Time { return time.Unix(1700000000, 0) }
	return New(ns, Options{Logger: log, Clock: clock}), ns, logs
}

// start serves MOUNT from newServer on 127.0.0.1, over TCP and UDP on the
// same port, until the test ends.
func start(t *testing.T) *env {
	t.Helper()
	m, ns, logs := newServer(t)
	rpc := sunrpc.NewServer(sunrpc.Options{})
	rpc.Register(mountxdr.MOUNT_PROGRAM, mountxdr.MOUNT_V3, m)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", l.Addr().String())
	if err != nil {
		l.Close()
		t.Fatal(err)
	}
	done := make(chan struct{}, 2)
	go func() { rpc.ServeTCP(l); done <- struct{}{} }()
	go func() { rpc.ServeUDP(pc); done <- struct{}{} }()
	t.Cleanup(func() {
		rpc.Close()
		<-done
		<-done
	})
	return &env{ns: ns, srv: m, addr: l.Addr().String(), log: logs}
}

// dial returns a client with auth (nil: AUTH_NONE) closed at the end of
// the test.
func (e *env) dial(t *testing.T, network string, auth *rpcxdr.AuthsysParms) *sunrpc.Client {
	t.Helper()
	c, err := sunrpc.Dial(context.Background(), network, e.addr, sunrpc.ClientOptions{Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func user(uid uint32) *rpcxdr.AuthsysParms {
	return &rpcxdr.AuthsysParms{Machinename: "client", Uid: uid, Gid: uid}
}

func mnt(t *testing.T, c *sunrpc.Client, p string) mountxdr.Mountres3 {
	t.Helper()
	arg := mountxdr.Dirpath(p)
	var res mountxdr.Mountres3
	if err := c.Call(context.Background(), mountxdr.MOUNT_PROGRAM, mountxdr.MOUNT_V3, mountxdr.MOUNTPROC3_MNT, &arg, &res); err != nil {
		t.Fatalf("MNT %q: %v", p, err)
	}
	return res
}

func TestMnt(t *testing.T) {
	e := start(t)
	tests := []struct {
		name    string
		auth    *rpcxdr.AuthsysParms // nil: AUTH_NONE
		path    string
		want    mountxdr.Mountstat3
		node    string  // handle expected on success
		flavors []int32 // auth flavors expected on success
		logs    string  // expected in the debug log on ACCES
	}{
		{"export root", user(1000), "/srv", mountxdr.MNT3_OK, "/", []int32{1}, ""},
		{"trailing slash and dots cleaned", user(1000), "/srv/./a/", mountxdr.MNT3_OK, "/a", []int32{1}, ""},
		{"subdirectory", user(1000), "/srv/a/b", mountxdr.MNT3_OK, "/a/b", []int32{1}, ""},
		{"dotdot cannot climb out", user(1000), "/srv/a/../../secure", mountxdr.MNT3ERR_ACCES, "", nil, "not privileged"},
		{"dotdot inside the export", user(1000), "/srv/a/b/..", mountxdr.MNT3_OK, "/a", []int32{1}, ""},
		{"unexported path", user(1000), "/nowhere", mountxdr.MNT3ERR_NOENT, "", nil, ""},
		{"relative path", user(1000), "srv", mountxdr.MNT3ERR_NOENT, "", nil, ""},
		{"missing subdirectory", user(1000), "/srv/a/nope", mountxdr.MNT3ERR_NOENT, "", nil, ""},
		{"missing middle component", user(1000), "/srv/broken/dir/here", mountxdr.MNT3ERR_NOENT, "", nil, ""},
		{"regular file", user(1000), "/srv/file", mountxdr.MNT3ERR_NOTDIR, "", nil, ""},
		{"through a regular file", user(1000), "/srv/file/x", mountxdr.MNT3ERR_NOTDIR, "", nil, ""},
		{"symlink not followed", user(1000), "/srv/link", mountxdr.MNT3ERR_NOTDIR, "", nil, ""},
		{"through a symlink", user(1000), "/srv/link/a", mountxdr.MNT3ERR_NOTDIR, "", nil, ""},
		{"name too long", user(1000), "/srv/" + strings.Repeat("n", 256), mountxdr.MNT3ERR_NAMETOOLONG, "", nil, ""},
		{"owner may search", user(1000), "/srv/private/inner", mountxdr.MNT3_OK, "/private/inner", []int32{1}, ""},
		{"other user may not search", user(2000), "/srv/private/inner", mountxdr.MNT3ERR_ACCES, "", nil, ""},
		{"root is squashed", user(0), "/srv/private/inner", mountxdr.MNT3ERR_ACCES, "", nil, ""},
		{"denied client", user(1000), "/denied", mountxdr.MNT3ERR_ACCES, "", nil, "not allowed"},
		{"insecure port on a secure export", user(1000), "/secure", mountxdr.MNT3ERR_ACCES, "", nil, "not privileged"},
		{"AUTH_SYS on a sec=none export", user(1000), "/nonesec", mountxdr.MNT3ERR_ACCES, "", nil, "flavor not allowed"},
		{"AUTH_NONE on a sec=none export", nil, "/nonesec", mountxdr.MNT3_OK, "/", []int32{0}, ""},
		{"AUTH_NONE on a sec=sys export", nil, "/srv", mountxdr.MNT3ERR_ACCES, "", nil, "flavor not allowed"},
		{"AUTH_SYS on a Kerberos export", user(1000), "/krb", mountxdr.MNT3_OK, "/", []int32{390005, 390003}, ""},
		{"Kerberos subdirectory walks as anonymous", user(1000), "/krb/private/inner", mountxdr.MNT3ERR_ACCES, "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.dial(t, "tcp", tt.auth)
			res := mnt(t, c, tt.path)
			if res.FhsStatus != tt.want {
				t.Fatalf("MNT %q = %v, want %v", tt.path, res.FhsStatus, tt.want)
			}
			if tt.logs != "" && !strings.Contains(e.log.String(), tt.logs) {
				t.Errorf("debug log does not say %q:\n%s", tt.logs, e.log.String())
			}
			if tt.want != mountxdr.MNT3_OK {
				return
			}
			exp, h, err := e.ns.Resolve(res.Mountinfo.Fhandle)
			if err != nil {
				t.Fatalf("handle does not resolve: %v", err)
			}
			if want, _ := e.ns.Table().Find(tt.path); exp.Config != want {
				t.Errorf("handle names export %s, want %s", exp.Config.Path, want.Path)
			}
			if string(h) != tt.node {
				t.Errorf("handle names %q, want %q", h, tt.node)
			}
			if !slices.Equal(res.Mountinfo.AuthFlavors, tt.flavors) {
				t.Errorf("auth flavors %v, want %v", res.Mountinfo.AuthFlavors, tt.flavors)
			}
		})
	}
}

func dump(t *testing.T, c *sunrpc.Client) []string {
	t.Helper()
	var res mountList3
	if err := c.Call(context.Background(), mountxdr.MOUNT_PROGRAM, mountxdr.MOUNT_V3, mountxdr.MOUNTPROC3_DUMP, nil, &res); err != nil {
		t.Fatalf("DUMP: %v", err)
	}
	var out []string
	for b := res.head; b != nil; b = b.MlNext {
		out = append(out, string(b.MlHostname)+":"+string(b.MlDirectory))
	}
	return out
}

// mountList3 decodes the optional-data head of a mountlist, which the
// generated package leaves as a bare pointer type.
type mountList3 struct{ head *mountxdr.Mountbody }

func (l *mountList3) Decode(r *xdr.Reader) {
	if r.Bool() {
		l.head = new(mountxdr.Mountbody)
		l.head.Decode(r)
	}
}

type exportList3 struct{ head *mountxdr.Exportnode }

func (l *exportList3) Decode(r *xdr.Reader) {
	if r.Bool() {
		l.head = new(mountxdr.Exportnode)
		l.head.Decode(r)
	}
}

func TestMountList(t *testing.T) {
	e := start(t)
	c := e.dial(t, "tcp", user(1000))
	ctx := context.Background()
	call := func(proc uint32, p string) {
		t.Helper()
		arg := mountxdr.Dirpath(p)
		if err := c.Call(ctx, mountxdr.MOUNT_PROGRAM, mountxdr.MOUNT_V3, proc, &arg, nil); err != nil {
			t.Fatalf("proc %d %q: %v", proc, p, err)
		}
	}

	if got := dump(t, c); got != nil {
		t.Fatalf("DUMP before any MNT = %v", got)
	}
	mnt(t, c, "/srv/a")
	mnt(t, c, "/srv")
	mnt(t, c, "/srv/a/") // the same entry again
	mnt(t, c, "/denied") // refused: not listed
	if got, want := dump(t, c), []string{"127.0.0.1:/srv", "127.0.0.1:/srv/a"}; !slices.Equal(got, want) {
		t.Fatalf("DUMP = %v, want %v", got, want)
	}
	if ms := e.srv.Mounts(); len(ms) != 2 || !ms[0].Time.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("Mounts() = %v", ms)
	}

	call(mountxdr.MOUNTPROC3_UMNT, "/srv/a/.")
	if got, want := dump(t, c), []string{"127.0.0.1:/srv"}; !slices.Equal(got, want) {
		t.Fatalf("DUMP after UMNT = %v, want %v", got, want)
	}
	call(mountxdr.MOUNTPROC3_UMNT, "/srv/a") // again: harmless
	mnt(t, c, "/srv/a/b")
	if err := c.Call(ctx, mountxdr.MOUNT_PROGRAM, mountxdr.MOUNT_V3, mountxdr.MOUNTPROC3_UMNTALL, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := dump(t, c); got != nil {
		t.Fatalf("DUMP after UMNTALL = %v", got)
	}
}

func TestMountListBound(t *testing.T) {
	l := mountList{max: 2}
	now := time.Unix(1, 0)
	l.add("h1", "/a", now)
	l.add("h1", "/b", now)
	l.add("h1", "/c", now)                // full: dropped
	l.add("h1", "/a", now.Add(time.Hour)) // present: refreshed
	got := l.list()
	if len(got) != 2 || got[0].Path != "/a" || got[1].Path != "/b" || !got[0].Time.Equal(now.Add(time.Hour)) {
		t.Fatalf("list = %v", got)
	}
	l.add("h2", "/a", now) // still full: dropped
	l.removeHost("h1")
	l.add("h2", "/a", now)
	l.add("h2", "/b", now)
	if got := l.list(); len(got) != 2 || got[0].Host != "h2" || got[1].Host != "h2" {
		t.Fatalf("list after removeHost = %v", got)
	}
}

func TestExport(t *testing.T) {
	e := start(t)
	c := e.dial(t, "udp", nil) // showmount-style: any flavor, any transport
	var res exportList3
	if err := c.Call(context.Background(), mountxdr.MOUNT_PROGRAM, mountxdr.MOUNT_V3, mountxdr.MOUNTPROC3_EXPORT, nil, &res); err != nil {
		t.Fatal(err)
	}
	var got []string
	for n := res.head; n != nil; n = n.ExNext {
		var groups []string
		for g := n.ExGroups; g != nil; g = g.GrNext {
			groups = append(groups, string(g.GrName))
		}
		got = append(got, string(n.ExDir)+" "+strings.Join(groups, ","))
	}
	want := []string{
		"/srv 127.0.0.1,10.0.0.0/8",
		"/secure 127.0.0.1",
		"/denied 10.1.2.3",
		"/nonesec 127.0.0.1",
		"/krb 127.0.0.1",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("EXPORT = %q, want %q", got, want)
	}
}

func TestProcedures(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	for _, network := range []string{"tcp", "udp"} {
		c := e.dial(t, network, user(1000))
		tests := []struct {
			name string
			proc uint32
			args []byte
			want rpcxdr.AcceptStat // SUCCESS or the error
		}{
			{"NULL", mountxdr.MOUNTPROC3_NULL, nil, rpcxdr.SUCCESS},
			{"NULL with arguments", mountxdr.MOUNTPROC3_NULL, []byte{0, 0, 0, 0}, rpcxdr.GARBAGE_ARGS},
			{"MNT", mountxdr.MOUNTPROC3_MNT, xdr.Marshal(nil, ptr(mountxdr.Dirpath("/srv"))), rpcxdr.SUCCESS},
			{"MNT truncated", mountxdr.MOUNTPROC3_MNT, []byte{0, 0, 0, 9, '/'}, rpcxdr.GARBAGE_ARGS},
			{"MNT trailing bytes", mountxdr.MOUNTPROC3_MNT, append(xdr.Marshal(nil, ptr(mountxdr.Dirpath("/srv"))), 0, 0, 0, 0), rpcxdr.GARBAGE_ARGS},
			{"MNT path too long", mountxdr.MOUNTPROC3_MNT, xdr.Marshal(nil, ptr(mountxdr.Dirpath("/"+strings.Repeat("x", mountxdr.MNTPATHLEN)))), rpcxdr.GARBAGE_ARGS},
			{"DUMP", mountxdr.MOUNTPROC3_DUMP, nil, rpcxdr.SUCCESS},
			{"UMNT", mountxdr.MOUNTPROC3_UMNT, xdr.Marshal(nil, ptr(mountxdr.Dirpath("/srv"))), rpcxdr.SUCCESS},
			{"UMNT without path", mountxdr.MOUNTPROC3_UMNT, nil, rpcxdr.GARBAGE_ARGS},
			{"UMNTALL", mountxdr.MOUNTPROC3_UMNTALL, nil, rpcxdr.SUCCESS},
			{"EXPORT", mountxdr.MOUNTPROC3_EXPORT, nil, rpcxdr.SUCCESS},
			{"unknown procedure", 6, nil, rpcxdr.PROC_UNAVAIL},
		}
		for _, tt := range tests {
			t.Run(network+"/"+tt.name, func(t *testing.T) {
				_, err := c.CallRaw(ctx, sunrpc.CallHeader{Prog: mountxdr.MOUNT_PROGRAM, Vers: mountxdr.MOUNT_V3, Proc: tt.proc}, tt.args)
				var ae *sunrpc.AcceptError
				switch {
				case tt.want == rpcxdr.SUCCESS && err != nil:
					t.Fatalf("got %v, want success", err)
				case tt.want != rpcxdr.SUCCESS && (!errors.As(err, &ae) || ae.Stat != tt.want):
					t.Fatalf("got %v, want %v", err, tt.want)
				}
			})
		}
	}
}

func ptr[T any](v T) *T { return &v }
