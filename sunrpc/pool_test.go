package sunrpc

import (
	"runtime"
	"testing"
)

// TestBigRequestsSurviveGC: a request whose buffers grew to READ/WRITE
// size keeps them across garbage collections (a sync.Pool would drop
// them), and the number kept is bounded.
func TestBigRequestsSurviveGC(t *testing.T) {
	for len(bigRequests) > 0 {
		<-bigRequests
	}
	for range bigRequestsKept + 4 {
		r := new(request)
		r.rec = make([]byte, 0, 1<<20)
		putRequest(r)
	}
	if n := len(bigRequests); n != bigRequestsKept {
		t.Fatalf("%d big requests kept, want the bound %d", n, bigRequestsKept)
	}
	runtime.GC()
	runtime.GC()
	r := getRequest()
	if cap(r.rec) < 1<<20 {
		t.Fatalf("after two collections getRequest gave a record buffer of %d bytes, want the kept 1 MiB", cap(r.rec))
	}
	for len(bigRequests) > 0 {
		<-bigRequests
	}
}
