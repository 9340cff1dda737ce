package state

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

// heapInuse returns the bytes of in-use heap spans after a full collection.
func heapInuse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// TestScaleMemory is the issue's acceptance check "10,000 clients x 10
// opens fit in under 1 GiB of server memory", for the protocol state: each
// client mounts as the Linux client does (EXCHANGE_ID, CREATE_SESSION
// asking for 64 slots, RECLAIM_COMPLETE) and opens 10 files of its own,
// each OPEN on its own slot with its reply cached (cachethis, as clients
// ask for non-idempotent ops, RFC 8881 §2.10.6.1.3), a reply of the size
// an OPEN+GETFH+GETATTR reply has. It reports the heap the state and the
// lock table's share reservations take, per client and per open.
func TestScaleMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 10,000 clients; skipped with -short")
	}
	const (
		clients     = 10_000
		opensPer    = 10
		openReply   = 320 // bytes: SEQUENCE, PUTFH, OPEN, GETFH, GETATTR results
		limit       = 1 << 30
		fileKeySize = 40 // an export id and an encoded file handle
	)
	clk := &clock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	before := heapInuse()
	locks := lock.NewTable(lock.Options{})
	m := New(Options{Now: clk.now, Locks: locks, BootEpoch: 1})
	// What a Linux client asks for (its default of 64 session slots).
	linux := ChannelAttrs{MaxRequestSize: 1<<20 + 4096, MaxResponseSize: 1<<20 + 4096, MaxResponseSizeCached: 8 << 10,
		MaxOperations: 16, MaxRequests: 64}
	reply := make([]byte, openReply)
	key := make([]byte, fileKeySize)
	type mounted struct {
		id   ClientID
		sess SessionID
	}
	cls := make([]mounted, clients)
	for i := range clients {
		owner := fmt.Appendf(nil, "Linux NFSv4.2 client-%05d.example.net", i)
		r, st := m.ExchangeID(ExchangeIDArgs{Owner: owner, Verifier: Verifier{byte(i)}, Principal: "sys:0", Addr: "127.0.0.1:700"})
		if st != OK {
			t.Fatalf("client %d: EXCHANGE_ID: %v", i, st)
		}
		cs, _, st := m.CreateSession(CreateSessionArgs{ClientID: r.ClientID, Sequence: r.SequenceID, Fore: linux,
			Back:  ChannelAttrs{MaxRequestSize: 4096, MaxResponseSize: 4096, MaxOperations: 2, MaxRequests: 16},
			Flags: nfs4xdr.CREATE_SESSION4_FLAG_CONN_BACK_CHAN, Principal: "sys:0", Conn: ConnID(i + 1)})
		if st != OK {
			t.Fatalf("client %d: CREATE_SESSION: %v", i, st)
		}
		if _, st := m.ReclaimComplete(r.ClientID, false); st != OK {
			t.Fatalf("client %d: RECLAIM_COMPLETE: %v", i, st)
		}
		cls[i] = mounted{r.ClientID, cs.SessionID}
	}
	mid := heapInuse()
	for i, c := range cls {
		for j := range opensPer {
			seq, st := m.Sequence(SequenceArgs{SessionID: c.sess, Seq: 1, Slot: uint32(j), HighestSlot: opensPer - 1,
				CacheThis: true, Conn: ConnID(i + 1)})
			if st != OK {
				t.Fatalf("client %d open %d: SEQUENCE: %v", i, j, st)
			}
			copy(key, fmt.Sprintf("export-1:file-%07d-%02d", i, j))
			_, _, st = m.Open(OpenArgs{ClientID: c.id, Owner: []byte("open id:\x00\x00\x00\x2a\x00\x00\x00\x00\x00\x00\x01"),
				File: lock.FileKey(key), Access: lock.ShareMode(nfs4xdr.OPEN4_SHARE_ACCESS_BOTH), Deny: 0})
			if st != OK {
				t.Fatalf("client %d open %d: OPEN: %v", i, j, st)
			}
			m.Done(seq.Token, reply, true)
		}
	}
	after := heapInuse()
	runtime.KeepAlive(m)
	runtime.KeepAlive(locks)
	runtime.KeepAlive(cls)
	used := after - min(before, after)
	mounts := mid - min(before, mid)
	opens := after - min(mid, after)
	t.Logf("%d clients x %d opens: heap in use %.1f MiB: %.0f bytes per client with its session, %.0f bytes per open "+
		"(with its cached reply and share reservation)", clients, opensPer, float64(used)/(1<<20),
		float64(mounts)/clients, float64(opens)/(clients*opensPer))
	snap := m.Snapshot()
	if len(snap.Clients) != clients {
		t.Fatalf("snapshot has %d clients, want %d", len(snap.Clients), clients)
	}
	// Every OPEN's reply is kept, within the default budget (replycache.go).
	if want := int64(clients * opensPer * openReply); snap.CachedReplyBytes != want || snap.CachedReplyRefused != 0 {
		t.Errorf("reply caches hold %d bytes (%d refused), want %d", snap.CachedReplyBytes, snap.CachedReplyRefused, want)
	}
	if used >= limit {
		t.Errorf("protocol state of %d clients x %d opens takes %d bytes, over the 1 GiB budget", clients, opensPer, used)
	}
}
