package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/gonfs/gonfs/exports"
	"github.com/gonfs/gonfs/metrics"
	"github.com/gonfs/gonfs/server"
	"github.com/gonfs/gonfs/sunrpc"
)

func serveCmd() *cobra.Command {
	var (
		listen, stateDir, exportsFile, portmap, logLevel, nsmName string
		noDeleg                                                   bool
		grace, lease                                              time.Duration
	)
	var metricsAddr string // --metrics
	var keyByAddr bool     // --client-key-by-address
	var cpuProfile string  // --cpuprofile
	var sendfile string    // --sendfile
	cmd := &cobra.Command{
		Use:   "serve [flags] [DIR]",
		Short: "Serve DIR (or the exports of --exports) over NFS",
		Long: `Serve DIR over NFSv3 (with MOUNT, NLM and NSM) and NFSv4.0/4.1/4.2 on one port.

With only DIR, DIR is exported read-write as "/" to loopback clients
(127.0.0.0/8 and ::1), unprivileged source ports allowed, root squashed.
With --exports FILE, the exports(5) file is served instead.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
			var table *exports.Table
			switch {
			case exportsFile != "" && len(args) == 1:
				return fmt.Errorf("give DIR or --exports, not both")
			case exportsFile != "":
				t, err := exports.ParseFile(exportsFile)
				if err != nil {
					return err
				}
				for _, w := range t.Warnings {
					log.Warn(w)
				}
				table = t
			case len(args) == 1:
				dir, err := filepath.Abs(args[0])
				if err != nil {
					return err
				}
				if st, err := os.Stat(dir); err != nil || !st.IsDir() {
					return fmt.Errorf("%s is not a directory", args[0])
				}
				table = exports.Default(dir)
			default:
				return fmt.Errorf("nothing to serve: give DIR or --exports FILE")
			}
			sendfileMode, ok := map[string]sunrpc.SendfileMode{
				"remote": sunrpc.SendfileRemote, "always": sunrpc.SendfileAlways, "never": sunrpc.SendfileNever,
			}[sendfile]
			if !ok {
				return fmt.Errorf("--sendfile: %q: want remote, always or never", sendfile)
			}
			srv, err := server.New(server.Options{
				Exports: table, ExportsFile: exportsFile, Listen: listen, StateDir: stateDir, Portmap: portmap,
				Logger: log, GracePeriod: grace, Lease: lease, NoDelegations: noDeleg, NSMName: nsmName, Sendfile: sendfileMode,
				ClientKeyByAddress: keyByAddr,
			})
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if err := srv.Start(ctx); err != nil {
				return err
			}
			if cpuProfile != "" { // written when the server stops (SIGINT/SIGTERM)
				pf, err := os.Create(cpuProfile)
				if err == nil {
					err = pprof.StartCPUProfile(pf)
				}
				if err != nil {
					srv.Shutdown(context.Background())
					return fmt.Errorf("--cpuprofile: %w", err)
				}
				defer pf.Close()
				defer pprof.StopCPUProfile()
			}
			printBanner(cmd, srv)
			if metricsAddr != "" {
				l, err := serveMetrics(ctx, metricsAddr, srv)
				if err != nil {
					srv.Shutdown(context.Background())
					return fmt.Errorf("--metrics: %w", err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "gonfs: Prometheus metrics on http://%s/metrics\n", l.Addr())
			}
			<-ctx.Done()
			log.Info("shutting down")
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return srv.Shutdown(sctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", server.DefaultListen, "address for NFS, MOUNT, NLM and NSM over TCP and UDP")
	f.StringVar(&stateDir, "state", server.DefaultStateDir(), "directory for state that survives restarts")
	f.StringVar(&exportsFile, "exports", "", "exports(5) file to serve instead of DIR")
	f.StringVar(&portmap, "portmap", "", `portmapper address (default: port 111 of --listen's host); "off" to disable; "rpcbind[:ADDR]" to register with the system rpcbind instead`)
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&nsmName, "nsm-name", "", "name to give clients in SM_NOTIFY after a restart (default: the address they reached)")
	f.StringVar(&metricsAddr, "metrics", "", "serve Prometheus metrics over HTTP on this address (e.g. 127.0.0.1:9662); off by default")
	f.DurationVar(&grace, "grace", 90*time.Second, "lock grace period after a restart")
	f.DurationVar(&lease, "lease", 90*time.Second, "NFSv4 lease time")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile (go tool pprof) of the server's whole run to this file")
	f.StringVar(&sendfile, "sendfile", "remote", `send large READ data straight from the file with sendfile(2): "remote" (clients not on loopback, where it measured slower), "always" or "never"`)
	f.BoolVar(&noDeleg, "no-delegations", false, "grant no NFSv4 delegations (exports can also say nodelegations)")
	f.BoolVar(&keyByAddr, "client-key-by-address", false, "treat NFSv4 clients that send one owner string from different addresses "+
		"as different clients (against RFC 8881; for AUTH_SYS networks whose clients share hostnames; breaks reclaim for clients "+
		"that change address, multi-homed clients and clients behind NAT)")
	return cmd
}

func printBanner(cmd *cobra.Command, srv *server.Server) {
	addr := srv.Addr()
	out := cmd.OutOrStdout()
	for _, e := range srv.Namespace().Exports() {
		fmt.Fprintf(out, "gonfs: serving %s as %s:%s (NFSv3, NFSv4.0, NFSv4.1, NFSv4.2, MOUNT, NLM and NSM on port %d)\n",
			e.Config.Dir, addr.Addr(), e.Config.Path, addr.Port())
	}
	pm, why := srv.PortmapAddr()
	lock := ""
	if pm.IsValid() {
		fmt.Fprintf(out, "gonfs: portmapper on %s\n", pm)
	} else {
		fmt.Fprintf(out, "gonfs: no portmapper (%s): clients must name the ports and mount with nolock\n", why)
		lock = ",nolock"
	}
	path := "/"
	if ex := srv.Namespace().Exports(); len(ex) > 0 {
		path = ex[0].Config.Path
	}
	fmt.Fprintf(out, "mount it with:\n  mount -t nfs -o vers=4.2,port=%d %s:%s /mnt\n", addr.Port(), addr.Addr(), path)
	fmt.Fprintf(out, "  mount -t nfs -o vers=3,proto=tcp,port=%d,mountport=%d,mountproto=tcp%s %s:%s /mnt\n",
		addr.Port(), addr.Port(), lock, addr.Addr(), path)
}

// serveMetrics starts the Prometheus listener of --metrics: the server's
// statistics, with exports labelled by path, beside the Go runtime's and
// the process's own metrics. It stops when ctx ends.
func serveMetrics(ctx context.Context, addr string, srv *server.Server) (*metrics.Listener, error) {
	paths := map[uint32]string{}
	for _, e := range srv.Namespace().Exports() {
		paths[e.ID] = e.Config.Path
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		metrics.NewCollector(srv.Stats(), metrics.Options{ExportName: func(id uint32) string {
			if p, ok := paths[id]; ok {
				return p
			}
			return strconv.FormatUint(uint64(id), 10)
		}, Collisions: srv.Collisions().Findings}),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return metrics.Serve(ctx, addr, reg)
}
