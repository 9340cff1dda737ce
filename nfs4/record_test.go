package nfs4

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

type recorded struct {
	minor, op uint32
	status    int32
}

type fakeRecorder struct {
	mu  sync.Mutex
	ops []recorded
}

func (r *fakeRecorder) Op(ver, minor, op uint32, status int32, d time.Duration, client netip.Addr, export uint32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, recorded{minor, op, status})
}

// Every operation a COMPOUND runs is reported with its own status, up to
// and including the one that failed, and nothing after it.
func TestRecorderSeesEachOp(t *testing.T) {
	f := newFixture(t, "")
	rec := &fakeRecorder{}
	f.srv.rec = rec
	s := f.newSession(root)
	rec.ops = nil
	s.call(opPutrootfh(), opLookup("missing"), opGetfh())
	want := []recorded{
		{1, uint32(nfs4xdr.OP_SEQUENCE), int32(nfs4xdr.NFS4_OK)},
		{1, uint32(nfs4xdr.OP_PUTROOTFH), int32(nfs4xdr.NFS4_OK)},
		{1, uint32(nfs4xdr.OP_LOOKUP), int32(nfs4xdr.NFS4ERR_NOENT)},
	}
	if len(rec.ops) != len(want) {
		t.Fatalf("recorded %v, want %v", rec.ops, want)
	}
	for i := range want {
		if rec.ops[i] != want[i] {
			t.Errorf("op %d: %+v, want %+v", i, rec.ops[i], want[i])
		}
	}
}
