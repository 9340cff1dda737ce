package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/gonfs/gonfs/trace"
)

func traceCmd() *cobra.Command {
	var (
		jsonOut, summaryOnly bool
		slow                 time.Duration
		ports                []uint
		storm                int
	)
	cmd := &cobra.Command{
		Use:   "trace [flags] FILE",
		Short: "Decode and diagnose the NFS traffic in a pcap or pcapng capture",
		Long: `Decode the ONC RPC traffic in FILE (pcap or pcapng, as written by tcpdump,
tshark or dumpcap; "-" reads standard input): portmap, MOUNT, NFSv3, NLM,
NSM, NFSv4.0-4.2 COMPOUNDs op by op and callbacks, one line per call and
reply, then FINDINGS: clients sharing one NFSv4 client owner,
retransmissions, unanswered calls, slow operations, error hot spots,
grace-period and stale-handle storms, and damage to the capture.

RPC is found on port 2049 and 111 and on any other port where a call
header of a known program appears. Capture with e.g.

  tcpdump -i any -s 0 -w nfs.pcap port 2049`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var in io.Reader = os.Stdin
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			opts := trace.Options{Slow: slow, Storm: storm, SummaryOnly: summaryOnly && !jsonOut}
			if len(ports) > 0 {
				opts.Ports = []uint16{2049, 111}
				for _, p := range ports {
					if p == 0 || p > 65535 {
						return fmt.Errorf("--port %d: not a port", p)
					}
					opts.Ports = append(opts.Ports, uint16(p))
				}
			}
			rep, err := trace.Analyze(in, opts)
			if err != nil {
				return err
			}
			if jsonOut {
				if summaryOnly {
					rep.Messages = nil
				}
				return rep.WriteJSON(cmd.OutOrStdout())
			}
			return rep.WriteText(cmd.OutOrStdout(), summaryOnly)
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, "write the report as JSON")
	cmd.Flags().BoolVar(&summaryOnly, "summary-only", false, "skip the per-call lines")
	cmd.Flags().DurationVar(&slow, "slow", time.Second, "reply latency that counts as slow")
	cmd.Flags().UintSliceVar(&ports, "port", nil, "more ports to decode as RPC from their first byte (2049 and 111 always are)")
	cmd.Flags().IntVar(&storm, "storm", 10, "replies with one status that make a hot spot or storm")
	return cmd
}
