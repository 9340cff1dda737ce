package stats

import (
	"cmp"
	"net/netip"
	"slices"
)

// Snapshot is a copy of a Stats at one moment (see the package doc for
// how exact it is). Lists hold only what has been counted.
type Snapshot struct {
	RPC      RPCTotals
	Programs []ProgramStats // by program, then version
	NFS      []VersionStats // by version, then minor version
	// Clients are the clients in the table, the busiest (most calls and
	// operations) first.
	Clients []ClientStats
	// Evicted holds the totals of the clients evicted from the table, and
	// EvictedClients how many were.
	Evicted        ClientCounts
	EvictedClients uint64
	Exports        []ExportStats // by ID
	// DroppedOps counts operations reported for a version not counted
	// (neither 3 nor 4.0-4.2).
	DroppedOps uint64
	// ClientOwnerCollisions counts NFSv4 client owner collision episodes
	// (collisions.go).
	ClientOwnerCollisions uint64
}

// RPCTotals are the server-wide RPC counts in nfsstat's terms. Only calls
// dispatched to a handler are seen: the RPC layer answers RPC_MISMATCH,
// authentication failures of the credential itself, PROG_UNAVAIL for
// programs not registered, PROG_MISMATCH and duplicate-cache replays
// before any handler runs, and does not report them.
type RPCTotals struct {
	Calls    uint64 // dispatched calls
	BadCalls uint64 // BadFmt + BadAuth + BadClnt
	BadFmt   uint64 // GARBAGE_ARGS and PROC_UNAVAIL answers
	BadAuth  uint64 // AUTH_ERROR answers from a handler
	BadClnt  uint64 // PROG_UNAVAIL answers from a handler
	InFlight int64  // calls running now
}

// ProgramStats are the counts of one RPC program version.
type ProgramStats struct {
	Prog, Vers uint32      // OtherProgram for the overflow pair
	Procs      []ProcStats // procedures called, by number
}

// ProcStats are the counts of one procedure.
type ProcStats struct {
	Proc    uint32 // OtherProc for the procedures beyond MaxProc
	Status  [NumRPCStatus]uint64
	Latency Histogram
}

// Calls returns the number of calls of the procedure.
func (p *ProcStats) Calls() uint64 { return p.Latency.Count() }

// VersionStats are the NFS operation counts of one protocol version.
type VersionStats struct {
	Vers, Minor uint32
	Ops         []OpStats // operations seen, by number
	// Errors counts the failed operations of the version by status, the
	// most frequent first (OtherStatus for statuses beyond an
	// operation's slots).
	Errors []StatusCount
}

// OpStats are the counts of one NFSv3 procedure or NFSv4 operation.
type OpStats struct {
	Op       uint32        // OtherOp for operation numbers beyond MaxOp
	Statuses []StatusCount // by status
	Latency  Histogram
}

// Count returns the number of times the operation was done.
func (o *OpStats) Count() uint64 { return o.Latency.Count() }

// StatusCount returns how many times the operation ended with status st.
func (o *OpStats) StatusCount(st int32) uint64 {
	for _, sc := range o.Statuses {
		if sc.Status == st {
			return sc.Count
		}
	}
	return 0
}

// Errors returns how many times the operation failed.
func (o *OpStats) Errors() uint64 { return o.Count() - o.StatusCount(0) }

// StatusCount is a count of one NFS status.
type StatusCount struct {
	Status int32
	Count  uint64
}

// Snapshot copies the counters. It allocates; call it from readers, not
// from the request path.
func (s *Stats) Snapshot() *Snapshot {
	snap := &Snapshot{DroppedOps: s.nfsDropped.Load(), ClientOwnerCollisions: s.ownerCollisions.Load()}
	snap.RPC.InFlight = s.inFlight.Load()
	progs := make([]*rpcProgram, 0, MaxPrograms+1)
	for i := range s.progs {
		if p := s.progs[i].Load(); p != nil {
			progs = append(progs, p)
		}
	}
	progs = append(progs, &s.progOverflow)
	for _, p := range progs {
		ps := ProgramStats{Prog: p.prog, Vers: p.vers}
		for n := range p.procs {
			pr := ProcStats{Proc: uint32(n), Latency: p.procs[n].hist.snapshot()}
			for st := range pr.Status {
				pr.Status[st] = p.procs[n].status[st].Load()
			}
			if pr.Calls() == 0 {
				continue
			}
			ps.Procs = append(ps.Procs, pr)
			// The status counters are read after the histogram, so
			// they may be ahead of it; totals count by status.
			for st, n := range pr.Status {
				snap.RPC.Calls += n
				switch RPCStatus(st) {
				case RPCGarbageArgs, RPCProcUnavail:
					snap.RPC.BadFmt += n
				case RPCAuthError:
					snap.RPC.BadAuth += n
				case RPCProgUnavail:
					snap.RPC.BadClnt += n
				}
			}
		}
		if len(ps.Procs) > 0 {
			snap.Programs = append(snap.Programs, ps)
		}
	}
	snap.RPC.BadCalls = snap.RPC.BadFmt + snap.RPC.BadAuth + snap.RPC.BadClnt
	slices.SortFunc(snap.Programs, func(a, b ProgramStats) int {
		return cmp.Or(cmp.Compare(a.Prog, b.Prog), cmp.Compare(a.Vers, b.Vers))
	})

	for vi := range s.nfs {
		vs := VersionStats{}
		vs.Vers, vs.Minor = versionOf(vi)
		errs := map[int32]uint64{}
		for n := range s.nfs[vi].ops {
			o := &s.nfs[vi].ops[n]
			os := OpStats{Op: uint32(n), Latency: o.hist.snapshot()}
			for i := range o.slots {
				if k := o.slots[i].key.Load(); k != 0 {
					if c := o.slots[i].n.Load(); c > 0 {
						os.Statuses = append(os.Statuses, StatusCount{Status: int32(uint32(k)), Count: c})
					}
				}
			}
			if c := o.otherStatus.Load(); c > 0 {
				os.Statuses = append(os.Statuses, StatusCount{Status: OtherStatus, Count: c})
			}
			if len(os.Statuses) == 0 && os.Count() == 0 {
				continue
			}
			slices.SortFunc(os.Statuses, func(a, b StatusCount) int { return cmp.Compare(a.Status, b.Status) })
			for _, sc := range os.Statuses {
				if sc.Status != 0 {
					errs[sc.Status] += sc.Count
				}
			}
			vs.Ops = append(vs.Ops, os)
		}
		if len(vs.Ops) == 0 {
			continue
		}
		for st, n := range errs {
			vs.Errors = append(vs.Errors, StatusCount{Status: st, Count: n})
		}
		slices.SortFunc(vs.Errors, func(a, b StatusCount) int {
			return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Status, b.Status))
		})
		snap.NFS = append(snap.NFS, vs)
	}

	snap.Clients, snap.Evicted, snap.EvictedClients = s.clients.snapshot()
	slices.SortFunc(snap.Clients, func(a, b ClientStats) int {
		return cmp.Or(cmp.Compare(b.Calls+b.Ops, a.Calls+a.Ops), a.Addr.Compare(b.Addr))
	})
	snap.Exports = s.exports.snapshot()
	slices.SortFunc(snap.Exports, func(a, b ExportStats) int { return cmp.Compare(a.ID, b.ID) })
	return snap
}

// Program returns the counts of (prog, vers), or nil.
func (s *Snapshot) Program(prog, vers uint32) *ProgramStats {
	for i := range s.Programs {
		if s.Programs[i].Prog == prog && s.Programs[i].Vers == vers {
			return &s.Programs[i]
		}
	}
	return nil
}

// Proc returns the counts of procedure proc, or nil if it was not called.
func (p *ProgramStats) Proc(proc uint32) *ProcStats {
	for i := range p.Procs {
		if p.Procs[i].Proc == proc {
			return &p.Procs[i]
		}
	}
	return nil
}

// Version returns the operation counts of NFS version vers.minor, or nil.
func (s *Snapshot) Version(vers, minor uint32) *VersionStats {
	for i := range s.NFS {
		if s.NFS[i].Vers == vers && s.NFS[i].Minor == minor {
			return &s.NFS[i]
		}
	}
	return nil
}

// Op returns the counts of operation op, or nil if it was not done.
func (v *VersionStats) Op(op uint32) *OpStats {
	for i := range v.Ops {
		if v.Ops[i].Op == op {
			return &v.Ops[i]
		}
	}
	return nil
}

// Client returns the counts of client a, or nil if it is not in the table.
func (s *Snapshot) Client(a netip.Addr) *ClientStats {
	for i := range s.Clients {
		if s.Clients[i].Addr == a {
			return &s.Clients[i]
		}
	}
	return nil
}

// Export returns the counts of export id, or nil.
func (s *Snapshot) Export(id uint32) *ExportStats {
	for i := range s.Exports {
		if s.Exports[i].ID == id {
			return &s.Exports[i]
		}
	}
	return nil
}
