package bench

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// WriteText writes rep as a table: one row per result.
func WriteText(w io.Writer, rep *Report) error {
	fmt.Fprintf(w, "gonfs bench %s  (NFSv%s, %d conns x depth %d, size %s, duration %s)\n",
		rep.URL, rep.Version, rep.Conns, rep.Depth, FormatSize(rep.Size), rep.Duration)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tqd\tops\terr\tops/s\tMB/s\tp50\tp99\tp99.9\tmax\tsrv cpu\tcli cpu\t")
	for _, r := range rep.Results {
		mb := fmt.Sprintf("%.1f", r.MBps)
		if r.Bytes == 0 {
			mb = "-"
		}
		if r.Entries > 0 {
			mb = fmt.Sprintf("%.0f ent/s", r.EntriesPerSec)
		}
		srv := "-"
		if r.ServerCPU >= 0 {
			srv = fmt.Sprintf("%.2fs", r.ServerCPU)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%.2fs\t\n", r.Workload, r.Conns*r.Depth, r.Ops, r.Errors,
			r.OpsPerSec, mb, fmtDur(r.P50), fmtDur(r.P99), fmtDur(r.P999), fmtDur(r.Max), srv, r.ClientCPU)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range rep.Results {
		if r.FirstError != "" {
			fmt.Fprintf(w, "%s: %d errors, the first: %s\n", r.Workload, r.Errors, r.FirstError)
		}
	}
	return nil
}

// fmtDur prints a latency with three significant digits.
func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%.1fµs", float64(d)/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

// FormatSize prints n bytes in binary units.
func FormatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dG", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dM", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dK", n>>10)
	}
	return fmt.Sprintf("%d", n)
}

// ParseSize parses a size such as 4096, 64K, 512M, 1G or 1GiB (binary
// units).
func ParseSize(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "IB"), "B")
	mult := int64(1)
	if t != "" {
		switch t[len(t)-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			t = t[:len(t)-1]
		}
	}
	var n int64
	if _, err := fmt.Sscanf(t, "%d", &n); err != nil || n <= 0 || fmt.Sprint(n) != t {
		return 0, fmt.Errorf("bad size %q (want e.g. 4096, 64K, 512M, 1G)", s)
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q too large", s)
	}
	return n * mult, nil
}

// progress prints a progress line for phase name every half second to
// Config.Progress until the returned function is called, which erases it.
func (r *runner) progress(name string, start time.Time, ops, bytes *atomic.Uint64) func() {
	w := r.cfg.Progress
	if w == nil {
		return func() {}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-t.C:
				secs := time.Since(start).Seconds()
				fmt.Fprintf(w, "\r\033[K%s %s: %.1fs  %d ops  %.0f ops/s  %.1f MB/s", r.u.String(), name, secs,
					ops.Load(), float64(ops.Load())/secs, float64(bytes.Load())/1e6/secs)
			}
		}
	})
	return func() {
		close(stop)
		wg.Wait()
	}
}
