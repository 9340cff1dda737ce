package state

import (
	"bytes"
	"testing"

	"pgregory.net/rapid"
)

// TestSequence scripts one slot through RFC 8881 §2.10.6.1 and §18.46.3.
func TestSequence(t *testing.T) {
	e := newEnv(t)
	_, s := e.mount("host")
	seq := func(slot, n uint32, cache bool) (SequenceResult, Status) {
		return e.m.Sequence(SequenceArgs{SessionID: s, Slot: slot, Seq: n, CacheThis: cache, Conn: 1})
	}
	steps := []struct {
		name   string
		slot   uint32
		seq    uint32
		want   Status
		done   []byte // reply passed to Done (nil: leave the request running)
		cache  bool
		replay []byte // expected cached reply
	}{
		{name: "first request is seq 1", slot: 1, seq: 1, want: OK, done: []byte("r1"), cache: true},
		{name: "retry replays the cached reply", slot: 1, seq: 1, want: OK, replay: []byte("r1")},
		{name: "seq 0 is misordered", slot: 1, seq: 0, want: errSeqMisordered},
		{name: "seq 0 on a fresh slot is misordered", slot: 2, seq: 0, want: errSeqMisordered},
		{name: "seq+2 is misordered", slot: 1, seq: 3, want: errSeqMisordered},
		{name: "next request, not cached", slot: 1, seq: 2, want: OK, done: []byte("r2"), cache: false},
		{name: "retry of an uncached reply", slot: 1, seq: 2, want: errRetryUncached},
		{name: "request left running", slot: 1, seq: 3, want: OK},
		{name: "retry while in progress", slot: 1, seq: 3, want: errDelay},
		{name: "next while in progress", slot: 1, seq: 4, want: errDelay},
		{name: "other slots are independent", slot: 0, seq: 1, want: OK, done: []byte("s0"), cache: true},
		{name: "slot beyond the table", slot: 4, seq: 1, want: errBadSlot},
	}
	var running Token
	for _, st := range steps {
		res, got := seq(st.slot, st.seq, st.cache)
		wantStatus(t, st.name, got, st.want)
		if got != OK {
			continue
		}
		if st.replay != nil {
			if !bytes.Equal(res.Replay, st.replay) || res.Token.Valid() {
				t.Fatalf("%s: replay %q token %v", st.name, res.Replay, res.Token.Valid())
			}
			continue
		}
		if !res.Token.Valid() || res.HighestSlot != 3 || res.TargetHighestSlot != 3 {
			t.Fatalf("%s: %+v", st.name, res)
		}
		if st.done != nil {
			e.m.Done(res.Token, st.done, st.cache)
		} else {
			running = res.Token
		}
	}
	e.m.Done(running, []byte("r3"), true)
	if res, st := seq(1, 3, false); st != OK || string(res.Replay) != "r3" {
		t.Errorf("retry after Done: %v %q", st, res.Replay)
	}
	_, st := e.m.Sequence(SequenceArgs{SessionID: SessionID{9}, Seq: 1})
	wantStatus(t, "unknown session", st, errBadSession)
}

// TestSequenceReplyTooBig: a reply larger than ca_maxresponsesize_cached is
// not kept even when asked, so its retry is RETRY_UNCACHED_REP.
func TestSequenceReplyTooBig(t *testing.T) {
	e := newEnv(t)
	_, s := e.mount("host")
	res, _ := e.m.Sequence(SequenceArgs{SessionID: s, Seq: 1, CacheThis: true})
	if res.MaxCachedReply != fore.MaxResponseSizeCached {
		t.Fatalf("MaxCachedReply %d", res.MaxCachedReply)
	}
	e.m.Done(res.Token, make([]byte, res.MaxCachedReply+1), true)
	_, st := e.m.Sequence(SequenceArgs{SessionID: s, Seq: 1})
	wantStatus(t, "retry", st, errRetryUncached)
}

// TestSlotModel checks the slot against a plain model of RFC 8881
// §2.10.6.1 over random request sequences.
func TestSlotModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var sl slot
		var (
			last    uint32 // model: last accepted seq
			running bool
			used    bool
			cached  []byte
			has     bool
		)
		for i := range rapid.IntRange(1, 60).Draw(t, "n") {
			if running && rapid.Bool().Draw(t, "finish") {
				reply := []byte{byte(i)}
				cache := rapid.Bool().Draw(t, "cache")
				sl.finish(reply, cache)
				running, has, cached = false, cache, reply
				continue
			}
			seq := last + uint32(rapid.IntRange(-2, 2).Draw(t, "delta"))
			before := sl
			out, st := sl.check(seq)
			if st == OK && out == slotNew {
				sl.start(seq, false)
			}
			var want Status
			switch {
			case seq == last && !used:
				want = errSeqMisordered
			case seq == last+1 && running, seq == last && running:
				want = errDelay
			case seq == last+1:
				want = OK
			case seq == last && !has:
				want = errRetryUncached
			case seq == last:
				want = OK
			default:
				want = errSeqMisordered
			}
			if st != want {
				t.Fatalf("seq %d (last %d running %v cached %v): got %v want %v", seq, last, running, has, st, want)
			}
			if st != OK {
				// RFC 8881 §2.10.6.1: a refused SEQUENCE changes nothing.
				if sl.seq != before.seq || sl.used != before.used || sl.busy != before.busy ||
					sl.cached != before.cached || !bytes.Equal(sl.reply, before.reply) {
					t.Fatalf("refused seq %d changed the slot: %+v -> %+v", seq, before, sl)
				}
				continue
			}
			if seq == last {
				if out != slotReplay || !bytes.Equal(sl.reply, cached) {
					t.Fatalf("replay of %d: %v %q want %q", seq, out, sl.reply, cached)
				}
				continue
			}
			if out != slotNew {
				t.Fatalf("new %d: outcome %v", seq, out)
			}
			last, running, has, used = seq, true, false, true
		}
	})
}
