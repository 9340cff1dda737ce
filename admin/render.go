package admin

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gonfs/gonfs/nfs4/collide"
)

// Render writes a reply's data for people: a table per command. cmd is
// the request's command; data is what Client.Do returned.
func Render(w io.Writer, cmd string, data json.RawMessage) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	var err error
	switch cmd {
	case CmdExports:
		err = render(data, tw, renderExports)
	case CmdClients:
		err = render(data, tw, renderClients)
	case CmdSessions:
		err = render(data, tw, renderSessions)
	case CmdOpens:
		err = render(data, tw, renderOpens)
	case CmdLocks:
		err = render(data, tw, renderLocks)
	case CmdDelegations:
		err = render(data, tw, renderDelegations)
	case CmdInflight:
		err = render(data, tw, renderInflight)
	case CmdStats:
		err = render(data, tw, func(w io.Writer, r *StatsReply) { io.WriteString(w, r.Text) })
	case CmdDebug:
		err = render(data, tw, renderDebug)
	case CmdRevoke:
		err = render(data, tw, func(w io.Writer, r *RevokeReply) {
			fmt.Fprintf(w, "revoked %s client %s", r.Proto, r.Client)
			if r.Proto == "NLM" {
				fmt.Fprintf(w, " (locks or shares on %d files)", r.Files)
			}
			fmt.Fprintln(w)
		})
	case CmdReload:
		err = render(data, tw, renderReload)
	case CmdCapture:
		err = render(data, tw, renderCapture)
	default:
		return fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		return err
	}
	return tw.Flush()
}

func render[T any](data json.RawMessage, w io.Writer, f func(io.Writer, *T)) error {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("admin: reply: %w", err)
	}
	f(w, &v)
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t).Round(time.Second)
	if d < 0 {
		return "in " + (-d).String()
	}
	return d.String() + " ago"
}

func renderExports(w io.Writer, r *ExportsReply) {
	fmt.Fprintln(w, "ID\tPATH\tDIR\tCLIENT\tOPTIONS")
	for _, e := range r.Exports {
		for i, rule := range e.Rules {
			if i == 0 {
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", e.ID, e.Path, e.Dir, rule.Client, rule.Options)
			} else {
				fmt.Fprintf(w, "\t\t\t%s\t%s\n", rule.Client, rule.Options)
			}
		}
	}
	if len(r.Pseudo) > 0 {
		fmt.Fprintf(w, "\nNFSv4 pseudo directories: %s\n", strings.Join(r.Pseudo, " "))
	}
}

func renderClients(w io.Writer, r *ClientsReply) {
	now := time.Now()
	n := &r.NFS4
	if !n.Available {
		fmt.Fprintln(w, "NFSv4: not served")
	} else {
		grace := "no"
		if n.InGrace {
			grace = "until " + n.GraceEnds.Format(time.TimeOnly)
		}
		fmt.Fprintf(w, "NFSv4 clients: %d (lease %v, grace %s)\n", len(n.Clients), n.Lease, grace)
		if len(n.Clients) > 0 {
			fmt.Fprintln(w, "ID\tOWNER\tADDRS\tPRINCIPAL\tLEASE\tRENEWED\tREBOOTS\tCALLBACK\tSESSIONS\tOPENS\tLOCKS")
			for _, c := range n.Clients {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%d\t%d\t%d\n", c.ID, c.Owner, dash(strings.Join(c.Addrs, ",")),
					dash(c.Principal), c.Lease, ago(now, c.LastRenew), c.Reboots, c.Callback, c.Sessions, c.Opens, c.Locks)
			}
			for _, c := range n.Clients {
				if len(c.Verifiers) < 2 {
					continue
				}
				// More than one incarnation: the history tells a reboot
				// from two machines sharing one owner string.
				fmt.Fprintf(w, "  verifier history of %s:\n", c.ID)
				for _, v := range c.Verifiers {
					fmt.Fprintf(w, "    %s\t%s\tfrom %s\tclient %s\n", v.Time.Format(time.DateTime), v.Verifier, v.Addr, v.ClientID)
				}
			}
		}
	}
	if len(r.Findings) > 0 {
		fmt.Fprintf(w, "\nClient-owner findings: %d\n", len(r.Findings))
		for _, f := range r.Findings {
			fmt.Fprintf(w, "  %s\n", f.Summary())
		}
		fmt.Fprintf(w, "  fix: %s\n", collide.Fix)
	}
	fmt.Fprintf(w, "\nNLM hosts (monitored): %d\n", len(r.NLM.Hosts))
	if len(r.NLM.Hosts) > 0 {
		fmt.Fprintln(w, "NAME\tADDRS")
		for _, h := range r.NLM.Hosts {
			fmt.Fprintf(w, "%s\t%s\n", h.Name, dash(strings.Join(h.Addrs, ",")))
		}
	}
	t := r.NLM.Table
	fmt.Fprintf(w, "lock table (NLM and NFSv4): %d clients, %d owners, %d locks on %d files, %d waiting, %d shares\n",
		t.Clients, t.Owners, t.Locks, t.Files, t.Waiters, t.Shares)
}

func renderSessions(w io.Writer, r *SessionsReply) {
	if !r.Available {
		fmt.Fprintln(w, "NFSv4: not served")
		return
	}
	fmt.Fprintln(w, "CLIENT\tSESSION\tCREATED\tSLOTS\tBUSY\tMAXREQ\tMAXRESP\tMAXOPS\tBACKSLOTS\tCONNS\tBACKCONNS")
	now := time.Now()
	for _, s := range r.Sessions {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", s.Client, s.ID, ago(now, s.Created), s.Slots, s.Busy,
			s.MaxReq, s.MaxResp, s.MaxOps, s.BackSlots, s.Conns, s.BackConns)
	}
}

func fileString(f FileRef) string {
	exp := f.Export
	if exp == "" {
		exp = "export#" + strconv.FormatUint(uint64(f.ExportID), 10) + "(gone)"
	}
	return exp + ":" + f.Handle
}

func renderOpens(w io.Writer, r *OpensReply) {
	if !r.Available {
		fmt.Fprintln(w, "NFSv4: not served")
		return
	}
	fmt.Fprintln(w, "CLIENT\tSTATEID\tOWNER\tACCESS\tDENY\tFILE")
	for _, o := range r.Opens {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", o.Client, o.Stateid, o.Owner, o.Access, o.Deny, fileString(o.File))
	}
}

func renderLocks(w io.Writer, r *LocksReply) {
	fmt.Fprintln(w, "PROTO\tCLIENT\tOWNER\tTYPE\tRANGE\tFILE")
	for _, l := range r.Locks {
		end := "EOF"
		if l.End != nil {
			end = strconv.FormatUint(*l.End, 10)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d-%s\t%s\n", l.Proto, l.Client, l.Owner, l.Type, l.Start, end, fileString(l.File))
	}
	t := r.Table
	fmt.Fprintf(w, "\nlock table: %d locks on %d files, %d waiting, %d shares\n", t.Locks, t.Files, t.Waiters, t.Shares)
	if !r.NLMListed {
		fmt.Fprintln(w, "NLM locks: not listed (the lock table cannot enumerate them); the counts include them")
	}
}

func renderDelegations(w io.Writer, r *DelegationsReply) {
	if !r.Available {
		fmt.Fprintln(w, "delegations: not available (NFSv4 not served)")
		return
	}
	fmt.Fprintln(w, "CLIENT\tSTATEID\tTYPE\tSTATE\tFILE")
	for _, d := range r.Delegations {
		st := "held"
		switch {
		case d.Revoked:
			st = "revoked"
		case d.Recalled:
			st = "recalled " + ago(time.Now(), d.RecallAt)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", d.Client, d.Stateid, d.Type, st, fileString(d.File))
	}
	if len(r.Counters) > 0 {
		fmt.Fprintln(w, "\nEXPORT\tGRANTS\tRECALLS\tRETURNS\tREVOCATIONS")
		for _, c := range r.Counters {
			fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\n", dash(c.Export), c.Grants, c.Recalls, c.Returns, c.Revocations)
		}
	}
}

func renderInflight(w io.Writer, r *InflightReply) {
	fmt.Fprintln(w, "ELAPSED\tPROTO\tCLIENT\tXID\tCALL")
	for _, f := range r.Requests {
		call := f.Proc
		if len(f.Ops) > 0 {
			call += " " + strings.Join(f.Ops, ",")
		}
		fmt.Fprintf(w, "%v\t%s\t%s\t%#08x\t%s\n", f.Elapsed.Round(time.Millisecond), f.Transport, f.Client, f.XID, call)
	}
}

func renderDebug(w io.Writer, r *DebugReply) {
	on := strings.Join(r.On, " ")
	if on == "" {
		on = "none"
	}
	fmt.Fprintf(w, "debug on: %s\nsubsystems: %s\n", on, strings.Join(r.Subsystems, " "))
}

func renderReload(w io.Writer, r *ReloadReply) {
	fmt.Fprintf(w, "reloaded %s\n", r.File)
	for _, l := range []struct {
		what  string
		paths []string
	}{{"kept", r.Kept}, {"added", r.Added}, {"removed", r.Removed}} {
		if len(l.paths) > 0 {
			fmt.Fprintf(w, "  %s:\t%s\n", l.what, strings.Join(l.paths, " "))
		}
	}
	for _, m := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", m)
	}
}

func renderCapture(w io.Writer, r *CaptureReply) {
	if r.Status == nil {
		fmt.Fprintln(w, "no capture running")
		return
	}
	s := r.Status
	verb := "stopped"
	if r.Running {
		verb = "capturing to"
	}
	fmt.Fprintf(w, "%s %s: %d records, %d frames, %d bytes (bound %d)", verb, s.Path, s.Records, s.Frames, s.Bytes, s.MaxSize)
	if s.Wraps > 0 {
		fmt.Fprintf(w, ", restarted %d times", s.Wraps)
	}
	if s.Dropped > 0 {
		fmt.Fprintf(w, ", %d dropped", s.Dropped)
	}
	fmt.Fprintln(w)
	if s.Err != "" {
		fmt.Fprintf(w, "error: %s\n", s.Err)
	}
}
