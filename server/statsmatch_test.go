package server_test

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gonfs/gonfs/admin"
	"github.com/gonfs/gonfs/exports"
	"github.com/gonfs/gonfs/internal/wirecheck"
	"github.com/gonfs/gonfs/proto/mountxdr"
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/server"
	"github.com/gonfs/gonfs/stats"
)

// nfsstatV3Names are the NFSv3 procedures in the order and spelling of
// `nfsstat -s` (RFC 1813 procedure numbers 0-21), written out here so
// that reading the text does not lean on the stats package's own names.
var nfsstatV3Names = []string{
	"null", "getattr", "setattr", "lookup", "access", "readlink",
	"read", "write", "create", "mkdir", "symlink", "mknod",
	"remove", "rmdir", "rename", "link", "readdir", "readdirplus",
	"fsstat", "fsinfo", "pathconf", "commit",
}

// TestStatsMatchLibnfs: what `gonfs ctl stats` counts is what a client
// issued (issue "Diagnosis built in", acceptance 3). A fixed libnfs script
// runs against a server while tshark captures it; Wireshark's dissectors
// then count the calls on the wire per program, version and procedure,
// with no code in common with the server. The stats reply of the admin
// socket must hold exactly those counts: per MOUNT and NFSv3 procedure at
// the RPC layer, per NFSv3 procedure at the operation layer, and in total;
// and the nfsstat-style text `gonfs ctl stats` prints must show the same
// numbers in its "Server rpc stats" and "Server nfs v3" tables.
func TestStatsMatchLibnfs(t *testing.T) {
	needTools(t, "nfs-cp", "nfs-ls", "nfs-cat", "tshark")
	if os.Geteuid() != 0 {
		t.Skip("capturing loopback traffic with tshark needs root")
	}
	dir := t.TempDir()
	// Root is squashed by the default export, and the tools run as root.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), admin.SocketName)
	srv := startWith(t, server.Options{
		Exports:     exports.Default(dir),
		Listen:      "127.0.0.1:0",
		StateDir:    t.TempDir(),
		Portmap:     "off",
		AdminSocket: sock,
	})
	ts := &testServer{srv: srv, addr: srv.Addr()}
	c := startCapture(t, ts)

	// The script: list, copy a file in, print it, copy it out, list.
	const hello = "statistics are only as good as what they count\n"
	src := filepath.Join(t.TempDir(), "src.txt")
	if err := os.WriteFile(src, []byte(hello), 0o644); err != nil {
		t.Fatal(err)
	}
	runTool(t, "nfs-ls", nfsURL(ts.addr, ""))
	runTool(t, "nfs-cp", src, nfsURL(ts.addr, "hello.txt"))
	if got := string(runTool(t, "nfs-cat", nfsURL(ts.addr, "hello.txt"))); got != hello {
		t.Errorf("nfs-cat printed %q, want %q", got, hello)
	}
	dst := filepath.Join(t.TempDir(), "dst.txt")
	runTool(t, "nfs-cp", nfsURL(ts.addr, "hello.txt"), dst)
	if got, err := os.ReadFile(dst); err != nil || string(got) != hello {
		t.Errorf("nfs-cp out gave %q (%v), want %q", got, err, hello)
	}
	if out := runTool(t, "nfs-ls", nfsURL(ts.addr, "")); !bytes.Contains(out, []byte("hello.txt")) {
		t.Errorf("nfs-ls does not list hello.txt:\n%s", out)
	}

	rep, err := c.Stop()
	if err != nil {
		t.Fatal(err)
	}
	// Counts taken from a capture with holes would prove nothing.
	if !rep.OK() || rep.Calls != rep.Replies {
		t.Fatalf("the capture cannot serve as the count of what libnfs sent: %s", rep)
	}
	wire := rep.Procs
	var attributed int
	for _, n := range wire {
		attributed += n
	}
	if attributed != rep.Calls {
		t.Fatalf("tshark attributed %d of %d calls to a procedure: %v", attributed, rep.Calls, wire)
	}
	// The script must have exercised what it is meant to, or equal
	// counts would say little.
	for _, p := range []wirecheck.Proc{
		{Prog: mountxdr.MOUNT_PROGRAM, Vers: 3, Proc: mountxdr.MOUNTPROC3_MNT},
		{Prog: nfs3xdr.NFS_PROGRAM, Vers: 3, Proc: nfs3xdr.NFSPROC3_WRITE},
		{Prog: nfs3xdr.NFS_PROGRAM, Vers: 3, Proc: nfs3xdr.NFSPROC3_READ},
	} {
		if wire[p] == 0 {
			t.Errorf("tshark saw no %s %s call in the libnfs run: %v", stats.ProgramName(p.Prog), stats.ProcName(p.Prog, p.Vers, p.Proc), wire)
		}
	}
	for p := range wire {
		if p.Vers != 3 || (p.Prog != nfs3xdr.NFS_PROGRAM && p.Prog != mountxdr.MOUNT_PROGRAM) {
			t.Errorf("tshark saw %d calls of program %d version %d, not NFSv3 or MOUNTv3", wire[p], p.Prog, p.Vers)
		}
	}

	// `gonfs ctl stats`: the admin socket's reply, as the command gets it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	data, err := admin.Client{Socket: sock}.Do(ctx, admin.Request{Cmd: admin.CmdStats})
	if err != nil {
		t.Fatal(err)
	}
	var reply admin.StatsReply
	if err := json.Unmarshal(data, &reply); err != nil {
		t.Fatalf("stats reply: %v", err)
	}
	if reply.Snapshot == nil {
		t.Fatalf("the stats reply carries no snapshot: %s", data)
	}
	snap := reply.Snapshot

	// RPC layer: calls per program, version and procedure.
	served := map[wirecheck.Proc]int{}
	for _, p := range snap.Programs {
		for _, pr := range p.Procs {
			served[wirecheck.Proc{Prog: p.Prog, Vers: p.Vers, Proc: pr.Proc}] = int(pr.Calls())
		}
	}
	for _, d := range diffCounts(wire, served) {
		t.Errorf("RPC calls: %s", d)
	}
	// Operation layer: the NFSv3 procedures as the nfs3 handlers counted
	// them (what the "Server nfs v3" table prints).
	v3ops := map[wirecheck.Proc]int{}
	if v3 := snap.Version(3, 0); v3 != nil {
		for _, o := range v3.Ops {
			v3ops[wirecheck.Proc{Prog: nfs3xdr.NFS_PROGRAM, Vers: 3, Proc: o.Op}] = int(o.Count())
		}
	}
	for _, d := range diffCounts(onlyNFS3(wire), v3ops) {
		t.Errorf("NFSv3 operations: %s", d)
	}
	if want := (stats.RPCTotals{Calls: uint64(rep.Calls)}); snap.RPC != want {
		t.Errorf("RPC totals %+v, want %+v (%d calls on the wire, none bad)", snap.RPC, want, rep.Calls)
	}

	// The text `gonfs ctl stats` prints (admin.Render is what it runs
	// without --json).
	var out bytes.Buffer
	if err := admin.Render(&out, admin.CmdStats, data); err != nil {
		t.Fatal(err)
	}
	text, err := parseNFSStat(out.String())
	if err != nil {
		t.Fatalf("reading the ctl stats text: %v\n%s", err, out.String())
	}
	if text.calls != uint64(rep.Calls) {
		t.Errorf("ctl stats prints %d RPC calls, tshark saw %d", text.calls, rep.Calls)
	}
	for proc, name := range nfsstatV3Names {
		want := uint64(wire[wirecheck.Proc{Prog: nfs3xdr.NFS_PROGRAM, Vers: 3, Proc: uint32(proc)}])
		if got, ok := text.v3[name]; !ok || got != want {
			t.Errorf("ctl stats prints %s %d (in the table: %v), tshark saw %d", name, got, ok, want)
		}
	}
	if t.Failed() {
		t.Logf("tshark: %s\nctl stats:\n%s", rep, out.String())
	}
}

// onlyNFS3 keeps the NFSv3 procedures of counts.
func onlyNFS3(counts map[wirecheck.Proc]int) map[wirecheck.Proc]int {
	out := map[wirecheck.Proc]int{}
	for p, n := range counts {
		if p.Prog == nfs3xdr.NFS_PROGRAM && p.Vers == 3 {
			out[p] = n
		}
	}
	return out
}

// diffCounts lists, in procedure order, where the server's counts differ
// from the wire's (a procedure missing from one side counts 0).
func diffCounts(wire, served map[wirecheck.Proc]int) []string {
	keys := map[wirecheck.Proc]bool{}
	for p := range wire {
		keys[p] = true
	}
	for p := range served {
		keys[p] = true
	}
	sorted := slices.SortedFunc(func(yield func(wirecheck.Proc) bool) {
		for p := range keys {
			if !yield(p) {
				return
			}
		}
	}, func(a, b wirecheck.Proc) int {
		return cmp.Or(cmp.Compare(a.Prog, b.Prog), cmp.Compare(a.Vers, b.Vers), cmp.Compare(a.Proc, b.Proc))
	})
	var out []string
	for _, p := range sorted {
		if wire[p] != served[p] {
			out = append(out, fmt.Sprintf("%s v%d %s: server counted %d, tshark saw %d",
				stats.ProgramName(p.Prog), p.Vers, stats.ProcName(p.Prog, p.Vers, p.Proc), served[p], wire[p]))
		}
	}
	return out
}

// nfsstatText is what parseNFSStat reads from nfsstat-style text.
type nfsstatText struct {
	calls uint64            // "Server rpc stats:" calls
	v3    map[string]uint64 // "Server nfs v3:" count by procedure name
}

// parseNFSStat reads the RPC call total and the NFSv3 call table from the
// layout of `nfsstat -s`: under "Server rpc stats:" a header row and a row
// of numbers; under "Server nfs v3:" rows of names, each followed by a row
// of "count pct%" pairs, up to a blank line.
func parseNFSStat(s string) (nfsstatText, error) {
	r := nfsstatText{v3: map[string]uint64{}}
	var lines []string
	for sc := bufio.NewScanner(strings.NewReader(s)); sc.Scan(); {
		lines = append(lines, sc.Text())
	}
	rpc := slices.Index(lines, "Server rpc stats:")
	if rpc < 0 || rpc+2 >= len(lines) {
		return r, fmt.Errorf("no RPC table")
	}
	head, vals := strings.Fields(lines[rpc+1]), strings.Fields(lines[rpc+2])
	if len(head) == 0 || head[0] != "calls" || len(vals) != len(head) {
		return r, fmt.Errorf("RPC table %q / %q", lines[rpc+1], lines[rpc+2])
	}
	var err error
	if r.calls, err = strconv.ParseUint(vals[0], 10, 64); err != nil {
		return r, fmt.Errorf("RPC calls: %w", err)
	}
	v3 := slices.Index(lines, "Server nfs v3:")
	if v3 < 0 {
		return r, fmt.Errorf("no NFSv3 table")
	}
	for i := v3 + 1; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i += 2 {
		if i+1 >= len(lines) {
			return r, fmt.Errorf("NFSv3 names %q without counts", lines[i])
		}
		names, cells := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if len(cells) != 2*len(names) {
			return r, fmt.Errorf("NFSv3 row %q under %q", lines[i+1], lines[i])
		}
		for j, name := range names {
			n, err := strconv.ParseUint(cells[2*j], 10, 64)
			if err != nil || !strings.HasSuffix(cells[2*j+1], "%") {
				return r, fmt.Errorf("NFSv3 %s: %q %q", name, cells[2*j], cells[2*j+1])
			}
			r.v3[name] = n
		}
	}
	return r, nil
}

// TestParseNFSStat: the reader of the text layout, against the layout
// stats.FormatNFSStat is tested to print and against broken text.
func TestParseNFSStat(t *testing.T) {
	good := "Server rpc stats:\n" +
		"calls      badcalls   badfmt     badauth    badclnt\n" +
		"8          1          1          0          0       \n\n" +
		"Server nfs v3:\n" +
		"null         getattr      setattr      lookup       access       readlink     \n" +
		"1        16% 2        33% 0         0% 3        50% 0         0% 0         0% \n" +
		"read         write        \n" +
		"0         0% 0         0% \n\n" +
		"Server nfs v3 operations:\n"
	r, err := parseNFSStat(good)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{"null": 1, "getattr": 2, "setattr": 0, "lookup": 3, "access": 0, "readlink": 0, "read": 0, "write": 0}
	if r.calls != 8 || fmt.Sprint(r.v3) != fmt.Sprint(want) {
		t.Errorf("parsed %d calls and %v, want 8 and %v", r.calls, r.v3, want)
	}
	for name, bad := range map[string]string{
		"no rpc table":  strings.Replace(good, "Server rpc stats:", "Server rpc:", 1),
		"no v3 table":   strings.Replace(good, "Server nfs v3:", "Server nfs v4:", 1),
		"missing count": strings.Replace(good, "1        16% 2", "2", 1),
		"not a number":  strings.Replace(good, "1        16%", "x        16%", 1),
		"no percentage": strings.Replace(good, "1        16%", "1        16", 1),
		"bad calls":     strings.Replace(good, "\n8   ", "\n-8  ", 1),
		"names at end":  strings.TrimSuffix(good, "0         0% \n\nServer nfs v3 operations:\n"),
	} {
		if _, err := parseNFSStat(bad); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}
