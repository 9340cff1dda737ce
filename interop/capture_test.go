//go:build interop

package interop

import (
	"slices"
	"testing"
)

// These check the capture judges of the NFSv4 tests on made-up frames; they
// need no lab.

func TestOpTally(t *testing.T) {
	frames := []rpcFrame{
		{number: 1, ops: []int{53, 22, opCopy}},
		{number: 2, reply: true, ops: []int{53, 22, opCopy}, statuses: []int{0, 0, 0, 0}},
		{number: 3, ops: []int{53, 22, opCopy}},
		{number: 4, reply: true, ops: []int{53, 22, opCopy}, statuses: []int{10004, 0, 0, 10004}},
		{number: 5, ops: []int{53, opSeek}},
	}
	calls, ok := opTally(frames)
	for _, tc := range []struct{ op, calls, ok int }{{opCopy, 2, 1}, {opSeek, 1, 0}, {22, 2, 1}, {opAllocate, 0, 0}} {
		if calls[tc.op] != tc.calls || ok[tc.op] != tc.ok {
			t.Errorf("op %d: %d calls, %d ok; want %d, %d", tc.op, calls[tc.op], ok[tc.op], tc.calls, tc.ok)
		}
	}
}

func TestGraceOnWire(t *testing.T) {
	badSession := rpcFrame{number: 10, reply: true, ops: []int{53}, statuses: []int{10052, 10052}}
	lockCall := func(n int, xid string, reclaim bool) rpcFrame {
		r := "0"
		if reclaim {
			r = "1"
		}
		return rpcFrame{number: n, xid: xid, ops: []int{53, 22, opLock}, reclaim: []string{r}}
	}
	lockReply := func(n int, xid string, st int) rpcFrame {
		return rpcFrame{number: n, xid: xid, reply: true, ops: []int{53, 22, opLock}, statuses: []int{st, 0, 0, st}}
	}
	for _, tc := range []struct {
		name                             string
		frames                           []rpcFrame
		reclaimed, grace, granted, probs int
	}{
		{"grace then reclaim", []rpcFrame{
			lockCall(1, "1:a", false), lockReply(2, "1:a", 10010), // before the restart: ignored
			badSession,
			lockCall(11, "2:b", false), lockReply(12, "2:b", nfs4errGrace),
			lockCall(13, "3:c", true), lockReply(14, "3:c", 0),
			lockCall(15, "2:d", false), lockReply(16, "2:d", 10010),
		}, 14, 1, 0, 0},
		{"granted before the reclaim", []rpcFrame{
			badSession,
			lockCall(11, "2:b", false), lockReply(12, "2:b", 0),
			lockCall(13, "3:c", true), lockReply(14, "3:c", 0),
		}, 14, 0, 1, 1},
		{"denied before the reclaim", []rpcFrame{
			badSession,
			lockCall(11, "2:b", false), lockReply(12, "2:b", 10010),
			lockCall(13, "3:c", true), lockReply(14, "3:c", 0),
		}, 14, 0, 0, 1},
		{"reclaim refused", []rpcFrame{
			badSession,
			lockCall(13, "3:c", true), lockReply(14, "3:c", 10013),
		}, 0, 0, 0, 2},
		{"reclaim first: not exercised, no problem", []rpcFrame{
			badSession,
			lockCall(13, "3:c", true), lockReply(14, "3:c", 0),
			lockCall(15, "2:d", false), lockReply(16, "2:d", 10010),
		}, 14, 0, 0, 0},
		{"no restart seen", []rpcFrame{lockCall(13, "3:c", true), lockReply(14, "3:c", 0)}, 0, 0, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := graceOnWire(slices.Clone(tc.frames))
			if g.reclaimed != tc.reclaimed || g.grace != tc.grace || g.granted != tc.granted || len(g.problems) != tc.probs {
				t.Errorf("got reclaimed %d, grace %d, granted %d, problems %q; want %d, %d, %d, %d problems",
					g.reclaimed, g.grace, g.granted, g.problems, tc.reclaimed, tc.grace, tc.granted, tc.probs)
			}
		})
	}
}
