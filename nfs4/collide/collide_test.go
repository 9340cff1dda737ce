package collide

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const lease = 90 * time.Second

// step is one scripted event: at seconds after t0, from addr (host:port),
// with verifier v, outcome o; prev are the destroyed record's addresses.
type step struct {
	at    int
	owner string
	addr  string
	v     byte
	o     Outcome
	prev  []string
}

func (s step) event() Event {
	owner := s.owner
	if owner == "" {
		owner = "Linux NFSv4.2 twin"
	}
	return Event{Time: t0.Add(time.Duration(s.at) * time.Second), Owner: owner, Addr: s.addr, Verifier: [8]byte{s.v},
		Principal: "sys:0", Outcome: s.o, PrevAddrs: s.prev}
}

// register is what one client does to get (back) in: EXCHANGE_ID then
// CREATE_SESSION; with a confirmed record of another incarnation (prev
// non-nil) that is a restart and a teardown (RFC 8881 §18.35.4 case 5).
func register(at int, owner, addr string, v byte, prev []string) []step {
	if prev == nil {
		return []step{{at: at, owner: owner, addr: addr, v: v, o: OutcomeNew}}
	}
	return []step{{at: at, owner: owner, addr: addr, v: v, o: OutcomeRestart}, {at: at, owner: owner, addr: addr, v: v, o: OutcomeReplaced, prev: prev}}
}

// fight is two clients sharing owner: A mounts, then B and A evict each
// other every `every` seconds, n times in all.
func fight(start, every, n int, owner, a, b string, va, vb byte) []step {
	s := register(start, owner, a, va, nil)
	for i := 1; i <= n; i++ {
		if i%2 == 1 {
			s = append(s, register(start+i*every, owner, b, vb, []string{a})...)
		} else {
			s = append(s, register(start+i*every, owner, a, va, []string{b})...)
		}
	}
	return s
}

type alertAt struct {
	step  int // index in the script
	kind  Kind
	warn  bool
	count bool
}

// run feeds the script and returns the alerts, described.
func run(d *Detector, script []step) []alertAt {
	var got []alertAt
	for i, s := range script {
		if a, ok := d.Observe(s.event()); ok {
			got = append(got, alertAt{i, a.Finding.Kind, a.Warn, a.Count})
		}
	}
	return got
}

// TestDetector scripts the cases of doc.go with the events' own times as
// the clock.
func TestDetector(t *testing.T) {
	const a, b = "10.0.0.1:700", "10.0.0.2:800"
	tests := []struct {
		name   string
		script []step
		want   []alertAt
		// the finding of the owner after the script, if any
		kind   Kind
		addrs  []string
		tears  int
		active bool
	}{
		{
			// Two machines, one owner: B's registration destroys A's
			// state, A's destroys B's. One warning and one count at the
			// second teardown, and none after (rate limit: an hour).
			name:   "two addresses alternating",
			script: fight(0, 5, 40, "", a, b, 1, 2),
			want:   []alertAt{{4, Collision, true, true}},
			kind:   Collision, addrs: []string{"10.0.0.1", "10.0.0.2"}, tears: 40, active: true,
		},
		{
			// The same, behind one NAT address: the verifiers alternate.
			name:   "one address, verifiers alternating",
			script: fight(0, 5, 3, "", a, "10.0.0.1:900", 1, 2),
			want:   []alertAt{{4, Collision, true, true}},
			kind:   Collision, addrs: []string{"10.0.0.1"}, tears: 3, active: true,
		},
		{
			// Unique identities: two owners, no teardown, nothing to say.
			name: "unique ids",
			script: slices.Concat(register(0, "Linux NFSv4.2 id-a/twin", a, 1, nil),
				register(1, "Linux NFSv4.2 id-b/twin", b, 2, nil),
				[]step{{at: 50, owner: "Linux NFSv4.2 id-a/twin", addr: a, v: 1, o: OutcomeNew}}),
		},
		{
			// One client restarting twice from one address, a new
			// verifier each time: no collision (no address or verifier
			// comes back), but a crash loop worth an Info line.
			name: "one client restarting",
			script: slices.Concat(register(0, "", a, 1, nil), register(60, "", a, 2, []string{a}),
				register(120, "", a, 3, []string{a})),
			want: []alertAt{{4, Restarts, true, false}},
			kind: Restarts, addrs: []string{"10.0.0.1"}, tears: 2, active: true,
		},
		{
			// A client that moved (DHCP) and restarted: it never goes
			// back to the old address.
			name: "moved and restarted",
			script: slices.Concat(register(0, "", a, 1, nil), register(60, "", b, 2, []string{a}),
				register(120, "", b, 3, []string{b})),
			want: []alertAt{{4, Restarts, true, false}},
			kind: Restarts, addrs: []string{"10.0.0.1", "10.0.0.2"}, tears: 2, active: true,
		},
		{
			// Teardowns further apart than the window (3 leases) are
			// ordinary reboots.
			name:   "slow alternation",
			script: fight(0, 300, 4, "", a, b, 1, 2),
		},
		{
			// A restart loop that then comes back to an old verifier (and
			// address) becomes a collision at that EXCHANGE_ID: counted
			// then, warned as a collision.
			name: "restarts become a collision",
			script: slices.Concat(register(0, "", a, 1, nil), register(10, "", a, 2, []string{a}),
				register(20, "", a, 3, []string{a}), register(30, "", b, 4, []string{a}), register(40, "", a, 3, []string{b})),
			want: []alertAt{{4, Restarts, true, false}, {7, Collision, true, true}},
			kind: Collision, addrs: []string{"10.0.0.1", "10.0.0.2"}, tears: 4, active: true,
		},
		{
			// A refusal (CLID_INUSE, another principal) tears nothing down.
			name: "in use",
			script: slices.Concat(register(0, "", a, 1, nil), []step{{at: 1, addr: b, v: 2, o: OutcomeInUse},
				{at: 2, addr: b, v: 2, o: OutcomeInUse}, {at: 3, addr: b, v: 2, o: OutcomeInUse}}),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			last := tc.script[len(tc.script)-1].event().Time
			d := New(Options{Lease: lease, Now: func() time.Time { return last }})
			got := run(d, tc.script)
			if !slices.Equal(got, tc.want) {
				t.Errorf("alerts %+v, want %+v", got, tc.want)
			}
			fs := d.Findings()
			if tc.kind == "" {
				if len(fs) != 0 {
					t.Errorf("findings %+v, want none", fs)
				}
				return
			}
			if len(fs) != 1 {
				t.Fatalf("findings %+v, want one", fs)
			}
			f := fs[0]
			if f.Kind != tc.kind || !slices.Equal(f.Addrs, tc.addrs) || f.Teardowns != tc.tears || f.Active != tc.active ||
				f.Owner != "Linux NFSv4.2 twin" || !f.FirstSeen.Equal(t0) || !f.LastSeen.Equal(last) {
				t.Errorf("finding %+v, want kind %s addrs %v teardowns %d active %v", f, tc.kind, tc.addrs, tc.tears, tc.active)
			}
		})
	}
}

// TestRateLimit: a collision that goes on warns once per RateLimit and
// counts once; one that stops lapses after a window, stays listed
// (inactive) until Retain, and a later one is a new episode: counted
// again, warned only when the rate limit allows.
func TestRateLimit(t *testing.T) {
	const a, b = "10.0.0.1:1", "10.0.0.2:1"
	now := t0
	d := New(Options{Lease: lease, RateLimit: 30 * time.Minute, Retain: 2 * time.Hour, Now: func() time.Time { return now }})
	// 40 minutes of fighting, one eviction a minute: warned at minute 2
	// (the second teardown) and at minute 32 (step 1+2·31, its EXCHANGE_ID).
	got := run(d, fight(0, 60, 40, "", a, b, 1, 2))
	want := []alertAt{{4, Collision, true, true}, {1 + 2*31, Collision, true, false}}
	if !slices.Equal(got, want) {
		t.Errorf("fighting: alerts %+v, want %+v", got, want)
	}
	now = t0.Add(40*time.Minute + 3*lease + time.Second)
	if fs := d.Findings(); len(fs) != 1 || fs[0].Active || fs[0].Teardowns != 40 {
		t.Errorf("after it stopped: %+v, want one inactive finding with 40 teardowns", fs)
	}
	// Ten minutes later they fight again: a new episode (counted), but
	// the last warning (minute 32) is less than 30 minutes old.
	got = run(d, fight(50*60, 10, 2, "", a, b, 3, 4))
	want = []alertAt{{4, Collision, false, true}}
	if !slices.Equal(got, want) {
		t.Errorf("second episode: alerts %+v, want %+v", got, want)
	}
	now = t0.Add(50*time.Minute + 20*time.Second + 2*time.Hour + time.Second)
	if fs := d.Findings(); len(fs) != 0 {
		t.Errorf("after Retain: %+v, want none", fs)
	}
}

// TestBounds: owners beyond MaxOwners are forgotten, those without a
// finding first; Findings returns at most MaxFindings, newest first; a
// hostile owner string is quoted.
func TestBounds(t *testing.T) {
	d := New(Options{Lease: lease, MaxOwners: 3, MaxFindings: 1, Now: func() time.Time { return t0.Add(time.Hour) }})
	run(d, fight(0, 1, 2, "old\nWARN forged", "10.0.0.1:1", "10.0.0.2:1", 1, 2))
	run(d, fight(100, 1, 2, "newer", "10.0.0.3:1", "10.0.0.4:1", 1, 2))
	for i := range 5 {
		run(d, register(200+i, fmt.Sprintf("quiet-%d", i), "10.0.1.1:1", 1, nil))
	}
	if n := len(d.owners); n != 3 {
		t.Errorf("%d owners tracked, want 3", n)
	}
	fs := d.Findings()
	if len(fs) != 1 || fs[0].Owner != "newer" {
		t.Fatalf("findings %+v, want only the newest", fs)
	}
	d.opts.MaxFindings = 10
	fs = d.Findings()
	if len(fs) != 2 || fs[1].Owner != `"old\nWARN forged"` || strings.Contains(fs[1].Summary(), "\n") {
		t.Errorf("findings %+v, want the quoted owner second", fs)
	}
}

// TestSummary names the owner, every address and the teardowns.
func TestSummary(t *testing.T) {
	f := Finding{Kind: Collision, Owner: "Linux NFSv4.2 twin", Addrs: []string{"10.0.0.1", "10.0.0.2"}, Verifiers: []string{"01", "02"}, Teardowns: 3}
	s := f.Summary()
	for _, w := range []string{"Linux NFSv4.2 twin", "10.0.0.1, 10.0.0.2", "3 times"} {
		if !strings.Contains(s, w) {
			t.Errorf("summary %q lacks %q", s, w)
		}
	}
}
