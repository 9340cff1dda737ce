package collide

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Outcome is what an EXCHANGE_ID, SETCLIENTID or their confirmation did
// to an owner's records (package nfs4/state's ClientEventKind).
type Outcome uint8

// Outcomes.
const (
	// OutcomeNew: a record for an owner with no confirmed record.
	OutcomeNew Outcome = iota + 1
	// OutcomeRestart: a new record beside the confirmed one (another verifier or
	// principal); nothing destroyed yet.
	OutcomeRestart
	// OutcomeReplaced: the new record confirmed, the previous incarnation
	// destroyed with its sessions and state: a teardown.
	OutcomeReplaced
	// OutcomeInUse: refused with NFS4ERR_CLID_INUSE.
	OutcomeInUse
)

// Event is one observed change to an owner's client records.
type Event struct {
	Time      time.Time
	Owner     string // co_ownerid (or SETCLIENTID id), raw bytes
	Addr      string // source, "host:port" or "host"; compared by host
	Verifier  [8]byte
	Principal string
	Outcome   Outcome
	// For OutcomeReplaced: the source addresses of the destroyed record.
	PrevAddrs []string
}

// Kind is the kind of a finding.
type Kind string

// Kinds of findings.
const (
	// Collision: several clients share one owner string.
	Collision Kind = "client-owner-collision"
	// Restarts: one client restarted repeatedly; milder, not counted.
	Restarts Kind = "client-restarts"
)

// Fix is what the administrator should do about a Collision.
const Fix = "give each client a unique NFSv4 identity: on Linux set the nfs.nfs4_unique_id module parameter " +
	"(e.g. options nfs nfs4_unique_id=<uuid> in /etc/modprobe.d) or write a unique value to " +
	"/sys/fs/nfs/net/nfs_client/identifier before mounting, or give the clients distinct hostnames"

// Finding is what the detector knows about one owner.
type Finding struct {
	Kind       Kind
	Owner      string   // printable (Go-quoted when not printable UTF-8)
	Addrs      []string // source hosts involved, in the order first seen
	Verifiers  []string // verifiers seen, hex, in the order first seen
	Principals []string
	// Teardowns counts the times the owner's state was destroyed by a new
	// incarnation during this episode.
	Teardowns int
	FirstSeen time.Time // first event of the episode's evidence
	LastSeen  time.Time // latest event counted in the episode
	// Active: the episode's last event is less than a Window old.
	Active bool
}

// Summary is a one-line description of f.
func (f Finding) Summary() string {
	switch f.Kind {
	case Collision:
		return fmt.Sprintf("NFSv4 client owner %s is shared by several clients (addresses %s, %d verifiers): "+
			"each one's EXCHANGE_ID destroyed the other's state %d times",
			f.Owner, strings.Join(f.Addrs, ", "), len(f.Verifiers), f.Teardowns)
	default:
		return fmt.Sprintf("NFSv4 client owner %s restarted %d times (addresses %s, %d verifiers)",
			f.Owner, f.Teardowns, strings.Join(f.Addrs, ", "), len(f.Verifiers))
	}
}

// Alert is what Observe asks the caller to do.
type Alert struct {
	Finding Finding
	// Warn: log the finding now, at WARN for a Collision, INFO for
	// Restarts (rate-limited per owner and kind).
	Warn bool
	// Count: a new collision episode, add one to the collision counter.
	Count bool
}

// Options configure a Detector. The zero value works.
type Options struct {
	// Lease is the server's lease time; zero means 90 s.
	Lease time.Duration
	// Window is how far back events count; zero means 3 × Lease.
	Window time.Duration
	// RateLimit is the least time between two warnings for one owner;
	// zero means an hour.
	RateLimit time.Duration
	// Retain is how long an inactive finding stays in Findings; zero
	// means 24 h.
	Retain time.Duration
	// MaxOwners bounds the owners tracked (zero: 4096), MaxFindings the
	// findings Findings returns, most recent first (zero: 64).
	MaxOwners   int
	MaxFindings int
	// Now is the clock of Findings; nil means time.Now.
	Now func() time.Time
}

const (
	maxObs  = 64 // events kept per owner
	maxList = 16 // addresses, verifiers, principals per finding
)

// Detector watches client owners for collisions. Create it with New.
type Detector struct {
	opts Options

	mu     sync.Mutex
	owners map[string]*track
}

// track is one owner's recent events and current or last episode.
type track struct {
	obs      []obs
	last     time.Time
	ep       *Finding // nil until the owner qualified once
	counted  bool     // ep was counted as a collision
	lastWarn map[Kind]time.Time
}

type obs struct {
	t         time.Time
	addr      string
	verf      [8]byte
	principal string
	teardown  bool
	prev      []string // hosts of the destroyed record (teardowns)
}

// New returns a Detector.
func New(opts Options) *Detector {
	if opts.Lease <= 0 {
		opts.Lease = 90 * time.Second
	}
	if opts.Window <= 0 {
		opts.Window = 3 * opts.Lease
	}
	if opts.RateLimit <= 0 {
		opts.RateLimit = time.Hour
	}
	if opts.Retain <= 0 {
		opts.Retain = 24 * time.Hour
	}
	if opts.MaxOwners <= 0 {
		opts.MaxOwners = 4096
	}
	if opts.MaxFindings <= 0 {
		opts.MaxFindings = 64
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Detector{opts: opts, owners: make(map[string]*track)}
}

// Window is how far back the detector looks.
func (d *Detector) Window() time.Duration { return d.opts.Window }

// Observe takes one event and says whether to log or count something.
func (d *Detector) Observe(e Event) (Alert, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	tr := d.owners[e.Owner]
	if tr == nil {
		d.makeRoom(e.Time)
		tr = &track{lastWarn: make(map[Kind]time.Time)}
		d.owners[e.Owner] = tr
	}
	o := obs{t: e.Time, addr: host(e.Addr), verf: e.Verifier, principal: e.Principal, teardown: e.Outcome == OutcomeReplaced}
	if o.teardown {
		for _, a := range e.PrevAddrs {
			o.prev = append(o.prev, host(a))
		}
	}
	tr.last = e.Time
	tr.obs = append(tr.obs, o)
	// Keep the window (events may come a little out of order: compare
	// with the newest) and at most maxObs.
	cut := 0
	for cut < len(tr.obs) && e.Time.Sub(tr.obs[cut].t) > d.opts.Window {
		cut++
	}
	cut = max(cut, len(tr.obs)-maxObs)
	tr.obs = slices.Delete(tr.obs, 0, cut)

	teardowns := 0
	for _, x := range tr.obs {
		if x.teardown {
			teardowns++
		}
	}
	if teardowns < 2 {
		return Alert{}, false
	}
	kind := Restarts
	if returns(tr.obs, func(x obs) string { return x.addr }) || returns(tr.obs, func(x obs) string { return string(x.verf[:]) }) {
		kind = Collision
	}
	if tr.ep == nil || e.Time.Sub(tr.ep.LastSeen) > d.opts.Window {
		// A new episode: its evidence is the whole window.
		tr.ep = &Finding{Kind: kind, Owner: Printable(e.Owner), FirstSeen: tr.obs[0].t, Teardowns: teardowns}
		tr.counted = false
		for _, x := range tr.obs {
			merge(tr.ep, x)
		}
	} else {
		if o.teardown {
			tr.ep.Teardowns++
		}
		merge(tr.ep, o)
		if kind == Collision {
			tr.ep.Kind = Collision // evidence only grows
		}
	}
	tr.ep.LastSeen = e.Time
	var a Alert
	if tr.ep.Kind == Collision && !tr.counted {
		tr.counted, a.Count = true, true
	}
	if w, ok := tr.lastWarn[tr.ep.Kind]; !ok || e.Time.Sub(w) >= d.opts.RateLimit {
		tr.lastWarn[tr.ep.Kind] = e.Time
		a.Warn = true
	}
	if !a.Warn && !a.Count {
		return Alert{}, false
	}
	a.Finding = tr.ep.clone()
	a.Finding.Active = true
	return a, true
}

// Findings returns the current and recent findings, most recent first.
func (d *Detector) Findings() []Finding {
	if d == nil {
		return nil
	}
	now := d.opts.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Finding
	for _, tr := range d.owners {
		if tr.ep == nil || now.Sub(tr.ep.LastSeen) > d.opts.Retain {
			continue
		}
		f := tr.ep.clone()
		f.Active = now.Sub(f.LastSeen) <= d.opts.Window
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b Finding) int {
		if c := b.LastSeen.Compare(a.LastSeen); c != 0 {
			return c
		}
		return cmp.Compare(a.Owner, b.Owner)
	})
	if len(out) > d.opts.MaxFindings {
		out = out[:d.opts.MaxFindings]
	}
	return out
}

// makeRoom forgets one owner when the table is full: the least recently
// seen among those without a finding worth keeping, else the least
// recently seen of all.
func (d *Detector) makeRoom(now time.Time) {
	if len(d.owners) < d.opts.MaxOwners {
		return
	}
	var victim, victimAny string
	var vt, vtAny time.Time
	for k, tr := range d.owners {
		if victimAny == "" || tr.last.Before(vtAny) {
			victimAny, vtAny = k, tr.last
		}
		keep := tr.ep != nil && now.Sub(tr.ep.LastSeen) <= d.opts.Retain
		if !keep && (victim == "" || tr.last.Before(vt)) {
			victim, vt = k, tr.last
		}
	}
	if victim == "" {
		victim = victimAny
	}
	delete(d.owners, victim)
}

// returns reports whether the sequence of key(x), consecutive repeats
// folded, comes back to a value it had left: A, B, A.
func returns(xs []obs, key func(obs) string) bool {
	seen := make(map[string]bool)
	prev := ""
	for i, x := range xs {
		k := key(x)
		if k == "" || (i > 0 && k == prev) {
			continue
		}
		if seen[k] {
			return true
		}
		seen[k] = true
		prev = k
	}
	return false
}

func merge(f *Finding, o obs) {
	addOnce(&f.Addrs, o.addr)
	for _, a := range o.prev {
		addOnce(&f.Addrs, a)
	}
	addOnce(&f.Verifiers, hex.EncodeToString(o.verf[:]))
	addOnce(&f.Principals, o.principal)
}

func addOnce(s *[]string, v string) {
	if v == "" || len(*s) >= maxList || slices.Contains(*s, v) {
		return
	}
	*s = append(*s, v)
}

func (f *Finding) clone() Finding {
	c := *f
	c.Addrs = slices.Clone(f.Addrs)
	c.Verifiers = slices.Clone(f.Verifiers)
	c.Principals = slices.Clone(f.Principals)
	return c
}

// host returns the address part of "host:port" (the port changes when a
// client reconnects), or addr unchanged when it is not one.
func host(addr string) string {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return ap.Addr().Unmap().String()
	}
	return addr
}

// Printable returns owner as is when it is printable UTF-8, else Go-quoted,
// so that a hostile owner string cannot forge log lines.
func Printable(owner string) string {
	if !utf8.ValidString(owner) {
		return strconv.Quote(owner)
	}
	for _, r := range owner {
		if !strconv.IsPrint(r) {
			return strconv.Quote(owner)
		}
	}
	return owner
}
