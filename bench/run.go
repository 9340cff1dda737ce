package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gonfs/gonfs/client"
	"github.com/gonfs/gonfs/proto/rpcxdr"
)

// Workload names, in the order Run runs them.
const (
	SeqWrite  = "seqwrite"  // sequential 1 MiB WRITEs of a Size-byte file
	SeqRead   = "seqread"   // sequential 1 MiB READs of it
	RandRead  = "randread"  // 4 KiB READs at random aligned offsets in it
	RandWrite = "randwrite" // 4 KiB WRITEs likewise
	Meta      = "meta"      // create, stat, readdir and remove of small files
	LsL       = "lsl"       // `ls -l` of a directory of ListEntries entries
	Getattr   = "getattr"   // GETATTR at queue depth 1
)

// Workloads lists every workload.
var Workloads = []string{SeqWrite, SeqRead, RandRead, RandWrite, Meta, LsL, Getattr}

const (
	seqBlock  = 1 << 20
	randBlock = 4 << 10
	// The names Run gives what it makes under the work directory.
	seqName  = "seqfile"
	metaName = "meta"
	lslName  = "lsl"
	// maxListings bounds the timed listings of lsl and meta's readdir.
	maxListings = 50
)

// Config says what Run does. Zero fields take the defaults of Defaults.
type Config struct {
	// URL names the server, the version (required: 3, 4.1 or 4.2) and
	// the work directory (created if missing).
	URL string
	// Workloads to run (default: all), run in the order of Workloads.
	Workloads []string
	// Conns is the number of TCP connections; Depth the requests each
	// keeps outstanding.
	Conns, Depth int
	// Size is the file size of the I/O workloads, and the byte bound of
	// the sequential ones.
	Size int64
	// Duration bounds each workload's timed part (meta: all four phases).
	Duration time.Duration
	// MaxOps bounds the operations of randread, randwrite, getattr and
	// each meta phase.
	MaxOps int64
	// ReadPasses is how many times seqread reads the test file, start to
	// end (default 1): at a few GB/s one pass of a 1 GiB file lasts a
	// third of a second, too short a window for a steady figure.
	ReadPasses int
	// Files is the number of files meta creates (then stats and removes).
	Files int
	// ListEntries is the size of lsl's directory.
	ListEntries int
	// ServerPID, when not 0, is the server's process on this machine: its
	// CPU time is reported.
	ServerPID int
	// AllowRemote permits a target that is not a loopback address.
	AllowRemote bool
	// Auth is the AUTH_SYS credential (default: uid and gid of the URL,
	// else 65534, which servers that squash root also accept).
	Auth *rpcxdr.AuthsysParms
	// Progress, when set, receives a progress line (with carriage
	// returns; for a terminal) every half second.
	Progress io.Writer
	// Log, when set, receives a line per preparation step.
	Log io.Writer
}

// Defaults are the values zero Config fields take.
var Defaults = Config{Conns: 1, Depth: 8, Size: 1 << 30, Duration: 10 * time.Second, MaxOps: 10_000_000,
	Files: 10_000, ListEntries: 50_000}

// Result is one workload's (or one meta phase's) measurement.
type Result struct {
	Workload string `json:"workload"`
	Conns    int    `json:"conns"`
	Depth    int    `json:"depth"`
	Ops      uint64 `json:"ops"`
	Errors   uint64 `json:"errors"`
	Bytes    uint64 `json:"bytes"`
	// Entries counts directory entries listed (lsl, meta-readdir).
	Entries   uint64        `json:"entries,omitempty"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	MBps      float64       `json:"mb_per_s"` // 10^6 bytes per second
	OpsPerSec float64       `json:"ops_per_s"`
	// EntriesPerSec is Entries per second.
	EntriesPerSec float64       `json:"entries_per_s,omitempty"`
	Mean          time.Duration `json:"mean_ns"`
	P50           time.Duration `json:"p50_ns"`
	P99           time.Duration `json:"p99_ns"`
	P999          time.Duration `json:"p999_ns"`
	Max           time.Duration `json:"max_ns"`
	// ServerCPU is the server's user+system CPU seconds during the timed
	// part (-1: not measured); ClientCPU is this process's.
	ServerCPU float64 `json:"server_cpu_s"`
	ClientCPU float64 `json:"client_cpu_s"`
	// FirstError is the first failure's text, if any.
	FirstError string `json:"first_error,omitempty"`
}

// Report is what Run returns.
type Report struct {
	URL      string   `json:"url"`
	Version  string   `json:"version"`
	Conns    int      `json:"conns"`
	Depth    int      `json:"depth"`
	Size     int64    `json:"size"`
	Results  []Result `json:"results"`
	Duration string   `json:"duration"`
}

// Run runs the workloads of cfg against its server and returns their
// results. A failure to set up (dial, make the work directory or the test
// file) ends it with an error; failed operations during a timed part are
// counted in Result.Errors.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg = withDefaults(cfg)
	u, err := client.ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	for _, w := range cfg.Workloads {
		if !slices.Contains(Workloads, w) {
			return nil, fmt.Errorf("bench: unknown workload %q (have %s)", w, strings.Join(Workloads, ","))
		}
	}
	if !cfg.AllowRemote {
		if err := CheckLoopback(ctx, u.Host); err != nil {
			return nil, err
		}
	}
	if cfg.Auth == nil {
		cfg.Auth = &rpcxdr.AuthsysParms{Machinename: "gonfs-bench", Uid: 65534, Gid: 65534}
		if u.UID != nil {
			cfg.Auth.Uid = *u.UID
		}
		if u.GID != nil {
			cfg.Auth.Gid = *u.GID
		}
	}
	r := &runner{cfg: cfg, u: u}
	defer r.closeAll()
	if err := r.dialAll(ctx); err != nil {
		return nil, err
	}
	rep := &Report{URL: cfg.URL, Version: u.Version, Conns: cfg.Conns, Depth: cfg.Depth, Size: cfg.Size, Duration: cfg.Duration.String()}
	for _, w := range Workloads {
		if !slices.Contains(cfg.Workloads, w) {
			continue
		}
		res, err := r.run(ctx, w)
		if err != nil {
			return rep, fmt.Errorf("bench: %s: %w", w, err)
		}
		rep.Results = append(rep.Results, res...)
	}
	return rep, nil
}

func withDefaults(c Config) Config {
	d := Defaults
	if len(c.Workloads) == 0 {
		c.Workloads = Workloads
	}
	setInt := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setInt(&c.Conns, d.Conns)
	setInt(&c.Depth, d.Depth)
	setInt(&c.Files, d.Files)
	setInt(&c.ListEntries, d.ListEntries)
	if c.Size <= 0 {
		c.Size = d.Size
	}
	c.Size = max(c.Size/seqBlock*seqBlock, seqBlock)
	if c.Duration <= 0 {
		c.Duration = d.Duration
	}
	if c.MaxOps <= 0 {
		c.MaxOps = d.MaxOps
	}
	c.ReadPasses = max(c.ReadPasses, 1)
	return c
}

// runner holds the connections of one Run.
type runner struct {
	cfg   Config
	u     *client.URL
	conns []conn
	work  dir // the URL's directory, on conns[0]
}

func (r *runner) dialAll(ctx context.Context) error {
	for range r.cfg.Conns {
		c, err := dial(ctx, r.u, r.cfg.Auth, r.cfg.Depth)
		if err != nil {
			return fmt.Errorf("bench: %s: %w", r.u, err)
		}
		r.conns = append(r.conns, c)
	}
	var err error
	if r.work, err = r.conns[0].workDir(ctx, r.u.Path); err != nil {
		return fmt.Errorf("bench: work directory %s: %w", r.u.Path, err)
	}
	return nil
}

func (r *runner) closeAll() {
	for _, c := range r.conns {
		c.close()
	}
}

func (r *runner) logf(format string, args ...any) {
	if r.cfg.Log != nil {
		fmt.Fprintf(r.cfg.Log, "bench: "+format+"\n", args...)
	}
}

func (r *runner) run(ctx context.Context, w string) ([]Result, error) {
	switch w {
	case SeqWrite:
		return r.seq(ctx, true)
	case SeqRead:
		return r.seq(ctx, false)
	case RandRead:
		return r.random(ctx, false)
	case RandWrite:
		return r.random(ctx, true)
	case Meta:
		return r.meta(ctx)
	case LsL:
		return r.lsl(ctx)
	case Getattr:
		return r.getattr(ctx)
	}
	return nil, fmt.Errorf("unknown workload")
}

// worker is one goroutine of a timed phase: its connection and index.
type worker struct {
	c    conn
	conn int // index of c in runner.conns
	id   int // 0 .. conns*depth-1
	hist *Histogram
}

// opFunc is one operation of a phase. It returns the bytes moved and
// whether the phase has no more work for this worker (a count bound).
type opFunc func(ctx context.Context, w *worker) (n int, done bool, err error)

// phase is a timed part: workers goroutines calling op until the deadline,
// the context's end, or done.
type phase struct {
	name    string
	workers int // goroutines: conns*depth unless 1
	op      opFunc
	// setup runs on each worker's goroutine before the clock starts.
	setup func(ctx context.Context, w *worker) error
	// finish runs once after every worker stopped, inside the timing
	// (COMMIT of the writes).
	finish func(ctx context.Context) error
	// duration bounds the phase instead of Config.Duration.
	duration time.Duration
	// entries: the op's n counts directory entries, not bytes.
	entries bool
}

// timed runs p and measures it.
func (r *runner) timed(ctx context.Context, p phase) (Result, error) {
	workers := p.workers
	if workers <= 0 {
		workers = r.cfg.Conns * r.cfg.Depth
	}
	ws := make([]*worker, workers)
	for i := range ws {
		ci := i % len(r.conns)
		ws[i] = &worker{c: r.conns[ci], conn: ci, id: i, hist: new(Histogram)}
	}
	if p.setup != nil {
		var g errGroup
		for _, w := range ws {
			g.Go(func() error { return p.setup(ctx, w) })
		}
		if err := g.Wait(); err != nil {
			return Result{}, err
		}
	}
	var ops, bytes, errs atomic.Uint64
	var firstErr atomic.Pointer[string]
	cpu0, srv0 := clientCPU(), r.serverCPU()
	start := time.Now()
	dur := r.cfg.Duration
	if p.duration > 0 {
		dur = p.duration
	}
	deadline := start.Add(dur)
	tctx, cancel := context.WithDeadline(ctx, deadline.Add(5*time.Second)) // a stuck RPC cannot hold the run
	defer cancel()
	stopProgress := r.progress(p.name, start, &ops, &bytes)
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Go(func() {
			for time.Now().Before(deadline) && tctx.Err() == nil {
				t0 := time.Now()
				n, done, err := p.op(tctx, w)
				if done {
					return
				}
				if err != nil {
					if tctx.Err() != nil {
						return
					}
					errs.Add(1)
					s := err.Error()
					firstErr.CompareAndSwap(nil, &s)
					// A server that fails every call should not spin the
					// CPU it is measured on.
					time.Sleep(time.Millisecond)
					continue
				}
				w.hist.Record(time.Since(t0))
				ops.Add(1)
				bytes.Add(uint64(n))
			}
		})
	}
	wg.Wait()
	if p.finish != nil {
		if err := p.finish(ctx); err != nil {
			stopProgress()
			return Result{}, err
		}
	}
	elapsed := time.Since(start)
	stopProgress()
	var h Histogram
	for _, w := range ws {
		h.Merge(w.hist)
	}
	res := Result{Workload: p.name, Conns: r.cfg.Conns, Depth: workers / r.cfg.Conns, Ops: ops.Load(), Bytes: bytes.Load(),
		Errors: errs.Load(), Elapsed: elapsed, Mean: h.Mean(), P50: h.Quantile(0.5), P99: h.Quantile(0.99),
		P999: h.Quantile(0.999), Max: h.Max(), ClientCPU: clientCPU() - cpu0, ServerCPU: -1}
	if workers < r.cfg.Conns {
		res.Conns, res.Depth = workers, 1
	}
	if srv0 >= 0 {
		if srv1 := r.serverCPU(); srv1 >= 0 {
			res.ServerCPU = srv1 - srv0
		}
	}
	if s := firstErr.Load(); s != nil {
		res.FirstError = *s
	}
	secs := elapsed.Seconds()
	if p.entries {
		res.Entries, res.Bytes = res.Bytes, 0
		res.EntriesPerSec = float64(res.Entries) / secs
	}
	res.MBps = float64(res.Bytes) / 1e6 / secs
	res.OpsPerSec = float64(res.Ops) / secs
	return res, nil
}

func (r *runner) serverCPU() float64 {
	if r.cfg.ServerPID == 0 {
		return -1
	}
	s, err := ProcessCPU(r.cfg.ServerPID)
	if err != nil {
		return -1
	}
	return s
}

// seqFile opens the test file on every connection, making sure it is at
// least Size bytes long when fill is set (written sequentially, untimed).
func (r *runner) seqFiles(ctx context.Context, create bool) ([]file, error) {
	fs := make([]file, len(r.conns))
	for i, c := range r.conns {
		f, err := c.open(ctx, r.work, seqName, create)
		if err != nil {
			for _, g := range fs[:i] {
				g.close(ctx)
			}
			return nil, err
		}
		fs[i] = f
	}
	return fs, nil
}

func closeFiles(ctx context.Context, fs []file) {
	for _, f := range fs {
		f.close(ctx)
	}
}

// prepare makes sure the test file holds Size bytes.
func (r *runner) prepare(ctx context.Context) error {
	size, err := r.conns[0].stat(ctx, r.work, seqName)
	if err == nil && size >= uint64(r.cfg.Size) {
		return nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	r.logf("writing the %d MiB test file %s", r.cfg.Size>>20, seqName)
	fs, err := r.seqFiles(ctx, true)
	if err != nil {
		return err
	}
	defer closeFiles(ctx, fs)
	buf := pattern(seqBlock)
	var next atomic.Int64
	var g errGroup
	for i := range r.cfg.Conns * r.cfg.Depth {
		f := fs[i%len(fs)]
		g.Go(func() error {
			for {
				off := next.Add(seqBlock) - seqBlock
				if off >= r.cfg.Size {
					return nil
				}
				if err := f.write(ctx, buf, uint64(off)); err != nil {
					return err
				}
			}
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return fs[0].commit(ctx)
}

// seq is seqwrite and seqread: 1 MiB operations at increasing offsets,
// handed out to the workers in turn, until Size bytes (seqread: Size x
// ReadPasses, starting over at the beginning of the file after each
// pass) or the deadline.
// seqwrite starts from a removed file, so that it allocates as a new
// file's writes do, and ends with a COMMIT, inside the timing.
func (r *runner) seq(ctx context.Context, write bool) ([]Result, error) {
	name := SeqRead
	if write {
		name = SeqWrite
		if err := r.conns[0].remove(ctx, r.work, seqName); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	} else if err := r.prepare(ctx); err != nil {
		return nil, err
	}
	fs, err := r.seqFiles(ctx, write)
	if err != nil {
		return nil, err
	}
	defer closeFiles(ctx, fs)
	var next atomic.Int64
	limit := r.cfg.Size
	if !write {
		limit *= int64(r.cfg.ReadPasses)
	}
	wbuf := pattern(seqBlock)
	bufs := make([][]byte, r.cfg.Conns*r.cfg.Depth)
	p := phase{name: name,
		setup: func(_ context.Context, w *worker) error {
			if !write {
				bufs[w.id] = make([]byte, seqBlock)
			}
			return nil
		},
		op: func(ctx context.Context, w *worker) (int, bool, error) {
			off := next.Add(seqBlock) - seqBlock
			if off >= limit {
				return 0, true, nil
			}
			f := fs[w.conn]
			if write {
				return seqBlock, false, f.write(ctx, wbuf, uint64(off))
			}
			n, err := f.read(ctx, bufs[w.id], uint64(off%r.cfg.Size))
			return n, false, err
		},
	}
	if write {
		p.finish = func(ctx context.Context) error { return fs[0].commit(ctx) }
	}
	res, err := r.timed(ctx, p)
	return []Result{res}, err
}

// random is randread and randwrite: 4 KiB operations at random 4 KiB-
// aligned offsets within the test file.
func (r *runner) random(ctx context.Context, write bool) ([]Result, error) {
	if err := r.prepare(ctx); err != nil {
		return nil, err
	}
	fs, err := r.seqFiles(ctx, false)
	if err != nil {
		return nil, err
	}
	defer closeFiles(ctx, fs)
	name := RandRead
	if write {
		name = RandWrite
	}
	blocks := uint64(r.cfg.Size / randBlock)
	var count atomic.Int64
	wbuf := pattern(randBlock)
	bufs := make([][]byte, r.cfg.Conns*r.cfg.Depth)
	rngs := make([]*rand.Rand, len(bufs))
	p := phase{name: name,
		setup: func(_ context.Context, w *worker) error {
			bufs[w.id] = make([]byte, randBlock)
			rngs[w.id] = rand.New(rand.NewPCG(uint64(w.id), 0x9e3779b97f4a7c15))
			return nil
		},
		op: func(ctx context.Context, w *worker) (int, bool, error) {
			if count.Add(1) > r.cfg.MaxOps {
				return 0, true, nil
			}
			off := rngs[w.id].Uint64N(blocks) * randBlock
			f := fs[w.conn]
			if write {
				return randBlock, false, f.write(ctx, wbuf, off)
			}
			n, err := f.read(ctx, bufs[w.id], off)
			return n, false, err
		},
	}
	if write {
		p.finish = func(ctx context.Context) error { return fs[0].commit(ctx) }
	}
	res, err := r.timed(ctx, p)
	return []Result{res}, err
}

// getattr is GETATTR of the test file at queue depth 1 on one connection:
// the round-trip latency of the cheapest useful request.
func (r *runner) getattr(ctx context.Context) ([]Result, error) {
	d := r.work
	fh := d.fh
	c := r.conns[0]
	var count atomic.Int64
	res, err := r.timed(ctx, phase{name: Getattr, workers: 1,
		op: func(ctx context.Context, _ *worker) (int, bool, error) {
			if count.Add(1) > r.cfg.MaxOps {
				return 0, true, nil
			}
			return 0, false, c.getattr(ctx, fh)
		}})
	return []Result{res}, err
}

// pattern returns n bytes that are not all zero, so that a server or
// file system cannot take a shortcut on zero pages.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// errGroup runs functions and keeps the first error.
type errGroup struct {
	wg   sync.WaitGroup
	once sync.Once
	err  error
}

func (g *errGroup) Go(f func() error) {
	g.wg.Go(func() {
		if err := f(); err != nil {
			g.once.Do(func() { g.err = err })
		}
	})
}

func (g *errGroup) Wait() error {
	g.wg.Wait()
	return g.err
}
