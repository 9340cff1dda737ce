package main

import (
	"fmt"
	"io"
	"io/fs"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gonfs/gonfs/client"
)

func lsCmd() *cobra.Command {
	var long bool
	cmd := &cobra.Command{
		Use:   "ls [-l] URL",
		Short: "List a directory on an NFS server",
		Long: `List the directory (or show the file) that URL names:
nfs://host[:port]/path?version=3|4.1|4.2 (uid=, gid=, nfsport=, mountport=
as in libnfs). -l shows mode, links, owner, group, size and time.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, u, err := dialURL(ctx, args[0])
			if err != nil {
				return err
			}
			defer c.Close()
			fi, err := c.LstatContext(ctx, u.Name())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if !fi.IsDir() {
				printEntry(out, fi, long)
				return nil
			}
			ents, err := c.ReadDirContext(ctx, u.Name())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(out, 0, 0, 1, ' ', tabwriter.AlignRight)
			for _, e := range ents {
				info, err := e.Info()
				if err != nil {
					return err
				}
				printEntry(tw, info.(*client.FileInfo), long)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVarP(&long, "long", "l", false, "long listing")
	return cmd
}

func printEntry(w io.Writer, fi *client.FileInfo, long bool) {
	if !long {
		fmt.Fprintln(w, fi.Name())
		return
	}
	a := fi.Attr()
	when := fi.ModTime().Format("Jan _2 15:04")
	if time.Since(fi.ModTime()) > 180*24*time.Hour {
		when = fi.ModTime().Format("Jan _2  2006")
	}
	name := fi.Name()
	if fi.Mode()&fs.ModeSymlink != 0 {
		name += " -> …"
	}
	fmt.Fprintf(w, "%s\t %d\t %d\t %d\t %d\t %s\t %s\n", fi.Mode(), a.Nlink, a.Uid, a.Gid, fi.Size(), when, name)
}
