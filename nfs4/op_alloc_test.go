package nfs4

import (
	"context"
	"strings"
	"testing"

	"github.com/gonfs/gonfs/exports"
	"github.com/gonfs/gonfs/fhandle"
	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/nfs4/state"
	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/vfs/memfs"
)

// plainFS hides a backend's optional interfaces (vfs/ext.go), to test
// what the server does without them.
type plainFS struct{ vfs.FS }

// newFixtureWith is newFixture over backends that mk makes for each export
// path instead of memfs (f.fs stays empty).
func newFixtureWith(t *testing.T, exportsText string, mk func(path string) vfs.FS) *fixture {
	t.Helper()
	table, err := exports.Parse(strings.NewReader(exportsText), "test")
	if err != nil {
		t.Fatal(err)
	}
	codec, err := fhandle.New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, "")
	f.fs = map[string]*memfs.FS{}
	f.ns, err = namespace.New(table, codec, func(e *exports.Export) (vfs.FS, error) { return mk(e.Path), nil })
	if err != nil {
		t.Fatal(err)
	}
	f.locks = lock.NewTable(lock.Options{})
	f.state = state.New(state.Options{Now: f.clock.Now, Locks: f.locks, BootEpoch: 1,
		ServerOwner: []byte("gonfs-test"), ServerScope: []byte("gonfs-test")})
	f.srv = New(f.ns, Options{State: f.state, Store: f.store, Now: f.clock.Now})
	return f
}

func allocateArg(sid x.Stateid4, off, n uint64) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_ALLOCATE, Opallocate: &x.ALLOCATE4args{AaStateid: sid, AaOffset: x.Offset4(off), AaLength: x.Length4(n)}}
}

func deallocateArg(sid x.Stateid4, off, n uint64) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_DEALLOCATE, Opdeallocate: &x.DEALLOCATE4args{DaStateid: sid, DaOffset: x.Offset4(off), DaLength: x.Length4(n)}}
}

// backendContent reads file name of export "/" through the backend.
func (f *fixture) backendContent(name string) string {
	f.t.Helper()
	fs := f.fs["/"]
	ctx := context.Background()
	h, a, err := fs.Lookup(ctx, vfs.RootCred(), fs.Root(), name)
	if err != nil {
		f.t.Fatal(err)
	}
	buf := make([]byte, a.Size)
	n, _, err := fs.Read(ctx, vfs.RootCred(), h, 0, buf)
	if err != nil {
		f.t.Fatal(err)
	}
	return string(buf[:n])
}

// RFC 7862 §15.1, §15.4: ALLOCATE grows a file whose range runs past its
// end and keeps its data; DEALLOCATE zeroes a range and keeps the size;
// both need a stateid that allows writing.
func TestAllocateDeallocate(t *testing.T) {
	f := newFixture(t, "")
	f.seed("f", "0123456789", 0o666, 0)
	s := f.newSession(root)
	rw := s.open(openName("w", "f", accBoth, denyNone))
	ro := s.open(openName("r", "f", accRead, denyNone))

	f.wantStatus(s.call42(opPutfh(rw.fh), allocateArg(rw.sid, 0, 4)), x.NFS4_OK, 3)
	if got := f.backendContent("f"); got != "0123456789" {
		t.Errorf("after ALLOCATE inside: %q", got)
	}
	f.wantStatus(s.call42(opPutfh(rw.fh), allocateArg(rw.sid, 8, 8)), x.NFS4_OK, 3)
	if got := f.backendContent("f"); got != "0123456789\x00\x00\x00\x00\x00\x00" {
		t.Errorf("after ALLOCATE past the end: %q", got)
	}
	f.wantStatus(s.call42(opPutfh(rw.fh), deallocateArg(rw.sid, 2, 3)), x.NFS4_OK, 3)
	f.wantStatus(s.call42(opPutfh(rw.fh), deallocateArg(rw.sid, 14, 100)), x.NFS4_OK, 3)
	if got := f.backendContent("f"); got != "01\x00\x00\x0056789\x00\x00\x00\x00\x00\x00" {
		t.Errorf("after DEALLOCATE: %q (size must stay 16)", got)
	}

	tests := []struct {
		name string
		ops  []x.NfsArgop4
		want x.Nfsstat4
	}{
		{"length 0", []x.NfsArgop4{opPutfh(rw.fh), allocateArg(rw.sid, 0, 0)}, x.NFS4ERR_INVAL},
		{"wraps", []x.NfsArgop4{opPutfh(rw.fh), deallocateArg(rw.sid, 1<<63, 1<<63)}, x.NFS4ERR_INVAL},
		{"read-only open", []x.NfsArgop4{opPutfh(ro.fh), allocateArg(ro.sid, 0, 4)}, x.NFS4ERR_OPENMODE},
		{"read-only open dealloc", []x.NfsArgop4{opPutfh(ro.fh), deallocateArg(ro.sid, 0, 4)}, x.NFS4ERR_OPENMODE},
		{"directory", []x.NfsArgop4{opPutrootfh(), allocateArg(x.Stateid4{}, 0, 4)}, x.NFS4ERR_ISDIR},
		{"no filehandle", []x.NfsArgop4{deallocateArg(rw.sid, 0, 4)}, x.NFS4ERR_NOFILEHANDLE},
	}
	for _, tt := range tests {
		if st := lastStatus(s.call42(tt.ops...)); st != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, st, tt.want)
		}
	}
}

// Without vfs.Allocator ALLOCATE and DEALLOCATE are NFS4ERR_NOTSUPP
// (RFC 7862 §15.1.3); on a read-only export NFS4ERR_ROFS.
func TestAllocateUnsupported(t *testing.T) {
	f := newFixtureWith(t, defaultExports, func(string) vfs.FS { return plainFS{memfs.New(memfs.Options{RootMode: 0o777})} })
	s := f.newSession(root)
	o := s.open(createName("o", "f", accBoth, denyNone, 0o644))
	for _, op := range []x.NfsArgop4{allocateArg(o.sid, 0, 4), deallocateArg(o.sid, 0, 4)} {
		if st := lastStatus(s.call42(opPutfh(o.fh), op)); st != x.NFS4ERR_NOTSUPP {
			t.Errorf("%v without vfs.Allocator: %v, want NFS4ERR_NOTSUPP", op.Argop, st)
		}
	}
	ro := newFixture(t, "/ *(ro,no_root_squash,insecure)\n")
	ro.seed("f", "data", 0o666, 0)
	rs := ro.newSession(root)
	fh := fhOf(t, rs, "f")
	if st := lastStatus(rs.call42(opPutfh(fh), allocateArg(x.Stateid4{}, 0, 4))); st != x.NFS4ERR_ROFS {
		t.Errorf("ALLOCATE on a read-only export: %v, want NFS4ERR_ROFS", st)
	}
}

func memfsNew() *memfs.FS { return memfs.New(memfs.Options{RootMode: 0o777}) }
