package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/gonfs/gonfs/bench"
)

func benchCmd() *cobra.Command {
	var (
		workloads, size string
		cfg             bench.Config
		asJSON          bool
	)
	cmd := &cobra.Command{
		Use:   "bench URL",
		Short: "Measure an NFS server on this machine: throughput, IOPS, metadata rates, latency",
		Long: `Load an NFS server over loopback and report MB/s, ops/s and p50/p99/p99.9 latency.

The URL names the server, the protocol version (required: version=3, 4.1 or 4.2)
and a work directory, created if missing, e.g.
  gonfs bench 'nfs://127.0.0.1:2050/bench?version=4.1&uid=1000&gid=1000'
Workloads: seqwrite and seqread (1 MiB, --conns x --depth outstanding),
randread and randwrite (4 KiB at random offsets), meta (create, stat, readdir
and remove of --files files), lsl (ls -l of a --entries directory, made once and
kept), getattr (queue depth 1). Each stops at --duration or its count bound.
Calls carry AUTH_SYS with the URL's uid and gid (default 65534).
Targets must be loopback addresses unless --allow-remote.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.URL = args[0]
			if workloads != "" {
				for _, w := range strings.Split(workloads, ",") {
					if w = strings.TrimSpace(w); w != "" {
						cfg.Workloads = append(cfg.Workloads, w)
					}
				}
			}
			n, err := bench.ParseSize(size)
			if err != nil {
				return fmt.Errorf("--size: %w", err)
			}
			cfg.Size = n
			if isTerminal(os.Stderr) {
				cfg.Progress = os.Stderr
			}
			cfg.Log = cmd.ErrOrStderr()
			rep, err := bench.Run(cmd.Context(), cfg)
			if rep != nil && len(rep.Results) > 0 || err == nil {
				if asJSON {
					enc := json.NewEncoder(cmd.OutOrStdout())
					enc.SetIndent("", "  ")
					if jerr := enc.Encode(rep); jerr != nil {
						return jerr
					}
				} else if terr := bench.WriteText(cmd.OutOrStdout(), rep); terr != nil {
					return terr
				}
			}
			return err
		},
	}
	d := bench.Defaults
	f := cmd.Flags()
	f.StringVar(&workloads, "workload", strings.Join(bench.Workloads, ","), "comma-separated workloads to run")
	f.IntVar(&cfg.Conns, "conns", d.Conns, "TCP connections (each its own NFSv4 client and session)")
	f.IntVar(&cfg.Depth, "depth", d.Depth, "requests outstanding per connection")
	f.StringVar(&size, "size", bench.FormatSize(d.Size), "test file size, and the bytes a sequential workload moves at most")
	f.DurationVar(&cfg.Duration, "duration", d.Duration, "time bound of each workload")
	f.IntVar(&cfg.ReadPasses, "read-passes", 1, "times seqread reads the test file, start to end")
	f.Int64Var(&cfg.MaxOps, "max-ops", d.MaxOps, "operation bound of randread, randwrite, getattr and each meta phase")
	f.IntVar(&cfg.Files, "files", d.Files, "files meta creates, stats and removes")
	f.IntVar(&cfg.ListEntries, "entries", d.ListEntries, "entries of the lsl directory")
	f.IntVar(&cfg.ServerPID, "server-pid", 0, "PID of the server process on this machine, to report its CPU time")
	f.BoolVar(&cfg.AllowRemote, "allow-remote", false, "allow a target that is not a loopback address")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// isTerminal reports whether f is a terminal, where the progress line
// goes.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
