package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/trace"
	"github.com/gonfs/gonfs/xdr"
)

// call is an RPC call record (RFC 5531 §9): AUTH_NONE, args appended.
func call(xid, prog, vers, proc uint32, args []byte) []byte {
	var b []byte
	for _, v := range []uint32{xid, 0, 2, prog, vers, proc, 0, 0, 0, 0} {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return append(b, args...)
}

// reply is an accepted SUCCESS reply record with results appended.
func reply(xid uint32, res []byte) []byte {
	var b []byte
	for _, v := range []uint32{xid, 1, 0, 0, 0, 0} {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return append(b, res...)
}

// clock returns a clock that advances a millisecond per reading, so that
// frames have distinct, ordered timestamps.
func clock() func() time.Time {
	t := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Millisecond); return t }
}

func analyze(t *testing.T, path string) *trace.Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := trace.Analyze(f, trace.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestScriptedSession writes a scripted session over TCP and UDP, IPv4 and
// IPv6, with a record larger than one IP packet, and checks that the
// trace analyzer pairs every call with its reply.
func TestScriptedSession(t *testing.T) {
	const nfs, pmap = 100003, 100000
	big := make([]byte, 150_000) // three TCP segments
	type rec struct {
		local, remote string
		proto         string
		inbound       bool
		data          []byte
	}
	srv4, cli4 := "127.0.0.1:2049", "127.0.0.1:801"
	srv6, cli6 := "[::1]:2049", "[::1]:802"
	script := []rec{
		{srv4, cli4, "tcp", true, call(1, nfs, 3, 0, nil)},
		{srv4, cli4, "tcp", false, reply(1, nil)},
		{srv4, cli4, "tcp", true, call(2, pmap, 2, 0, big)},
		{srv4, cli4, "tcp", true, call(3, nfs, 3, 0, nil)}, // two calls in flight
		{srv4, cli4, "tcp", false, reply(3, nil)},
		{srv4, cli4, "tcp", false, reply(2, big)},
		{srv4, "127.0.0.1:900", "udp", true, call(4, pmap, 2, 0, nil)},
		{srv4, "127.0.0.1:900", "udp", false, reply(4, nil)},
		{srv6, cli6, "tcp", true, call(5, nfs, 3, 0, nil)},
		{srv6, cli6, "tcp", false, reply(5, nil)},
		{"0.0.0.0:2049", "[::1]:903", "udp", true, call(6, nfs, 3, 0, nil)}, // mixed families
		{"0.0.0.0:2049", "[::1]:903", "udp", false, reply(6, nil)},
	}
	path := filepath.Join(t.TempDir(), "s.pcapng")
	w, err := Create(path, Options{Now: clock()})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range script {
		w.Record(netip.MustParseAddrPort(r.local), netip.MustParseAddrPort(r.remote), r.proto, r.inbound, r.data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st := w.Status()
	if st.Records != uint64(len(script)) || st.Dropped != 0 || st.Wraps != 0 {
		t.Fatalf("status %+v", st)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != st.Bytes || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file %v (%v): want %d bytes, mode 0600", fi, err, st.Bytes)
	}
	rep := analyze(t, path)
	if rep.Calls != 6 || rep.Replies != 6 || rep.Unanswered != 0 || rep.Orphans != 0 || len(rep.Notes) != 0 {
		t.Fatalf("trace: %d calls, %d replies, %d unanswered, %d orphans, notes %q; want 6 matched pairs",
			rep.Calls, rep.Replies, rep.Unanswered, rep.Orphans, rep.Notes)
	}
	for _, m := range rep.Messages {
		if m.Problem != "" {
			t.Errorf("frame %d: %s", m.Frame, m.Problem)
		}
		if m.Reply && m.CallFrame == 0 {
			t.Errorf("reply xid %d not matched to its call", m.XID)
		}
	}
}

// TestPort checks that Options.Port replaces the server's port in frames.
func TestPort(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.pcapng")
	w, err := Create(path, Options{Port: 2049, Now: clock()})
	if err != nil {
		t.Fatal(err)
	}
	local, remote := netip.MustParseAddrPort("127.0.0.1:40000"), netip.MustParseAddrPort("127.0.0.1:700")
	w.Record(local, remote, "tcp", true, call(9, 100003, 3, 0, nil))
	w.Record(local, remote, "tcp", false, reply(9, nil))
	w.Close()
	rep := analyze(t, path)
	if rep.Calls != 1 || rep.Replies != 1 || len(rep.Messages) != 2 {
		t.Fatalf("trace: %+v", rep)
	}
	if got := rep.Messages[0].Dst; got != netip.MustParseAddrPort("127.0.0.1:2049") {
		t.Fatalf("call sent to %v, want port 2049", got)
	}
}

// TestRing checks the size bound: the file restarts instead of growing,
// stays a readable capture, and keeps the latest traffic.
func TestRing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.pcapng")
	const max = 4096
	w, err := Create(path, Options{MaxSize: max, Now: clock()})
	if err != nil {
		t.Fatal(err)
	}
	local, remote := netip.MustParseAddrPort("127.0.0.1:2049"), netip.MustParseAddrPort("127.0.0.1:700")
	for xid := uint32(1); xid <= 100; xid++ {
		w.Record(local, remote, "tcp", true, call(xid, 100003, 3, 0, nil))
		w.Record(local, remote, "tcp", false, reply(xid, nil))
		if fi, err := os.Stat(path); err == nil && fi.Size() > max {
			t.Fatalf("file grew to %d bytes, bound %d", fi.Size(), max)
		}
	}
	// A frame that cannot fit even in an empty file is dropped.
	w.Record(local, remote, "tcp", true, call(101, 100003, 3, 0, make([]byte, max)))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st := w.Status()
	if st.Wraps == 0 || st.Dropped != 1 || st.Bytes > max {
		t.Fatalf("status %+v: want wraps, one drop, at most %d bytes", st, max)
	}
	rep := analyze(t, path)
	if rep.Calls == 0 || len(rep.Notes) != 0 {
		t.Fatalf("trace after wrapping: %d calls, notes %q", rep.Calls, rep.Notes)
	}
	last := rep.Messages[len(rep.Messages)-1]
	if last.XID != 100 || !last.Reply {
		t.Fatalf("last message %+v, want the reply to xid 100", last)
	}
}

// nullHandler answers every procedure with no results.
type nullHandler struct{}

func (nullHandler) ServeRPC(context.Context, *sunrpc.Call, *xdr.Writer) sunrpc.Status {
	return sunrpc.Success
}

// TestSwitch runs a capture through a Switch installed as a real sunrpc
// server's tap: records outside Start..Stop are not captured.
func TestSwitch(t *testing.T) {
	var sw Switch
	srv := sunrpc.NewServer(sunrpc.Options{Tap: &sw})
	srv.Register(100003, 3, nullHandler{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.ServeTCP(l) }()
	defer func() {
		srv.Shutdown(context.Background())
		<-done
	}()
	c, err := sunrpc.Dial(context.Background(), "tcp", l.Addr().String(), sunrpc.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	c.Call(ctx, 100003, 3, 0, nil, nil) // before the capture
	if _, ok := sw.Status(); ok {
		t.Fatal("Status reports a capture before Start")
	}
	if _, err := sw.Stop(); err != ErrNotRunning {
		t.Fatalf("Stop before Start: %v", err)
	}
	path := filepath.Join(t.TempDir(), "sw.pcapng")
	if _, err := sw.Start(path, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := sw.Start(path+"2", Options{}); err != ErrRunning {
		t.Fatalf("second Start: %v, want ErrRunning", err)
	}
	for range 3 {
		if err := c.Call(ctx, 100003, 3, 0, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	st, err := sw.Stop()
	if err != nil {
		t.Fatal(err)
	}
	c.Call(ctx, 100003, 3, 0, nil, nil) // after the capture
	if st.Records != 6 {
		t.Fatalf("captured %d records, want 6", st.Records)
	}
	rep := analyze(t, path)
	if rep.Calls != 3 || rep.Replies != 3 || rep.Unanswered != 0 || rep.Orphans != 0 {
		t.Fatalf("trace: %d calls, %d replies, %d unanswered, %d orphans", rep.Calls, rep.Replies, rep.Unanswered, rep.Orphans)
	}
	if !bytes.Equal([]byte(rep.Messages[0].Program), []byte("NFS")) {
		t.Fatalf("program %q, want NFS", rep.Messages[0].Program)
	}
}
