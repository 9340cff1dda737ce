package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/gonfs/gonfs/client"
	"github.com/gonfs/gonfs/fuse"
)

func mountCmd() *cobra.Command {
	var (
		debug      bool
		noCache    bool
		allowOther bool
	)
	cmd := &cobra.Command{
		Use:   "mount URL DIR",
		Short: "Mount an NFS directory with FUSE, through gonfs's own client",
		Long: `Mount the directory of URL (nfs://host[:port]/path?version=3|4.1|4.2) at DIR
with FUSE and serve it in the foreground until DIR is unmounted
(fusermount3 -u DIR) or the command gets SIGINT or SIGTERM, which unmount
it. Needs /dev/fuse and, for a user other than root, fusermount3 (Debian's
fuse3 package).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			u, err := client.ParseURL(args[0])
			if err != nil {
				return err
			}
			opts := client.Options{NoCache: noCache}
			if debug {
				opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
			}
			c, err := client.DialURL(ctx, u, opts)
			if err != nil {
				return err
			}
			defer c.Close()
			srv, err := fuse.Mount(args[1], c, fuse.Options{Debug: debug, FsName: u.String(), AllowOther: allowOther, Dir: u.Name()})
			if err != nil {
				return fmt.Errorf("mount %s: %w", args[1], err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "gonfs: %s mounted at %s (NFSv%s); SIGINT or SIGTERM unmounts\n", u, args[1], c.Version())
			done := make(chan struct{})
			go func() {
				srv.Wait()
				close(done)
			}()
			select {
			case <-done:
				return nil // unmounted from outside
			case <-ctx.Done():
			}
			if err := srv.Unmount(); err != nil {
				return fmt.Errorf("unmount %s: %w", args[1], err)
			}
			<-done
			return nil
		},
	}
	cmd.Flags().BoolVar(&debug, "debug", false, "log every FUSE request and the client's recovery events")
	cmd.Flags().BoolVar(&noCache, "no-cache", false, "turn off the client's attribute, name and data caches and delegations")
	cmd.Flags().BoolVar(&allowOther, "allow-other", false, "let other users use the mount (FUSE allow_other)")
	return cmd
}
