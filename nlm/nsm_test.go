package nlm

import (
	"context"
	"testing"

	"github.com/gonfs/gonfs/proto/nlmxdr"
	"github.com/gonfs/gonfs/proto/nsmxdr"
	"github.com/gonfs/gonfs/xdr"
)

// The NSM procedures other than SM_NOTIFY, from a local caller: SM_STAT
// and SM_MON report our state; SM_SIMU_CRASH acts as a restart: all NLM
// locks go, the state advances and recorded clients are notified.
func TestNSMLocal(t *testing.T) {
	e := newEnv(t, t.TempDir())
	a := e.client("alpha", 1, 1000)
	a.lock(e.fh2, 0, 0, excl)
	state := e.s.State()
	nsm := func(proc uint32, args xdr.Marshaler, res xdr.Unmarshaler) {
		t.Helper()
		if err := a.c.Call(context.Background(), nsmxdr.SM_PROG, nsmxdr.SM_VERS, proc, args, res); err != nil {
			t.Fatalf("NSM proc %d: %v", proc, err)
		}
	}
	var sr nsmxdr.SmStatRes
	nsm(nsmxdr.SM_STAT, &nsmxdr.SmName{MonName: "alpha"}, &sr)
	if sr.ResStat != nsmxdr.Stat_succ || sr.State != state {
		t.Errorf("SM_STAT %+v, want succ/%d", sr, state)
	}
	mon := nsmxdr.Mon{MonId: nsmxdr.MonId{MonName: "peer", MyId: nsmxdr.MyId{MyName: "127.0.0.1", MyProg: 100021, MyVers: 3, MyProc: 16}}}
	nsm(nsmxdr.SM_MON, &mon, &sr)
	if sr.ResStat != nsmxdr.Stat_succ {
		t.Errorf("local SM_MON: %v", sr.ResStat)
	}
	var ss nsmxdr.SmStat
	nsm(nsmxdr.SM_UNMON_ALL, &mon.MonId.MyId, &ss)
	e.s.mu.Lock()
	left := len(e.s.monitors)
	e.s.mu.Unlock()
	if ss.State != state || left != 0 {
		t.Errorf("SM_UNMON_ALL: state %d, %d monitors left", ss.State, left)
	}

	nsm(nsmxdr.SM_SIMU_CRASH, nil, nil)
	if e.s.State() != state+2 {
		t.Errorf("state after SM_SIMU_CRASH %d, want %d", e.s.State(), state+2)
	}
	if got := e.locks.Locks(e.key(e.fh2)); len(got) != 0 {
		t.Errorf("locks after SM_SIMU_CRASH: %+v", got)
	}
	c := e.fake.next(t)
	var sc nsmxdr.StatChge
	if c.proc != nsmxdr.SM_NOTIFY || xdr.Unmarshal(c.args, &sc) != nil || sc.State != state+2 {
		t.Errorf("after SM_SIMU_CRASH: proc %d %+v, want SM_NOTIFY state %d", c.proc, sc, state+2)
	}
	if st := a.lock(e.fh2, 0, 0, excl); st != nlmxdr.NLM4_GRANTED {
		t.Errorf("lock after SM_SIMU_CRASH: %v (no grace expected)", st)
	}
}
