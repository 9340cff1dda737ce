package main

import (
	"fmt"
	"io/fs"
	"time"

	"github.com/spf13/cobra"

	"github.com/gonfs/gonfs/client"
)

func statCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "stat URL...",
		Short: "Show the attributes of files on an NFS server",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			return eachURL(ctx, args, func(c *client.Client, u *client.URL) error {
				fi, err := c.LstatContext(ctx, u.Name())
				if err != nil {
					return err
				}
				var target string
				if fi.Mode()&fs.ModeSymlink != 0 {
					target, _ = c.Readlink(ctx, u.Name())
				}
				a := fi.Attr()
				fmt.Fprintf(out, "  File: %s", u.Path)
				if target != "" {
					fmt.Fprintf(out, " -> %s", target)
				}
				fmt.Fprintf(out, "\n  Size: %-12d Used: %-12d %s\n", fi.Size(), a.Used, typeName(fi.Mode()))
				fmt.Fprintf(out, "  Mode: %s (%04o)  Uid: %d  Gid: %d  Links: %d  Fileid: %d  (NFSv%s)\n",
					fi.Mode(), client.UnixMode(fi.Mode()), a.Uid, a.Gid, a.Nlink, a.Fileid, c.Version())
				for _, t := range []struct {
					name string
					t    time.Time
				}{{"Access", a.Atime}, {"Modify", fi.ModTime()}, {"Change", a.Ctime}} {
					fmt.Fprintf(out, "%6s: %s\n", t.name, t.t.Format("2006-01-02 15:04:05.000000000 -0700"))
				}
				return nil
			})
		},
	}
}

func typeName(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "regular file"
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return "unknown"
}
