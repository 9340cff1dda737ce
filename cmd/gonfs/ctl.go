package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gonfs/gonfs/admin"
	"github.com/gonfs/gonfs/capture"
	"github.com/gonfs/gonfs/server"
)

// ctlCmd is `gonfs ctl`: the admin view of a running server over its
// admin socket (package admin).
func ctlCmd() *cobra.Command {
	var (
		stateDir, socket string
		jsonOut          bool
	)
	cmd := &cobra.Command{
		Use:   "ctl [--state DIR | --socket PATH] COMMAND",
		Short: "Inspect and control a running server",
		Long: `Talk to a running "gonfs serve" over its admin socket (admin.sock in its
state directory; only the user the server runs as may connect). Every
command prints a table, or with --json the server's reply as JSON.`,
	}
	f := cmd.PersistentFlags()
	f.StringVar(&stateDir, "state", server.DefaultStateDir(), "the server's state directory")
	f.StringVar(&socket, "socket", "", "the admin socket (default: admin.sock in --state)")
	f.BoolVar(&jsonOut, "json", false, "print the reply as JSON")
	cmd.MarkFlagsMutuallyExclusive("state", "socket")

	run := func(c *cobra.Command, req admin.Request) error {
		path := socket
		if path == "" {
			path = admin.SocketPath(stateDir)
		}
		ctx, cancel := context.WithTimeout(c.Context(), 30*time.Second)
		defer cancel()
		return ctl(ctx, c.OutOrStdout(), admin.Client{Socket: path}, req, jsonOut)
	}
	simple := func(name, short string) *cobra.Command {
		return &cobra.Command{Use: name, Short: short, Args: cobra.NoArgs,
			RunE: func(c *cobra.Command, _ []string) error { return run(c, admin.Request{Cmd: name}) }}
	}
	cmd.AddCommand(
		simple(admin.CmdExports, "The exports table: paths, directories, client rules and options, export ids"),
		simple(admin.CmdClients, "NFSv4 clients (owner, addresses, lease, callback, verifier history) and NLM hosts"),
		simple(admin.CmdSessions, "NFSv4.1 sessions"),
		simple(admin.CmdOpens, "NFSv4 opens"),
		simple(admin.CmdLocks, "Byte-range locks of NLM and NFSv4 clients"),
		simple(admin.CmdDelegations, "NFSv4 delegations"),
		simple(admin.CmdInflight, "Requests running now"),
		simple(admin.CmdStats, "Call and operation statistics, nfsstat style"),
		simple(admin.CmdReload, "Re-read the exports file without dropping clients' state"),
		&cobra.Command{
			Use:   "debug [SUBSYS|+SUBSYS|-SUBSYS|all|none ...]",
			Short: "Show or change the debug log switches",
			Long: `Without arguments, show which subsystems log at debug level. Otherwise
turn each named subsystem on ("nfs4" or "+nfs4") or off ("-rpc"); "all"
and "none" name every subsystem.`,
			// "-rpc" is a switch, not a flag: the flags are picked out by
			// hand.
			DisableFlagParsing: true,
			RunE: func(c *cobra.Command, args []string) error {
				var switches []string
				for i := 0; i < len(args); i++ {
					a := args[i]
					name, val, hasVal := strings.Cut(a, "=")
					switch name {
					case "-h", "--help":
						return c.Help()
					case "--json":
						jsonOut = true
						continue
					case "--state", "--socket":
						if !hasVal {
							if i+1 == len(args) {
								return fmt.Errorf("%s needs a value", name)
							}
							i++
							val = args[i]
						}
						if name == "--state" {
							stateDir = val
						} else {
							socket = val
						}
						continue
					}
					switches = append(switches, a)
				}
				return run(c, admin.Request{Cmd: admin.CmdDebug, Args: switches})
			},
		},
		revokeCmd(run),
		captureCmd(run),
	)
	return cmd
}

func revokeCmd(run func(*cobra.Command, admin.Request) error) *cobra.Command {
	var nlm bool
	c := &cobra.Command{
		Use:   "revoke CLIENTID | revoke --nlm NAME",
		Short: "Drop all state of an NFSv4 client, or all locks of an NLM host",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return run(c, admin.Request{Cmd: admin.CmdRevoke, Args: args, NLM: nlm})
		},
	}
	c.Flags().BoolVar(&nlm, "nlm", false, "NAME is an NLM host (as \"clients\" lists it)")
	return c
}

func captureCmd(run func(*cobra.Command, admin.Request) error) *cobra.Command {
	var (
		port    uint16
		maxSize int64
	)
	c := &cobra.Command{
		Use:   "capture [start FILE | stop]",
		Short: "Make the server write its own RPC traffic to a pcapng file",
		Long: `capture start FILE makes the server write every RPC record it reads and
writes to FILE (pcapng, readable by Wireshark and "gonfs trace"); capture
stop ends it. Without arguments, the running capture's progress.`,
		Args: func(c *cobra.Command, args []string) error {
			switch {
			case len(args) == 0, len(args) == 1 && args[0] == "stop", len(args) == 2 && args[0] == "start":
				return nil
			}
			return fmt.Errorf("want: capture start FILE | capture stop")
		},
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 2 {
				abs, err := filepath.Abs(args[1])
				if err != nil {
					return err
				}
				args = []string{"start", abs}
			}
			return run(c, admin.Request{Cmd: admin.CmdCapture, Args: args, Port: port, MaxSize: maxSize})
		},
	}
	c.Flags().Uint16Var(&port, "port", 0, "write this as the server's port in the capture (e.g. 2049 for Wireshark's NFS dissector)")
	c.Flags().Int64Var(&maxSize, "max-size", capture.DefaultMaxSize, "bound on the file; when reached it starts again")
	return c
}

// ctl sends req and prints the reply: a table, or indented JSON.
func ctl(ctx context.Context, out io.Writer, c admin.Client, req admin.Request, jsonOut bool) error {
	data, err := c.Do(ctx, req)
	if err != nil {
		return err
	}
	if jsonOut {
		var b bytes.Buffer
		if err := json.Indent(&b, data, "", "  "); err != nil {
			return err
		}
		b.WriteByte('\n')
		_, err := out.Write(b.Bytes())
		return err
	}
	return admin.Render(out, req.Cmd, data)
}
