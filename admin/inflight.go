package admin

import (
	"cmp"
	"encoding/binary"
	"slices"
	"sync"
	"time"

	"github.com/gonfs/gonfs/stats"
	"github.com/gonfs/gonfs/sunrpc"
)

// Requests is the registry of calls running now, fed as a sunrpc.Observer.
// The zero value is not ready: use NewRequests.
type Requests struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[*sunrpc.Call]InFlight
}

// NewRequests returns an empty registry; now is the clock (nil:
// time.Now).
func NewRequests(now func() time.Time) *Requests {
	if now == nil {
		now = time.Now
	}
	return &Requests{now: now, m: map[*sunrpc.Call]InFlight{}}
}

// Start implements sunrpc.Observer. A Call is unique while it runs, so it
// keys the entry; its Args are read now, while they are valid.
func (r *Requests) Start(c *sunrpc.Call) {
	f := InFlight{Transport: c.Transport, Client: c.Remote.String(), XID: c.XID, Prog: c.Prog, Vers: c.Vers,
		Proc: stats.ProcName(c.Prog, c.Vers, c.Proc), Started: r.now()}
	if c.Prog == nfsProgram && c.Vers == 4 && c.Proc == 1 {
		f.Ops = compoundOps(c.Args)
	}
	r.mu.Lock()
	r.m[c] = f
	r.mu.Unlock()
}

// Done implements sunrpc.Observer.
func (r *Requests) Done(c *sunrpc.Call, _ sunrpc.Status, _ time.Duration) {
	r.mu.Lock()
	delete(r.m, c)
	r.mu.Unlock()
}

// List returns the running calls, longest running first.
func (r *Requests) List() []InFlight {
	now := r.now()
	r.mu.Lock()
	out := make([]InFlight, 0, len(r.m))
	for _, f := range r.m {
		f.Elapsed = now.Sub(f.Started)
		out = append(out, f)
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b InFlight) int {
		return cmp.Or(a.Started.Compare(b.Started), cmp.Compare(a.XID, b.XID))
	})
	return out
}

const nfsProgram = 100003

// maxShownOps bounds the operations decoded from one COMPOUND.
const maxShownOps = 8

// NFSv4 operation numbers (RFC 8881 §16.2.1, RFC 7862) whose arguments
// compoundOps knows how to step over.
const (
	opAccess          = 3
	opClose           = 4
	opCommit          = 5
	opGetattr         = 9
	opGetfh           = 10
	opLookup          = 15
	opLookupp         = 16
	opPutfh           = 22
	opPutpubfh        = 23
	opPutrootfh       = 24
	opRead            = 25
	opReadlink        = 27
	opRemove          = 28
	opRenew           = 30
	opRestorefh       = 31
	opSavefh          = 32
	opWrite           = 38
	opDestroySession  = 44
	opFreeStateid     = 45
	opSequence        = 53
	opReclaimComplete = 58
)

// compoundOps names the first operations of a COMPOUND4args (RFC 8881
// §16.2.1): tag, minor version, then the operations, each an opcode and
// its arguments. Only arguments of the common operations are stepped over;
// at the first other one the list ends with it and "…" if more follow. It
// never allocates from a length the peer sent.
func compoundOps(args []byte) []string {
	r := reader{b: args, ok: true}
	r.skipOpaque() // tag
	r.u32()        // minorversion
	n := r.u32()
	var ops []string
	for i := uint32(0); i < n && r.ok; i++ {
		if len(ops) == maxShownOps {
			return append(ops, "…")
		}
		op := r.u32()
		if !r.ok {
			break
		}
		ops = append(ops, stats.OpName(4, op))
		switch op {
		case opGetfh, opLookupp, opPutpubfh, opPutrootfh, opReadlink, opRestorefh, opSavefh:
		case opAccess, opReclaimComplete:
			r.skip(4)
		case opRenew:
			r.skip(8)
		case opCommit:
			r.skip(12)
		case opDestroySession, opFreeStateid:
			r.skip(16)
		case opClose:
			r.skip(20)
		case opRead:
			r.skip(28)
		case opSequence:
			r.skip(32)
		case opPutfh, opLookup, opRemove:
			r.skipOpaque()
		case opGetattr:
			r.skip(4 * int(min(r.u32(), 1<<16)))
		case opWrite:
			r.skip(16 + 8 + 4)
			r.skipOpaque()
		default:
			if i+1 < n {
				ops = append(ops, "…")
			}
			return ops
		}
	}
	return ops
}

// reader is a minimal XDR cursor with a sticky failure.
type reader struct {
	b  []byte
	ok bool
}

func (r *reader) u32() uint32 {
	if len(r.b) < 4 {
		r.ok, r.b = false, nil
		return 0
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *reader) skip(n int) {
	if len(r.b) < n {
		r.ok, r.b = false, nil
		return
	}
	r.b = r.b[n:]
}

func (r *reader) skipOpaque() {
	n := r.u32()
	if n > uint32(len(r.b)) {
		r.ok, r.b = false, nil
		return
	}
	r.skip(int(n+3) &^ 3)
}
