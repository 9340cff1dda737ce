//go:build interop

package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gonfs/gonfs/admin"
	"github.com/gonfs/gonfs/internal/wirecheck"
)

// Operation numbers of the delegation traffic (RFC 8881 §16.2, §20).
const (
	opDelegreturn = 8
	opOpen        = 18
	cbGetattr     = 3 // CB_GETATTR
	cbRecall      = 4 // CB_RECALL

	delegateRead  = 1 // OPEN_DELEGATE_READ
	delegateWrite = 2 // OPEN_DELEGATE_WRITE
)

// The guest addresses of the delegation tests: the server tells the two
// clients apart by them in the capture.
const (
	delegAddrA = "127.0.0.2"
	delegAddrB = "127.0.0.3"
)

// TestDelegRecall: two NFSv4 guests, A and B, at once (testdata/deleg_guest.sh).
// A opens a file for reading and keeps it open: the server grants it a read
// delegation. B opens the file for writing and writes: the server recalls
// A's delegation (CB_RECALL), A returns it (DELEGRETURN), B's open and
// write succeed, and A, reopening, reads B's bytes. Then A opens another
// file read-write and writes 13 bytes without closing (a write delegation:
// the bytes may stay in A's cache); B's stat sees A's size (the server
// asks A with CB_GETATTR, RFC 8881 §10.4.3) and B's append recalls A's
// delegation, so A flushes first and the file holds A's bytes then B's.
// The capture of the server's port (and of A's callback port for NFSv4.0,
// whose callbacks come over a connection the server opens) must show, in
// this order: the OPEN reply granting A a read delegation, CB_RECALL to A,
// A's DELEGRETURN; the OPEN reply granting A a write delegation,
// CB_GETATTR to A, CB_RECALL to A, A's DELEGRETURN.
func TestDelegRecall(t *testing.T) {
	needLab(t)
	binaries(t)
	for _, vers := range []string{"4.2", "4.0"} {
		t.Run(vers, func(t *testing.T) { delegRecall(t, vers) })
	}
}

func delegRecall(t *testing.T, vers string) {
	dir := testDir(t)
	s := startServer(t, dir)
	share := delegSetup(t, s, dir)
	tag := "dl" + strings.ReplaceAll(vers, ".", "")
	a := &guest{name: tag + "-a", vers: vers, hostname: tag + "a", uniqueID: tag + "a-id", addr: delegAddrA,
		script: "deleg_guest.sh", args: []string{"A", vers}}
	b := &guest{name: tag + "-b", vers: vers, hostname: tag + "b", uniqueID: tag + "b-id", addr: delegAddrB,
		script: "deleg_guest.sh", args: []string{"B", vers}}
	ports := []int{s.port}
	if vers == "4.0" {
		// NFSv4.0 callbacks come over a connection the server opens to
		// the address the client gave in SETCLIENTID (RFC 7530 §3.3.1).
		a.cbPort, b.cbPort = 20470, 20471
		ports = append(ports, a.cbPort)
	}
	caps := delegCaptures(t, dir, ports)
	t0 := time.Now()
	runGuests(t, s, dir, share, []*guest{a, b}, 3*time.Minute, nil)
	t.Logf("guests done in %.1fs", time.Since(t0).Seconds())
	checkContent(t, filepath.Join(s.export, "deleg", "read"), "written-by-B\n")
	checkContent(t, filepath.Join(s.export, "deleg", "write"), "written-by-A\nappended-by-B\n")
	if caps == nil {
		return
	}
	var frames []delegFrame
	for i, c := range caps {
		rep, err := c.Stop()
		if err != nil {
			t.Fatalf("capture: %v", err)
		}
		t.Logf("capture of port %d: %d frames, %d calls, %d replies", ports[i], rep.Frames, rep.Calls, rep.Replies)
		if !rep.OK() {
			t.Errorf("wire check of port %d found problems (capture kept in %s):\n%s", ports[i], c.Path(), rep)
		}
		f, err := delegFrames(t.Context(), c.Path(), ports[i])
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f...)
	}
	sort.SliceStable(frames, func(i, j int) bool { return frames[i].time < frames[j].time })
	ev := delegEvents(frames, delegAddrA)
	t.Logf("capture: delegation events of A (%s): %s", delegAddrA, brief(ev))
	want := []string{"grant-read", "cb-recall", "delegreturn-ok", "grant-write", "cb-getattr", "cb-recall", "delegreturn-ok"}
	if missing := subsequence(ev, want); missing != "" {
		t.Errorf("capture: A's delegation events lack %q of the sequence %s", missing, strings.Join(want, " "))
	}
	for _, p := range lostGrants(frames) {
		t.Errorf("capture: %s", p)
	}
	if evB := delegEvents(frames, delegAddrB); len(evB) > 0 {
		t.Logf("capture: delegation events of B (%s): %s", delegAddrB, brief(evB))
	}
}

// TestDelegDeadHolder: A (NFSv4.2) opens a file for reading and keeps it
// open, which gets it a read delegation; once the server lists the
// delegation (gonfs ctl delegations), the test kills A's qemu, so A answers
// nothing more. B then opens the file for writing (testdata/deleg_guest.sh,
// roles dead-A and dead-B): the recall cannot be answered, and B's open
// must complete once the server has revoked the delegation, about a lease
// (10 s here) later (RFC 8881 §10.4.6; a courtesy client's delegation is
// revoked at once on conflict).
// Afterwards the server counts one revocation.
func TestDelegDeadHolder(t *testing.T) {
	needLab(t)
	binaries(t)
	dir := testDir(t)
	const lease = 10 * time.Second
	s := startServerWith(t, dir, 5*time.Second, lease)
	share := delegSetup(t, s, dir)
	caps := delegCaptures(t, dir, []int{s.port})
	a := &guest{name: "dead-a", vers: "4.2", hostname: "deada", uniqueID: "deada-id", addr: delegAddrA,
		script: "deleg_guest.sh", args: []string{"dead-A", "4.2"}, killed: new(atomic.Bool)}
	b := &guest{name: "dead-b", vers: "4.2", hostname: "deadb", uniqueID: "deadb-id", addr: delegAddrB,
		script: "deleg_guest.sh", args: []string{"dead-B", "4.2"}}
	var killedAt time.Time
	runGuests(t, s, dir, share, []*guest{a, b}, 3*time.Minute, func(ctx context.Context, ended <-chan struct{}) error {
		if err := waitFile(ctx, filepath.Join(share, "A-read-open"), ended); err != nil {
			return err
		}
		r, err := ctlDelegations(ctx, s)
		if err != nil {
			return err
		}
		if n := len(r.Delegations); n != 1 || r.Delegations[0].Type != "read" || r.Delegations[0].Revoked || r.Delegations[0].Recalled {
			return fmt.Errorf("gonfs ctl delegations with A holding the file open for reading: %+v, want one live read delegation", r.Delegations)
		}
		t.Logf("host: A holds read delegation %s (client %s)", r.Delegations[0].Stateid, r.Delegations[0].Client)
		pid, err := qemuOf(a.hostname)
		if err != nil {
			return err
		}
		a.killed.Store(true)
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			return fmt.Errorf("kill A's qemu (pid %d): %w", pid, err)
		}
		killedAt = time.Now()
		t.Logf("host: killed A's qemu, pid %d (SIGKILL)", pid)
		if err := os.WriteFile(filepath.Join(share, "A-killed"), nil, 0o644); err != nil {
			return err
		}
		if err := waitFile(ctx, filepath.Join(share, "B-wrote"), ended); err != nil {
			return err
		}
		t.Logf("host: B's open for writing completed %.1fs after A was killed (lease %s)", time.Since(killedAt).Seconds(), lease)
		r, err = ctlDelegations(ctx, s)
		if err != nil {
			return err
		}
		var revocations, returns uint64
		for _, c := range r.Counters {
			revocations, returns = revocations+c.Revocations, returns+c.Returns
			t.Logf("host: delegation counters of export %q: %d grants, %d recalls, %d returns, %d revocations",
				c.Export, c.Grants, c.Recalls, c.Returns, c.Revocations)
		}
		if revocations != 1 || returns != 0 {
			t.Errorf("gonfs ctl delegations: %d revocations and %d returns, want 1 revocation (A's) and no return", revocations, returns)
		}
		for _, d := range r.Delegations {
			t.Logf("host: delegation %s of client %s: %s, recalled %v, revoked %v", d.Stateid, d.Client, d.Type, d.Recalled, d.Revoked)
		}
		return nil
	})
	checkContent(t, filepath.Join(s.export, "deleg", "read"), "written-by-B\n")
	if caps != nil {
		rep, err := caps[0].Stop()
		if err != nil {
			t.Fatalf("capture: %v", err)
		}
		// A's calls in flight at the kill stay unanswered; malformed
		// frames are still the server's fault.
		t.Logf("capture: %d frames, %d calls, %d replies, %d unmatched", rep.Frames, rep.Calls, rep.Replies, len(rep.Unmatched))
		if len(rep.Malformed) > 0 {
			t.Errorf("capture %s: malformed frames:\n%s", caps[0].Path(), rep)
		}
		frames, err := delegFrames(t.Context(), caps[0].Path(), s.port)
		if err != nil {
			t.Fatal(err)
		}
		delayed, ok := openOutcomes(frames, delegAddrB)
		t.Logf("capture: B's OPENs answered NFS4ERR_DELAY %d times, then NFS4_OK %d times", delayed, ok)
		if delayed == 0 || ok == 0 {
			t.Errorf("capture: B's OPENs: %d answered NFS4ERR_DELAY, %d NFS4_OK; want some of each (held up by A's delegation, then let through)", delayed, ok)
		}
	}
	if b, err := os.ReadFile(s.logPath); err == nil {
		for line := range strings.Lines(string(b)) {
			if strings.Contains(line, "CB_RECALL") {
				t.Logf("server log: %s", strings.TrimSpace(line))
			}
		}
	}
}

// delegSetup makes the share and the files the guests open: deleg/read
// holding "host-original" and an empty deleg/write, created by the host so
// that no guest gets a delegation by creating them.
func delegSetup(t *testing.T, s *server, dir string) string {
	t.Helper()
	share := filepath.Join(dir, "share")
	d := filepath.Join(s.export, "deleg")
	for _, p := range []string{share, d} {
		if err := os.Mkdir(p, 0o777); err != nil {
			t.Fatal(err)
		}
		// Squashed root (65534) must write; Mkdir's mode is masked.
		if err := os.Chmod(p, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range map[string]string{"read": "host-original\n", "write": ""} {
		if err := os.WriteFile(filepath.Join(d, name), []byte(content), 0o666); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(d, name), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	return share
}

// delegCaptures captures each port (nil when tshark cannot, outside CI).
func delegCaptures(t *testing.T, dir string, ports []int) []*wirecheck.Capture {
	t.Helper()
	var caps []*wirecheck.Capture
	for _, p := range ports {
		c, err := wirecheck.Start(t.Context(), "lo", p, dir)
		if errors.Is(err, wirecheck.ErrUnavailable) && os.Getenv("CI") != "true" {
			t.Logf("no capture, so the delegation traffic is not checked on the wire: %v", err)
			for _, c := range caps {
				_, _ = c.Stop()
			}
			return nil
		}
		if err != nil {
			t.Fatalf("capture: %v", err)
		}
		caps = append(caps, c)
	}
	return caps
}

func checkContent(t *testing.T, path, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("host: %v", err)
		return
	}
	if string(b) != want {
		t.Errorf("host: %s holds %q, want %q", path, b, want)
		return
	}
	t.Logf("host: %s holds %q", filepath.Base(path), b)
}

// ctlDelegations runs `gonfs ctl delegations --json` against the server's
// admin socket.
func ctlDelegations(ctx context.Context, s *server) (admin.DelegationsReply, error) {
	var r admin.DelegationsReply
	out, err := exec.CommandContext(ctx, gonfsBin, "ctl", "--socket", admin.SocketPath(s.state), "--json", "delegations").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return r, fmt.Errorf("gonfs ctl delegations: %v: %s", err, ee.Stderr)
		}
		return r, fmt.Errorf("gonfs ctl delegations: %w", err)
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return r, fmt.Errorf("gonfs ctl delegations --json: %w: %s", err, out)
	}
	return r, nil
}

// qemuOf finds the qemu of the guest with this hostname: the qemu-system
// process under the run.sh that this test process started with
// --hostname hostname.
func qemuOf(hostname string) (int, error) {
	procs, err := processes()
	if err != nil {
		return 0, err
	}
	runsh := 0
	for pid, p := range procs {
		i := slices.Index(p.args, "--hostname")
		if p.ppid == os.Getpid() && i > 0 && i+1 < len(p.args) && p.args[i+1] == hostname &&
			slices.ContainsFunc(p.args[:i], func(a string) bool { return strings.HasSuffix(a, "/run.sh") }) {
			runsh = pid
		}
	}
	if runsh == 0 {
		return 0, fmt.Errorf("no run.sh --hostname %s among this test's children", hostname)
	}
	// qemu is run.sh's child (setsid execs it); look further down anyway.
	under := map[int]bool{runsh: true}
	for grew := true; grew; {
		grew = false
		for pid, p := range procs {
			if under[p.ppid] && !under[pid] {
				if strings.HasPrefix(filepath.Base(p.args[0]), "qemu-system") {
					return pid, nil
				}
				under[pid], grew = true, true
			}
		}
	}
	return 0, fmt.Errorf("run.sh pid %d (--hostname %s) has no qemu under it", runsh, hostname)
}

type proc struct {
	ppid int
	args []string
}

// processes reads every process's parent and command line from /proc.
func processes() (map[int]proc, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	procs := map[int]proc{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err1 := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		cmdline, err2 := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err1 != nil || err2 != nil || len(cmdline) == 0 {
			continue // gone, or a kernel thread
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(stat), ')')
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		procs[pid] = proc{ppid: ppid, args: strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")}
	}
	return procs, nil
}

// delegFrame is one captured frame with NFSv4 COMPOUND or CB_COMPOUND
// messages, as tshark dissects it.
type delegFrame struct {
	number   int
	time     float64 // seconds since the epoch: orders frames of two captures
	src, dst string  // IP addresses
	reply    bool
	ops      []int // nfs.opcode
	cbOps    []int // nfs.cb.operation
	delegs   []int // nfs.open.delegation_type (OPEN replies)
	statuses []int
}

// delegFrames has tshark read a capture of port (decoded as ONC RPC) and
// returns its NFSv4 frames, forward and callback.
func delegFrames(ctx context.Context, pcap string, port int) ([]delegFrame, error) {
	cmd := exec.CommandContext(ctx, "tshark", "-n", "-r", pcap,
		"-d", fmt.Sprintf("tcp.port==%d,rpc", port), "-Y", "nfs.opcode or nfs.cb.operation",
		"-T", "fields", "-E", "separator=;", "-e", "frame.number", "-e", "frame.time_epoch", "-e", "ip.src", "-e", "ip.dst",
		"-e", "rpc.msgtyp", "-e", "nfs.opcode", "-e", "nfs.cb.operation", "-e", "nfs.open.delegation_type", "-e", "nfs.nfsstat4")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("tshark -r %s: %v: %s", pcap, err, stderr.String())
	}
	var frames []delegFrame
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), ";")
		if len(f) < 9 {
			continue
		}
		types := strings.Split(f[4], ",")
		if slices.Contains(types, "0") && slices.Contains(types, "1") {
			continue // calls and replies in one frame: not on loopback TCP
		}
		n, _ := strconv.Atoi(f[0])
		tm, _ := strconv.ParseFloat(f[1], 64)
		frames = append(frames, delegFrame{number: n, time: tm, src: f[2], dst: f[3], reply: slices.Contains(types, "1"),
			ops: ints(f[5]), cbOps: ints(f[6]), delegs: ints(f[7]), statuses: ints(f[8])})
	}
	return frames, sc.Err()
}

// delegEvents lists, in frame order, what the capture shows of the
// delegations of the client at addr: "grant-read" and "grant-write" (an
// OPEN reply to it naming the delegation), "cb-recall" and "cb-getattr"
// (callbacks to it), "delegreturn" (its DELEGRETURN call) and
// "delegreturn-ok" (the reply, every status NFS4_OK).
func delegEvents(frames []delegFrame, addr string) []string {
	var ev []string
	for _, f := range frames {
		switch {
		case f.reply && f.dst == addr && slices.Contains(f.ops, opOpen):
			if slices.Contains(f.delegs, delegateRead) {
				ev = append(ev, "grant-read")
			}
			if slices.Contains(f.delegs, delegateWrite) {
				ev = append(ev, "grant-write")
			}
		case !f.reply && f.dst == addr && len(f.cbOps) > 0:
			if slices.Contains(f.cbOps, cbRecall) {
				ev = append(ev, "cb-recall")
			}
			if slices.Contains(f.cbOps, cbGetattr) {
				ev = append(ev, "cb-getattr")
			}
		case !f.reply && f.src == addr && slices.Contains(f.ops, opDelegreturn):
			ev = append(ev, "delegreturn")
		case f.reply && f.dst == addr && slices.Contains(f.ops, opDelegreturn):
			if !slices.ContainsFunc(f.statuses, func(s int) bool { return s != 0 }) {
				ev = append(ev, "delegreturn-ok")
			}
		}
	}
	return ev
}

// openOutcomes counts the OPEN replies to addr answered NFS4ERR_DELAY
// before the first answered NFS4_OK, and those answered NFS4_OK.
func openOutcomes(frames []delegFrame, addr string) (delayed, ok int) {
	const nfs4errDelay = 10008
	for _, f := range frames {
		if !f.reply || f.dst != addr || !slices.Contains(f.ops, opOpen) || len(f.statuses) == 0 {
			continue
		}
		switch {
		case f.statuses[0] == 0:
			ok++
		case f.statuses[0] == nfs4errDelay && ok == 0:
			delayed++
		}
	}
	return delayed, ok
}

// lostGrants finds OPEN replies that grant a delegation in a COMPOUND
// that failed after the OPEN: the client, seeing the failure, never learns
// of the delegation, so it can answer neither CB_GETATTR nor CB_RECALL for
// it (NFS4ERR_BADHANDLE), and the server waits a lease to revoke it.
func lostGrants(frames []delegFrame) []string {
	var probs []string
	for _, f := range frames {
		if !f.reply || !slices.Contains(f.ops, opOpen) || len(f.statuses) == 0 || f.statuses[0] == 0 {
			continue
		}
		if slices.ContainsFunc(f.delegs, func(d int) bool { return d == delegateRead || d == delegateWrite }) {
			probs = append(probs, fmt.Sprintf("frame %d: an OPEN reply to %s grants delegation type %v in a COMPOUND that failed (ops %v, statuses %v)",
				f.number, f.dst, f.delegs, f.ops, f.statuses))
		}
	}
	return probs
}

// brief joins events, leaving out the middle of a long list (a client
// and server caught in a loop make thousands).
func brief(events []string) string {
	const head, tail = 24, 8
	if len(events) <= head+tail {
		return strings.Join(events, " ")
	}
	return fmt.Sprintf("%s ... (%d more) ... %s", strings.Join(events[:head], " "), len(events)-head-tail,
		strings.Join(events[len(events)-tail:], " "))
}

// subsequence returns the first element of want that events do not hold
// in want's order after the earlier ones, or "" when all are there.
func subsequence(events, want []string) string {
	i := 0
	for _, e := range events {
		if i < len(want) && e == want[i] {
			i++
		}
	}
	if i < len(want) {
		return want[i]
	}
	return ""
}

// TestDelegEvents checks the capture judge of TestDelegRecall on made-up
// frames; it needs no lab.
func TestDelegEvents(t *testing.T) {
	const a, b, srv = delegAddrA, delegAddrB, "127.0.0.1"
	frames := []delegFrame{
		{number: 1, src: a, dst: srv, ops: []int{53, 22, opOpen, 10, 9}},
		{number: 2, src: srv, dst: a, reply: true, ops: []int{53, 22, opOpen, 10, 9}, delegs: []int{delegateRead}, statuses: []int{0, 0, 0, 0, 0, 0}},
		{number: 3, src: b, dst: srv, ops: []int{53, 22, opOpen}},
		{number: 4, src: srv, dst: b, reply: true, ops: []int{53, 22, opOpen}, statuses: []int{10008, 0, 0, 10008}},
		{number: 5, src: srv, dst: a, cbOps: []int{11, cbRecall}},
		{number: 6, src: a, dst: srv, reply: true, cbOps: []int{11, cbRecall}},
		{number: 7, src: a, dst: srv, ops: []int{53, 22, opDelegreturn}},
		{number: 8, src: srv, dst: a, reply: true, ops: []int{53, 22, opDelegreturn}, statuses: []int{0, 0, 0, 0}},
		{number: 9, src: srv, dst: b, reply: true, ops: []int{53, 22, opOpen}, delegs: []int{0}, statuses: []int{0, 0, 0, 0}},
		{number: 10, src: srv, dst: a, reply: true, ops: []int{53, 22, opOpen}, delegs: []int{delegateWrite}, statuses: []int{0, 0, 0, 0}},
		{number: 11, src: srv, dst: a, cbOps: []int{11, cbGetattr}},
		{number: 12, src: srv, dst: a, reply: true, ops: []int{53, 22, opDelegreturn}, statuses: []int{10025, 0, 0, 10025}},
	}
	got := delegEvents(frames, a)
	want := []string{"grant-read", "cb-recall", "delegreturn", "delegreturn-ok", "grant-write", "cb-getattr"}
	if !slices.Equal(got, want) {
		t.Errorf("events of A: %q, want %q", got, want)
	}
	if got := delegEvents(frames, b); len(got) != 0 {
		t.Errorf("events of B: %q, want none", got)
	}
	if d, ok := openOutcomes(frames, b); d != 1 || ok != 1 {
		t.Errorf("openOutcomes of B: %d delayed, %d ok; want 1, 1", d, ok)
	}
	if p := lostGrants(frames); len(p) != 0 {
		t.Errorf("lostGrants: %q, want none", p)
	}
	lost := delegFrame{number: 13, src: srv, dst: a, reply: true, ops: []int{22, opOpen, 10, 9}, delegs: []int{delegateWrite}, statuses: []int{10008, 0, 0, 0, 10008}}
	if p := lostGrants(append(frames, lost)); len(p) != 1 || !strings.HasPrefix(p[0], "frame 13:") {
		t.Errorf("lostGrants with a grant in a failed COMPOUND: %q, want one problem, frame 13", p)
	}
	for _, tc := range []struct {
		events, want []string
		missing      string
	}{
		{[]string{"x", "a", "y", "b", "a"}, []string{"a", "b", "a"}, ""},
		{[]string{"b", "a"}, []string{"a", "b"}, "b"},
		{nil, []string{"a"}, "a"},
		{[]string{"a"}, nil, ""},
	} {
		if got := subsequence(tc.events, tc.want); got != tc.missing {
			t.Errorf("subsequence(%q, %q) = %q, want %q", tc.events, tc.want, got, tc.missing)
		}
	}
}
