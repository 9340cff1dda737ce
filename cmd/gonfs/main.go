// Command gonfs is the NFS server, its client tools and its admin view in
// one binary. See `gonfs help`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := &cobra.Command{
		Use:           "gonfs",
		Short:         "An NFS server, client and diagnosis tool",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCmd())
	root.AddCommand(traceCmd())
	root.AddCommand(ctlCmd())
	root.AddCommand(lsCmd(), catCmd(), cpCmd(), putCmd(), rmCmd(), mkdirCmd(), statCmd())
	root.AddCommand(benchCmd())
	root.AddCommand(mountCmd())
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "gonfs:", err)
		os.Exit(1)
	}
}
