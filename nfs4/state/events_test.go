package state

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

// TestClientEvents: the hook hears, in order and outside the lock, of
// every record made for an owner, of each confirmation that destroys the
// previous incarnation (RFC 8881 §18.35.4 case 5, §18.36.4), and of a
// CLID_INUSE refusal (case 3) — the inputs of the collision detector.
func TestClientEvents(t *testing.T) {
	clk := &clock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	var got []string
	var m *Manager
	m = New(Options{Now: clk.now, Lease: lease, Locks: lock.NewTable(lock.Options{}), BootEpoch: epoch,
		OnClientEvent: func(ev ClientEvent) {
			// Outside the lock: a call that takes it must not deadlock.
			_ = m.Snapshot()
			s := fmt.Sprintf("%s %s %s v%d %s", ev.Kind, ev.Owner, ev.Addr, ev.Verifier[0], ev.Principal)
			if ev.Kind == ClientReplaced {
				s += fmt.Sprintf(" prev v%d %s %s", ev.PrevVerifier[0], ev.PrevPrincipal, strings.Join(ev.PrevAddrs, ","))
			}
			got = append(got, s)
		}})
	exchange := func(v byte, principal, addr string) (ExchangeIDResult, Status) {
		return m.ExchangeID(ExchangeIDArgs{Owner: []byte("twin"), Verifier: Verifier{v}, Principal: principal, Addr: addr})
	}
	confirm := func(r ExchangeIDResult) {
		t.Helper()
		if _, _, st := m.CreateSession(CreateSessionArgs{ClientID: r.ClientID, Sequence: r.SequenceID, Fore: fore, Back: fore,
			Flags: nfs4xdr.CREATE_SESSION4_FLAG_CONN_BACK_CHAN, Principal: "sys:0", Conn: 1}); st != OK {
			t.Fatalf("CREATE_SESSION: %v", st)
		}
	}
	a, _ := exchange(1, "sys:0", "10.0.0.1:700")
	confirm(a)
	exchange(1, "sys:0", "10.0.0.1:700") // case 2: nothing new
	b, _ := exchange(2, "sys:0", "10.0.0.2:800")
	confirm(b)
	if _, st := exchange(3, "krb5:x", "10.0.0.3:900"); st != errClidInuse {
		t.Fatalf("other principal with a session: %v, want CLID_INUSE", st)
	}
	want := []string{
		"new twin 10.0.0.1:700 v1 sys:0",
		"restart twin 10.0.0.2:800 v2 sys:0",
		"replaced twin 10.0.0.2:800 v2 sys:0 prev v1 sys:0 10.0.0.1:700",
		"in-use twin 10.0.0.3:900 v3 krb5:x",
	}
	if !slices.Equal(got, want) {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
