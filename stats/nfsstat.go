package stats

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

// FormatNFSStat prints snap as `nfsstat -s` prints the server's counts, so
// that operators and their scripts read it as they are used to:
//
//   - "Server rpc stats:" with calls, badcalls, badfmt, badauth, badclnt
//     (see RPCTotals for what each counts here);
//   - "Server nfs v3:" with every NFSv3 procedure, "Server nfs v4:" with
//     NULL and COMPOUND, and "Server nfs v4 operations:" with every NFSv4
//     operation of all minor versions together, each as nfsstat lays them
//     out: six 13-column names a row, under them the count left-aligned in
//     eight columns and the integer percentage of the table's total;
//
// and then what nfsstat does not have: per version, a table of the
// operations done with their errors and latencies (mean, and the upper
// bounds of the 50th, 90th and 99th percentile buckets), and the errors by
// status. Sections with nothing counted are left out, except the RPC one.
func FormatNFSStat(w io.Writer, snap *Snapshot) error {
	bw := bufio.NewWriter(w)
	r := &snap.RPC
	fmt.Fprintf(bw, "Server rpc stats:\ncalls      badcalls   badfmt     badauth    badclnt\n")
	for i, n := range []uint64{r.Calls, r.BadCalls, r.BadFmt, r.BadAuth, r.BadClnt} {
		if i > 0 {
			bw.WriteString("   ")
		}
		fmt.Fprintf(bw, "%-8d", n)
	}
	bw.WriteString("\n\n")

	if v3 := snap.Version(3, 0); v3 != nil {
		names, counts := make([]string, 0, 22), make([]uint64, 0, 22)
		for p := uint32(nfs3xdr.NFSPROC3_NULL); p <= nfs3xdr.NFSPROC3_COMMIT; p++ {
			names = append(names, OpName(3, p))
			counts = append(counts, opCount(v3, p))
		}
		callTable(bw, "Server nfs v3:", names, counts)
	}
	if p := snap.Program(nfs3xdr.NFS_PROGRAM, 4); p != nil {
		var names []string
		var counts []uint64
		for proc := uint32(nfs4xdr.NFSPROC4_NULL); proc <= nfs4xdr.NFSPROC4_COMPOUND; proc++ {
			names = append(names, ProcName(nfs3xdr.NFS_PROGRAM, 4, proc))
			var n uint64
			if ps := p.Proc(proc); ps != nil {
				n = ps.Calls()
			}
			counts = append(counts, n)
		}
		callTable(bw, "Server nfs v4:", names, counts)
	}
	if v4 := v4Ops(snap); v4 != nil {
		var names []string
		var counts []uint64
		for op := uint32(nfs4xdr.OP_ACCESS); op <= uint32(nfs4xdr.OP_REMOVEXATTR); op++ {
			names = append(names, shortOpName(OpName(4, op)))
			counts = append(counts, v4[op])
			v4[op] = 0
		}
		var other uint64 // ops 0-2, OP_ILLEGAL and anything past the table
		for _, n := range v4 {
			other += n
		}
		names = append(names, "illegal")
		counts = append(counts, other)
		callTable(bw, "Server nfs v4 operations:", names, counts)
	}

	for i := range snap.NFS {
		latencyTable(bw, &snap.NFS[i])
	}
	return bw.Flush()
}

// opCount returns how many times op was done in v.
func opCount(v *VersionStats, op uint32) uint64 {
	if o := v.Op(op); o != nil {
		return o.Count()
	}
	return 0
}

// v4Ops sums the NFSv4 operation counts of all minor versions by
// operation number (OtherOp last), or returns nil when there are none.
func v4Ops(snap *Snapshot) []uint64 {
	var counts []uint64
	for _, v := range snap.NFS {
		if v.Vers != 4 {
			continue
		}
		if counts == nil {
			counts = make([]uint64, MaxOp+1)
		}
		for _, o := range v.Ops {
			counts[o.Op] += o.Count()
		}
	}
	return counts
}

// callTable prints one nfsstat call table: rows of six names, each over
// its count and percentage of the table's total.
func callTable(w *bufio.Writer, title string, names []string, counts []uint64) {
	var total uint64
	for _, n := range counts {
		total += n
	}
	if total == 0 {
		total = 1 // nfsstat's guard: all percentages 0
	}
	w.WriteString(title + "\n")
	for i := 0; i < len(names); i += 6 {
		end := min(i+6, len(names))
		for _, name := range names[i:end] {
			fmt.Fprintf(w, "%-13s", name)
		}
		w.WriteString("\n")
		for _, n := range counts[i:end] {
			fmt.Fprintf(w, "%-8d%3d%% ", n, n*100/total)
		}
		w.WriteString("\n")
	}
	w.WriteString("\n")
}

// shortOpName keeps an NFSv4 operation name within nfsstat's 13-column
// cells (12 characters and a space).
func shortOpName(name string) string {
	if s, ok := shortOpNames[name]; ok {
		return s
	}
	return name
}

var shortOpNames = map[string]string{
	"setclientid_confirm":  "setclid_conf",
	"release_lockowner":    "rel_lockown",
	"backchannel_ctl":      "bc_ctl",
	"bind_conn_to_session": "bind_conn",
	"create_session":       "create_ses",
	"destroy_session":      "destroy_ses",
	"get_dir_delegation":   "getdirdeleg",
	"getdeviceinfo":        "getdevinfo",
	"getdevicelist":        "getdevlist",
	"secinfo_no_name":      "secinfo_nona",
	"want_delegation":      "want_deleg",
	"destroy_clientid":     "destroy_clid",
	"reclaim_complete":     "reclaim_comp",
	"offload_cancel":       "offload_canc",
	"offload_status":       "offload_stat",
	"open_downgrade":       "open_dgrd",
}

// latencyTable prints the operations of one version that were done, with
// errors and latencies, and the version's errors by status.
func latencyTable(w *bufio.Writer, v *VersionStats) {
	ver := VersionName(v.Vers, v.Minor)
	fmt.Fprintf(w, "Server nfs v%s latency:\n", ver)
	fmt.Fprintf(w, "%-21s%-10s%-10s%-10s%-10s%-10s%s\n", "op", "calls", "errors", "mean", "p50", "p90", "p99")
	for i := range v.Ops {
		o := &v.Ops[i]
		fmt.Fprintf(w, "%-21s%-10d%-10d%-10s%-10s%-10s%s\n", OpName(v.Vers, o.Op), o.Count(), o.Errors(),
			shortDuration(o.Latency.Mean()), shortDuration(o.Latency.Quantile(0.5)),
			shortDuration(o.Latency.Quantile(0.9)), shortDuration(o.Latency.Quantile(0.99)))
	}
	w.WriteString("\n")
	if len(v.Errors) == 0 {
		return
	}
	fmt.Fprintf(w, "Server nfs v%s errors:\n", ver)
	for _, e := range v.Errors {
		fmt.Fprintf(w, "%-28s%d\n", StatusName(v.Vers, e.Status), e.Count)
	}
	w.WriteString("\n")
}

// shortDuration prints d in at most about four digits, in ASCII so that
// columns stay aligned in any terminal: "850ns", "12us", "3.4ms", "1.25s".
func shortDuration(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return strconv.FormatInt(int64(d), 10) + "ns"
	case d < time.Millisecond:
		return strconv.FormatInt(int64(d/time.Microsecond), 10) + "us"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + "ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
}
