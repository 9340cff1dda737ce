package nlm

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/gonfs/gonfs/exports"
	"github.com/gonfs/gonfs/fhandle"
	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/proto/nlmxdr"
	"github.com/gonfs/gonfs/proto/nsmxdr"
	"github.com/gonfs/gonfs/proto/pmapxdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/vfs/memfs"
	"github.com/gonfs/gonfs/xdr"
)

// clock is a settable clock for the grace period.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fakeCall is a call the fake client received.
type fakeCall struct {
	prog, proc uint32
	args       []byte
}

// fakeClient plays the NFS client machine: its lock manager (records the
// calls our server makes and answers GRANTED with grantStat), its statd
// (records SM_NOTIFY) and its portmapper (GETPORT for both, on one TCP
// port). The server reaches it through a Dialer that sends port 111 to
// that port.
type fakeClient struct {
	srv   *sunrpc.Server
	port  uint16
	calls chan fakeCall

	mu        sync.Mutex
	grantStat nlmxdr.Nlm4Stats
}

func newFakeClient(t *testing.T) *fakeClient {
	t.Helper()
	f := &fakeClient{srv: sunrpc.NewServer(sunrpc.Options{}), calls: make(chan fakeCall, 64)}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.port = uint16(l.Addr().(*net.TCPAddr).Port)
	record := func(call *sunrpc.Call) {
		f.calls <- fakeCall{prog: call.Prog, proc: call.Proc, args: bytes.Clone(call.Args)}
	}
	f.srv.Register(nlmxdr.NLM_PROG, nlmxdr.NLM4_VERS, sunrpc.HandlerFunc(func(ctx context.Context, call *sunrpc.Call, w *xdr.Writer) sunrpc.Status {
		record(call)
		if call.Proc == nlmxdr.NLMPROC4_GRANTED {
			var a nlmxdr.Nlm4Testargs
			if xdr.Unmarshal(call.Args, &a) != nil {
				return sunrpc.GarbageArgs
			}
			f.mu.Lock()
			res := nlmxdr.Nlm4Res{Cookie: a.Cookie, Stat: nlmxdr.Nlm4Stat{Stat: f.grantStat}}
			f.mu.Unlock()
			res.Encode(w)
		}
		return sunrpc.Success
	}))
	f.srv.Register(nsmxdr.SM_PROG, nsmxdr.SM_VERS, sunrpc.HandlerFunc(func(ctx context.Context, call *sunrpc.Call, w *xdr.Writer) sunrpc.Status {
		record(call)
		return sunrpc.Success
	}))
	f.srv.Register(pmapxdr.PMAP_PROG, pmapxdr.PMAP_VERS, sunrpc.HandlerFunc(func(ctx context.Context, call *sunrpc.Call, w *xdr.Writer) sunrpc.Status {
		var m pmapxdr.Mapping
		if call.Proc != pmapxdr.PMAPPROC_GETPORT || xdr.Unmarshal(call.Args, &m) != nil {
			return sunrpc.ProcUnavail
		}
		port := uint32(0)
		if m.Prot == pmapxdr.IPPROTO_TCP && (m.Prog == nlmxdr.NLM_PROG || m.Prog == nsmxdr.SM_PROG) {
			port = uint32(f.port)
		}
		w.Uint32(port)
		return sunrpc.Success
	}))
	go f.srv.ServeTCP(l)
	t.Cleanup(func() { f.srv.Close() })
	return f
}

func (f *fakeClient) setGrantStat(st nlmxdr.Nlm4Stats) {
	f.mu.Lock()
	f.grantStat = st
	f.mu.Unlock()
}

// dialer sends the portmapper port to the fake client's port.
func (f *fakeClient) dialer(ctx context.Context, network string, local netip.Addr, remote netip.AddrPort) (net.Conn, error) {
	if remote.Port() == pmapxdr.PMAP_PORT {
		remote = netip.AddrPortFrom(remote.Addr(), f.port)
	}
	return dialNet(ctx, network, local, remote)
}

// next returns the next call the fake client received, failing the test
// if none comes before the test's deadline.
func (f *fakeClient) next(t *testing.T) fakeCall {
	t.Helper()
	ctx := t.Context()
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-5*time.Second))
		defer cancel()
	}
	select {
	case c := <-f.calls:
		return c
	case <-ctx.Done():
		t.Fatal("no call reached the fake client")
	}
	return fakeCall{}
}

// env is a running NLM server over memfs with one fake client machine.
type env struct {
	t      *testing.T
	ns     *namespace.Namespace
	fs     *memfs.FS
	export *namespace.Export
	locks  *lock.Table
	fake   *fakeClient
	clock  *clock
	dir    string
	fh     []byte // /f, mode 0644, owned by 1000
	fh2    []byte // /g, mode 0666, owned by 1000

	s    *Server
	srv  *sunrpc.Server
	addr string
}

func newEnv(t *testing.T, stateDir string) *env {
	t.Helper()
	e := &env{t: t, locks: lock.NewTable(lock.Options{}), clock: &clock{now: time.Unix(1e9, 0)}, dir: stateDir}
	e.fs = memfs.New(memfs.Options{RootMode: 0o777})
	codec, err := fhandle.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	e.ns, err = namespace.New(exports.Default("/x"), codec, func(*exports.Export) (vfs.FS, error) { return e.fs, nil })
	if err != nil {
		t.Fatal(err)
	}
	e.export = e.ns.Exports()[0]
	e.fh = e.create("f", 0o644)
	e.fh2 = e.create("g", 0o666)
	e.fake = newFakeClient(t)
	e.start()
	return e
}

func (e *env) create(name string, mode uint32) []byte {
	e.t.Helper()
	h, _, _, err := e.fs.Create(context.Background(), &vfs.Cred{UID: 1000, GID: 1000}, e.fs.Root(), name, vfs.SetAttr{Mode: &mode}, true)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.ns.Handle(nil, e.export, h)
}

// start runs a new Server (a restart when one ran before with the same
// state directory) and its RPC server on a fresh port.
func (e *env) start() {
	e.t.Helper()
	s, err := New(e.ns, e.locks, Options{
		Clock:       e.clock.Now,
		StateDir:    e.dir,
		Hostname:    "server",
		Grace:       time.Minute,
		Dialer:      e.fake.dialer,
		CallTimeout: 20 * time.Second,
		Retries:     2,
		RetryDelay:  time.Millisecond,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.s = s
	e.srv = sunrpc.NewServer(sunrpc.Options{})
	s.Register(e.srv)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	e.addr = l.Addr().String()
	go e.srv.ServeTCP(l)
	s.Start()
	e.t.Cleanup(e.stop)
}

func (e *env) stop() {
	if e.srv != nil {
		e.srv.Close()
		e.s.Close()
		e.srv = nil
	}
}

// client is one NFS client process talking NLM to the server.
type client struct {
	e    *env
	c    *sunrpc.Client
	name string
	svid int32
	oh   []byte
}

func (e *env) client(name string, svid int32, uid uint32) *client {
	e.t.Helper()
	c, err := sunrpc.Dial(context.Background(), "tcp", e.addr, sunrpc.ClientOptions{
		Auth: &rpcxdr.AuthsysParms{Machinename: name, Uid: uid, Gid: uid},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return &client{e: e, c: c, name: name, svid: svid, oh: []byte(name + "-oh")}
}

func (c *client) alock(fh []byte, off, n uint64) nlmxdr.Nlm4Lock {
	return nlmxdr.Nlm4Lock{CallerName: c.name, Fh: fh, Oh: c.oh, Svid: c.svid, LOffset: off, LLen: n}
}

func (c *client) call(proc uint32, args xdr.Marshaler, res xdr.Unmarshaler) {
	c.e.t.Helper()
	if err := c.c.Call(context.Background(), nlmxdr.NLM_PROG, nlmxdr.NLM4_VERS, proc, args, res); err != nil {
		c.e.t.Fatalf("NLM proc %d: %v", proc, err)
	}
}

type lockOpts struct {
	excl, block, reclaim bool
	proc                 uint32 // default NLMPROC4_LOCK
}

func (c *client) lock(fh []byte, off, n uint64, o lockOpts) nlmxdr.Nlm4Stats {
	c.e.t.Helper()
	if o.proc == 0 {
		o.proc = nlmxdr.NLMPROC4_LOCK
	}
	a := nlmxdr.Nlm4Lockargs{Cookie: []byte("ck-" + c.name), Block: o.block, Exclusive: o.excl, Alock: c.alock(fh, off, n), Reclaim: o.reclaim, State: 1}
	if o.proc == nlmxdr.NLMPROC4_LOCK_MSG {
		c.call(o.proc, &a, nil) // void reply; the result comes as LOCK_RES
		return 0
	}
	var res nlmxdr.Nlm4Res
	c.call(o.proc, &a, &res)
	if !bytes.Equal(res.Cookie, a.Cookie) {
		c.e.t.Errorf("reply cookie %q, want %q", res.Cookie, a.Cookie)
	}
	return res.Stat.Stat
}

func (c *client) test(fh []byte, off, n uint64, excl bool) nlmxdr.Nlm4Testrply {
	c.e.t.Helper()
	a := nlmxdr.Nlm4Testargs{Cookie: []byte("t"), Exclusive: excl, Alock: c.alock(fh, off, n)}
	var res nlmxdr.Nlm4Testres
	c.call(nlmxdr.NLMPROC4_TEST, &a, &res)
	return res.Stat
}

func (c *client) unlock(fh []byte, off, n uint64) nlmxdr.Nlm4Stats {
	c.e.t.Helper()
	a := nlmxdr.Nlm4Unlockargs{Cookie: []byte("u"), Alock: c.alock(fh, off, n)}
	var res nlmxdr.Nlm4Res
	c.call(nlmxdr.NLMPROC4_UNLOCK, &a, &res)
	return res.Stat.Stat
}

func (c *client) cancel(fh []byte, off, n uint64, excl bool) nlmxdr.Nlm4Stats {
	c.e.t.Helper()
	a := nlmxdr.Nlm4Cancargs{Cookie: []byte("c"), Block: true, Exclusive: excl, Alock: c.alock(fh, off, n)}
	var res nlmxdr.Nlm4Res
	c.call(nlmxdr.NLMPROC4_CANCEL, &a, &res)
	return res.Stat.Stat
}

func (c *client) share(proc uint32, fh []byte, access nlmxdr.Fsh4Access, mode nlmxdr.Fsh4Mode, reclaim bool) nlmxdr.Nlm4Stats {
	c.e.t.Helper()
	a := nlmxdr.Nlm4Shareargs{Cookie: []byte("s"), Share: nlmxdr.Nlm4Share{CallerName: c.name, Fh: fh, Oh: c.oh, Mode: mode, Access: access}, Reclaim: reclaim}
	var res nlmxdr.Nlm4Shareres
	c.call(proc, &a, &res)
	return res.Stat
}

// key is the lock table key of a wire handle.
func (e *env) key(fh []byte) lock.FileKey {
	e.t.Helper()
	ex, h, err := e.ns.Resolve(fh)
	if err != nil {
		e.t.Fatal(err)
	}
	return FileKey(ex, h)
}

// waitFor polls cond until it holds; the test's own deadline bounds it.
func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	for !cond() {
		if e.t.Context().Err() != nil {
			e.t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
