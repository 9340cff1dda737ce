package trace

import (
	"io"
	"net/netip"
	"time"
)

// Options tune an analysis. The zero value works.
type Options struct {
	// Slow is the reply latency above which a call counts as slow
	// (default 1 s).
	Slow time.Duration
	// Ports are TCP and UDP ports whose traffic is always parsed as RPC
	// even before a call header has been seen on them (default: 2049 and
	// 111). RPC on other ports is found by structure.
	Ports []uint16
	// Storm is how many replies with one status make an error hot spot,
	// a grace-period storm or a stale-handle storm (default 10).
	Storm int
	// SummaryOnly drops the per-message lines (Report.Messages stays
	// empty), which keeps memory flat on large captures.
	SummaryOnly bool
}

func (o *Options) defaults() {
	if o.Slow <= 0 {
		o.Slow = time.Second
	}
	if o.Ports == nil {
		o.Ports = []uint16{2049, 111}
	}
	if o.Storm <= 0 {
		o.Storm = 10
	}
}

// Report is the result of Analyze.
type Report struct {
	// Frames is the number of frames read; Start and End are the
	// timestamps of the first and last.
	Frames     int       `json:"frames"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Calls      int       `json:"calls"`
	Replies    int       `json:"replies"`
	Unanswered int       `json:"unanswered"`
	// Orphans are replies whose call is not in the capture.
	Orphans int `json:"orphan_replies"`
	// Retransmissions counts calls sent again with the same xid.
	Retransmissions int `json:"retransmissions"`
	// Messages are the calls and replies in the order their last frame
	// was captured (empty with Options.SummaryOnly).
	Messages []Message `json:"messages,omitempty"`
	// Procs are per-operation statistics, sorted by name.
	Procs []ProcStats `json:"procedures"`
	// Errors count replies by operation and non-OK status.
	Errors   []ErrorCount `json:"errors"`
	Findings []Finding    `json:"findings"`
	// Notes say what could not be read: a truncated capture, frames cut
	// by the snapshot length, records that did not decode.
	Notes []string `json:"notes,omitempty"`
}

// Message is one RPC call or reply.
type Message struct {
	Frame int `json:"frame"`
	// Time is the offset from the first frame of the capture.
	Time  time.Duration  `json:"time_ns"`
	Proto string         `json:"proto"` // "tcp" or "udp"
	Src   netip.AddrPort `json:"src"`
	Dst   netip.AddrPort `json:"dst"`
	XID   uint32         `json:"xid"`
	Reply bool           `json:"reply"`
	// Program is "NFS", "MOUNT", "NLM", "NSM", "PORTMAP", "NFS_CB" or
	// "PROG <n>"; Version is "3", "4.1", ...
	Program string `json:"program"`
	Version string `json:"version"`
	Proc    string `json:"proc"`
	// Ops are the operations of an NFSv4 COMPOUND or CB_COMPOUND; in a
	// reply they carry their status.
	Ops []Op `json:"ops,omitempty"`
	// Detail is a short description of the arguments (a name, an owner).
	Detail string `json:"detail,omitempty"`
	// Status is the RPC-level or procedure status of a reply.
	Status string `json:"status,omitempty"`
	// CallFrame and Latency (from the first transmission of the call) are
	// set on replies whose call was captured.
	CallFrame int           `json:"call_frame,omitempty"`
	Latency   time.Duration `json:"latency_ns,omitempty"`
	// Retransmit marks a call whose xid was already sent by this client.
	Retransmit bool `json:"retransmit,omitempty"`
	// Problem says what in the message could not be decoded.
	Problem string `json:"problem,omitempty"`
}

// Op is one operation of an NFSv4 COMPOUND.
type Op struct {
	Name   string `json:"name"`
	Status string `json:"status,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// ProcStats are the latency statistics of one operation.
type ProcStats struct {
	Name    string        `json:"name"` // "NFSv3 GETATTR", "NFSv4 OPEN"
	Calls   int           `json:"calls"`
	Replies int           `json:"replies"`
	Errors  int           `json:"errors"`
	Slow    int           `json:"slow"`
	P50     time.Duration `json:"p50_ns"`
	P99     time.Duration `json:"p99_ns"`
	Max     time.Duration `json:"max_ns"`
}

// ErrorCount is how often one operation failed with one status.
type ErrorCount struct {
	Op     string `json:"op"`
	Status string `json:"status"`
	Count  int    `json:"count"`
	// Frames are the first few replies with this status.
	Frames []int `json:"frames"`
}

// Severity of a Finding.
const (
	SevError   = "error"
	SevWarning = "warning"
	SevInfo    = "info"
)

// Finding is one diagnosed problem.
type Finding struct {
	Kind     string   `json:"kind"`
	Severity string   `json:"severity"`
	Summary  string   `json:"summary"`
	Evidence []string `json:"evidence"`
	Frames   []int    `json:"frames,omitempty"`
	Fix      string   `json:"fix"`
}

// Analyze reads a pcap or pcapng capture from r and reports the RPC
// traffic in it. The error is non-nil only when r does not hold a capture
// at all; damage later in the file ends the analysis with a note.
func Analyze(r io.Reader, opts Options) (*Report, error) {
	opts.defaults()
	a := newAnalyzer(opts)
	if err := a.readCapture(r); err != nil {
		return nil, err
	}
	a.finish()
	return a.rep, nil
}
