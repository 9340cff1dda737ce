package wirecheck

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strconv"
	"strings"
)

// Report is what tshark made of a capture.
type Report struct {
	// File is the capture analysed.
	File string
	// Frames counts the frames to or from the analysed ports.
	Frames int
	// Calls and Replies count the RPC messages tshark dissected.
	Calls, Replies int
	// Procs counts the calls of Calls by program, version and
	// procedure: an account of what the clients asked, made by
	// Wireshark's dissectors and not by our own decoders.
	Procs map[Proc]int
	// Unmatched lists calls no reply answered and replies to no captured
	// call.
	Unmatched []Problem
	// Malformed lists frames tshark's dissectors failed on.
	Malformed []Problem
	// Errors lists other expert-info items of severity error.
	Errors []Problem
	// Dropped counts frames the kernel dropped during a live capture (as
	// tshark reported it); a nonzero count explains Unmatched and Errors
	// that are not the server's fault.
	Dropped int
}

// Proc names one procedure of one RPC program version (RFC 5531 §9: the
// prog, vers and proc of a call body).
type Proc struct {
	Prog, Vers, Proc uint32
}

// Problem is one finding of a Report.
type Problem struct {
	Frame  int    // frame number in the capture, from 1
	XID    uint32 // the RPC xid, when the problem is about one message
	Detail string
	// DstPort is the port the frame was sent to, for data tshark could
	// not frame (0 otherwise): with the server's port it tells the
	// client's bytes from the server's.
	DstPort int
}

func (p Problem) String() string {
	if p.XID != 0 {
		return fmt.Sprintf("frame %d xid 0x%08x: %s", p.Frame, p.XID, p.Detail)
	}
	return fmt.Sprintf("frame %d: %s", p.Frame, p.Detail)
}

// OK reports whether the capture has no problem at all (and lost no frame).
func (r Report) OK() bool {
	return len(r.Unmatched) == 0 && len(r.Malformed) == 0 && len(r.Errors) == 0 && r.Dropped == 0
}

// maxListed bounds the problems of each kind String lists.
const maxListed = 20

// String summarizes the report on one line and lists its problems, at most
// maxListed of each kind.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d frames, %d calls, %d replies; %d unmatched, %d malformed, %d errors",
		r.File, r.Frames, r.Calls, r.Replies, len(r.Unmatched), len(r.Malformed), len(r.Errors))
	if r.Dropped > 0 {
		fmt.Fprintf(&b, ", %d frames dropped by the kernel", r.Dropped)
	}
	for _, l := range []struct {
		name string
		ps   []Problem
	}{{"unmatched", r.Unmatched}, {"malformed", r.Malformed}, {"error", r.Errors}} {
		for i, p := range l.ps {
			if i == maxListed {
				fmt.Fprintf(&b, "\n  %s: ... %d more", l.name, len(l.ps)-maxListed)
				break
			}
			fmt.Fprintf(&b, "\n  %s: %s", l.name, p)
		}
	}
	return b.String()
}

// Err returns nil for a report that is OK, else an error carrying String.
func (r Report) Err() error {
	if r.OK() {
		return nil
	}
	return errors.New(r.String())
}

// Expert-info severities as tshark prints them (epan/proto.h PI_ERROR).
const severityError = 0x00800000

// fields are the columns Analyze asks tshark for, in this order.
var fields = []string{
	"frame.number",
	"tcp.stream",
	"udp.stream",
	"rpc.xid",
	"rpc.msgtyp",
	"_ws.malformed",
	"_ws.expert.severity",
	"_ws.expert.message",
	"rpc.continuation_data",
	"rpc.program",
	"rpc.programversion",
	"rpc.procedure",
	"tcp.dstport",
	"udp.dstport",
}

// The columns of fields that parseFields reads by position.
const (
	colFrame = iota
	colTCP
	colUDP
	colXID
	colMsgType
	colMalformed
	colSeverity
	colMessage
	colContinuation
	colProgram
	colVersion
	colProcedure
	colTCPDst
	colUDPDst
)

// aggregator separates the occurrences of one field: a control character
// no expert message contains, unlike tshark's default comma.
const aggregator = "\x1f"

// Analyze runs tshark over a capture file with ports decoded as ONC RPC on
// TCP and UDP and reports what it finds on those ports (see the package
// documentation).
func Analyze(ctx context.Context, file string, ports ...int) (Report, error) {
	rep := Report{File: file}
	if len(ports) == 0 {
		return rep, errors.New("wirecheck: Analyze needs a port")
	}
	bin, err := exec.LookPath("tshark")
	if err != nil {
		return rep, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	args := []string{"-r", file, "-n",
		// Loopback TCP does retransmit (a receiver's backlog overflows
		// during a large transfer), and a reply whose segments arrive
		// out of order is lost to tshark's reassembly unless told to
		// wait for them: it then reports the call unanswered.
		"-o", "tcp.reassemble_out_of_order:TRUE",
		"-T", "fields", "-E", "separator=/t",
		"-E", "occurrence=a", "-E", "aggregator=" + aggregator, "-E", "quote=n"}
	var only []string
	for _, p := range ports {
		args = append(args, "-d", fmt.Sprintf("tcp.port==%d,rpc", p), "-d", fmt.Sprintf("udp.port==%d,rpc", p))
		only = append(only, fmt.Sprintf("tcp.port==%d || udp.port==%d", p, p))
	}
	args = append(args, "-Y", strings.Join(only, " || "))
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return rep, fmt.Errorf("wirecheck: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return rep, fmt.Errorf("wirecheck: %w", err)
	}
	perr := parseFields(out, &rep)
	if perr != nil {
		io.Copy(io.Discard, out)
	}
	if err := cmd.Wait(); err != nil {
		return rep, fmt.Errorf("wirecheck: tshark -r %s: %w: %s", file, err, strings.TrimSpace(stderr.String()))
	}
	return rep, perr
}

// rpcKey names one RPC exchange: the xid on one TCP connection or UDP
// conversation (tshark's stream index).
type rpcKey struct {
	stream string
	xid    uint32
}

// parseFields reads tshark's field lines (in the order of fields) into
// rep and pairs calls with replies.
func parseFields(r io.Reader, rep *Report) error {
	calls := map[rpcKey]int{} // call → frame of its first sending
	rep.Procs = map[Proc]int{}
	replied := map[rpcKey]bool{}
	var replies []struct {
		key   rpcKey
		frame int
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		col := strings.Split(line, "\t")
		if len(col) != len(fields) {
			return fmt.Errorf("wirecheck: tshark line with %d fields, want %d: %q", len(col), len(fields), line)
		}
		frame, err := strconv.Atoi(col[colFrame])
		if err != nil {
			return fmt.Errorf("wirecheck: tshark line %q: %w", line, err)
		}
		rep.Frames++
		stream := "tcp/" + col[colTCP]
		if col[colTCP] == "" {
			stream = "udp/" + col[colUDP]
		}
		xids, types := split(col[colXID]), split(col[colMsgType])
		if len(xids) != len(types) {
			rep.Errors = append(rep.Errors, Problem{Frame: frame,
				Detail: fmt.Sprintf("%d RPC xids but %d message types", len(xids), len(types))})
		}
		procs, perr := frameProcs(col, len(xids))
		if perr != nil {
			rep.Errors = append(rep.Errors, Problem{Frame: frame, Detail: perr.Error()})
		}
		for i := range min(len(xids), len(types)) {
			xid, err := parseUint32(xids[i])
			if err != nil {
				return fmt.Errorf("wirecheck: frame %d: xid %q: %w", frame, xids[i], err)
			}
			k := rpcKey{stream, xid}
			switch types[i] {
			case "0":
				rep.Calls++
				if procs != nil {
					rep.Procs[procs[i]]++
				}
				if _, ok := calls[k]; !ok {
					calls[k] = frame
				}
			case "1":
				rep.Replies++
				replied[k] = true
				replies = append(replies, struct {
					key   rpcKey
					frame int
				}{k, frame})
			default:
				rep.Errors = append(rep.Errors, Problem{Frame: frame, XID: xid,
					Detail: "RPC message type " + types[i]})
			}
		}
		if col[colContinuation] != "" {
			// On a port decoded as RPC, bytes the dissector cannot
			// frame as a message: a reply whose call it never saw, a
			// call of a program it does not know, or garbage.
			dst, _ := strconv.Atoi(col[colTCPDst] + col[colUDPDst])
			rep.Unmatched = append(rep.Unmatched, Problem{Frame: frame, DstPort: dst,
				Detail: "RPC data tshark cannot dissect on " + stream + ": " + abbrev(col[colContinuation])})
		}
		msgs := split(col[colMessage])
		sevs := split(col[colSeverity])
		if col[colMalformed] != "" {
			rep.Malformed = append(rep.Malformed, Problem{Frame: frame, Detail: strings.Join(msgs, "; ")})
			continue
		}
		for i, s := range sevs {
			v, err := parseUint32(s)
			if err != nil {
				return fmt.Errorf("wirecheck: frame %d: severity %q: %w", frame, s, err)
			}
			if v >= severityError {
				m := ""
				if i < len(msgs) {
					m = msgs[i]
				}
				rep.Errors = append(rep.Errors, Problem{Frame: frame, Detail: m})
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("wirecheck: reading tshark: %w", err)
	}
	for k, f := range calls {
		if !replied[k] {
			rep.Unmatched = append(rep.Unmatched, Problem{Frame: f, XID: k.xid, Detail: "call without reply on " + k.stream})
		}
	}
	for _, r := range replies {
		if _, ok := calls[r.key]; !ok {
			rep.Unmatched = append(rep.Unmatched, Problem{Frame: r.frame, XID: r.key.xid, Detail: "reply to no captured call on " + r.key.stream})
		}
	}
	sort.Slice(rep.Unmatched, func(i, j int) bool { return rep.Unmatched[i].Frame < rep.Unmatched[j].Frame })
	return nil
}

// frameProcs returns the program, version and procedure of each of the n
// RPC messages of a frame's field line, or nil when the line has no
// such fields at all.
//
// Wireshark gives a call's prog and proc once per message (a reply
// carries them too, taken from its call), but the version twice for a
// program it has a dissector for: once in the RPC header, once more in
// the program's own tree. So the versions are one or two per message,
// or, in a frame that mixes kinds (a reply to an error, which has no
// program tree, beside a call), all the same value.
func frameProcs(col []string, n int) ([]Proc, error) {
	progs, vers, procs := split(col[colProgram]), split(col[colVersion]), split(col[colProcedure])
	if len(progs) == 0 && len(vers) == 0 && len(procs) == 0 {
		return nil, nil
	}
	if len(progs) != n || len(procs) != n {
		return nil, fmt.Errorf("%d RPC messages but %d programs and %d procedures", n, len(progs), len(procs))
	}
	verOf := func(i int) string { return vers[i] }
	switch {
	case len(vers) == n:
	case len(vers) == 2*n && pairsEqual(vers):
		verOf = func(i int) string { return vers[2*i] }
	case len(vers) > 0 && allEqual(vers):
		verOf = func(int) string { return vers[0] }
	default:
		return nil, fmt.Errorf("cannot tell the versions %v of %d RPC messages apart", vers, n)
	}
	out := make([]Proc, n)
	for i := range n {
		var err error
		if out[i].Prog, err = parseUint32(progs[i]); err != nil {
			return nil, fmt.Errorf("RPC program %q: %w", progs[i], err)
		}
		if out[i].Vers, err = parseUint32(verOf(i)); err != nil {
			return nil, fmt.Errorf("RPC version %q: %w", verOf(i), err)
		}
		if out[i].Proc, err = parseUint32(procs[i]); err != nil {
			return nil, fmt.Errorf("RPC procedure %q: %w", procs[i], err)
		}
	}
	return out, nil
}

// pairsEqual reports whether s is made of pairs of equal values.
func pairsEqual(s []string) bool {
	for i := 0; i+1 < len(s); i += 2 {
		if s[i] != s[i+1] {
			return false
		}
	}
	return len(s)%2 == 0
}

func allEqual(s []string) bool {
	for _, v := range s {
		if v != s[0] {
			return false
		}
	}
	return true
}

// abbrev shortens a hex dump for a Problem.
func abbrev(hex string) string {
	hex = strings.ReplaceAll(hex, aggregator, " ")
	if len(hex) > 48 {
		return hex[:48] + "..."
	}
	return hex
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, aggregator)
}

// parseUint32 reads a decimal or 0x-prefixed hexadecimal field value.
func parseUint32(s string) (uint32, error) {
	v, err := strconv.ParseUint(s, 0, 32)
	return uint32(v), err
}
