package metrics

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gonfs/gonfs/proto/mountxdr"
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/stats"
	"github.com/gonfs/gonfs/sunrpc"
)

var (
	clientA = netip.MustParseAddr("127.0.0.1")
	clientB = netip.MustParseAddr("::1")
)

func rpc(s *stats.Stats, prog, vers, proc uint32, st sunrpc.Status, d time.Duration, from netip.Addr) {
	c := &sunrpc.Call{Prog: prog, Vers: vers, Proc: proc, Remote: netip.AddrPortFrom(from, 900)}
	s.Start(c)
	s.Done(c, st, d)
}

// script records a known sequence; scrape checks exactly these counts.
func script(s *stats.Stats) {
	rpc(s, mountxdr.MOUNT_PROGRAM, 3, mountxdr.MOUNTPROC3_MNT, sunrpc.Success, 50*time.Microsecond, clientA)
	for range 3 {
		rpc(s, nfs3xdr.NFS_PROGRAM, 3, nfs3xdr.NFSPROC3_GETATTR, sunrpc.Success, 3*time.Microsecond, clientA)
		s.Op(3, 0, nfs3xdr.NFSPROC3_GETATTR, 0, 3*time.Microsecond, clientA, 42)
	}
	rpc(s, nfs3xdr.NFS_PROGRAM, 3, nfs3xdr.NFSPROC3_LOOKUP, sunrpc.Success, 30*time.Microsecond, clientB)
	s.Op(3, 0, nfs3xdr.NFSPROC3_LOOKUP, int32(nfs3xdr.NFS3ERR_NOENT), 30*time.Microsecond, clientB, 42)
	rpc(s, nfs3xdr.NFS_PROGRAM, 3, nfs3xdr.NFSPROC3_READ, sunrpc.GarbageArgs, time.Microsecond, clientB)
	rpc(s, nfs3xdr.NFS_PROGRAM, 4, nfs4xdr.NFSPROC4_COMPOUND, sunrpc.Success, 2*time.Millisecond, clientB)
	s.Op(4, 1, uint32(nfs4xdr.OP_SEQUENCE), 0, time.Microsecond, clientB, stats.NoExport)
	s.Op(4, 1, uint32(nfs4xdr.OP_PUTFH), 0, time.Microsecond, clientB, 42)
	s.Op(4, 1, uint32(nfs4xdr.OP_READ), 0, 2*time.Millisecond, clientB, 42)
}

func TestScrape(t *testing.T) {
	st := stats.New(stats.Options{})
	script(st)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewCollector(st, Options{
		ExportName: func(id uint32) string { return map[uint32]string{42: "/srv"}[id] },
		PerClient:  true,
	}))

	ctx, cancel := context.WithCancel(context.Background())
	l, err := Serve(ctx, "127.0.0.1:0", reg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		if err := l.Wait(); err != nil {
			t.Errorf("listener stopped with %v", err)
		}
	}()
	if !l.Addr().Addr().IsLoopback() {
		t.Fatalf("listening on %v", l.Addr())
	}
	samples := scrape(t, "http://"+l.Addr().String()+"/metrics")

	want := map[string]float64{
		`gonfs_rpc_calls_total{procedure="mnt",program="mountd",status="SUCCESS",version="3"}`:    1,
		`gonfs_rpc_calls_total{procedure="getattr",program="nfs",status="SUCCESS",version="3"}`:   3,
		`gonfs_rpc_calls_total{procedure="lookup",program="nfs",status="SUCCESS",version="3"}`:    1,
		`gonfs_rpc_calls_total{procedure="read",program="nfs",status="GARBAGE_ARGS",version="3"}`: 1,
		`gonfs_rpc_calls_total{procedure="compound",program="nfs",status="SUCCESS",version="4"}`:  1,
		`gonfs_rpc_in_flight`: 0,
		`gonfs_nfs_ops_total{op="getattr",status="NFS3_OK",version="3"}`:      3,
		`gonfs_nfs_ops_total{op="lookup",status="NFS3ERR_NOENT",version="3"}`: 1,
		`gonfs_nfs_ops_total{op="sequence",status="NFS4_OK",version="4.1"}`:   1,
		`gonfs_nfs_ops_total{op="read",status="NFS4_OK",version="4.1"}`:       1,
		// GETATTR took 3µs three times: all in the 4µs bucket.
		`gonfs_nfs_op_duration_seconds_bucket{op="getattr",version="3",le="2e-06"}`:      0,
		`gonfs_nfs_op_duration_seconds_bucket{op="getattr",version="3",le="4e-06"}`:      3,
		`gonfs_nfs_op_duration_seconds_bucket{op="getattr",version="3",le="+Inf"}`:       3,
		`gonfs_nfs_op_duration_seconds_count{op="getattr",version="3"}`:                  3,
		`gonfs_nfs_op_duration_seconds_sum{op="getattr",version="3"}`:                    9e-06,
		`gonfs_nfs_op_duration_seconds_bucket{op="read",version="4.1",le="0.001024"}`:    0,
		`gonfs_nfs_op_duration_seconds_bucket{op="read",version="4.1",le="0.002048"}`:    1,
		`gonfs_rpc_duration_seconds_count{procedure="mnt",program="mountd",version="3"}`: 1,
		`gonfs_export_ops_total{export="/srv"}`:                                          6,
		`gonfs_export_errors_total{export="/srv"}`:                                       1,
		`gonfs_nfs_ops_dropped_total`:                                                    0,
		`gonfs_clients_evicted_total`:                                                    0,
		`gonfs_client_calls_total{client="127.0.0.1"}`:                                   4,
		`gonfs_client_ops_total{client="::1"}`:                                           4,
		`gonfs_client_op_errors_total{client="::1"}`:                                     1,
	}
	for name, v := range want {
		got, ok := samples[name]
		if !ok {
			t.Errorf("missing %s", name)
			continue
		}
		if got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	// Nothing counted twice: the scrape holds exactly the calls made.
	var calls float64
	for name, v := range samples {
		if strings.HasPrefix(name, "gonfs_rpc_calls_total{") {
			calls += v
		}
	}
	if calls != 7 {
		t.Errorf("sum of gonfs_rpc_calls_total = %v, want 7", calls)
	}

	// A second scrape after more calls sees them, still without doubling.
	st.Op(3, 0, nfs3xdr.NFSPROC3_GETATTR, 0, 3*time.Microsecond, clientA, 42)
	samples = scrape(t, "http://"+l.Addr().String()+"/metrics")
	if got := samples[`gonfs_nfs_ops_total{op="getattr",status="NFS3_OK",version="3"}`]; got != 4 {
		t.Errorf("getattr after one more: %v, want 4", got)
	}
}

// scrape fetches url and returns its samples by name and labels, as they
// appear in the text exposition format.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, b)
	}
	samples := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample line %q", line)
		}
		samples[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return samples
}

// The collector describes what it collects, so that a pedantic registry
// accepts it (checked on every Gather).
func TestPedanticGather(t *testing.T) {
	st := stats.New(stats.Options{})
	script(st)
	for _, perClient := range []bool{false, true} {
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(NewCollector(st, Options{PerClient: perClient}))
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatalf("PerClient=%v: %v", perClient, err)
		}
		var names []string
		for _, mf := range mfs {
			names = append(names, mf.GetName())
		}
		hasClient := strings.Contains(strings.Join(names, " "), "gonfs_client_ops_total")
		if hasClient != perClient {
			t.Errorf("PerClient=%v: per-client metrics present = %v", perClient, hasClient)
		}
	}
}

func TestServeBadAddress(t *testing.T) {
	if _, err := Serve(context.Background(), "127.0.0.1:-1", prometheus.NewRegistry()); err == nil {
		t.Error("Serve on a bad address did not fail")
	}
}
