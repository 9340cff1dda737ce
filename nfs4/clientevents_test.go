package nfs4

import (
	"bytes"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gonfs/gonfs/nfs4/collide"
	"github.com/gonfs/gonfs/nfs4/state"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/stats"
)

// logBuffer collects slog text output; the state's hook may log from any
// goroutine.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Split(strings.TrimSpace(b.buf.String()), "\n")
}

// collisionFixture is the fixture with the collision detector wired as
// the server package wires it: state events → ClientEventHook → a log
// with sub=nfs4 and a stats counter.
type collisionFixture struct {
	*fixture
	log   *logBuffer
	stats *stats.Stats
	det   *collide.Detector
}

func newCollisionFixture(t *testing.T, keyByAddr bool) *collisionFixture {
	t.Helper()
	f := &collisionFixture{fixture: newFixture(t, ""), log: &logBuffer{}, stats: stats.New(stats.Options{})}
	logger := slog.New(slog.NewTextHandler(f.log, nil)).With("sub", "nfs4")
	f.det = collide.New(collide.Options{Lease: 90 * time.Second, Now: f.clock.Now})
	f.state = state.New(state.Options{Now: f.clock.Now, Locks: f.locks, BootEpoch: 1,
		ServerOwner: []byte("gonfs-test"), ServerScope: []byte("gonfs-test"),
		OnClientEvent: ClientEventHook(f.det, logger, f.stats)})
	f.srv = New(f.ns, Options{State: f.state, Store: f.store, Logger: logger, Now: f.clock.Now, ClientKeyByAddress: keyByAddr})
	return f
}

// from sets the source address of the next calls.
func (f *collisionFixture) from(addr string) *collisionFixture {
	f.remote = netip.MustParseAddrPort(addr)
	return f
}

const twinOwner = "Linux NFSv4.2 twin"

// TestOwnerCollision: two machines, 10.0.0.1 and 10.0.0.2, with one owner
// string. Each EXCHANGE_ID + CREATE_SESSION is taken as a restart of the
// other (RFC 8881 §18.35.4 case 5) and destroys its session
// (§18.36.4), so the other's next SEQUENCE gets NFS4ERR_BADSESSION and it
// registers again. At the second teardown the server logs one WARN line,
// sub=nfs4, naming the owner, both addresses, the teardowns and the fix,
// and counts one collision; the fight going on logs nothing more.
func TestOwnerCollision(t *testing.T) {
	f := newCollisionFixture(t, false)
	const a, b = "10.0.0.1:801", "10.0.0.2:802"
	sa := f.from(a).newSessionOwner(root, twinOwner, nfs4xdr.Verifier4{1})
	for i := range 6 {
		f.clock.Advance(time.Second)
		addr, other, verf := b, a, nfs4xdr.Verifier4{2}
		if i%2 == 1 {
			addr, other, verf = a, b, nfs4xdr.Verifier4{1}
		}
		s := f.from(addr).newSessionOwner(root, twinOwner, verf)
		// The one evicted finds its session gone.
		f.from(other)
		res := sa.call()
		f.wantStatus(res, nfs4xdr.NFS4ERR_BADSESSION, 1)
		sa = s
	}
	var warns []string
	for _, l := range f.log.lines() {
		if strings.Contains(l, "level=WARN") {
			warns = append(warns, l)
		}
	}
	if len(warns) != 1 {
		t.Fatalf("%d WARN lines, want 1:\n%s", len(warns), strings.Join(f.log.lines(), "\n"))
	}
	for _, want := range []string{"sub=nfs4", `owner="Linux NFSv4.2 twin"`, "addrs=10.0.0.1,10.0.0.2", "teardowns=2",
		"nfs.nfs4_unique_id", "/sys/fs/nfs/net/nfs_client/identifier", "distinct hostnames"} {
		if !strings.Contains(warns[0], want) {
			t.Errorf("warning lacks %q:\n%s", want, warns[0])
		}
	}
	if n := f.stats.Snapshot().ClientOwnerCollisions; n != 1 {
		t.Errorf("collisions counted %d, want 1", n)
	}
	fs := f.det.Findings()
	if len(fs) != 1 || fs[0].Kind != collide.Collision || fs[0].Teardowns != 6 || fs[0].Owner != twinOwner ||
		strings.Join(fs[0].Addrs, ",") != "10.0.0.1,10.0.0.2" || !fs[0].Active {
		t.Errorf("findings %+v, want one active collision of 10.0.0.1 and 10.0.0.2 with 6 teardowns", fs)
	}
}

// TestOwnerUnique: the same two machines with unique owner strings
// (nfs4_unique_id) are two clients: no teardown, no warning.
func TestOwnerUnique(t *testing.T) {
	f := newCollisionFixture(t, false)
	sa := f.from("10.0.0.1:801").newSessionOwner(root, "Linux NFSv4.2 id-a/twin", nfs4xdr.Verifier4{1})
	sb := f.from("10.0.0.2:802").newSessionOwner(root, "Linux NFSv4.2 id-b/twin", nfs4xdr.Verifier4{2})
	f.wantStatus(sa.call(), nfs4xdr.NFS4_OK, 1)
	f.wantStatus(sb.call(), nfs4xdr.NFS4_OK, 1)
	if l := f.log.lines(); len(l) != 1 || l[0] != "" {
		t.Errorf("log:\n%s\nwant nothing", strings.Join(l, "\n"))
	}
	if n := f.stats.Snapshot().ClientOwnerCollisions; n != 0 || len(f.det.Findings()) != 0 {
		t.Errorf("%d collisions, findings %+v; want none", n, f.det.Findings())
	}
}

// TestClientKeyByAddress: with Options.ClientKeyByAddress the source host
// is part of the owner, so the two machines sharing an owner string are
// two clients: the second EXCHANGE_ID is a new owner (RFC 8881 §18.35.4
// case 1), not a restart, and the first keeps its session. The same
// machine reconnecting from another port is still the same client
// (case 2: the same client ID).
func TestClientKeyByAddress(t *testing.T) {
	f := newCollisionFixture(t, true)
	sa := f.from("10.0.0.1:801").newSessionOwner(root, twinOwner, nfs4xdr.Verifier4{1})
	sb := f.from("10.0.0.2:802").newSessionOwner(root, twinOwner, nfs4xdr.Verifier4{2})
	if sa.cid == sb.cid {
		t.Fatal("one client ID for both")
	}
	f.from("10.0.0.1:900")
	f.wantStatus(sa.call(), nfs4xdr.NFS4_OK, 1)
	if cid, _ := f.exchangeID(root, twinOwner, nfs4xdr.Verifier4{1}); cid != sa.cid {
		t.Errorf("reconnect from another port: client ID %x, want %x", cid, sa.cid)
	}
	f.from("10.0.0.2:802")
	f.wantStatus(sb.call(), nfs4xdr.NFS4_OK, 1)
	var owners []string
	for _, c := range f.state.Snapshot().Clients {
		owners = append(owners, c.Owner)
	}
	if strings.Join(owners, "|") != twinOwner+" @10.0.0.1|"+twinOwner+" @10.0.0.2" {
		t.Errorf("owners %q", owners)
	}
	if n := f.stats.Snapshot().ClientOwnerCollisions; n != 0 {
		t.Errorf("%d collisions counted", n)
	}
}
