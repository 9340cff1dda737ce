package sunrpc

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/xdr"
)

// argsHandler counts its calls; a call whose arguments start with 'W' is
// non-idempotent (ArgsIdempotency), anything else idempotent.
type argsHandler struct{ n atomic.Int64 }

func (h *argsHandler) ServeRPC(ctx context.Context, call *Call, w *xdr.Writer) Status {
	w.Uint32(uint32(h.n.Add(1)))
	return Success
}

func (h *argsHandler) Idempotent(proc uint32) bool { return true }

func (h *argsHandler) IdempotentArgs(proc uint32, args []byte) bool {
	return len(args) == 0 || args[0] != 'W'
}

// TestArgsIdempotency: the duplicate request cache asks IdempotentArgs
// when the handler has it, so a retransmission of a non-idempotent call
// (by its arguments) is answered from the cache, and one of an idempotent
// call with the same procedure runs again.
func TestArgsIdempotency(t *testing.T) {
	h := &argsHandler{}
	const prog = 0x20000777
	ts := startServer(t, Options{}, func(s *Server) { s.Register(prog, 1, h) })
	rc := dialRaw(t, ts.tcp)
	send := func(xid uint32, args string) uint32 {
		rc.write(frame(encodeCall(xid, 2, prog, 1, 1, rpcxdr.OpaqueAuth{}, rpcxdr.OpaqueAuth{}, []byte(args))))
		rep := rc.reply()
		return uint32(rep[len(rep)-4])<<24 | uint32(rep[len(rep)-3])<<16 | uint32(rep[len(rep)-2])<<8 | uint32(rep[len(rep)-1])
	}
	first := send(10, "Wxyz")
	if again := send(10, "Wxyz"); again != first || h.n.Load() != 1 {
		t.Fatalf("non-idempotent retransmission ran again: replies %d then %d, %d runs", first, again, h.n.Load())
	}
	send(11, "Rxyz")
	send(11, "Rxyz")
	if h.n.Load() != 3 {
		t.Fatalf("idempotent call ran %d times in all, want 3", h.n.Load())
	}
}
