package nfs3

import (
	"context"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonfs/gonfs/exports"
	"github.com/gonfs/gonfs/fhandle"
	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/vfs/memfs"
	"github.com/gonfs/gonfs/xdr"
)

// testExports are the exports every test server has, each backed by its
// own memfs whose root is world-writable so unprivileged callers can
// create files. Fixed fsids keep handles (and the fuzz seed corpus) stable.
const testExports = `
/rw     127.0.0.0/8(rw,insecure,no_root_squash,fsid=1)
/ro     127.0.0.0/8(ro,insecure,no_root_squash,fsid=2)
/squash 127.0.0.0/8(rw,insecure,root_squash,fsid=3)
/other  127.0.0.0/8(rw,insecure,no_root_squash,fsid=4)
/anon   127.0.0.0/8(rw,insecure,sec=none,fsid=5)
`

// testKey is the file handle key of every test server.
var testKey = []byte("nfs3-test-key-0123456789abcdef!!")

// testStart is the server's (and so the write verifier's) start time.
var testStart = time.Unix(1_700_000_000, 123456789)

// env is one NFSv3 server over memfs exports, called directly through
// ServeRPC.
type env struct {
	t    testing.TB
	srv  *Server
	ns   *namespace.Namespace
	fs   map[string]*memfs.FS // by export path
	root map[string]nfs3xdr.NfsFh3
}

// newEnv builds the test server. The memfs clock advances a millisecond on
// every reading, so each change gets a distinct, later timestamp without
// the test depending on the wall clock.
func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvOpts(t, Options{})
}

func newEnvOpts(t testing.TB, opts Options) *env {
	t.Helper()
	table, err := exports.Parse(strings.NewReader(testExports), "test-exports")
	if err != nil {
		t.Fatalf("exports: %v", err)
	}
	codec, err := fhandle.New(testKey)
	if err != nil {
		t.Fatal(err)
	}
	var ticks atomic.Int64
	clock := func() time.Time {
		return time.Unix(1_710_000_000, 0).Add(time.Duration(ticks.Add(1)) * time.Millisecond)
	}
	e := &env{t: t, fs: map[string]*memfs.FS{}, root: map[string]nfs3xdr.NfsFh3{}}
	ns, err := namespace.New(table, codec, func(cfg *exports.Export) (vfs.FS, error) {
		fs := memfs.New(memfs.Options{Now: clock, RootMode: 0o777})
		e.fs[cfg.Path] = fs
		return fs, nil
	})
	if err != nil {
		t.Fatalf("namespace: %v", err)
	}
	e.ns = ns
	for _, x := range ns.Exports() {
		e.root[x.Config.Path] = nfs3xdr.NfsFh3{Data: ns.Handle(nil, x, x.Root)}
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return testStart }
	}
	e.srv = New(ns, opts)
	return e
}

// client is a caller of the test server: a credential and an address.
type client struct {
	e      *env
	cred   sunrpc.Credential
	remote netip.AddrPort
}

var testRemote = netip.MustParseAddrPort("127.0.0.1:40000")

// as returns a client that calls with AUTH_SYS uid and gid.
func (e *env) as(uid, gid uint32, groups ...uint32) *client {
	return &client{e: e, remote: testRemote, cred: sunrpc.Credential{
		OpaqueAuth: rpcxdr.OpaqueAuth{Flavor: rpcxdr.AUTH_SYS},
		Sys:        rpcxdr.AuthsysParms{Machinename: "test", Uid: uid, Gid: gid, Gids: groups},
	}}
}

// user is the unprivileged caller most tests use.
func (e *env) user() *client { return e.as(1000, 1000) }

// root is uid 0 (squashed on /squash only).
func (e *env) rootUser() *client { return e.as(0, 0) }

// anon calls with AUTH_NONE.
func (e *env) anon() *client {
	return &client{e: e, remote: testRemote, cred: sunrpc.Credential{OpaqueAuth: rpcxdr.OpaqueAuth{Flavor: rpcxdr.AUTH_NONE}}}
}

// raw runs proc with args as its encoded arguments and returns the RPC
// status and the bytes the procedure appended.
func (c *client) raw(proc uint32, args []byte) (sunrpc.Status, []byte) {
	call := &sunrpc.Call{
		XID: 1, Prog: nfs3xdr.NFS_PROGRAM, Vers: nfs3xdr.NFS_V3, Proc: proc,
		Cred: c.cred, Args: args, Transport: "tcp", Remote: c.remote,
		Local: netip.MustParseAddrPort("127.0.0.1:2049"),
	}
	// A reply header is already in w when a handler runs; the handler
	// must leave it alone.
	w := xdr.Writer{Buf: []byte("HDR!")}
	st := c.e.srv.ServeRPC(context.Background(), call, &w)
	if string(w.Buf[:4]) != "HDR!" {
		c.e.t.Fatalf("%s: reply header overwritten", nfs3xdr.NFS_V3ProcName(proc))
	}
	return st, w.Buf[4:]
}

// call runs proc and decodes its results into res, which must use every
// byte of them.
func (c *client) call(proc uint32, args xdr.Marshaler, res xdr.Unmarshaler) {
	c.e.t.Helper()
	st, body := c.raw(proc, xdr.Marshal(nil, args))
	if st != sunrpc.Success {
		c.e.t.Fatalf("%s: RPC status %v", nfs3xdr.NFS_V3ProcName(proc), st)
	}
	if err := xdr.Unmarshal(body, res); err != nil {
		c.e.t.Fatalf("%s: reply does not decode: %v (%d bytes)", nfs3xdr.NFS_V3ProcName(proc), err, len(body))
	}
}

// must fails the test unless st is want.
func must(t testing.TB, what string, st, want nfs3xdr.Nfsstat3) {
	t.Helper()
	if st != want {
		t.Fatalf("%s: status %v, want %v", what, st, want)
	}
}

func diropargs(dir nfs3xdr.NfsFh3, name string) nfs3xdr.Diropargs3 {
	return nfs3xdr.Diropargs3{Dir: dir, Name: nfs3xdr.Filename3(name)}
}

func modeAttr(mode uint32) nfs3xdr.Sattr3 {
	return nfs3xdr.Sattr3{Mode: nfs3xdr.SetMode3{SetIt: true, Mode: nfs3xdr.Mode3(mode)}}
}

func (c *client) getattr(fh nfs3xdr.NfsFh3) nfs3xdr.Fattr3 {
	c.e.t.Helper()
	var res nfs3xdr.GETATTR3res
	c.call(nfs3xdr.NFSPROC3_GETATTR, &nfs3xdr.GETATTR3args{Object: fh}, &res)
	must(c.e.t, "GETATTR", res.Status, nfs3xdr.NFS3_OK)
	return res.Resok.ObjAttributes
}

func (c *client) lookup(dir nfs3xdr.NfsFh3, name string) (nfs3xdr.LOOKUP3res, nfs3xdr.NfsFh3) {
	c.e.t.Helper()
	var res nfs3xdr.LOOKUP3res
	c.call(nfs3xdr.NFSPROC3_LOOKUP, &nfs3xdr.LOOKUP3args{What: diropargs(dir, name)}, &res)
	return res, res.Resok.Object
}

// create makes a regular file with mode (UNCHECKED) and returns its handle.
func (c *client) create(dir nfs3xdr.NfsFh3, name string, mode uint32) nfs3xdr.NfsFh3 {
	c.e.t.Helper()
	var res nfs3xdr.CREATE3res
	c.call(nfs3xdr.NFSPROC3_CREATE, &nfs3xdr.CREATE3args{Where: diropargs(dir, name),
		How: nfs3xdr.Createhow3{Mode: nfs3xdr.UNCHECKED, ObjAttributes: modeAttr(mode)}}, &res)
	must(c.e.t, "CREATE "+name, res.Status, nfs3xdr.NFS3_OK)
	if !res.Resok.Obj.HandleFollows {
		c.e.t.Fatalf("CREATE %s: no handle", name)
	}
	return res.Resok.Obj.Handle
}

func (c *client) mkdir(dir nfs3xdr.NfsFh3, name string, mode uint32) nfs3xdr.NfsFh3 {
	c.e.t.Helper()
	var res nfs3xdr.MKDIR3res
	c.call(nfs3xdr.NFSPROC3_MKDIR, &nfs3xdr.MKDIR3args{Where: diropargs(dir, name), Attributes: modeAttr(mode)}, &res)
	must(c.e.t, "MKDIR "+name, res.Status, nfs3xdr.NFS3_OK)
	if !res.Resok.Obj.HandleFollows {
		c.e.t.Fatalf("MKDIR %s: no handle", name)
	}
	return res.Resok.Obj.Handle
}

func (c *client) write(fh nfs3xdr.NfsFh3, off uint64, data []byte) nfs3xdr.WRITE3res {
	c.e.t.Helper()
	var res nfs3xdr.WRITE3res
	c.call(nfs3xdr.NFSPROC3_WRITE, &nfs3xdr.WRITE3args{File: fh, Offset: nfs3xdr.Offset3(off),
		Count: nfs3xdr.Count3(len(data)), Stable: nfs3xdr.FILE_SYNC, Data: data}, &res)
	must(c.e.t, "WRITE", res.Status, nfs3xdr.NFS3_OK)
	return res
}

func (c *client) read(fh nfs3xdr.NfsFh3, off uint64, count uint32) nfs3xdr.READ3res {
	c.e.t.Helper()
	var res nfs3xdr.READ3res
	c.call(nfs3xdr.NFSPROC3_READ, &nfs3xdr.READ3args{File: fh, Offset: nfs3xdr.Offset3(off), Count: nfs3xdr.Count3(count)}, &res)
	return res
}

// backendAttr reads a file's attributes straight from the backend, to
// compare with what the server reports.
func (e *env) backendAttr(fh nfs3xdr.NfsFh3) (vfs.Attr, error) {
	x, h, err := e.ns.Resolve(fh.Data)
	if err != nil {
		return vfs.Attr{}, err
	}
	return x.FS.GetAttr(context.Background(), h)
}

// wccOf converts full attributes to the pre-op subset.
func wccOf(a nfs3xdr.Fattr3) nfs3xdr.WccAttr {
	return nfs3xdr.WccAttr{Size: a.Size, Mtime: a.Mtime, Ctime: a.Ctime}
}

func mustExport(t testing.TB, e *env, path string) *namespace.Export {
	t.Helper()
	x, ok := e.ns.Find(path)
	if !ok {
		t.Fatalf("no export %s", path)
	}
	return x
}

// sampleArgs returns valid arguments of proc that name fh as their first
// (or only) file and dir as their directory, or nil for NULL.
func sampleArgs(proc uint32, fh, dir nfs3xdr.NfsFh3) xdr.Marshaler {
	sa := modeAttr(0o644)
	switch proc {
	case nfs3xdr.NFSPROC3_NULL:
		return nil
	case nfs3xdr.NFSPROC3_GETATTR:
		return &nfs3xdr.GETATTR3args{Object: fh}
	case nfs3xdr.NFSPROC3_SETATTR:
		return &nfs3xdr.SETATTR3args{Object: fh, NewAttributes: sa}
	case nfs3xdr.NFSPROC3_LOOKUP:
		return &nfs3xdr.LOOKUP3args{What: diropargs(dir, "f")}
	case nfs3xdr.NFSPROC3_ACCESS:
		return &nfs3xdr.ACCESS3args{Object: fh, Access: 0x3f}
	case nfs3xdr.NFSPROC3_READLINK:
		return &nfs3xdr.READLINK3args{Symlink: fh}
	case nfs3xdr.NFSPROC3_READ:
		return &nfs3xdr.READ3args{File: fh, Offset: 0, Count: 4096}
	case nfs3xdr.NFSPROC3_WRITE:
		return &nfs3xdr.WRITE3args{File: fh, Offset: 0, Count: 5, Stable: nfs3xdr.UNSTABLE, Data: []byte("hello")}
	case nfs3xdr.NFSPROC3_CREATE:
		return &nfs3xdr.CREATE3args{Where: diropargs(dir, "new"), How: nfs3xdr.Createhow3{Mode: nfs3xdr.GUARDED, ObjAttributes: sa}}
	case nfs3xdr.NFSPROC3_MKDIR:
		return &nfs3xdr.MKDIR3args{Where: diropargs(dir, "newdir"), Attributes: sa}
	case nfs3xdr.NFSPROC3_SYMLINK:
		return &nfs3xdr.SYMLINK3args{Where: diropargs(dir, "newlink"), Symlink: nfs3xdr.Symlinkdata3{SymlinkData: "f"}}
	case nfs3xdr.NFSPROC3_MKNOD:
		return &nfs3xdr.MKNOD3args{Where: diropargs(dir, "fifo"), What: nfs3xdr.Mknoddata3{Type: nfs3xdr.NF3FIFO, PipeAttributes: sa}}
	case nfs3xdr.NFSPROC3_REMOVE:
		return &nfs3xdr.REMOVE3args{Object: diropargs(dir, "f")}
	case nfs3xdr.NFSPROC3_RMDIR:
		return &nfs3xdr.RMDIR3args{Object: diropargs(dir, "d")}
	case nfs3xdr.NFSPROC3_RENAME:
		return &nfs3xdr.RENAME3args{From: diropargs(dir, "f"), To: diropargs(dir, "g")}
	case nfs3xdr.NFSPROC3_LINK:
		return &nfs3xdr.LINK3args{File: fh, Link: diropargs(dir, "hard")}
	case nfs3xdr.NFSPROC3_READDIR:
		return &nfs3xdr.READDIR3args{Dir: dir, Count: 4096}
	case nfs3xdr.NFSPROC3_READDIRPLUS:
		return &nfs3xdr.READDIRPLUS3args{Dir: dir, Dircount: 4096, Maxcount: 32768}
	case nfs3xdr.NFSPROC3_FSSTAT:
		return &nfs3xdr.FSSTAT3args{Fsroot: fh}
	case nfs3xdr.NFSPROC3_FSINFO:
		return &nfs3xdr.FSINFO3args{Fsroot: fh}
	case nfs3xdr.NFSPROC3_PATHCONF:
		return &nfs3xdr.PATHCONF3args{Object: fh}
	case nfs3xdr.NFSPROC3_COMMIT:
		return &nfs3xdr.COMMIT3args{File: fh}
	}
	panic("no such procedure")
}

// numProcs is the number of NFSv3 procedures (RFC 1813 §3.3).
const numProcs = nfs3xdr.NFSPROC3_COMMIT + 1

// usesFile reports whether proc's sampleArgs name fh (rather than only dir).
func usesFile(proc uint32) bool {
	switch proc {
	case nfs3xdr.NFSPROC3_NULL, nfs3xdr.NFSPROC3_LOOKUP, nfs3xdr.NFSPROC3_CREATE, nfs3xdr.NFSPROC3_MKDIR,
		nfs3xdr.NFSPROC3_SYMLINK, nfs3xdr.NFSPROC3_MKNOD, nfs3xdr.NFSPROC3_REMOVE, nfs3xdr.NFSPROC3_RMDIR,
		nfs3xdr.NFSPROC3_RENAME, nfs3xdr.NFSPROC3_READDIR, nfs3xdr.NFSPROC3_READDIRPLUS:
		return false
	}
	return true
}

// decodeReply decodes a reply body with the generated results type of
// proc, requiring every byte to be used, and returns its status.
func decodeReply(proc uint32, body []byte) (nfs3xdr.Nfsstat3, error) {
	res := nfs3xdr.NFS_V3Results(proc)
	if err := xdr.Unmarshal(body, res); err != nil {
		return 0, err
	}
	if proc == nfs3xdr.NFSPROC3_NULL {
		return nfs3xdr.NFS3_OK, nil
	}
	var r xdr.Reader
	r.Reset(body)
	return nfs3xdr.Nfsstat3(r.Int32()), nil
}

// marshal encodes args; nil (NULL's void) is no bytes.
func marshal(args xdr.Marshaler) []byte {
	if args == nil {
		return nil
	}
	return xdr.Marshal(nil, args)
}
