package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gonfs/gonfs/nfs4/collide"
	"github.com/gonfs/gonfs/stats"
)

// Options configure a Collector. The zero value works.
type Options struct {
	// ExportName gives the "export" label of an export ID, e.g. its path
	// (default: the ID in decimal).
	ExportName func(id uint32) string
	// PerClient adds per-client counters, labelled by address. The stats
	// table bounds them (stats.Options.MaxClients), but every client is a
	// series: leave it off where clients are many.
	PerClient bool
	// Collisions lists the current client owner findings (the server's
	// collide.Detector.Findings) for the info gauge; nil: no gauge.
	Collisions func() []collide.Finding
}

// Bounds of the collision info gauge (doc.go).
const (
	MaxCollisionSeries = 8
	MaxOwnerLabel      = 64
)

// Collector is a prometheus.Collector over a stats.Stats.
type Collector struct {
	st   *stats.Stats
	opts Options

	rpcCalls, rpcDuration, rpcInFlight                *prometheus.Desc
	nfsOps, nfsDuration, nfsDropped                   *prometheus.Desc
	exportOps, exportErrors, exportSeconds            *prometheus.Desc
	clientsEvicted, clientCalls, clientOps, clientErr *prometheus.Desc
	ownerCollisions, collisionInfo                    *prometheus.Desc
}

// NewCollector returns a Collector of st; register it with a
// prometheus.Registerer.
func NewCollector(st *stats.Stats, opts Options) *Collector {
	if opts.ExportName == nil {
		opts.ExportName = func(id uint32) string { return strconv.FormatUint(uint64(id), 10) }
	}
	d := prometheus.NewDesc
	return &Collector{
		st: st, opts: opts,
		rpcCalls: d("gonfs_rpc_calls_total", "RPC calls dispatched, by program, version, procedure and RPC status.",
			[]string{"program", "version", "procedure", "status"}, nil),
		rpcDuration: d("gonfs_rpc_duration_seconds", "Time RPC handlers took, by program, version and procedure.",
			[]string{"program", "version", "procedure"}, nil),
		rpcInFlight: d("gonfs_rpc_in_flight", "RPC calls being handled now.", nil, nil),
		nfsOps: d("gonfs_nfs_ops_total", "NFS operations (NFSv3 procedures, NFSv4 operations in COMPOUNDs), by version, operation and NFS status.",
			[]string{"version", "op", "status"}, nil),
		nfsDuration: d("gonfs_nfs_op_duration_seconds", "Time NFS operations took, by version and operation.",
			[]string{"version", "op"}, nil),
		nfsDropped:     d("gonfs_nfs_ops_dropped_total", "NFS operations reported for a version not counted.", nil, nil),
		exportOps:      d("gonfs_export_ops_total", "NFS operations on the files of an export.", []string{"export"}, nil),
		exportErrors:   d("gonfs_export_errors_total", "NFS operations on the files of an export that failed.", []string{"export"}, nil),
		exportSeconds:  d("gonfs_export_op_seconds_total", "Total time of the NFS operations on the files of an export.", []string{"export"}, nil),
		clientsEvicted: d("gonfs_clients_evicted_total", "Clients dropped from the bounded per-client table.", nil, nil),
		clientCalls:    d("gonfs_client_calls_total", "RPC calls of a client.", []string{"client"}, nil),
		clientOps:      d("gonfs_client_ops_total", "NFS operations of a client.", []string{"client"}, nil),
		clientErr:      d("gonfs_client_op_errors_total", "NFS operations of a client that failed.", []string{"client"}, nil),
		ownerCollisions: d("gonfs_nfs4_client_owner_collisions_total",
			"NFSv4 client owner collisions: several clients found sharing one owner string (one per episode).", nil, nil),
		collisionInfo: d("gonfs_nfs4_client_owner_collision_info",
			"An NFSv4 client owner shared by several clients now (owner cut to 64 bytes; at most 8 series).",
			[]string{"owner", "addresses"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.rpcCalls, c.rpcDuration, c.rpcInFlight, c.nfsOps, c.nfsDuration,
		c.nfsDropped, c.exportOps, c.exportErrors, c.exportSeconds, c.clientsEvicted, c.ownerCollisions} {
		ch <- d
	}
	if c.opts.Collisions != nil {
		ch <- c.collisionInfo
	}
	if c.opts.PerClient {
		ch <- c.clientCalls
		ch <- c.clientOps
		ch <- c.clientErr
	}
}

// Collect implements prometheus.Collector: one snapshot per scrape.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	snap := c.st.Snapshot()
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	for _, p := range snap.Programs {
		prog, vers := stats.ProgramName(p.Prog), strconv.FormatUint(uint64(p.Vers), 10)
		if p.Prog == stats.OtherProgram {
			vers = "other"
		}
		for i := range p.Procs {
			pr := &p.Procs[i]
			proc := stats.ProcName(p.Prog, p.Vers, pr.Proc)
			for st, n := range pr.Status {
				if n > 0 {
					counter(c.rpcCalls, float64(n), prog, vers, proc, stats.RPCStatus(st).String())
				}
			}
			ch <- histogram(c.rpcDuration, &pr.Latency, prog, vers, proc)
		}
	}
	ch <- prometheus.MustNewConstMetric(c.rpcInFlight, prometheus.GaugeValue, float64(snap.RPC.InFlight))

	for _, v := range snap.NFS {
		ver := stats.VersionName(v.Vers, v.Minor)
		for i := range v.Ops {
			o := &v.Ops[i]
			op := stats.OpName(v.Vers, o.Op)
			for _, sc := range o.Statuses {
				counter(c.nfsOps, float64(sc.Count), ver, op, stats.StatusName(v.Vers, sc.Status))
			}
			ch <- histogram(c.nfsDuration, &o.Latency, ver, op)
		}
	}
	counter(c.nfsDropped, float64(snap.DroppedOps))

	for _, e := range snap.Exports {
		name := "other"
		if e.ID != stats.OtherExport {
			name = c.opts.ExportName(e.ID)
		}
		counter(c.exportOps, float64(e.Ops), name)
		counter(c.exportErrors, float64(e.Errors), name)
		counter(c.exportSeconds, e.OpTime.Seconds(), name)
	}

	counter(c.clientsEvicted, float64(snap.EvictedClients))
	counter(c.ownerCollisions, float64(snap.ClientOwnerCollisions))
	if c.opts.Collisions != nil {
		c.collectCollisions(ch)
	}
	if c.opts.PerClient {
		for _, cl := range snap.Clients {
			a := cl.Addr.String()
			counter(c.clientCalls, float64(cl.Calls), a)
			counter(c.clientOps, float64(cl.Ops), a)
			counter(c.clientErr, float64(cl.OpErrors), a)
		}
	}
}

// collectCollisions sends the info gauge: active collisions only, most
// recent first, bounded (doc.go). Two owners that are equal once cut are
// one series.
func (c *Collector) collectCollisions(ch chan<- prometheus.Metric) {
	seen := make(map[string]bool)
	for _, f := range c.opts.Collisions() {
		if f.Kind != collide.Collision || !f.Active {
			continue
		}
		owner := f.Owner
		if len(owner) > MaxOwnerLabel {
			owner = strings.ToValidUTF8(owner[:MaxOwnerLabel], "")
		}
		if seen[owner] {
			continue
		}
		if len(seen) == MaxCollisionSeries {
			return
		}
		seen[owner] = true
		ch <- prometheus.MustNewConstMetric(c.collisionInfo, prometheus.GaugeValue, 1, owner, strings.Join(f.Addrs, ","))
	}
}

// histogram converts a stats histogram: Prometheus buckets are
// cumulative, with the last (unbounded) stats bucket as +Inf.
func histogram(d *prometheus.Desc, h *stats.Histogram, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, stats.NumBuckets-1)
	var cum uint64
	for k := 0; k < stats.NumBuckets-1; k++ {
		cum += h.Buckets[k]
		buckets[stats.BucketBound(k).Seconds()] = cum
	}
	return prometheus.MustNewConstHistogram(d, h.Count(), h.Sum.Seconds(), buckets, labels...)
}

// Listener is a running metrics HTTP listener.
type Listener struct {
	addr netip.AddrPort
	done chan struct{}
	err  error
}

// Serve listens on addr (host:port; port 0 picks one) and serves the
// metrics of g at /metrics over HTTP until ctx ends. It returns once
// listening; Wait tells when it has stopped. A *prometheus.Registry is a
// Gatherer.
func Serve(ctx context.Context, addr string, g prometheus.Gatherer) (*Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	l := &Listener{addr: ln.Addr().(*net.TCPAddr).AddrPort(), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Shutdown(sctx)
		}()
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			l.err = err
		}
		<-stopped
	}()
	return l, nil
}

// Addr returns the address the listener is bound to.
func (l *Listener) Addr() netip.AddrPort { return l.addr }

// Wait blocks until the listener has stopped (after its context ended)
// and returns why it stopped, nil for the context.
func (l *Listener) Wait() error {
	<-l.done
	return l.err
}
