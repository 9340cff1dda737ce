package nlm

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/proto/nlmxdr"
	"github.com/gonfs/gonfs/proto/nsmxdr"
	"github.com/gonfs/gonfs/xdr"
)

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// A client is recorded when it first locks and forgotten when it holds
// nothing (the SM_MON / SM_UNMON equivalent).
func TestClientRecord(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir)
	a := e.client("alpha", 1, 1000)
	sm := filepath.Join(dir, smDir)
	steps := []struct {
		do   func()
		want int
	}{
		{func() { a.lock(e.fh2, 0, 10, excl) }, 1},
		{func() { a.lock(e.fh2, 20, 10, excl) }, 1},
		{func() { a.unlock(e.fh2, 0, 10) }, 1},
		{func() { a.unlock(e.fh2, 0, 0) }, 0},
		{func() { a.lock(e.fh2, 0, 10, lockOpts{excl: true, proc: nlmxdr.NLMPROC4_NM_LOCK}) }, 0},
		{func() { a.unlock(e.fh2, 0, 0) }, 0},
		{func() { a.share(nlmxdr.NLMPROC4_SHARE, e.fh2, nlmxdr.Fsa_R, nlmxdr.Fsm_DN, false) }, 1},
		{func() { a.share(nlmxdr.NLMPROC4_UNSHARE, e.fh2, 0, 0, false) }, 0},
	}
	for i, s := range steps {
		s.do()
		if n := countFiles(t, sm); n != s.want {
			t.Fatalf("step %d: %d records, want %d", i, n, s.want)
		}
	}
}

// After a restart the NSM state advances to the next odd number, every
// client that held locks gets SM_NOTIFY with it, and during the grace
// period only reclaims are granted (XNFS chapter 10, NLM recovery).
func TestRestartGraceAndNotify(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir)
	first := e.s.State()
	if first%2 != 1 || e.s.InGrace() {
		t.Fatalf("first start: state %d, grace %v; want odd and no grace", first, e.s.InGrace())
	}
	a := e.client("alpha", 1, 1000)
	if st := a.lock(e.fh2, 0, 0, excl); st != nlmxdr.NLM4_GRANTED {
		t.Fatal(st)
	}

	e.stop()
	e.locks = lock.NewTable(lock.Options{}) // a new process starts empty
	e.start()
	if e.s.State() != first+2 {
		t.Errorf("state after restart %d, want %d", e.s.State(), first+2)
	}
	c := e.fake.next(t)
	var sc nsmxdr.StatChge
	if c.prog != nsmxdr.SM_PROG || c.proc != nsmxdr.SM_NOTIFY || xdr.Unmarshal(c.args, &sc) != nil {
		t.Fatalf("after restart: prog %d proc %d, want SM_NOTIFY", c.prog, c.proc)
	}
	if sc.MonName != "server" || sc.State != e.s.State() {
		t.Errorf("SM_NOTIFY %+v, want server/%d", sc, e.s.State())
	}
	e.waitFor("the delivered record to go", func() bool { return countFiles(t, filepath.Join(dir, bakDir)) == 0 })

	a = e.client("alpha", 1, 1000)
	b := e.client("beta", 2, 1000)
	grace := []struct {
		name string
		got  func() nlmxdr.Nlm4Stats
		want nlmxdr.Nlm4Stats
	}{
		{"new lock", func() nlmxdr.Nlm4Stats { return b.lock(e.fh, 0, 1, shared) }, nlmxdr.NLM4_DENIED_GRACE_PERIOD},
		{"test", func() nlmxdr.Nlm4Stats { return b.test(e.fh, 0, 1, false).Stat }, nlmxdr.NLM4_DENIED_GRACE_PERIOD},
		{"new share", func() nlmxdr.Nlm4Stats {
			return b.share(nlmxdr.NLMPROC4_SHARE, e.fh, nlmxdr.Fsa_R, nlmxdr.Fsm_DN, false)
		}, nlmxdr.NLM4_DENIED_GRACE_PERIOD},
		{"reclaim", func() nlmxdr.Nlm4Stats { return a.lock(e.fh2, 0, 0, lockOpts{excl: true, reclaim: true}) }, nlmxdr.NLM4_GRANTED},
		{"conflicting reclaim", func() nlmxdr.Nlm4Stats { return b.lock(e.fh2, 0, 1, lockOpts{reclaim: true}) }, nlmxdr.NLM4_DENIED},
	}
	for _, g := range grace {
		if st := g.got(); st != g.want {
			t.Errorf("in grace, %s: %v, want %v", g.name, st, g.want)
		}
	}
	e.clock.Add(time.Minute)
	if e.s.InGrace() {
		t.Fatal("grace did not end")
	}
	if st := b.lock(e.fh, 0, 1, shared); st != nlmxdr.NLM4_GRANTED {
		t.Errorf("after grace, new lock: %v", st)
	}
	if st := b.lock(e.fh2, 0, 1, shared); st != nlmxdr.NLM4_DENIED {
		t.Errorf("after grace, lock over the reclaimed one: %v", st)
	}
}

// The state number is odd and grows on every start.
func TestAdvanceState(t *testing.T) {
	dir := t.TempDir()
	st, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		before   string
		want     int32
		rebooted bool
	}{{"", 1, false}, {"1\n", 3, true}, {"4", 5, true}, {"2147483647", 1, true}} {
		p := filepath.Join(dir, stateFile)
		os.Remove(p)
		if tt.before != "" {
			if err := os.WriteFile(p, []byte(tt.before), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		got, rebooted, err := st.advanceState()
		if err != nil || got != tt.want || rebooted != tt.rebooted {
			t.Errorf("from %q: %d %v %v, want %d %v", tt.before, got, rebooted, err, tt.want, tt.rebooted)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, stateFile), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.advanceState(); err == nil {
		t.Error("a corrupt state file was accepted")
	}
}
