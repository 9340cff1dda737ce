package trace

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteJSON writes the report as one indented JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for a person: one line per message (unless
// summaryOnly), then the summary, per-operation statistics, errors,
// findings and notes.
func (r *Report) WriteText(w io.Writer, summaryOnly bool) error {
	bw := bufio.NewWriter(w)
	if !summaryOnly {
		for i := range r.Messages {
			bw.WriteString(r.Messages[i].Line())
			bw.WriteByte('\n')
		}
		if len(r.Messages) > 0 {
			bw.WriteByte('\n')
		}
	}
	fmt.Fprintf(bw, "SUMMARY\n")
	fmt.Fprintf(bw, "  %d frames", r.Frames)
	if r.Frames > 0 {
		fmt.Fprintf(bw, " over %s, from %s", fmtDur(r.End.Sub(r.Start)), r.Start.UTC().Format(time.RFC3339Nano))
	}
	fmt.Fprintf(bw, "\n  %d calls, %d replies, %d unanswered, %d retransmissions, %d replies without their call\n",
		r.Calls, r.Replies, r.Unanswered, r.Retransmissions, r.Orphans)
	if len(r.Procs) > 0 {
		fmt.Fprintf(bw, "\nOPERATIONS\n  %-28s %7s %7s %7s %5s %10s %10s %10s\n", "", "calls", "replies", "errors", "slow", "p50", "p99", "max")
		for _, p := range r.Procs {
			fmt.Fprintf(bw, "  %-28s %7d %7d %7d %5d %10s %10s %10s\n", p.Name, p.Calls, p.Replies, p.Errors, p.Slow,
				fmtDur(p.P50), fmtDur(p.P99), fmtDur(p.Max))
		}
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(bw, "\nERRORS\n")
		for _, e := range r.Errors {
			fmt.Fprintf(bw, "  %6d× %-28s %-26s frames %s\n", e.Count, e.Op, e.Status, joinFrames(e.Frames, e.Count))
		}
	}
	fmt.Fprintf(bw, "\nFINDINGS\n")
	if len(r.Findings) == 0 {
		fmt.Fprintf(bw, "  no problems found\n")
	}
	for _, f := range r.Findings {
		fmt.Fprintf(bw, "  [%s] %s: %s\n", f.Severity, f.Kind, f.Summary)
		for _, e := range f.Evidence {
			fmt.Fprintf(bw, "      - %s\n", e)
		}
		fmt.Fprintf(bw, "      fix: %s\n", f.Fix)
	}
	if len(r.Notes) > 0 {
		fmt.Fprintf(bw, "\nNOTES\n")
		for _, n := range r.Notes {
			fmt.Fprintf(bw, "  %s\n", n)
		}
	}
	return bw.Flush()
}

// Line renders m like Wireshark's Info column, prefixed by frame number,
// time, transport and addresses.
func (m *Message) Line() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%6d %11.6f %s %s → %s xid %08x ", m.Frame, m.Time.Seconds(), strings.ToUpper(m.Proto), m.Src, m.Dst, m.XID)
	if m.Program == "?" {
		b.WriteString("reply")
	} else {
		fmt.Fprintf(&b, "%s v%s %s", m.Program, m.Version, m.Proc)
		if m.Reply {
			b.WriteString(" reply")
		} else {
			b.WriteString(" call")
		}
	}
	if m.Status != "" {
		b.WriteString(" " + m.Status)
	}
	for _, o := range m.Ops {
		b.WriteString(" " + o.Name)
		if o.Detail != "" {
			b.WriteString("(" + o.Detail + ")")
		}
		if o.Status != "" && o.Status != "NFS4_OK" {
			b.WriteString("=" + o.Status)
		}
	}
	if m.Detail != "" {
		b.WriteString(" " + m.Detail)
	}
	if m.Reply && m.CallFrame != 0 {
		fmt.Fprintf(&b, " (call %d, %s)", m.CallFrame, fmtDur(m.Latency))
	}
	if m.Retransmit {
		b.WriteString(" [retransmission]")
	}
	if m.Problem != "" {
		b.WriteString(" [" + m.Problem + "]")
	}
	return b.String()
}
