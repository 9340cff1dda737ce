package sunrpc

import (
	"github.com/gonfs/gonfs/proto/rpcxdr"

	"bytes"
	"context"
	"net/netip"
	"testing"
	"time"
)

// TestDRCScripts drives the cache through scripted steps with a fake clock.
func TestDRCScripts(t *testing.T) {
	type step = drcStep
	opts := DRCOptions{MaxEntries: 2, MaxBytes: 16 * 64, MaxAge: time.Minute}
	tests := []struct {
		name  string
		opts  DRCOptions
		steps []step
	}{
		{name: "replay after completion", opts: opts, steps: []step{
			{op: "begin", key: 1, want: drcMiss},
			{op: "begin", key: 1, want: drcInProgress},
			{op: "finish", key: 1, reply: "r1"},
			{op: "begin", key: 1, want: drcDone, wantRep: "r1"},
			{op: "begin", key: 1, want: drcDone, wantRep: "r1"},
		}},
		{name: "abort forgets", opts: opts, steps: []step{
			{op: "begin", key: 1, want: drcMiss},
			{op: "abort", key: 1},
			{op: "begin", key: 1, want: drcMiss},
		}},
		{name: "no reply is remembered", opts: opts, steps: []step{
			{op: "begin", key: 1, want: drcMiss},
			{op: "noreply", key: 1},
			{op: "begin", key: 1, want: drcDone, wantRep: ""},
		}},
		{name: "entry bound evicts least recently used", opts: opts, steps: []step{
			{op: "begin", key: 1, want: drcMiss}, {op: "finish", key: 1, reply: "a"},
			{op: "begin", key: 2, want: drcMiss}, {op: "finish", key: 2, reply: "b"},
			{op: "begin", key: 1, want: drcDone, wantRep: "a"}, // 1 now most recent
			{op: "begin", key: 3, want: drcMiss}, {op: "finish", key: 3, reply: "c"},
			{op: "begin", key: 2, want: drcMiss}, // evicted
			{op: "begin", key: 1, want: drcDone, wantRep: "a"},
		}},
		{name: "byte bound", opts: DRCOptions{MaxEntries: 100, MaxBytes: 32, MaxAge: time.Minute}, steps: byteBoundSteps()},
		{name: "oversized reply not kept", opts: DRCOptions{MaxEntries: 100, MaxBytes: 16 * 4, MaxAge: time.Minute}, steps: []step{
			{op: "begin", key: 1, want: drcMiss}, {op: "finish", key: 1, reply: "12345"},
			{op: "begin", key: 1, want: drcMiss},
		}},
		{name: "age", opts: opts, steps: []step{
			{op: "begin", key: 1, want: drcMiss}, {op: "finish", key: 1, reply: "a"},
			{op: "advance", advance: 30 * time.Second},
			{op: "begin", key: 2, want: drcMiss}, {op: "finish", key: 2, reply: "b"},
			{op: "begin", key: 1, want: drcDone, wantRep: "a"}, // hit at 30s: moved to head, age kept
			{op: "advance", advance: 31 * time.Second},
			{op: "begin", key: 1, want: drcMiss}, // 61s old although recently used
			{op: "begin", key: 2, want: drcDone, wantRep: "b"},
			{op: "advance", advance: 31 * time.Second},
			{op: "begin", key: 2, want: drcMiss},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Unix(1000, 0)
			d := newDRC(tt.opts, func() time.Time { return now })
			key := func(n int) drcKey {
				return drcKey{addr: netip.MustParseAddr("192.0.2.1"), xid: uint32(n), prog: 100003, vers: 3, proc: 9}
			}
			for i, s := range tt.steps {
				switch s.op {
				case "begin":
					st, rep := d.begin(key(s.key))
					if st != s.want || string(rep) != s.wantRep {
						t.Fatalf("step %d: begin(%d) = %v %q, want %v %q", i, s.key, st, rep, s.want, s.wantRep)
					}
				case "finish":
					d.finish(key(s.key), []byte(s.reply), false)
				case "noreply":
					d.finish(key(s.key), nil, true)
				case "abort":
					d.abort(key(s.key))
				case "advance":
					now = now.Add(s.advance)
				}
			}
			if d.count < 0 || d.bytes < 0 || d.count > d.opts.MaxEntries || d.bytes > d.opts.MaxBytes {
				t.Fatalf("accounting off: count %d bytes %d", d.count, d.bytes)
			}
		})
	}
}

// byteBoundSteps fills a 32-byte cache with sixteen 2-byte replies, touches
// the first, and adds one more: the second, least recently used, goes.
func byteBoundSteps() []drcStep {
	var steps []drcStep
	for k := 1; k <= 16; k++ {
		steps = append(steps, drcStep{op: "begin", key: k, want: drcMiss}, drcStep{op: "finish", key: k, reply: "xy"})
	}
	return append(steps,
		drcStep{op: "begin", key: 1, want: drcDone, wantRep: "xy"},
		drcStep{op: "begin", key: 17, want: drcMiss}, drcStep{op: "finish", key: 17, reply: "xy"},
		drcStep{op: "begin", key: 2, want: drcMiss},
		drcStep{op: "begin", key: 1, want: drcDone, wantRep: "xy"},
		drcStep{op: "begin", key: 3, want: drcDone, wantRep: "xy"},
	)
}

type drcStep struct {
	op      string // begin, finish, noreply, abort, advance
	key     int
	reply   string
	advance time.Duration
	want    drcState // for begin
	wantRep string   // for begin with drcDone
}

// TestDRCOverTCP checks the cache from a client's point of view.
func TestDRCOverTCP(t *testing.T) {
	ts := startServer(t, Options{}, nil)
	call := func(xid, proc uint32) []byte {
		return frame(encodeCall(xid, 2, testProg, testLow, proc, rpcxdr.OpaqueAuth{}, rpcxdr.OpaqueAuth{}, []byte{0, 0, 0, 1}))
	}

	t.Run("non-idempotent replayed", func(t *testing.T) {
		rc := dialRaw(t, ts.tcp)
		rc.write(call(100, procCountOnce))
		first := rc.reply()
		rc.write(call(100, procCountOnce))
		if again := rc.reply(); !bytes.Equal(first, again) {
			t.Fatalf("retransmission got %x, want the cached %x", again, first)
		}
		// Linux retransmits from a new connection and port.
		rc2 := dialRaw(t, ts.tcp)
		rc2.write(call(100, procCountOnce))
		if again := rc2.reply(); !bytes.Equal(first, again) {
			t.Fatalf("retransmission on a new connection got %x, want %x", again, first)
		}
		if n := ts.h.counts[procCountOnce].Load(); n != 1 {
			t.Fatalf("non-idempotent call ran %d times, want 1", n)
		}
		// Same xid, other arguments: a different call.
		rc.write(frame(encodeCall(100, 2, testProg, testLow, procCountOnce, rpcxdr.OpaqueAuth{}, rpcxdr.OpaqueAuth{}, []byte{0, 0, 0, 2})))
		rc.reply()
		if n := ts.h.counts[procCountOnce].Load(); n != 2 {
			t.Fatalf("call with new arguments ran %d times in total, want 2", n)
		}
		// The key sums only the first drcSumLen bytes of the arguments;
		// the length tells two calls apart that share them.
		long := make([]byte, 2*drcSumLen)
		rc.write(frame(encodeCall(101, 2, testProg, testLow, procCountOnce, rpcxdr.OpaqueAuth{}, rpcxdr.OpaqueAuth{}, long)))
		rc.reply()
		rc.write(frame(encodeCall(101, 2, testProg, testLow, procCountOnce, rpcxdr.OpaqueAuth{}, rpcxdr.OpaqueAuth{}, long[:len(long)-4])))
		rc.reply()
		if n := ts.h.counts[procCountOnce].Load(); n != 4 {
			t.Fatalf("calls that differ only in length past the summed bytes ran %d times in total, want 4", n)
		}
	})

	t.Run("idempotent runs again", func(t *testing.T) {
		rc := dialRaw(t, ts.tcp)
		rc.write(call(200, procCountTwice))
		rc.reply()
		rc.write(call(200, procCountTwice))
		rc.reply()
		if n := ts.h.counts[procCountTwice].Load(); n != 2 {
			t.Fatalf("idempotent call ran %d times, want 2", n)
		}
	})

	t.Run("in progress dropped", func(t *testing.T) {
		rc := dialRaw(t, ts.tcp)
		rc.write(call(300, procBlockOnce))
		<-ts.h.entered
		rc.write(call(300, procBlockOnce)) // dropped
		rc.write(frame(nullCall(301)))
		if got := rc.reply(); replyXID(got) != 301 {
			t.Fatalf("got reply for xid %d, want 301", replyXID(got))
		}
		close(ts.h.release)
		if got := rc.reply(); replyXID(got) != 300 {
			t.Fatalf("got reply for xid %d, want 300", replyXID(got))
		}
		rc.write(frame(nullCall(302)))
		if got := rc.reply(); replyXID(got) != 302 {
			t.Fatalf("got reply for xid %d, want 302: the duplicate was answered", replyXID(got))
		}
		if n := ts.h.counts[procBlockOnce].Load(); n != 1 {
			t.Fatalf("ran %d times, want 1", n)
		}
	})
}

// TestDRCDisabled checks that Disabled runs every call.
func TestDRCDisabled(t *testing.T) {
	ts := startServer(t, Options{DRC: DRCOptions{Disabled: true}}, nil)
	c := dialT(t, "tcp", ts.tcp, ClientOptions{})
	msg := CallHeader{Prog: testProg, Vers: testLow, Proc: procCountOnce}
	for range 2 {
		if _, err := c.CallRaw(context.Background(), msg, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := ts.h.counts[procCountOnce].Load(); n != 2 {
		t.Fatalf("ran %d times, want 2", n)
	}
}
