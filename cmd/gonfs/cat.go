package main

import (
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/gonfs/gonfs/client"
)

func catCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cat URL...",
		Short: "Write files on an NFS server to standard output",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			buf := make([]byte, copyChunk)
			return eachURL(ctx, args, func(c *client.Client, u *client.URL) error {
				f, err := c.OpenFile(ctx, u.Name(), os.O_RDONLY, 0)
				if err != nil {
					return err
				}
				defer f.Close()
				// Hide File's other methods so the large buffer is used.
				_, err = io.CopyBuffer(cmd.OutOrStdout(), struct{ io.Reader }{f}, buf)
				return err
			})
		},
	}
}
