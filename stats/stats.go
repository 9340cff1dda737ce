package stats

import (
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/gonfs/gonfs/sunrpc"
)

// Limits of the fixed tables. Numbers beyond them are counted together
// rather than dropped, so totals stay exact.
const (
	// MaxProc bounds the procedure numbers counted one by one; higher
	// ones (only ever PROC_UNAVAIL calls: no program served here has
	// that many) are counted as OtherProc.
	MaxProc   = 64
	OtherProc = MaxProc
	// MaxOp bounds the NFSv4 operation numbers counted one by one (RFC
	// 8881 and RFC 7862 end at 71, RFC 8276 at 75); others, OP_ILLEGAL
	// among them, are counted as OtherOp.
	MaxOp   = 80
	OtherOp = MaxOp
	// MaxPrograms bounds the (program, version) pairs counted one by one;
	// further ones are counted as the pair (OtherProgram, OtherProgram).
	MaxPrograms  = 32
	OtherProgram = ^uint32(0)
	// NoExport is the export of an operation that has none (a stale or
	// garbled handle, a pseudo-filesystem node): not counted per export.
	NoExport = ^uint32(0)
	// OtherExport is the export ID under which exports beyond
	// maxExports are counted together.
	OtherExport = ^uint32(0) - 1
	// OtherStatus stands for the NFS statuses of an operation beyond the
	// first statusSlots distinct ones it returned.
	OtherStatus int32 = -1
)

const (
	statusSlots = 16  // distinct NFS statuses counted per operation
	maxExports  = 256 // exports counted one by one (a power of two)
)

// Recorder is what a protocol package calls for each NFS operation it
// completes. *Stats implements it; the nfs3 and nfs4 packages declare the
// same method in an interface of their own so that they need not import
// this package.
//
// ver and minor are the protocol version (3 with minor 0, or 4 with minor
// 0, 1 or 2); op the NFSv3 procedure number or the NFSv4 operation number;
// status the nfsstat3 or nfsstat4 of the result (0 is OK); d the time the
// operation took; client the caller's address; export the ID of the
// export the operation's file belongs to, or NoExport. Op must not block
// and must not allocate.
type Recorder interface {
	Op(ver, minor uint32, op uint32, status int32, d time.Duration, client netip.Addr, export uint32)
}

// Options configure a Stats. The zero value works.
type Options struct {
	// MaxClients bounds the clients counted one by one (default 1024);
	// the least recently seen one is evicted to make room.
	MaxClients int
}

// Stats counts RPC calls and NFS operations. Create it with New.
type Stats struct {
	progs        [MaxPrograms]atomic.Pointer[rpcProgram]
	progOverflow rpcProgram
	inFlight     atomic.Int64

	nfs        [numVersions]opTable
	nfsDropped atomic.Uint64 // Op calls of a version not served

	clients clientTable
	exports exportTable

	ownerCollisions atomic.Uint64 // collisions.go
}

var (
	_ sunrpc.Observer = (*Stats)(nil)
	_ Recorder        = (*Stats)(nil)
)

// New returns an empty Stats.
func New(opts Options) *Stats {
	if opts.MaxClients <= 0 {
		opts.MaxClients = 1024
	}
	s := &Stats{}
	s.progOverflow.prog, s.progOverflow.vers = OtherProgram, OtherProgram
	s.clients.init(opts.MaxClients)
	return s
}

// ---- RPC level ----

// RPCStatus classifies the Status a handler returned.
type RPCStatus uint8

// The RPC status classes, in accept_stat order (RFC 5531 §9) and then the
// server's own.
const (
	RPCSuccess     RPCStatus = iota // SUCCESS
	RPCProgUnavail                  // PROG_UNAVAIL (a handler hiding itself)
	RPCProcUnavail                  // PROC_UNAVAIL
	RPCGarbageArgs                  // GARBAGE_ARGS
	RPCSystemErr                    // SYSTEM_ERR, a recovered panic, or an invalid Status
	RPCAuthError                    // MSG_DENIED AUTH_ERROR from the handler (e.g. AUTH_TOOWEAK)
	RPCNoReply                      // no reply sent
	NumRPCStatus
)

var rpcStatusNames = [NumRPCStatus]string{
	"SUCCESS", "PROG_UNAVAIL", "PROC_UNAVAIL", "GARBAGE_ARGS", "SYSTEM_ERR", "AUTH_ERROR", "NO_REPLY",
}

// String returns the class name used in reports and metric labels.
func (s RPCStatus) String() string {
	if s < NumRPCStatus {
		return rpcStatusNames[s]
	}
	return "UNKNOWN"
}

func rpcStatusOf(st sunrpc.Status) RPCStatus {
	switch st {
	case sunrpc.Success:
		return RPCSuccess
	case sunrpc.ProgUnavail:
		return RPCProgUnavail
	case sunrpc.ProcUnavail:
		return RPCProcUnavail
	case sunrpc.GarbageArgs:
		return RPCGarbageArgs
	case sunrpc.NoReply:
		return RPCNoReply
	}
	// AuthError sets the same high word for every auth_stat.
	if st>>32 == sunrpc.AuthError(0)>>32 {
		return RPCAuthError
	}
	return RPCSystemErr // SystemErr, and what the server answers an invalid Status with
}

type rpcProgram struct {
	prog, vers uint32
	procs      [MaxProc + 1]rpcProc
}

type rpcProc struct {
	status [NumRPCStatus]atomic.Uint64
	hist   histogram
}

// program finds or adds the counters of (prog, vers). Adding allocates,
// once per pair; the slot is claimed by compare-and-swap so that lookups
// take no lock.
func (s *Stats) program(prog, vers uint32) *rpcProgram {
	for i := range s.progs {
		p := s.progs[i].Load()
		if p == nil {
			np := &rpcProgram{prog: prog, vers: vers}
			if s.progs[i].CompareAndSwap(nil, np) {
				return np
			}
			p = s.progs[i].Load()
		}
		if p.prog == prog && p.vers == vers {
			return p
		}
	}
	return &s.progOverflow
}

// Start implements sunrpc.Observer: the call is in flight.
func (s *Stats) Start(*sunrpc.Call) { s.inFlight.Add(1) }

// Done implements sunrpc.Observer: it counts the call by program,
// version, procedure and status, its latency, and the client's call.
func (s *Stats) Done(c *sunrpc.Call, st sunrpc.Status, d time.Duration) {
	s.inFlight.Add(-1)
	p := &s.program(c.Prog, c.Vers).procs[min(c.Proc, OtherProc)]
	rs := rpcStatusOf(st)
	p.status[rs].Add(1)
	p.hist.observe(d)
	var bad uint64
	if rs != RPCSuccess {
		bad = 1
	}
	s.clients.record(c.Remote.Addr(), clientDelta{calls: 1, rpcErrors: bad})
}

// ---- NFS operations ----

// The NFS versions counted: index of (ver, minor).
const (
	idxV3 = iota
	idxV40
	idxV41
	idxV42
	numVersions
)

func versionIndex(ver, minor uint32) int {
	switch {
	case ver == 3 && minor == 0:
		return idxV3
	case ver == 4 && minor <= 2:
		return idxV40 + int(minor)
	}
	return -1
}

func versionOf(idx int) (ver, minor uint32) {
	if idx == idxV3 {
		return 3, 0
	}
	return 4, uint32(idx - idxV40)
}

type opTable struct {
	ops [MaxOp + 1]opCounter
}

type opCounter struct {
	slots       [statusSlots]statusSlot
	otherStatus atomic.Uint64
	hist        histogram
}

// statusSlot counts one status; key is 1<<32 | status once claimed, 0
// while free.
type statusSlot struct {
	key atomic.Uint64
	n   atomic.Uint64
}

func (o *opCounter) count(status int32) {
	key := 1<<32 | uint64(uint32(status))
	for i := range o.slots {
		sl := &o.slots[i]
		k := sl.key.Load()
		if k == 0 {
			if sl.key.CompareAndSwap(0, key) {
				sl.n.Add(1)
				return
			}
			k = sl.key.Load()
		}
		if k == key {
			sl.n.Add(1)
			return
		}
	}
	o.otherStatus.Add(1)
}

// Op implements Recorder.
func (s *Stats) Op(ver, minor uint32, op uint32, status int32, d time.Duration, client netip.Addr, export uint32) {
	i := versionIndex(ver, minor)
	if i < 0 {
		s.nfsDropped.Add(1)
		return
	}
	o := &s.nfs[i].ops[min(op, OtherOp)]
	o.count(status)
	o.hist.observe(d)
	var failed uint64
	if status != 0 {
		failed = 1
	}
	s.clients.record(client, clientDelta{ops: 1, opErrors: failed, opNanos: uint64(max(d, 0))})
	if export != NoExport {
		s.exports.record(export, failed, d)
	}
}
