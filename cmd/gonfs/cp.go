package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/gonfs/gonfs/client"
)

func cpCmd() *cobra.Command {
	var recursive bool
	cmd := &cobra.Command{
		Use:   "cp [-r] SRC DST",
		Short: "Copy files between the local machine and NFS servers",
		Long: `Copy SRC to DST; either may be a local path or an nfs:// URL (both URLs:
server to server; on one NFSv4.2 server the server copies by itself). If DST
is an existing directory, SRC is copied into it. -r copies directory trees.
A progress bar is drawn when standard error is a terminal.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCopy(cmd, args[0], args[1], recursive)
		},
	}
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "copy directories recursively")
	return cmd
}

func putCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "put LOCAL URL",
		Short: "Upload a local file to an NFS server",
		Long:  "Upload LOCAL to URL (into it, if URL names a directory). Same as cp LOCAL URL.",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if isURL(args[0]) || !isURL(args[1]) {
				return errors.New("put: want a local file and an nfs:// URL")
			}
			return runCopy(cmd, args[0], args[1], false)
		},
	}
}

// opener turns the arguments of a copy into places, sharing one client
// between URLs of the same server.
type opener struct {
	clients map[string]*client.Client
}

func (o *opener) place(ctx context.Context, s string) (place, error) {
	if !isURL(s) {
		return place{name: s}, nil
	}
	u, err := client.ParseURL(s)
	if err != nil {
		return place{}, err
	}
	// One client per server and options, whatever the path.
	root := *u
	root.Path = "/"
	key := root.String()
	c := o.clients[key]
	if c == nil {
		if c, err = client.DialURL(ctx, u, client.Options{}); err != nil {
			return place{}, err
		}
		o.clients[key] = c
	}
	return place{c: c, name: u.Name()}, nil
}

func (o *opener) close() {
	for _, c := range o.clients {
		c.Close()
	}
}

func runCopy(cmd *cobra.Command, srcArg, dstArg string, recursive bool) error {
	ctx := cmd.Context()
	o := &opener{clients: make(map[string]*client.Client)}
	defer o.close()
	src, err := o.place(ctx, srcArg)
	if err != nil {
		return err
	}
	dst, err := o.place(ctx, dstArg)
	if err != nil {
		return err
	}
	si, err := src.stat(ctx)
	if err != nil {
		return err
	}
	if si.IsDir() && !recursive {
		return fmt.Errorf("cp: %s is a directory (use -r)", srcArg)
	}
	if di, err := dst.stat(ctx); err == nil && di.IsDir() {
		dst = dst.join(src.base())
	}
	total, err := treeSize(ctx, src, si)
	if err != nil {
		return err
	}
	pr := newProgress(cmd.ErrOrStderr(), total)
	err = copyTree(ctx, src, dst, si, pr, cmd.ErrOrStderr())
	pr.finish()
	return err
}

// treeSize sums the sizes of the regular files under p, for the progress
// bar.
func treeSize(ctx context.Context, p place, fi fs.FileInfo) (int64, error) {
	if !fi.IsDir() {
		return fi.Size(), nil
	}
	ents, err := p.readDir(ctx)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, e := range ents {
		info, err := e.Info()
		if err != nil {
			return 0, err
		}
		n, err := treeSize(ctx, p.join(e.Name()), info)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

func copyTree(ctx context.Context, src, dst place, fi fs.FileInfo, pr *progress, errOut io.Writer) error {
	switch {
	case fi.Mode().IsRegular():
		pr.setLabel(src.base())
		if err := copyFile(ctx, src, dst, fi.Mode().Perm(), pr); err != nil {
			return fmt.Errorf("cp %s: %w", src, err)
		}
		return nil
	case fi.IsDir():
		if err := dst.mkdir(ctx, fi.Mode().Perm()|0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		ents, err := src.readDir(ctx)
		if err != nil {
			return err
		}
		for _, e := range ents {
			info, err := e.Info()
			if err != nil {
				return err
			}
			if err := copyTree(ctx, src.join(e.Name()), dst.join(e.Name()), info, pr, errOut); err != nil {
				return err
			}
		}
		return nil
	}
	fmt.Fprintf(errOut, "cp: skipping %s: %s\n", src, typeName(fi.Mode()))
	return nil
}
