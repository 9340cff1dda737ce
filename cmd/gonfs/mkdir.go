package main

import (
	"github.com/spf13/cobra"

	"github.com/gonfs/gonfs/client"
)

func mkdirCmd() *cobra.Command {
	var parents bool
	cmd := &cobra.Command{
		Use:   "mkdir [-p] URL...",
		Short: "Create directories on an NFS server",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return eachURL(ctx, args, func(c *client.Client, u *client.URL) error {
				if parents {
					return c.MkdirAll(ctx, u.Name(), 0o755)
				}
				return c.Mkdir(ctx, u.Name(), 0o755)
			})
		},
	}
	cmd.Flags().BoolVarP(&parents, "parents", "p", false, "create missing parents; no error if the directory exists")
	return cmd
}
