package wirecheck

import (
	"context"
	"errors"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// line builds one tshark field line in the order of fields; lists are
// joined with the aggregator.
func line(frame, tcp, udp string, xids, types []string, malformed string, sevs, msgs []string) string {
	return contLine(frame, tcp, udp, xids, types, malformed, sevs, msgs, "")
}

// contLine is line with rpc.continuation_data.
func contLine(frame, tcp, udp string, xids, types []string, malformed string, sevs, msgs []string, cont string) string {
	j := func(s []string) string { return strings.Join(s, aggregator) }
	return strings.Join([]string{frame, tcp, udp, j(xids), j(types), malformed, j(sevs), j(msgs), cont, "", "", "", "2049", ""}, "\t")
}

// procLine is a line of RPC messages on TCP stream 0 with the programs,
// versions and procedures Wireshark gives them.
func procLine(frame string, xids, types, progs, vers, procs []string) string {
	j := func(s []string) string { return strings.Join(s, aggregator) }
	return strings.Join([]string{frame, "0", "", j(xids), j(types), "", "", "", "", j(progs), j(vers), j(procs), "", ""}, "\t")
}

func TestParseFields(t *testing.T) {
	const errSev, warnSev = "8388608", "6291456"
	tests := []struct {
		name                     string
		lines                    []string
		frames, calls, replies   int
		unmatched, malformed, ee []int // frame numbers of the problems
	}{
		{
			name: "call and reply",
			lines: []string{
				line("1", "0", "", []string{"0x00000001"}, []string{"0"}, "", nil, nil),
				line("2", "0", "", []string{"0x00000001"}, []string{"1"}, "", nil, nil),
			},
			frames: 2, calls: 1, replies: 1,
		},
		{
			name: "two calls in one frame, replies in two",
			lines: []string{
				line("1", "3", "", []string{"0x0000000a", "0x0000000b"}, []string{"0", "0"}, "", nil, nil),
				line("2", "3", "", []string{"0x0000000b"}, []string{"1"}, "", nil, nil),
				line("3", "3", "", []string{"0x0000000a"}, []string{"1"}, "", nil, nil),
			},
			frames: 3, calls: 2, replies: 2,
		},
		{
			name: "call without reply",
			lines: []string{
				line("1", "0", "", []string{"0x00000001"}, []string{"0"}, "", nil, nil),
				line("2", "0", "", []string{"0x00000002"}, []string{"0"}, "", nil, nil),
				line("3", "0", "", []string{"0x00000002"}, []string{"1"}, "", nil, nil),
			},
			frames: 3, calls: 2, replies: 1, unmatched: []int{1},
		},
		{
			name: "reply on another connection does not match",
			lines: []string{
				line("1", "0", "", []string{"0x00000001"}, []string{"0"}, "", nil, nil),
				line("2", "1", "", []string{"0x00000001"}, []string{"1"}, "", nil, nil),
			},
			frames: 2, calls: 1, replies: 1, unmatched: []int{1, 2},
		},
		{
			name: "udp retransmission answered once",
			lines: []string{
				line("1", "", "0", []string{"0x00000007"}, []string{"0"}, "", nil, nil),
				line("2", "", "0", []string{"0x00000007"}, []string{"0"}, "", nil, nil),
				line("3", "", "0", []string{"0x00000007"}, []string{"1"}, "", nil, nil),
			},
			frames: 3, calls: 2, replies: 1,
		},
		{
			name: "malformed frame",
			lines: []string{
				line("1", "0", "", nil, nil, "_ws.malformed", []string{errSev}, []string{"Malformed Packet (Exception occurred)"}),
			},
			frames: 1, malformed: []int{1},
		},
		{
			name: "warnings are not problems, errors are",
			lines: []string{
				line("1", "0", "", nil, nil, "", []string{warnSev}, []string{"Connection reset (RST)"}),
				line("2", "0", "", nil, nil, "", []string{warnSev, errSev}, []string{"a, b", "bad, very"}),
			},
			frames: 2, ee: []int{2},
		},
		{
			name: "data the dissector cannot frame",
			lines: []string{
				line("1", "0", "", []string{"0x00000001"}, []string{"0"}, "", nil, nil),
				line("2", "0", "", []string{"0x00000001"}, []string{"1"}, "", nil, nil),
				contLine("3", "0", "", nil, nil, "", nil, nil, "800000080000123400000001"),
			},
			frames: 3, calls: 1, replies: 1, unmatched: []int{3},
		},
		{
			name: "unknown message type",
			lines: []string{
				line("1", "0", "", []string{"0x00000001"}, []string{"7"}, "", nil, nil),
			},
			frames: 1, ee: []int{1},
		},
	}
	frames := func(ps []Problem) []int {
		var out []int
		for _, p := range ps {
			out = append(out, p.Frame)
		}
		return out
	}
	eq := func(a, b []int) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rep Report
			if err := parseFields(strings.NewReader(strings.Join(tt.lines, "\n")+"\n"), &rep); err != nil {
				t.Fatal(err)
			}
			if rep.Frames != tt.frames || rep.Calls != tt.calls || rep.Replies != tt.replies {
				t.Errorf("frames/calls/replies = %d/%d/%d, want %d/%d/%d",
					rep.Frames, rep.Calls, rep.Replies, tt.frames, tt.calls, tt.replies)
			}
			if got := frames(rep.Unmatched); !eq(got, tt.unmatched) {
				t.Errorf("unmatched frames %v, want %v", got, tt.unmatched)
			}
			for _, p := range rep.Unmatched {
				if strings.Contains(p.Detail, "cannot dissect") && p.DstPort != 2049 {
					t.Errorf("undissected frame %d: DstPort %d, want the 2049 of its line", p.Frame, p.DstPort)
				}
			}
			if got := frames(rep.Malformed); !eq(got, tt.malformed) {
				t.Errorf("malformed frames %v, want %v", got, tt.malformed)
			}
			if got := frames(rep.Errors); !eq(got, tt.ee) {
				t.Errorf("error frames %v, want %v", got, tt.ee)
			}
			wantOK := len(tt.unmatched)+len(tt.malformed)+len(tt.ee) == 0
			if rep.OK() != wantOK || (rep.Err() == nil) != wantOK {
				t.Errorf("OK() = %v, Err() = %v; want OK %v", rep.OK(), rep.Err(), wantOK)
			}
		})
	}
}

// TestParseFieldsProcs: calls are counted per program, version and
// procedure, whichever way Wireshark lists the versions of a frame, and
// a frame whose messages cannot be told apart is an error, not a guess.
func TestParseFieldsProcs(t *testing.T) {
	const nfs, mnt = "100003", "100005"
	ss := func(v ...string) []string { return v }
	tests := []struct {
		name  string
		lines []string
		calls int
		want  map[Proc]int
		ee    []int // frames with errors
	}{
		{
			name: "call and reply, version repeated by the program's dissector",
			lines: []string{
				procLine("1", ss("0x1"), ss("0"), ss(nfs), ss("3", "3"), ss("1")),
				procLine("2", ss("0x1"), ss("1"), ss(nfs), ss("3", "3"), ss("1")),
			},
			calls: 1, want: map[Proc]int{{100003, 3, 1}: 1},
		},
		{
			name: "two programs and versions in one frame",
			lines: []string{
				procLine("1", ss("0x1", "0x2"), ss("0", "0"), ss(nfs, mnt), ss("4", "4", "3", "3"), ss("1", "5")),
				procLine("2", ss("0x1", "0x2"), ss("1", "1"), ss(nfs, mnt), ss("4", "4", "3", "3"), ss("1", "5")),
			},
			calls: 2, want: map[Proc]int{{100003, 4, 1}: 1, {100005, 3, 5}: 1},
		},
		{
			name: "one version per message",
			lines: []string{
				procLine("1", ss("0x1", "0x2"), ss("0", "0"), ss(nfs, mnt), ss("4", "3"), ss("0", "0")),
				procLine("2", ss("0x1", "0x2"), ss("1", "1"), ss(nfs, mnt), ss("4", "3"), ss("0", "0")),
			},
			calls: 2, want: map[Proc]int{{100003, 4, 0}: 1, {100005, 3, 0}: 1},
		},
		{
			name: "a call beside an error reply: all versions alike",
			lines: []string{
				procLine("1", ss("0x1"), ss("0"), ss(nfs), ss("3", "3"), ss("7")),
				procLine("2", ss("0x1", "0x2"), ss("1", "0"), ss(nfs, nfs), ss("3", "3", "3"), ss("7", "8")),
				procLine("3", ss("0x2"), ss("1"), ss(nfs), ss("3", "3"), ss("8")),
			},
			calls: 2, want: map[Proc]int{{100003, 3, 7}: 1, {100003, 3, 8}: 1},
		},
		{
			name: "a retransmitted call counts again, as in Calls",
			lines: []string{
				procLine("1", ss("0x1"), ss("0"), ss(nfs), ss("3", "3"), ss("6")),
				procLine("2", ss("0x1"), ss("0"), ss(nfs), ss("3", "3"), ss("6")),
				procLine("3", ss("0x1"), ss("1"), ss(nfs), ss("3", "3"), ss("6")),
			},
			calls: 2, want: map[Proc]int{{100003, 3, 6}: 2},
		},
		{
			name: "versions that cannot be told apart",
			lines: []string{
				procLine("1", ss("0x1", "0x2"), ss("0", "0"), ss(nfs, mnt), ss("3", "4", "4"), ss("1", "1")),
			},
			calls: 2, want: map[Proc]int{}, ee: []int{1},
		},
		{
			name: "a message without its program",
			lines: []string{
				procLine("1", ss("0x1", "0x2"), ss("0", "0"), ss(nfs), ss("3", "3"), ss("1", "1")),
			},
			calls: 2, want: map[Proc]int{}, ee: []int{1},
		},
		{
			name: "a procedure that is not a number",
			lines: []string{
				procLine("1", ss("0x1"), ss("0"), ss(nfs), ss("3"), ss("GETATTR")),
			},
			calls: 1, want: map[Proc]int{}, ee: []int{1},
		},
		{
			name:  "frames without RPC",
			lines: []string{line("1", "0", "", nil, nil, "", nil, nil)},
			want:  map[Proc]int{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rep Report
			if err := parseFields(strings.NewReader(strings.Join(tt.lines, "\n")+"\n"), &rep); err != nil {
				t.Fatal(err)
			}
			if rep.Calls != tt.calls {
				t.Errorf("%d calls, want %d", rep.Calls, tt.calls)
			}
			if !maps.Equal(rep.Procs, tt.want) {
				t.Errorf("procs %v, want %v", rep.Procs, tt.want)
			}
			var ee []int
			for _, p := range rep.Errors {
				ee = append(ee, p.Frame)
			}
			if !slices.Equal(ee, tt.ee) {
				t.Errorf("error frames %v, want %v (%v)", ee, tt.ee, rep.Errors)
			}
		})
	}
}

func TestParseFieldsRejectsBadLines(t *testing.T) {
	for _, in := range []string{
		"1\t0\n", // too few columns
		line("x", "0", "", nil, nil, "", nil, nil),
		line("1", "0", "", []string{"zz"}, []string{"0"}, "", nil, nil),
		line("1", "0", "", nil, nil, "", []string{"high"}, []string{"m"}),
	} {
		var rep Report
		if err := parseFields(strings.NewReader(in+"\n"), &rep); err == nil {
			t.Errorf("parseFields(%q) succeeded", in)
		}
	}
}

func TestParseDropped(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int
	}{
		{"Capturing on 'Loopback: lo'; 12 packets captured", 0},
		{"Capturing on 'Loopback: lo'; 12 packets captured (3 dropped)", 3},
		{"5 packets dropped", 5},
		{"1 packet dropped", 1},
		{"", 0},
	} {
		if got := parseDropped(tt.in); got != tt.want {
			t.Errorf("parseDropped(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestReportString(t *testing.T) {
	r := Report{File: "f.pcap", Frames: 3, Calls: 1, Replies: 1}
	for i := range maxListed + 2 {
		r.Malformed = append(r.Malformed, Problem{Frame: i + 1, Detail: "bad"})
	}
	r.Unmatched = []Problem{{Frame: 9, XID: 0xabc, Detail: "call without reply on tcp/0"}}
	s := r.String()
	for _, want := range []string{
		"f.pcap: 3 frames, 1 calls, 1 replies; 1 unmatched, 22 malformed, 0 errors",
		"unmatched: frame 9 xid 0x00000abc: call without reply on tcp/0",
		"malformed: frame 20: bad",
		"malformed: ... 2 more",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("String() lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "frame 21:") {
		t.Errorf("String() lists more than %d problems of a kind:\n%s", maxListed, s)
	}
}

// nullServer serves procedure 0 (NULL) of NFS version 3, over TCP and UDP
// on one loopback port. It has to be a program Wireshark knows: it shows
// calls of unknown programs as mere "Continuation" data.
func nullServer(t *testing.T) (port int) {
	t.Helper()
	srv := sunrpc.NewServer(sunrpc.Options{})
	srv.Register(testProg, testVers, sunrpc.HandlerFunc(func(ctx context.Context, c *sunrpc.Call, w *xdr.Writer) sunrpc.Status {
		if c.Proc != 0 {
			return sunrpc.ProcUnavail
		}
		return sunrpc.Success
	}))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", l.Addr().String())
	if err != nil {
		l.Close()
		t.Fatal(err)
	}
	done := make(chan struct{}, 2)
	go func() { srv.ServeTCP(l); done <- struct{}{} }()
	go func() { srv.ServeUDP(pc); done <- struct{}{} }()
	t.Cleanup(func() {
		srv.Shutdown(context.Background())
		<-done
		<-done
	})
	return l.Addr().(*net.TCPAddr).Port
}

const testProg, testVers = 100003, 3

func startCapture(t *testing.T, port int) *Capture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Start(ctx, "lo", port, t.TempDir())
	if errors.Is(err, ErrUnavailable) {
		t.Skipf("wirecheck: %v (install tshark and run as root to capture)", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCaptureClean checks that well-formed traffic over TCP and UDP gives
// a clean report with every call counted.
func TestCaptureClean(t *testing.T) {
	port := nullServer(t)
	c := startCapture(t, port)
	ctx := context.Background()
	const n = 5
	for _, network := range []string{"tcp", "udp"} {
		cl, err := sunrpc.Dial(ctx, network, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), sunrpc.ClientOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for range n {
			if err := cl.Call(ctx, testProg, testVers, 0, nil, nil); err != nil {
				t.Fatal(err)
			}
		}
		// A procedure the server lacks: its reply (PROC_UNAVAIL) is
		// still matched, and the call still counted under its number.
		if err := cl.Call(ctx, testProg, testVers, unknownProc, nil, nil); err == nil {
			t.Fatalf("procedure %d succeeded", unknownProc)
		}
		cl.Close()
	}
	rep, err := c.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Errorf("clean traffic: %s", rep)
	}
	if rep.Calls != 2*(n+1) || rep.Replies != 2*(n+1) {
		t.Errorf("counted %d calls and %d replies, want %d each: %s", rep.Calls, rep.Replies, 2*(n+1), rep)
	}
	want := map[Proc]int{{testProg, testVers, 0}: 2 * n, {testProg, testVers, unknownProc}: 2}
	if !maps.Equal(rep.Procs, want) {
		t.Errorf("calls per procedure %v, want %v", rep.Procs, want)
	}
}

// unknownProc is a procedure number NFSv3 does not have.
const unknownProc = 99

// TestCaptureFindsBrokenTraffic checks that the checker can fail: a reply
// the server never asked for and a garbage record must both show up.
func TestCaptureFindsBrokenTraffic(t *testing.T) {
	port := nullServer(t)
	c := startCapture(t, port)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	// A REPLY message sent to the server: the server drops it, and
	// tshark has no call for it.
	send(t, addr, record(0x1234, 1, nil))
	// Garbage in an RPC record: an unknown message type.
	send(t, addr, record(0x3456, 7, []byte("garbage garbage garbage")))
	// A stray reply over UDP.
	uc, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	uc.Write(record(0x4567, 1, nil)[4:])
	uc.Close()
	// A GETATTR whose file handle claims 64 bytes and has 4: the
	// dissector runs off the end of the call.
	cl, err := sunrpc.Dial(context.Background(), "tcp", addr, sunrpc.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cl.CallRaw(context.Background(), sunrpc.CallHeader{Prog: testProg, Vers: testVers, Proc: 1},
		[]byte{0, 0, 0, 64, 1, 2, 3, 4})
	cl.Close()
	if err == nil {
		t.Fatal("NULL server accepted procedure 1")
	}

	rep, err := c.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() {
		t.Fatalf("broken traffic passed: %s", rep)
	}
	// Wireshark's RPC dissector frames neither a reply without a call
	// nor an unknown message type: both stay undissected data, one
	// problem each on TCP, and the stray datagram one more.
	if n := len(rep.Unmatched); n < 3 {
		t.Errorf("%d unmatched, want 3: %s", n, rep)
	}
	if len(rep.Malformed) == 0 {
		t.Errorf("the truncated GETATTR is not malformed: %s", rep)
	}
	t.Logf("report on broken traffic: %s", rep)
}

// record frames an RPC message of msgType with body as one TCP record.
func record(xid, msgType uint32, body []byte) []byte {
	var w xdr.Writer
	w.Uint32(1<<31 | uint32(8+len(body)))
	w.Uint32(xid)
	w.Uint32(msgType)
	return append(w.Buf, body...)
}

// send writes b on a new connection and waits until the server has closed
// it or b is read (a short read deadline keeps a silent server from
// blocking the test).
func send(t *testing.T, addr string, b []byte) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write(b); err != nil {
		t.Fatal(err)
	}
	nc.(*net.TCPConn).CloseWrite()
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var buf [512]byte
	for {
		if _, err := nc.Read(buf[:]); err != nil {
			return
		}
	}
}
