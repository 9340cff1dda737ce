//go:build interop

package interop

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gonfs/gonfs/internal/wirecheck"
	"github.com/gonfs/gonfs/trace"
)

// collisionLease is the NFSv4 lease of TestOwnerCollision's server: the
// warning must come within one lease of the second client's arrival.
const collisionLease = 30 * time.Second

// TestOwnerCollision is the acceptance test of the client owner collision
// detector (package nfs4/collide) with the real Linux client: two NFSv4.2
// guests mount the export at once, alpha from 127.0.0.2 and beta from
// 127.0.0.3, and do I/O for 30 s (testdata/collide.sh).
//
//   - same-hostname: both are "twin", so both send the owner "Linux
//     NFSv4.2 twin" and each registration destroys the other's state
//     (RFC 8881 §18.35.4 case 5). Within one lease of the second guest's
//     first EXCHANGE_ID the server logs exactly one WARN line, sub=nfs4,
//     naming the owner, both addresses and the fix (nfs4_unique_id).
//   - unique-ids: the same with --unique-id (nfs.nfs4_unique_id): two
//     owners, no warning.
//
// The traffic is captured (internal/wirecheck) and `gonfs trace`'s
// analyzer must name the collision and both addresses in the first case,
// and find none in the second. Under the collision the wire check's own
// verdict is only logged: clients whose session vanished leave calls
// unanswered on purpose.
func TestOwnerCollision(t *testing.T) {
	needLab(t)
	binaries(t)
	for _, tc := range []struct {
		name   string
		unique bool
	}{{"same-hostname", false}, {"unique-ids", true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := testDir(t)
			s := startServerWith(t, dir, 5*time.Second, collisionLease)
			capt, err := wirecheck.Start(t.Context(), "lo", s.port, dir)
			if errors.Is(err, wirecheck.ErrUnavailable) {
				if os.Getenv("CI") == "true" {
					t.Fatalf("capture: %v", err)
				}
				t.Logf("no capture, trace not checked: %v", err)
				capt = nil
			} else if err != nil {
				t.Fatal(err)
			}
			guests := []*guest{
				{name: "alpha", addr: "127.0.0.2"},
				{name: "beta", addr: "127.0.0.3"},
			}
			for _, g := range guests {
				g.vers, g.hostname, g.script = "4.2", "twin", "collide.sh"
				g.args = []string{g.name, "30"}
				// soft: a guest whose state the other destroyed must not
				// hang in its I/O (or in the final umount) for ever.
				g.opts = "soft,timeo=30,retrans=2"
				g.timeout = 4 * time.Minute
				if tc.unique {
					g.uniqueID = g.name + "-0123456789"
				}
			}
			ctx, cancel := context.WithTimeout(t.Context(), 6*time.Minute)
			defer cancel()
			errs := make(chan error, len(guests))
			for _, g := range guests {
				go func() { errs <- g.run(ctx, t, s, dir) }()
			}
			for range guests {
				if err := <-errs; err != nil {
					t.Error(err)
				}
			}
			for _, g := range guests {
				g.report(t)
			}
			s.stop() // flush the log; the capture ends after the server
			warns := collisionWarnings(t, s.logPath)

			var rep *trace.Report
			if capt != nil {
				wrep, err := capt.Stop()
				if err != nil {
					t.Fatalf("capture: %v", err)
				}
				t.Logf("capture %s: %d frames, %d calls, %d replies; wire check: %s", capt.Path(), wrep.Frames, wrep.Calls, wrep.Replies, verdict(wrep))
				if len(wrep.Malformed) > 0 {
					t.Errorf("tshark finds malformed frames:\n%s", wrep)
				}
				rep = analyze(t, capt.Path(), s.port)
			}

			if tc.unique {
				if len(warns) != 0 {
					t.Errorf("unique identities, yet %d collision warnings:\n%s", len(warns), strings.Join(warns, "\n"))
				}
				if rep != nil {
					for _, f := range rep.Findings {
						if f.Kind == "client-owner-collision" {
							t.Errorf("gonfs trace finds a collision among unique clients: %s", f.Summary)
						}
					}
				}
				return
			}
			if len(warns) != 1 {
				t.Fatalf("%d collision warnings in the server log, want 1:\n%s", len(warns), strings.Join(warns, "\n"))
			}
			w := warns[0]
			t.Logf("server: %s", w)
			for _, want := range []string{"sub=nfs4", `owner="Linux NFSv4.2 twin"`, "127.0.0.2", "127.0.0.3", "nfs.nfs4_unique_id"} {
				if !strings.Contains(w, want) {
					t.Errorf("the warning lacks %q", want)
				}
			}
			if rep == nil {
				return
			}
			found := false
			for _, f := range rep.Findings {
				if f.Kind == "client-owner-collision" && strings.Contains(f.Summary, "127.0.0.2") && strings.Contains(f.Summary, "127.0.0.3") {
					found = true
					t.Logf("gonfs trace: %s", f.Summary)
				}
			}
			if !found {
				t.Errorf("gonfs trace names no collision of 127.0.0.2 and 127.0.0.3; findings:\n%s", findingList(rep))
			}
			// Within one lease of the moment the second client arrived.
			second, ok := secondArrival(rep)
			if !ok {
				t.Errorf("no EXCHANGE_ID from both addresses in the capture")
				return
			}
			at, err := logTime(w)
			if err != nil {
				t.Fatal(err)
			}
			if d := at.Sub(second); d > collisionLease {
				t.Errorf("warning %s after the second client's first EXCHANGE_ID, more than the lease (%s)", d, collisionLease)
			} else {
				t.Logf("warning %s after the second client's first EXCHANGE_ID (lease %s)", d.Round(time.Millisecond), collisionLease)
			}
		})
	}
}

// TestOwnerCollisionGanesha runs the same-hostname scenario of
// TestOwnerCollision against nfs-ganesha (the lab's peers/ganesha.sh, in
// a private mount namespace inside the test's network namespace; NFS on
// 127.0.0.1:2049) and checks that `gonfs trace` names the collision and
// both addresses in the capture of another server's traffic. It needs
// ganesha installed (ganesha.sh would apt-get it), so it runs only with
// GONFS_INTEROP_GANESHA=1.
func TestOwnerCollisionGanesha(t *testing.T) {
	if os.Getenv("GONFS_INTEROP_GANESHA") == "" {
		t.Skip("set GONFS_INTEROP_GANESHA=1 to run against nfs-ganesha (lab peers/ganesha.sh)")
	}
	needLab(t)
	binaries(t)
	dir := testDir(t)
	export := filepath.Join(dir, "export")
	if err := os.Mkdir(export, 0o777); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(export, 0o777)
	const port = 2049
	capt, err := wirecheck.Start(t.Context(), "lo", port, dir)
	if err != nil {
		t.Fatalf("capture: %v", err) // this test is opt-in: no skipping
	}
	script := filepath.Join(filepath.Dir(labVM), "peers", "ganesha.sh")
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "bash", "-c",
		// As ganesha.sh's header says: ganesha resolves its bind address
		// with AI_ADDRCONFIG, which wants a non-loopback address (fd00::1).
		`ip -6 addr add fd00::1/128 dev lo 2>/dev/null; mount -t tmpfs r /run && exec "$0" "$1"`, script, export)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logf, err := os.Create(filepath.Join(dir, "ganesha.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		// ganesha.sh, rpcbind, statd and ganesha.nfsd are our process group.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}
	defer stop()
	for b, start := []byte(nil), time.Now(); !strings.Contains(string(b), "ganesha.sh: serving"); b, _ = os.ReadFile(logf.Name()) {
		select {
		case <-exited:
			t.Fatalf("ganesha.sh ended:\n%s", tail(logf.Name(), 20))
		case <-time.After(200 * time.Millisecond):
		}
		if time.Since(start) > 2*time.Minute {
			t.Fatalf("ganesha did not start:\n%s", tail(logf.Name(), 20))
		}
	}
	peer := &server{host: "127.0.0.1", port: port}
	guests := []*guest{{name: "alpha", addr: "127.0.0.2"}, {name: "beta", addr: "127.0.0.3"}}
	errs := make(chan error, len(guests))
	for _, g := range guests {
		g.vers, g.hostname, g.script, g.args = "4.2", "twin", "collide.sh", []string{g.name, "30"}
		g.opts, g.timeout = "soft,timeo=30,retrans=2", 4*time.Minute
		go func() { errs <- g.run(t.Context(), t, peer, dir) }()
	}
	for range guests {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	for _, g := range guests {
		g.report(t)
	}
	stop()
	wrep, err := capt.Stop()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("capture %s: %d frames, %d calls, %d replies; wire check: %s", capt.Path(), wrep.Frames, wrep.Calls, wrep.Replies, verdict(wrep))
	rep := analyze(t, capt.Path(), port)
	found := false
	for _, f := range rep.Findings {
		if f.Kind == "client-owner-collision" && strings.Contains(f.Summary, "127.0.0.2") && strings.Contains(f.Summary, "127.0.0.3") {
			found = true
			t.Logf("gonfs trace: %s", f.Summary)
			for _, e := range f.Evidence {
				t.Logf("  evidence: %s", e)
			}
		}
	}
	if !found {
		t.Errorf("gonfs trace names no collision of 127.0.0.2 and 127.0.0.3 on ganesha; findings:\n%s", findingList(rep))
	}
}

// collisionWarnings returns the server's collision warnings.
func collisionWarnings(t *testing.T, logPath string) []string {
	t.Helper()
	f, err := os.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if strings.Contains(l, "level=WARN") && strings.Contains(l, "share one client owner string") {
			out = append(out, l)
		}
	}
	return out
}

// logTime is the time= of a slog text line.
func logTime(line string) (time.Time, error) {
	v, _, _ := strings.Cut(strings.TrimPrefix(line, "time="), " ")
	return time.Parse(time.RFC3339Nano, v)
}

func analyze(t *testing.T, path string, port int) *trace.Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := trace.Analyze(f, trace.Options{Ports: []uint16{uint16(port)}})
	if err != nil {
		t.Fatalf("gonfs trace: %v", err)
	}
	return rep
}

// secondArrival is the capture time of the first EXCHANGE_ID call of the
// address that sent one last.
func secondArrival(rep *trace.Report) (time.Time, bool) {
	first := map[netip.Addr]time.Duration{}
	for _, m := range rep.Messages {
		if m.Reply || len(m.Ops) == 0 || m.Ops[0].Name != "EXCHANGE_ID" {
			continue
		}
		if _, ok := first[m.Src.Addr()]; !ok {
			first[m.Src.Addr()] = m.Time
		}
	}
	if len(first) < 2 {
		return time.Time{}, false
	}
	var last time.Duration
	for _, d := range first {
		last = max(last, d)
	}
	return rep.Start.Add(last), true
}

func findingList(rep *trace.Report) string {
	var b strings.Builder
	for _, f := range rep.Findings {
		fmt.Fprintf(&b, "  %s: %s\n", f.Kind, f.Summary)
	}
	return b.String()
}

func verdict(r wirecheck.Report) string {
	if r.OK() {
		return "ok"
	}
	return fmt.Sprintf("%d unmatched, %d malformed, %d errors, %d dropped", len(r.Unmatched), len(r.Malformed), len(r.Errors), r.Dropped)
}
