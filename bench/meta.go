package bench

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync/atomic"
)

// meta creates Files empty files in one directory, stats each, lists the
// directory, and removes them: four timed phases of a quarter of the
// duration each, reported as meta-create, meta-stat, meta-readdir and
// meta-remove. All workers share the directory, as a parallel build or
// mdtest in shared-directory mode does.
func (r *runner) meta(ctx context.Context) ([]Result, error) {
	d, err := r.conns[0].sub(ctx, r.work, metaName)
	if err != nil {
		return nil, err
	}
	quarter := max(r.cfg.Duration/4, 1)
	n := int64(min(int64(r.cfg.Files), r.cfg.MaxOps))
	name := func(i int64) string { return fmt.Sprintf("f%07d", i) }
	var out []Result

	// create: hands out names 0..n-1; made counts the names handed out,
	// so that stat and remove cover every name create tried.
	var made atomic.Int64
	res, err := r.timed(ctx, phase{name: "meta-create", duration: quarter,
		op: func(ctx context.Context, w *worker) (int, bool, error) {
			i := made.Add(1) - 1
			if i >= n {
				return 0, true, nil
			}
			return 0, false, w.c.touch(ctx, d, name(i))
		}})
	if err != nil {
		return nil, err
	}
	out = append(out, res)
	created := min(made.Load(), n)

	var next atomic.Int64
	res, err = r.timed(ctx, phase{name: "meta-stat", duration: quarter,
		op: func(ctx context.Context, w *worker) (int, bool, error) {
			i := next.Add(1) - 1
			if i >= created {
				return 0, true, nil
			}
			_, err := w.c.stat(ctx, d, name(i))
			return 0, false, err
		}})
	if err != nil {
		return nil, err
	}
	out = append(out, res)

	var listings atomic.Int64
	res, err = r.timed(ctx, phase{name: "meta-readdir", duration: quarter, workers: 1, entries: true,
		op: func(ctx context.Context, w *worker) (int, bool, error) {
			if listings.Add(1) > maxListings {
				return 0, true, nil
			}
			n, err := w.c.list(ctx, d)
			return n, false, err
		}})
	if err != nil {
		return nil, err
	}
	out = append(out, res)

	next.Store(0)
	res, err = r.timed(ctx, phase{name: "meta-remove", duration: quarter,
		op: func(ctx context.Context, w *worker) (int, bool, error) {
			i := next.Add(1) - 1
			if i >= created {
				return 0, true, nil
			}
			return 0, false, w.c.remove(ctx, d, name(i))
		}})
	if err != nil {
		return nil, err
	}
	out = append(out, res)
	// What the time bound left behind goes now, untimed, so that the
	// next run starts from an empty directory.
	if rest := next.Load(); rest < created {
		r.logf("removing the %d files meta-remove had no time for", created-rest)
		for i := max(rest-int64(r.cfg.Conns*r.cfg.Depth), 0); i < created; i++ {
			if err := r.conns[0].remove(ctx, d, name(i)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return out, err
			}
		}
	}
	return out, nil
}

// lsl lists a directory of ListEntries files with their attributes, as
// `ls -l` does, from one connection, repeatedly until the duration or
// maxListings. The directory is made once (untimed) and kept, so that
// later runs and other protocol versions list the same one.
func (r *runner) lsl(ctx context.Context) ([]Result, error) {
	d, err := r.conns[0].sub(ctx, r.work, lslName)
	if err != nil {
		return nil, err
	}
	have, err := r.conns[0].list(ctx, d)
	if err != nil {
		return nil, err
	}
	if have < r.cfg.ListEntries {
		r.logf("creating %d files in %s (once)", r.cfg.ListEntries-have, lslName)
		var next atomic.Int64
		var g errGroup
		for i := range r.cfg.Conns * r.cfg.Depth {
			c := r.conns[i%len(r.conns)]
			g.Go(func() error {
				for {
					j := next.Add(1) - 1
					if j >= int64(r.cfg.ListEntries) || ctx.Err() != nil {
						return ctx.Err()
					}
					if err := c.touch(ctx, d, fmt.Sprintf("e%07d", j)); err != nil {
						return err
					}
				}
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
	}
	var listings atomic.Int64
	res, err := r.timed(ctx, phase{name: LsL, workers: 1, entries: true,
		op: func(ctx context.Context, w *worker) (int, bool, error) {
			if listings.Add(1) > maxListings {
				return 0, true, nil
			}
			n, err := w.c.list(ctx, d)
			return n, false, err
		}})
	return []Result{res}, err
}
