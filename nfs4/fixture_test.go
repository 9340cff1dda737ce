package nfs4

// The shared test fixture of package nfs4: a server over memfs exports with
// a fake clock, and helpers to send COMPOUNDs through ServeRPC and decode
// the replies with the generated types. Op tests build on it; keep it
// small and general.

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonfs/gonfs/exports"
	"github.com/gonfs/gonfs/fhandle"
	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/nfs4/state"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/vfs/memfs"
	"github.com/gonfs/gonfs/xdr"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// memStore is a RecoveryStore in memory.
type memStore struct {
	mu      sync.Mutex
	records map[string]state.ClientRecord
}

func (m *memStore) Put(r state.ClientRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records[string(r.Owner)] = r
	return nil
}

func (m *memStore) Delete(r state.ClientRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.records, string(r.Owner))
	return nil
}

// fixture is a server over memfs exports.
type fixture struct {
	t      *testing.T
	srv    *Server
	ns     *namespace.Namespace
	state  *state.Manager
	locks  *lock.Table
	clock  *fakeClock
	store  *memStore
	fs     map[string]*memfs.FS // by export path
	xid    uint32
	remote netip.AddrPort
}

// defaultExports: "/" read-write to everyone, no root squash, so tests act
// as root unless they pick another identity.
const defaultExports = "/ *(rw,no_root_squash,insecure)\n"

// newFixture starts a server over exportsText (exports(5) syntax; each
// export gets its own memfs).
func newFixture(t *testing.T, exportsText string) *fixture {
	t.Helper()
	if exportsText == "" {
		exportsText = defaultExports
	}
	table, err := exports.Parse(strings.NewReader(exportsText), "test")
	if err != nil {
		t.Fatal(err)
	}
	codec, err := fhandle.New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, clock: &fakeClock{now: time.Unix(1_700_000_000, 0)}, fs: map[string]*memfs.FS{},
		store: &memStore{records: map[string]state.ClientRecord{}}, remote: netip.MustParseAddrPort("127.0.0.1:700")}
	f.ns, err = namespace.New(table, codec, func(e *exports.Export) (vfs.FS, error) {
		fs := memfs.New(memfs.Options{Now: f.clock.Now, RootMode: 0o777})
		f.fs[e.Path] = fs
		return fs, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f.locks = lock.NewTable(lock.Options{})
	f.state = state.New(state.Options{Now: f.clock.Now, Locks: f.locks, BootEpoch: 1,
		ServerOwner: []byte("gonfs-test"), ServerScope: []byte("gonfs-test")})
	f.srv = New(f.ns, Options{State: f.state, Store: f.store, Logger: nil, Now: f.clock.Now})
	return f
}

// cred is an AUTH_SYS identity for calls.
type cred struct{ uid, gid uint32 }

var root = cred{0, 0}

// call sends one COMPOUND (minor version minor) as c and returns the
// decoded reply. The reply must decode completely.
func (f *fixture) call(c cred, minor uint32, ops ...nfs4xdr.NfsArgop4) *nfs4xdr.COMPOUND4res {
	f.t.Helper()
	res, _ := f.callRaw(c, minor, ops...)
	return res
}

// callRaw is call that also returns the raw reply bytes.
func (f *fixture) callRaw(c cred, minor uint32, ops ...nfs4xdr.NfsArgop4) (*nfs4xdr.COMPOUND4res, []byte) {
	f.t.Helper()
	args := nfs4xdr.COMPOUND4args{Tag: nfs4xdr.Utf8strCs("test"), Minorversion: minor, Argarray: ops}
	return f.send(c, xdr.Marshal(nil, &args))
}

// send delivers raw COMPOUND4args bytes.
func (f *fixture) send(c cred, body []byte) (*nfs4xdr.COMPOUND4res, []byte) {
	f.t.Helper()
	f.xid++
	call := &sunrpc.Call{XID: f.xid, Prog: nfs4xdr.NFS4_PROGRAM, Vers: nfs4xdr.NFS_V4, Proc: nfs4xdr.NFSPROC4_COMPOUND,
		Args: body, Transport: "tcp", Remote: f.remote, Local: netip.MustParseAddrPort("127.0.0.1:2049")}
	call.Cred.Flavor = rpcxdr.AUTH_SYS
	call.Cred.Sys = rpcxdr.AuthsysParms{Machinename: "test", Uid: c.uid, Gid: c.gid}
	var w xdr.Writer
	if st := f.srv.ServeRPC(context.Background(), call, &w); st != sunrpc.Success {
		f.t.Fatalf("ServeRPC: %v", st)
	}
	var res nfs4xdr.COMPOUND4res
	if err := xdr.Unmarshal(w.Bytes(), &res); err != nil {
		f.t.Fatalf("reply does not decode: %v\n%x", err, w.Bytes())
	}
	return &res, w.Bytes()
}

// Op builders for the common operations. Others are built inline.

func opPutrootfh() nfs4xdr.NfsArgop4 { return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_PUTROOTFH} }
func opGetfh() nfs4xdr.NfsArgop4     { return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_GETFH} }
func opSavefh() nfs4xdr.NfsArgop4    { return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_SAVEFH} }
func opRestorefh() nfs4xdr.NfsArgop4 { return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_RESTOREFH} }
func opLookupp() nfs4xdr.NfsArgop4   { return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_LOOKUPP} }

func opPutfh(fh []byte) nfs4xdr.NfsArgop4 {
	return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_PUTFH, Opputfh: &nfs4xdr.PUTFH4args{Object: fh}}
}

func opLookup(name string) nfs4xdr.NfsArgop4 {
	return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_LOOKUP, Oplookup: &nfs4xdr.LOOKUP4args{Objname: nfs4xdr.Component4(name)}}
}

func opAccess(bits uint32) nfs4xdr.NfsArgop4 {
	return nfs4xdr.NfsArgop4{Argop: nfs4xdr.OP_ACCESS, Opaccess: &nfs4xdr.ACCESS4args{Access: bits}}
}

// status returns the compound status and the status of each result.
func statuses(res *nfs4xdr.COMPOUND4res) []nfs4xdr.Nfsstat4 {
	out := []nfs4xdr.Nfsstat4{res.Status}
	for _, r := range res.Resarray {
		out = append(out, resStatus(&r))
	}
	return out
}

// resStatus digs the status out of one result. Every resop4 arm starts
// with its nfsstat4, so re-encoding the arm and reading the first word
// after the opnum gives it without a switch over every type.
func resStatus(r *nfs4xdr.NfsResop4) nfs4xdr.Nfsstat4 {
	b := xdr.Marshal(nil, r)
	rd := xdr.NewReader(b)
	rd.Uint32() // opnum
	return nfs4xdr.Nfsstat4(rd.Uint32())
}

// wantStatus fails unless the compound's status is want and it has n
// results.
func (f *fixture) wantStatus(res *nfs4xdr.COMPOUND4res, want nfs4xdr.Nfsstat4, n int) {
	f.t.Helper()
	if res.Status != want || len(res.Resarray) != n {
		f.t.Fatalf("compound: status %v with %d results %v, want %v with %d", res.Status, len(res.Resarray), statuses(res), want, n)
	}
}
