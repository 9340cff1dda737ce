package trace

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"
)

// Evidence lists keep this many frame numbers.
const maxFrames = 8

// collisionWindow is how close in time two clients' EXCHANGE_IDs (or
// SETCLIENTIDs) with one owner must be to be taken as live at once rather
// than as a client that moved.
const collisionWindow = 5 * time.Minute

// Statuses of the BADSESSION → STALE_CLIENTID → EXCHANGE_ID loop two
// clients with one owner fall into: each EXCHANGE_ID makes the server drop
// the other client's record and sessions (RFC 8881 §2.4, §18.35.5).
var loopStatus = []string{"NFS4ERR_BADSESSION", "NFS4ERR_DEADSESSION", "NFS4ERR_STALE_CLIENTID", "NFS4ERR_EXPIRED"}

var graceStatus = map[string]bool{"NFS4ERR_GRACE": true, "NLM4_DENIED_GRACE_PERIOD": true, "NFS3ERR_JUKEBOX": false}
var staleStatus = map[string]bool{"NFS3ERR_STALE": true, "NFS4ERR_STALE": true, "NFS4ERR_FHEXPIRED": true, "NLM4_STALE_FH": true}

// benign statuses are part of normal operation (a lookup of a name that
// does not exist yet, a lock held by someone else): no hot spot.
var benign = map[string]bool{
	"NFS3ERR_NOENT": true, "NFS4ERR_NOENT": true, "NFS3ERR_EXIST": true, "NFS4ERR_EXIST": true,
	"NLM4_DENIED": true, "NFS4ERR_DENIED": true, "NFS4ERR_NOT_SAME": true, "NFS4ERR_SAME": true,
	"NFS3ERR_NOTSUPP": true, "NFS4ERR_NOTSUPP": true, "NFS4ERR_NOXATTR": true, "NFS4ERR_NOMATCHING_LAYOUT": true,
}

// frameList is a count with its first few frames.
type frameList struct {
	n      int
	frames []int
}

func (l *frameList) add(frame int) {
	l.n++
	if len(l.frames) < maxFrames {
		l.frames = append(l.frames, frame)
	}
}

type ownerUse struct {
	addr     netip.Addr
	verifier [8]byte
	frame    int
	ts       time.Time
}

type procAcc struct {
	calls, replies, errors int
	lat                    []time.Duration
	slow                   []slowReply
}

type slowReply struct {
	frame int
	lat   time.Duration
}

type errKey struct{ op, status string }

type retxAcc struct {
	frameList
	xids []uint32
}

// diagnosis accumulates what the findings are made of.
type diagnosis struct {
	owners    map[string][]ownerUse // kind + "\x00" + owner
	ownerKeys []string              // in order of first appearance
	// byAddr[addr][status or op] counts loop statuses and
	// EXCHANGE_ID/CREATE_SESSION/SETCLIENTID per client address.
	byAddr map[netip.Addr]map[string]*frameList
	procs  map[string]*procAcc
	errs   map[errKey]*frameList
	retx   map[[2]netip.AddrPort]*retxAcc // client (port 0), server
}

func newDiagnosis() diagnosis {
	return diagnosis{
		owners: map[string][]ownerUse{},
		byAddr: map[netip.Addr]map[string]*frameList{},
		procs:  map[string]*procAcc{},
		errs:   map[errKey]*frameList{},
		retx:   map[[2]netip.AddrPort]*retxAcc{},
	}
}

func (d *diagnosis) proc(name string) *procAcc {
	p := d.procs[name]
	if p == nil {
		p = &procAcc{}
		d.procs[name] = p
	}
	return p
}

func (d *diagnosis) called(name string) { d.proc(name).calls++ }

func (d *diagnosis) answered(name string, lat time.Duration, frame int, slow time.Duration, failed bool) {
	p := d.proc(name)
	p.replies++
	if failed {
		p.errors++
	}
	p.lat = append(p.lat, lat)
	if lat > slow {
		p.slow = append(p.slow, slowReply{frame, lat})
	}
}

// failed counts a non-OK status of op in the reply in frame, sent to
// client.
func (d *diagnosis) failed(op, status string, frame int, client netip.Addr) {
	if okStatus[status] {
		return
	}
	k := errKey{op, status}
	l := d.errs[k]
	if l == nil {
		l = &frameList{}
		d.errs[k] = l
	}
	l.add(frame)
	if slices.Contains(loopStatus, status) {
		d.addrCount(client, status).add(frame)
	}
}

func (d *diagnosis) addrCount(addr netip.Addr, what string) *frameList {
	m := d.byAddr[addr]
	if m == nil {
		m = map[string]*frameList{}
		d.byAddr[addr] = m
	}
	l := m[what]
	if l == nil {
		l = &frameList{}
		m[what] = l
	}
	return l
}

func (d *diagnosis) owner(kind string, owner []byte, verifier [8]byte, addr netip.Addr, frame int, ts time.Time) {
	k := kind + "\x00" + string(owner)
	if _, ok := d.owners[k]; !ok {
		d.ownerKeys = append(d.ownerKeys, k)
	}
	d.owners[k] = append(d.owners[k], ownerUse{addr, verifier, frame, ts})
	d.addrCount(addr, kind).add(frame)
}

func (d *diagnosis) clientOp(addr netip.Addr, op string, frame int) { d.addrCount(addr, op).add(frame) }

func (d *diagnosis) retransmitted(client netip.Addr, server netip.AddrPort, xid uint32, frame, first int) {
	k := [2]netip.AddrPort{netip.AddrPortFrom(client, 0), server}
	r := d.retx[k]
	if r == nil {
		r = &retxAcc{}
		d.retx[k] = r
	}
	r.add(frame)
	if len(r.xids) < maxFrames && !slices.Contains(r.xids, xid) {
		r.xids = append(r.xids, xid)
	}
}

// finish ends the analysis: holes and cut records, statistics, findings.
func (a *analyzer) finish() {
	a.flushStreams()
	slices.SortStableFunc(a.rep.Messages, func(x, y Message) int { return cmp.Compare(x.Frame, y.Frame) })
	a.statistics()
	a.collisions()
	a.retransmissions()
	a.unanswered()
	a.slow()
	a.storms()
	a.captureProblems()
	if a.rep.Findings == nil {
		a.rep.Findings = []Finding{}
	}
}

func (a *analyzer) statistics() {
	d := &a.diag
	for name, p := range d.procs {
		ps := ProcStats{Name: name, Calls: p.calls, Replies: p.replies, Errors: p.errors, Slow: len(p.slow)}
		if len(p.lat) > 0 {
			slices.Sort(p.lat)
			ps.P50 = percentile(p.lat, 50)
			ps.P99 = percentile(p.lat, 99)
			ps.Max = p.lat[len(p.lat)-1]
		}
		a.rep.Procs = append(a.rep.Procs, ps)
	}
	slices.SortFunc(a.rep.Procs, func(x, y ProcStats) int { return strings.Compare(x.Name, y.Name) })
	for k, l := range d.errs {
		a.rep.Errors = append(a.rep.Errors, ErrorCount{Op: k.op, Status: k.status, Count: l.n, Frames: l.frames})
	}
	slices.SortFunc(a.rep.Errors, func(x, y ErrorCount) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), strings.Compare(x.Op, y.Op), strings.Compare(x.Status, y.Status))
	})
	if a.rep.Procs == nil {
		a.rep.Procs = []ProcStats{}
	}
	if a.rep.Errors == nil {
		a.rep.Errors = []ErrorCount{}
	}
}

// percentile is the nearest-rank percentile of sorted s.
func percentile(s []time.Duration, p int) time.Duration {
	i := (len(s)*p + 99) / 100
	return s[max(i-1, 0)]
}

func (a *analyzer) add(f Finding) { a.rep.Findings = append(a.rep.Findings, f) }

func framesOf(uses []ownerUse) []int {
	var fr []int
	for _, u := range uses {
		if len(fr) < maxFrames {
			fr = append(fr, u.frame)
		}
	}
	return fr
}

func joinFrames(fr []int, total int) string {
	s := make([]string, len(fr))
	for i, f := range fr {
		s[i] = fmt.Sprint(f)
	}
	out := strings.Join(s, ", ")
	if total > len(fr) {
		out += ", …"
	}
	return out
}

const ownerFix = "give every client a unique NFSv4 identity: set the nfs module parameter nfs4_unique_id " +
	"(nfs.nfs4_unique_id=<uuid> on the kernel command line or `options nfs nfs4_unique_id=<uuid>` in /etc/modprobe.d), " +
	"or write a unique string to /sys/fs/nfs/net/nfs_client/identifier before mounting (per network namespace, for containers), " +
	"or give the clients distinct hostnames"

// collisions reports NFSv4 client owners used by two clients at once.
func (a *analyzer) collisions() {
	d := &a.diag
	for _, k := range d.ownerKeys {
		kind, owner, _ := strings.Cut(k, "\x00")
		uses := d.owners[k]
		byAddr := map[netip.Addr][]ownerUse{}
		var addrs []netip.Addr
		for _, u := range uses {
			if _, ok := byAddr[u.addr]; !ok {
				addrs = append(addrs, u.addr)
			}
			byAddr[u.addr] = append(byAddr[u.addr], u)
		}
		sort.Slice(addrs, func(i, j int) bool { return addrs[i].Less(addrs[j]) })
		for i := range addrs {
			for j := i + 1; j < len(addrs); j++ {
				x, y := byAddr[addrs[i]], byAddr[addrs[j]]
				if !closeInTime(x, y) {
					continue
				}
				a.add(a.collisionFinding(kind, owner, []netip.Addr{addrs[i], addrs[j]}, [][]ownerUse{x, y}))
			}
		}
		// One address, verifiers alternating: two clients behind one
		// address (NAT, containers sharing a network namespace's IP).
		for _, addr := range addrs {
			u := byAddr[addr]
			flips := 0
			for i := 1; i < len(u); i++ {
				if u[i].verifier != u[i-1].verifier {
					flips++
				}
			}
			if flips >= 2 {
				f := a.collisionFinding(kind, owner, []netip.Addr{addr}, [][]ownerUse{u})
				f.Summary = fmt.Sprintf("NFSv4 client owner %s used from %s with alternating verifiers (%d changes): two clients behind one address share it",
					quote(owner), addr, flips)
				a.add(f)
			}
		}
	}
}

// closeInTime reports whether some use in x and some use in y are within
// collisionWindow of each other.
func closeInTime(x, y []ownerUse) bool {
	for _, u := range x {
		for _, v := range y {
			d := u.ts.Sub(v.ts)
			if d < 0 {
				d = -d
			}
			if d <= collisionWindow {
				return true
			}
		}
	}
	return false
}

func (a *analyzer) collisionFinding(kind, owner string, addrs []netip.Addr, uses [][]ownerUse) Finding {
	d := &a.diag
	f := Finding{Kind: "client-owner-collision", Severity: SevWarning, Fix: ownerFix}
	var parts []string
	for i, addr := range addrs {
		verifs := map[[8]byte]bool{}
		for _, u := range uses[i] {
			verifs[u.verifier] = true
		}
		parts = append(parts, fmt.Sprintf("from %s in frames %s (%d×, %d verifier(s))", addr, joinFrames(framesOf(uses[i]), len(uses[i])), len(uses[i]), len(verifs)))
		f.Frames = append(f.Frames, framesOf(uses[i])...)
	}
	f.Evidence = append(f.Evidence, fmt.Sprintf("%s with client owner %s %s", kind, quote(owner), strings.Join(parts, " and ")))
	loops := 0
	for _, addr := range addrs {
		var errs []string
		for _, st := range loopStatus {
			if l := d.byAddr[addr][st]; l != nil {
				errs = append(errs, fmt.Sprintf("%d× %s (frames %s)", l.n, st, joinFrames(l.frames, l.n)))
				loops += l.n
			}
		}
		if len(errs) > 0 {
			f.Evidence = append(f.Evidence, fmt.Sprintf("%s then got %s", addr, strings.Join(errs, ", ")))
		}
	}
	var setup []string
	for _, op := range []string{"EXCHANGE_ID", "CREATE_SESSION", "SETCLIENTID"} {
		n := 0
		for _, addr := range addrs {
			if l := d.byAddr[addr][op]; l != nil {
				n += l.n
			}
		}
		if n > 0 {
			setup = append(setup, fmt.Sprintf("%d× %s", n, op))
		}
	}
	if len(setup) > 0 {
		f.Evidence = append(f.Evidence, "client setup repeated: "+strings.Join(setup, ", "))
	}
	names := make([]string, len(addrs))
	for i, ad := range addrs {
		names[i] = ad.String()
	}
	f.Summary = fmt.Sprintf("NFSv4 client owner %s is used by %s at once", quote(owner), strings.Join(names, " and "))
	if loops > 0 {
		f.Severity = SevError
		if kind == "EXCHANGE_ID" {
			f.Summary += ": BADSESSION → STALE_CLIENTID → EXCHANGE_ID loop, each client's EXCHANGE_ID wipes the other's state"
		} else {
			f.Summary += ": STALE_CLIENTID → SETCLIENTID loop, each client's SETCLIENTID wipes the other's state"
		}
	}
	slices.Sort(f.Frames)
	return f
}

func (a *analyzer) retransmissions() {
	d := &a.diag
	if len(d.retx) == 0 {
		return
	}
	keys := make([][2]netip.AddrPort, 0, len(d.retx))
	for k := range d.retx {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y [2]netip.AddrPort) int { return cmp.Or(x[0].Compare(y[0]), x[1].Compare(y[1])) })
	f := Finding{
		Kind: "retransmissions", Severity: SevWarning,
		Summary: fmt.Sprintf("%d calls were retransmitted (same xid sent again by the same client)", a.rep.Retransmissions),
		Fix: "the client timed out waiting: look at the slow operations and unanswered calls below and at the network for drops; " +
			"on UDP mounts switch to TCP (proto=tcp); raise timeo= only once the cause is understood",
	}
	for _, k := range keys {
		r := d.retx[k]
		xs := make([]string, len(r.xids))
		for i, x := range r.xids {
			xs[i] = fmt.Sprintf("%08x", x)
		}
		f.Evidence = append(f.Evidence, fmt.Sprintf("%s → %s: %d retransmissions in frames %s (xids %s)",
			k[0].Addr(), k[1], r.n, joinFrames(r.frames, r.n), strings.Join(xs, ", ")))
		f.Frames = append(f.Frames, r.frames...)
	}
	a.add(f)
}

func (a *analyzer) unanswered() {
	var late, cut []*call
	for _, c := range a.pending {
		if a.rep.End.Sub(c.first) <= a.opts.Slow {
			cut = append(cut, c)
		} else {
			late = append(late, c)
		}
	}
	a.rep.Unanswered = len(late) + len(cut)
	byFrame := func(x, y *call) int { return cmp.Compare(x.frame, y.frame) }
	slices.SortFunc(late, byFrame)
	slices.SortFunc(cut, byFrame)
	if len(late) > 0 {
		f := Finding{
			Kind: "unanswered", Severity: SevError,
			Summary: fmt.Sprintf("%d calls were never answered", len(late)),
			Fix: "on soft mounts these become EIO after retrans×timeo; find why the server did not reply (its logs, load, " +
				"a hung backend) and prefer hard mounts where data must not be lost",
		}
		f.Evidence, f.Frames = describeCalls(late, a.rep.End)
		a.add(f)
	}
	if len(cut) > 0 {
		f := Finding{
			Kind: "unanswered", Severity: SevInfo,
			Summary: fmt.Sprintf("%d calls sent in the last %s of the capture have no reply yet", len(cut), a.opts.Slow),
			Fix:     "probably answered after the capture stopped; capture longer to be sure",
		}
		f.Evidence, f.Frames = describeCalls(cut, a.rep.End)
		a.add(f)
	}
}

func describeCalls(cs []*call, end time.Time) ([]string, []int) {
	var ev []string
	var fr []int
	for i, c := range cs {
		if i == maxFrames {
			ev = append(ev, fmt.Sprintf("… and %d more", len(cs)-i))
			break
		}
		s := fmt.Sprintf("frame %d: %s → %s xid %08x %s waited %s until the capture ended",
			c.frame, c.key.client, c.key.server, c.key.xid, c.stat, fmtDur(end.Sub(c.first)))
		if c.retx > 0 {
			s += fmt.Sprintf(", sent %d× more", c.retx)
		}
		if c.conn != nil && c.conn.closed {
			s += ", connection closed"
		}
		ev = append(ev, s)
		fr = append(fr, c.frame)
	}
	return ev, fr
}

func (a *analyzer) slow() {
	f := Finding{Kind: "slow", Severity: SevWarning,
		Fix: "the server took long to answer: look at its storage latency and CPU at those times; " +
			"slow COMMIT/WRITE point at the backend's sync, slow OPEN/SETATTR/REMOVE at delegation recalls waiting for a client"}
	total := 0
	for _, ps := range a.rep.Procs {
		p := a.diag.procs[ps.Name]
		if len(p.slow) == 0 {
			continue
		}
		total += len(p.slow)
		worst := slices.Clone(p.slow)
		slices.SortStableFunc(worst, func(x, y slowReply) int { return cmp.Compare(y.lat, x.lat) })
		var ws []string
		for i, w := range worst {
			if i == 3 {
				break
			}
			ws = append(ws, fmt.Sprintf("frame %d %s", w.frame, fmtDur(w.lat)))
			f.Frames = append(f.Frames, w.frame)
		}
		f.Evidence = append(f.Evidence, fmt.Sprintf("%s: %d of %d replies over %s (p50 %s, p99 %s, max %s); slowest: %s",
			ps.Name, len(p.slow), ps.Replies, a.opts.Slow, fmtDur(ps.P50), fmtDur(ps.P99), fmtDur(ps.Max), strings.Join(ws, ", ")))
	}
	if total == 0 {
		return
	}
	f.Summary = fmt.Sprintf("%d replies took longer than %s", total, a.opts.Slow)
	slices.Sort(f.Frames)
	a.add(f)
}

// storms reports grace-period and stale-handle storms and other error hot
// spots.
func (a *analyzer) storms() {
	type group struct {
		list  []ErrorCount
		total int
	}
	var grace, stale group
	for _, e := range a.rep.Errors {
		switch {
		case graceStatus[e.Status]:
			grace.list = append(grace.list, e)
			grace.total += e.Count
		case staleStatus[e.Status]:
			stale.list = append(stale.list, e)
			stale.total += e.Count
		}
	}
	describe := func(g group) ([]string, []int) {
		var ev []string
		var fr []int
		for _, e := range g.list {
			ev = append(ev, fmt.Sprintf("%d× %s on %s (frames %s)", e.Count, e.Status, e.Op, joinFrames(e.Frames, e.Count)))
			fr = append(fr, e.Frames...)
		}
		slices.Sort(fr)
		return ev, fr
	}
	if grace.total >= a.opts.Storm {
		f := Finding{Kind: "grace-storm", Severity: SevWarning,
			Summary: fmt.Sprintf("%d replies refused work because the server is in its grace period", grace.total),
			Fix: "the server restarted (or lost its recovery state) and only accepts lock/open reclaims until the grace period ends " +
				"(typically 90 s); avoid repeated restarts, keep the server's state directory on stable storage, " +
				"and check that clients send RECLAIM_COMPLETE"}
		f.Evidence, f.Frames = describe(grace)
		a.add(f)
	}
	if stale.total >= a.opts.Storm {
		f := Finding{Kind: "stale-storm", Severity: SevError,
			Summary: fmt.Sprintf("%d replies said a file handle is stale", stale.total),
			Fix: "the files or the export behind these handles changed identity (export re-created, filesystem replaced, " +
				"fsid changed after a restart or failover): keep fsid= stable in the exports and remount the clients"}
		f.Evidence, f.Frames = describe(stale)
		a.add(f)
	}
	for _, e := range a.rep.Errors {
		if e.Count < a.opts.Storm || graceStatus[e.Status] || staleStatus[e.Status] || benign[e.Status] ||
			slices.Contains(loopStatus, e.Status) && a.hasFinding("client-owner-collision") {
			continue
		}
		fr := slices.Clone(e.Frames)
		a.add(Finding{Kind: "errors", Severity: SevWarning,
			Summary:  fmt.Sprintf("%d× %s on %s", e.Count, e.Status, e.Op),
			Evidence: []string{fmt.Sprintf("first replies in frames %s", joinFrames(e.Frames, e.Count))},
			Frames:   fr,
			Fix:      errorFix(e.Status)})
	}
}

func (a *analyzer) hasFinding(kind string) bool {
	return slices.ContainsFunc(a.rep.Findings, func(f Finding) bool { return f.Kind == kind })
}

// errorFix suggests where to look for a status that keeps coming back.
func errorFix(status string) string {
	switch status {
	case "NFS4ERR_DELAY", "NFS3ERR_JUKEBOX":
		return "the server asks the client to retry later: usually a delegation being recalled (check that callbacks reach the client) or a busy backend"
	case "NFS4ERR_ACCESS", "NFS3ERR_ACCES", "NFS4ERR_PERM", "NFS3ERR_PERM", "AUTH_ERROR AUTH_TOOWEAK", "AUTH_ERROR AUTH_BADCRED", "NFS4ERR_WRONGSEC":
		return "permission denied: check the export's options (root_squash, sec=, allowed clients) and the ownership and id mapping of the files"
	case "NFS4ERR_BAD_STATEID", "NFS4ERR_OLD_STATEID", "NFS4ERR_EXPIRED", "NFS4ERR_ADMIN_REVOKED":
		return "the client uses state the server no longer holds: look for lease expiry (network partitions longer than the lease) or a server restart"
	case "NFS4ERR_BADSESSION", "NFS4ERR_STALE_CLIENTID", "NFS4ERR_DEADSESSION":
		return "the server forgot this client: after a server restart this heals once; repeating, it is often two clients sharing one client owner"
	case "NFS4ERR_SEQ_MISORDERED", "NFS4ERR_SEQ_FALSE_RETRY", "NFS4ERR_RETRY_UNCACHED_REP":
		return "slot sequence mismatch between client and server: usually a client bug or a reply cache lost on the server"
	case "NFS3ERR_NOSPC", "NFS4ERR_NOSPC", "NFS3ERR_DQUOT", "NFS4ERR_DQUOT":
		return "the exported filesystem is full or the user is over quota"
	case "PROG_UNAVAIL", "PROG_MISMATCH", "PROC_UNAVAIL":
		return "the client asked for a program or version the server does not offer: check the mount's vers= and the server's enabled versions"
	case "GARBAGE_ARGS", "SYSTEM_ERR":
		return "the server could not decode or execute the call: compare the frames listed against a capture of a working client"
	}
	return "look at the calls answered in the frames listed"
}

func (a *analyzer) captureProblems() {
	var ev []string
	var fr []int
	for _, c := range a.cutShort {
		what := fmt.Sprintf("%d bytes", c.have)
		if c.len >= 0 {
			what = fmt.Sprintf("%d of %d bytes", c.have, c.len)
		}
		ev = append(ev, fmt.Sprintf("capture ends mid-record at frame %d: %s → %s record begun there has %s", c.frame, c.src, c.dst, what))
		fr = append(fr, c.frame)
	}
	if a.snapCut > 0 {
		ev = append(ev, fmt.Sprintf("%d frames were cut by the capture's snapshot length (first: frame %d); their data is missing", a.snapCut, a.snapFirst))
		fr = append(fr, a.snapFirst)
	}
	if a.truncated {
		ev = append(ev, fmt.Sprintf("the capture file ends in the middle of a frame after frame %d", a.rep.Frames))
	}
	for _, n := range a.rep.Notes {
		if strings.Contains(n, "resynchronised") && len(ev) < 20 {
			ev = append(ev, n)
		}
	}
	if len(ev) == 0 {
		return
	}
	for _, c := range a.cutShort {
		a.note(fmt.Sprintf("capture ends mid-record at frame %d (%s → %s)", c.frame, c.src, c.dst))
	}
	f := Finding{Kind: "capture", Severity: SevWarning, Evidence: ev, Frames: fr,
		Summary: "the capture is incomplete; findings cover what it holds",
		Fix:     "capture whole frames (tcpdump -s 0, or tshark/dumpcap defaults), with a large enough buffer (-B), and stop the capture cleanly"}
	switch {
	case a.truncated:
		f.Summary = fmt.Sprintf("the capture file is truncated after frame %d; findings cover what came before", a.rep.Frames)
	case len(a.cutShort) > 0:
		f.Summary = fmt.Sprintf("capture ends mid-record at frame %d", a.cutShort[0].frame)
	}
	a.add(f)
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}
