package main

import (
	"github.com/spf13/cobra"

	"github.com/gonfs/gonfs/client"
)

func rmCmd() *cobra.Command {
	var recursive bool
	cmd := &cobra.Command{
		Use:   "rm [-r] URL...",
		Short: "Remove files (with -r, directory trees) on an NFS server",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return eachURL(ctx, args, func(c *client.Client, u *client.URL) error {
				if recursive {
					return c.RemoveAll(ctx, u.Name())
				}
				return c.Remove(ctx, u.Name())
			})
		},
	}
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "remove directories and their contents")
	return cmd
}
