package recovery

import (
	"slices"
	"testing"
	"time"

	"github.com/gonfs/gonfs/nfs4/state"
)

func rec(owner, principal string) state.ClientRecord {
	return state.ClientRecord{Owner: []byte(owner), Principal: principal}
}

func list(t *testing.T, s *Store) []string {
	t.Helper()
	rs, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rs {
		out = append(out, string(r.Owner)+"="+r.Principal)
	}
	return out
}

// Records and the epoch survive a reopen (RFC 8881 §8.4.2.1: the server
// must know after a restart which clients may reclaim).
func TestStoreSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	steps := []struct {
		name string
		do   func(*Store) error
		want []string
	}{
		{"put a", func(s *Store) error { return s.Put(rec("a", "sys:0")) }, []string{"a=sys:0"}},
		{"put b", func(s *Store) error { return s.Put(rec("b\x00\xff", "sys:1")) }, []string{"a=sys:0", "b\x00\xff=sys:1"}},
		{"replace a", func(s *Store) error { return s.Put(rec("a", "sys:2")) }, []string{"a=sys:2", "b\x00\xff=sys:1"}},
		{"delete b", func(s *Store) error { return s.Delete(rec("b\x00\xff", "")) }, []string{"a=sys:2"}},
		{"delete missing", func(s *Store) error { return s.Delete(rec("zz", "")) }, []string{"a=sys:2"}},
	}
	for _, st := range steps {
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.do(s); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		s.Close()
		s, err = Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := list(t, s); !slices.Equal(got, st.want) {
			t.Errorf("%s: after reopen %q, want %q", st.name, got, st.want)
		}
		s.Close()
	}
}

// TestEpochIncrements: every start gets an epoch above the last one, and
// at least the start time in seconds (so a lost store does not reuse a
// recent epoch, and epochs are not small guessable numbers).
func TestEpochIncrements(t *testing.T) {
	dir := t.TempDir()
	var last uint32
	for range 3 {
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		before := uint32(time.Now().Unix())
		got, err := s.NextEpoch()
		if err != nil || got <= last || got < before {
			t.Fatalf("NextEpoch = %d, %v; want above %d and at least %d", got, err, last, before)
		}
		last = got
		s.Close()
	}
}

func TestPutWithoutOwner(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Put(rec("", "sys:0")); err == nil {
		t.Fatal("Put accepted an empty owner")
	}
}

// The server owner is stable across reopens (RFC 8881 §2.5) and differs
// between state directories.
func TestServerOwner(t *testing.T) {
	dirA, dirB := t.TempDir(), t.TempDir()
	owner := func(dir string) string {
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		o, err := s.ServerOwner()
		if err != nil || len(o) == 0 {
			t.Fatalf("ServerOwner = %q, %v", o, err)
		}
		return string(o)
	}
	a1, a2, b := owner(dirA), owner(dirA), owner(dirB)
	if a1 != a2 || a1 == b {
		t.Fatalf("owners %q %q %q", a1, a2, b)
	}
}
