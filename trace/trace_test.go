package trace

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gonfs/gonfs/proto/mountxdr"
	"github.com/gonfs/gonfs/proto/nfs3xdr"
	n4 "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/proto/nlmxdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/xdr"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func analyze(t *testing.T, file []byte, opts Options) *Report {
	t.Helper()
	rep, err := Analyze(bytes.NewReader(file), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range rep.Notes {
		if strings.Contains(n, "internal error") {
			t.Fatalf("decoder panic: %s", n)
		}
	}
	return rep
}

func text(t *testing.T, rep *Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := rep.WriteText(&b, false); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./trace -run %s -update)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("output differs from %s (rerun with -update and review the diff):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func findingOf(rep *Report, kind string) *Finding {
	for i := range rep.Findings {
		if rep.Findings[i].Kind == kind {
			return &rep.Findings[i]
		}
	}
	return nil
}

// procs summarises messages as "call|reply program proc status" for
// comparisons that do not depend on frame numbers.
func procs(rep *Report) []string {
	var out []string
	for _, m := range rep.Messages {
		kind := "call"
		if m.Reply {
			kind = "reply"
		}
		s := kind + " " + m.Program + " v" + m.Version + " " + m.Proc
		for _, o := range m.Ops {
			s += " " + o.Name
			if o.Status != "" {
				s += "=" + o.Status
			}
		}
		if m.Status != "" {
			s += " " + m.Status
		}
		if m.Problem != "" {
			s += " [" + m.Problem + "]"
		}
		out = append(out, s)
	}
	return out
}

var nfs3Want = []string{
	"call MOUNT v3 MNT", "reply MOUNT v3 MNT MNT3_OK",
	"call NFS v3 GETATTR", "reply NFS v3 GETATTR NFS3_OK",
	"call NFS v3 LOOKUP", "reply NFS v3 LOOKUP NFS3ERR_NOENT",
	"call NFS v3 READ", "reply NFS v3 READ NFS3_OK",
}

func TestNFSv3Golden(t *testing.T) {
	c := newCapture(t, linkEthernet)
	nfs3Session(c, "192.168.1.10:871", "192.168.1.2:2049")
	rep := analyze(t, c.pcap(), Options{})
	if got := procs(rep); !slices.Equal(got, nfs3Want) {
		t.Errorf("messages:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(nfs3Want, "\n"))
	}
	if len(rep.Findings) != 0 {
		t.Errorf("clean session has findings: %+v", rep.Findings)
	}
	golden(t, "nfs3.golden", text(t, rep))
}

// TestLinkAndFileFormats: one session reads the same from pcap and
// pcapng, over Ethernet and Linux cooked capture (tcpdump -i any), IPv4
// and IPv6.
func TestLinkAndFileFormats(t *testing.T) {
	for _, tc := range []struct {
		name     string
		link     link
		cli, srv string
	}{
		{"ethernet-ipv4", linkEthernet, "192.168.1.10:871", "192.168.1.2:2049"},
		{"ethernet-ipv6", linkEthernet, "[fd00::10]:871", "[fd00::2]:2049"},
		{"sll-ipv4", linkSLL, "192.168.1.10:871", "192.168.1.2:2049"},
		{"sll-ipv6", linkSLL, "[fd00::10]:871", "[fd00::2]:2049"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCapture(t, tc.link)
			nfs3Session(c, tc.cli, tc.srv)
			a := analyze(t, c.pcap(), Options{})
			b := analyze(t, c.pcapng(), Options{})
			if got := procs(a); !slices.Equal(got, nfs3Want) {
				t.Errorf("pcap: %q", got)
			}
			if ta, tb := text(t, a), text(t, b); ta != tb {
				t.Errorf("pcap and pcapng differ:\n%s\n---\n%s", ta, tb)
			}
			if a.Messages[0].Src != ap(tc.cli) {
				t.Errorf("source %v, want %v", a.Messages[0].Src, tc.cli)
			}
		})
	}
}

func TestNFSv41Golden(t *testing.T) {
	c := newCapture(t, linkEthernet)
	nfs41Session(c, "10.1.0.5:901", "10.1.0.1:2049")
	rep := analyze(t, c.pcapng(), Options{})
	want := []string{
		"call NFS v4.1 COMPOUND EXCHANGE_ID", "reply NFS v4.1 COMPOUND EXCHANGE_ID=NFS4_OK NFS4_OK",
		"call NFS v4.1 COMPOUND CREATE_SESSION", "reply NFS v4.1 COMPOUND CREATE_SESSION=NFS4_OK NFS4_OK",
		"call NFS v4.1 COMPOUND SEQUENCE RECLAIM_COMPLETE", "reply NFS v4.1 COMPOUND SEQUENCE=NFS4_OK RECLAIM_COMPLETE=NFS4_OK NFS4_OK",
		"call NFS v4.1 COMPOUND SEQUENCE PUTROOTFH LOOKUP GETATTR",
		"reply NFS v4.1 COMPOUND SEQUENCE=NFS4_OK PUTROOTFH=NFS4_OK LOOKUP=NFS4ERR_NOENT NFS4ERR_NOENT",
		"call NFS_CB v1 COMPOUND CB_SEQUENCE CB_RECALL", "reply NFS_CB v1 COMPOUND CB_SEQUENCE=NFS4_OK CB_RECALL=NFS4_OK NFS4_OK",
	}
	if got := procs(rep); !slices.Equal(got, want) {
		t.Errorf("messages:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	golden(t, "nfs41.golden", text(t, rep))
}

// TestCollision: the classic two clients with one owner (RFC 8881
// §2.4: the owner must be unique per client) is reported once, for the
// pair of addresses, as an error with the loop's statuses as evidence.
func TestCollision(t *testing.T) {
	c := newCapture(t, linkEthernet)
	collision(c)
	rep := analyze(t, c.pcap(), Options{})
	var got []Finding
	for _, f := range rep.Findings {
		if f.Kind == "client-owner-collision" {
			got = append(got, f)
		}
	}
	if len(got) != 1 {
		t.Fatalf("want one collision finding, got %+v", rep.Findings)
	}
	f := got[0]
	all := f.Summary + "\n" + strings.Join(f.Evidence, "\n")
	for _, want := range []string{"10.0.0.1 and 10.0.0.2", "BADSESSION", owner, "NFS4ERR_STALE_CLIENTID", "4× EXCHANGE_ID", "8× CREATE_SESSION"} {
		if !strings.Contains(all, want) {
			t.Errorf("finding lacks %q:\n%s", want, all)
		}
	}
	if f.Severity != SevError || !strings.Contains(f.Fix, "nfs4_unique_id") || !strings.Contains(f.Fix, "/sys/fs/nfs/net/nfs_client/identifier") {
		t.Errorf("severity %s fix %q", f.Severity, f.Fix)
	}
	if findingOf(rep, "errors") != nil {
		t.Errorf("the loop's statuses are reported again as hot spots: %+v", rep.Findings)
	}
	golden(t, "collision.golden", text(t, rep))
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	golden(t, "collision.json", js.String())
}

// TestNoCollision: one client that reboots (new verifier, once) and two
// clients with distinct owners are not collisions.
func TestNoCollision(t *testing.T) {
	c := newCapture(t, linkEthernet)
	a := c.dial("10.0.0.1:700", "10.0.0.9:2049")
	b := c.dial("10.0.0.2:700", "10.0.0.9:2049")
	a.call(rec(rpcCall(1, n4.NFS4_PROGRAM, 4, 1, v4(1, exchangeID("client-a", 1)))))
	a.reply(rec(rpcReply(1, v4res(n4.NFS4_OK, exchangeIDRes(n4.NFS4_OK, 1)))))
	b.call(rec(rpcCall(1, n4.NFS4_PROGRAM, 4, 1, v4(1, exchangeID("client-b", 1)))))
	b.reply(rec(rpcReply(1, v4res(n4.NFS4_OK, exchangeIDRes(n4.NFS4_OK, 2)))))
	a.call(rec(rpcCall(2, n4.NFS4_PROGRAM, 4, 1, v4(1, exchangeID("client-a", 2)))))
	a.reply(rec(rpcReply(2, v4res(n4.NFS4_OK, exchangeIDRes(n4.NFS4_OK, 3)))))
	rep := analyze(t, c.pcap(), Options{})
	if len(rep.Findings) != 0 {
		t.Errorf("findings: %+v", rep.Findings)
	}
}

// TestSetClientIDCollision: the NFSv4.0 variant with SETCLIENTID.
func TestSetClientIDCollision(t *testing.T) {
	c := newCapture(t, linkEthernet)
	xid := uint32(0)
	for _, cli := range []string{"10.0.0.1:700", "10.0.0.2:700", "10.0.0.1:701"} {
		k := c.dial(cli, "10.0.0.9:2049")
		xid++
		k.call(rec(rpcCall(xid, n4.NFS4_PROGRAM, 4, 1, v4(0, n4.NfsArgop4{Argop: n4.OP_SETCLIENTID,
			Opsetclientid: &n4.SETCLIENTID4args{Client: n4.NfsClientId4{Verifier: n4.Verifier4{byte(xid)}, Id: []byte("0.0.0.0/10.0.0.9 tcp UNIX 0")},
				Callback: n4.CbClient4{CbProgram: 0x40000000, CbLocation: n4.Netaddr4{NaRNetid: "tcp", NaRAddr: "10.0.0.1.3.4"}}}}))))
		k.reply(rec(rpcReply(xid, v4res(n4.NFS4_OK, n4.NfsResop4{Resop: n4.OP_SETCLIENTID, Opsetclientid: &n4.SETCLIENTID4res{Status: n4.NFS4_OK}}))))
		xid++
		k.call(rec(rpcCall(xid, n4.NFS4_PROGRAM, 4, 1, v4(0, n4.NfsArgop4{Argop: n4.OP_RENEW, Oprenew: &n4.RENEW4args{Clientid: 1}}))))
		k.reply(rec(rpcReply(xid, v4res(n4.NFS4ERR_STALE_CLIENTID, n4.NfsResop4{Resop: n4.OP_RENEW, Oprenew: &n4.RENEW4res{Status: n4.NFS4ERR_STALE_CLIENTID}}))))
	}
	rep := analyze(t, c.pcap(), Options{})
	f := findingOf(rep, "client-owner-collision")
	if f == nil || f.Severity != SevError || !strings.Contains(f.Summary, "SETCLIENTID") {
		t.Fatalf("findings: %+v", rep.Findings)
	}
}

func TestRetransmissionAndUnanswered(t *testing.T) {
	c := newCapture(t, linkEthernet)
	retransmit(c)
	rep := analyze(t, c.pcap(), Options{})
	if rep.Retransmissions != 1 || rep.Unanswered != 1 || rep.Calls != 4 || rep.Replies != 2 {
		t.Errorf("retransmissions %d unanswered %d calls %d replies %d", rep.Retransmissions, rep.Unanswered, rep.Calls, rep.Replies)
	}
	r := findingOf(rep, "retransmissions")
	if r == nil || !strings.Contains(strings.Join(r.Evidence, ""), "00000005") {
		t.Errorf("retransmission finding: %+v", r)
	}
	u := findingOf(rep, "unanswered")
	if u == nil || u.Severity != SevError || !strings.Contains(strings.Join(u.Evidence, ""), "xid 00000006") {
		t.Errorf("unanswered finding: %+v", u)
	}
	// The retransmitted call's latency counts from the first send.
	s := findingOf(rep, "slow")
	if s == nil || !strings.Contains(strings.Join(s.Evidence, ""), "NFSv3 GETATTR: 1 of 2 replies over 1s") {
		t.Errorf("slow finding: %+v", s)
	}
	golden(t, "retransmit.golden", text(t, rep))

	// A higher threshold: nothing is slow.
	rep = analyze(t, c.pcap(), Options{Slow: 5 * time.Second})
	if findingOf(rep, "slow") != nil {
		t.Errorf("slow with --slow 5s: %+v", rep.Findings)
	}
}

// TestRetransmitNewConnection: a client that reconnects and resends the
// call on a new connection; the reply there answers the original call.
func TestRetransmitNewConnection(t *testing.T) {
	c := newCapture(t, linkEthernet)
	call, reply := nfs3Getattr(9)
	k := c.dial("10.0.0.1:800", "10.0.0.9:2049")
	k.call(call)
	c.wait(time.Second)
	k.close()
	k2 := c.dial("10.0.0.1:801", "10.0.0.9:2049")
	k2.call(call)
	k2.reply(reply)
	rep := analyze(t, c.pcap(), Options{})
	if rep.Retransmissions != 1 || rep.Unanswered != 0 || rep.Replies != 1 {
		t.Errorf("retransmissions %d unanswered %d replies %d: %s", rep.Retransmissions, rep.Unanswered, rep.Replies, text(t, rep))
	}
}

// TestTCPReassembly: records split across segments and fragments,
// segments out of order and duplicated, all decode once.
func TestTCPReassembly(t *testing.T) {
	for _, tc := range []struct {
		name  string
		frags []int // fragment sizes of the READ reply record
		order []int // order in which its segments are written
		dup   bool
	}{
		{"in-order", nil, []int{0, 1, 2}, false},
		{"out-of-order", nil, []int{2, 0, 1}, false},
		{"reversed-duplicates", nil, []int{2, 1, 1, 0, 2}, true},
		{"fragments", []int{100, 2000}, []int{0, 1, 2}, false},
		{"fragments-out-of-order", []int{7, 1444, 1}, []int{1, 2, 0}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCapture(t, linkEthernet)
			k := c.dial("10.0.0.1:800", "10.0.0.9:2049")
			call, _ := nfs3Getattr(1)
			k.call(call)
			msg := rpcReply(1, &nfs3xdr.READ3res{Status: nfs3xdr.NFS3_OK, Resok: nfs3xdr.READ3resok{Count: 3000, Data: make([]byte, 3000)}})
			r := rec(msg, tc.frags...)
			cut := []int{0, len(r) / 3, 2 * len(r) / 3, len(r)}
			var segs [][]byte
			for i := range 3 {
				segs = append(segs, k.seg(false, r[cut[i]:cut[i+1]]))
			}
			for _, i := range tc.order {
				c.put(segs[i])
			}
			call2, reply2 := nfs3Getattr(2)
			k.call(call2)
			k.reply(reply2)
			rep := analyze(t, c.pcap(), Options{})
			if rep.Replies != 2 || rep.Orphans != 0 || len(rep.Notes) != 0 {
				t.Errorf("replies %d orphans %d notes %q\n%s", rep.Replies, rep.Orphans, rep.Notes, text(t, rep))
			}
		})
	}
}

// TestGapResync: a lost segment in the middle of a record; the stream
// picks up again at the next record mark.
func TestGapResync(t *testing.T) {
	c := newCapture(t, linkEthernet)
	k := c.dial("10.0.0.1:800", "10.0.0.9:2049")
	call1, _ := nfs3Getattr(1)
	call2, reply2 := nfs3Getattr(2)
	k.call(call1)
	r := rec(rpcReply(1, &nfs3xdr.READ3res{Status: nfs3xdr.NFS3_OK, Resok: nfs3xdr.READ3resok{Count: 3000, Data: make([]byte, 3000)}}))
	c.put(k.seg(false, r[:1000]))
	k.seg(false, r[1000:2000]) // lost
	c.put(k.seg(false, r[2000:]))
	k.call(call2)
	k.reply(reply2)
	rep := analyze(t, c.pcap(), Options{})
	got := procs(rep)
	want := []string{"call NFS v3 GETATTR", "call NFS v3 GETATTR", "reply NFS v3 GETATTR NFS3_OK"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q want %q", got, want)
	}
	if f := findingOf(rep, "capture"); f == nil || !strings.Contains(strings.Join(f.Evidence, ""), "missing") {
		t.Errorf("no note of the hole: %+v %q", rep.Findings, rep.Notes)
	}
}

// TestMidStreamStart: the capture began after the connection did, in the
// middle of a record.
func TestMidStreamStart(t *testing.T) {
	c := newCapture(t, linkEthernet)
	k := c.joined("10.0.0.1:800", "10.0.0.9:2049")
	call1, _ := nfs3Getattr(1)
	k.send(true, call1[20:]) // tail of a call whose start was not captured
	call2, reply2 := nfs3Getattr(2)
	k.call(call2)
	k.reply(reply2)
	rep := analyze(t, c.pcap(), Options{})
	want := []string{"call NFS v3 GETATTR", "reply NFS v3 GETATTR NFS3_OK"}
	if got := procs(rep); !slices.Equal(got, want) {
		t.Errorf("got %q want %q", got, want)
	}
}

// TestAnyPort: RPC on a port nobody told us about is found by its call
// header; a non-RPC connection is not mistaken for it.
func TestAnyPort(t *testing.T) {
	c := newCapture(t, linkEthernet)
	h := c.dial("10.0.0.1:5000", "10.0.0.9:80")
	h.call([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	h.reply(bytes.Repeat([]byte("<html>hello</html>"), 100))
	nfs3Session(c, "10.0.0.1:871", "10.0.0.9:20049")
	rep := analyze(t, c.pcap(), Options{})
	if got := procs(rep); !slices.Equal(got, nfs3Want) {
		t.Errorf("got %q", got)
	}
}

// TestUDP: MOUNT and NLM over UDP, including the NLM grace-period
// refusals of a restarted server.
func TestUDP(t *testing.T) {
	c := newCapture(t, linkEthernet)
	cli, srv := ap("10.0.0.1:900"), ap("10.0.0.9:4045")
	c.udp(cli, ap("10.0.0.9:635"), rpcCall(1, mountxdr.MOUNT_PROGRAM, 3, mountxdr.MOUNTPROC3_MNT, ptr(mountxdr.Dirpath("/x"))))
	c.udp(ap("10.0.0.9:635"), cli, rpcReply(1, &mountxdr.Mountres3{FhsStatus: mountxdr.MNT3ERR_ACCES}))
	for i := range 12 {
		xid := uint32(100 + i)
		c.udp(cli, srv, rpcCall(xid, nlmxdr.NLM_PROG, 4, nlmxdr.NLMPROC4_LOCK, &nlmxdr.Nlm4Lockargs{
			Alock: nlmxdr.Nlm4Lock{CallerName: "client", Svid: 42, LLen: 1}}))
		c.udp(srv, cli, rpcReply(xid, &nlmxdr.Nlm4Res{Stat: nlmxdr.Nlm4Stat{Stat: nlmxdr.NLM4_DENIED_GRACE_PERIOD}}))
	}
	// A datagram that is not RPC.
	c.udp(cli, srv, []byte("hello, this is not an RPC message at all"))
	rep := analyze(t, c.pcap(), Options{})
	if rep.Calls != 13 || rep.Replies != 13 {
		t.Errorf("calls %d replies %d", rep.Calls, rep.Replies)
	}
	if got := procs(rep)[1]; got != "reply MOUNT v3 MNT MNT3ERR_ACCES" {
		t.Errorf("MNT reply: %q", got)
	}
	g := findingOf(rep, "grace-storm")
	if g == nil || !strings.Contains(strings.Join(g.Evidence, ""), "12× NLM4_DENIED_GRACE_PERIOD on NLMv4 LOCK") {
		t.Errorf("grace storm: %+v", rep.Findings)
	}
}

// TestStorms: stale handles, grace refusals and NFS4ERR_DELAY on OPEN.
func TestStorms(t *testing.T) {
	c := newCapture(t, linkEthernet)
	k := c.dial("10.0.0.1:800", "10.0.0.9:2049")
	xid := uint32(0)
	for range 11 {
		xid++
		k.call(rec(rpcCall(xid, nfs3xdr.NFS_PROGRAM, 3, nfs3xdr.NFSPROC3_GETATTR, &nfs3xdr.GETATTR3args{Object: fh3})))
		k.reply(rec(rpcReply(xid, &nfs3xdr.GETATTR3res{Status: nfs3xdr.NFS3ERR_STALE})))
	}
	for _, st := range []n4.Nfsstat4{n4.NFS4ERR_GRACE, n4.NFS4ERR_DELAY} {
		for range 10 {
			xid++
			k.call(rec(rpcCall(xid, n4.NFS4_PROGRAM, 4, 1, v4(2, sequence(0, xid), op(n4.OP_PUTROOTFH), op(n4.OP_OPEN)))))
			k.reply(rec(rpcReply(xid, v4res(st, sequenceRes(n4.NFS4_OK), simpleRes(n4.OP_PUTROOTFH, n4.NFS4_OK), simpleRes(n4.OP_OPEN, st)))))
		}
	}
	// An RPC-level error.
	xid++
	k.call(rec(rpcCall(xid, 100003, 3, 99, &nfs3xdr.GETATTR3args{})))
	k.reply(rec(rpcAcceptErr(xid, rpcxdr.PROC_UNAVAIL)))
	rep := analyze(t, c.pcap(), Options{})
	for kind, want := range map[string]string{
		"stale-storm": "11× NFS3ERR_STALE on NFSv3 GETATTR",
		"grace-storm": "10× NFS4ERR_GRACE on NFSv4 OPEN",
		"errors":      "10× NFS4ERR_DELAY on NFSv4 OPEN",
	} {
		f := findingOf(rep, kind)
		if f == nil || !strings.Contains(f.Summary+strings.Join(f.Evidence, ""), want) {
			t.Errorf("%s: want %q in %+v", kind, want, f)
		}
	}
	if i := slices.IndexFunc(rep.Errors, func(e ErrorCount) bool { return e.Status == "PROC_UNAVAIL" }); i < 0 {
		t.Errorf("PROC_UNAVAIL not counted: %+v", rep.Errors)
	}
	if rep.Messages[len(rep.Messages)-2].Proc != "proc 99" {
		t.Errorf("unknown procedure shown as %q", rep.Messages[len(rep.Messages)-2].Proc)
	}
}

// TestUnknownOp: an op this decoder does not know still shows the ops
// before it.
func TestUnknownOp(t *testing.T) {
	c := newCapture(t, linkEthernet)
	k := c.dial("10.0.0.1:800", "10.0.0.9:2049")
	w := xdr.NewWriter(nil)
	w.String("") // tag
	w.Uint32(2)  // minor version
	w.Uint32(3)  // three ops
	seq, root := sequence(0, 1), op(n4.OP_PUTROOTFH)
	seq.Encode(w)
	root.Encode(w)
	w.Uint32(999) // an op number nobody assigned
	w.Uint32(1234)
	body := rpcCall(1, n4.NFS4_PROGRAM, 4, 1, rawBytes(w.Bytes()))
	k.call(rec(body))
	k.reply(rec(rpcReply(1, v4res(n4.NFS4ERR_OP_ILLEGAL, sequenceRes(n4.NFS4_OK), simpleRes(n4.OP_PUTROOTFH, n4.NFS4_OK),
		n4.NfsResop4{Resop: n4.OP_ILLEGAL, Opillegal: &n4.ILLEGAL4res{Status: n4.NFS4ERR_OP_ILLEGAL}}))))
	rep := analyze(t, c.pcap(), Options{})
	got := procs(rep)
	if len(got) != 2 || !strings.HasPrefix(got[0], "call NFS v4.2 COMPOUND SEQUENCE PUTROOTFH nfs_opnum4(999) [op 3 (nfs_opnum4(999)) does not decode") ||
		got[1] != "reply NFS v4.2 COMPOUND SEQUENCE=NFS4_OK PUTROOTFH=NFS4_OK ILLEGAL=NFS4ERR_OP_ILLEGAL NFS4ERR_OP_ILLEGAL" {
		t.Errorf("got %q", got)
	}
}

// rawBytes are arguments encoded by hand.
type rawBytes []byte

func (b rawBytes) Encode(w *xdr.Writer) { w.Buf = append(w.Buf, b...) }

// TestTruncated: a capture cut anywhere yields what came before and says
// where it stopped; never an error after the file header, never a panic.
func TestTruncated(t *testing.T) {
	c := newCapture(t, linkEthernet)
	nfs3Session(c, "192.168.1.10:871", "192.168.1.2:2049")
	for _, file := range [][]byte{c.pcap(), c.pcapng()} {
		for n := 128; n < len(file); n += 7 {
			rep, err := Analyze(bytes.NewReader(file[:n]), Options{})
			if err != nil {
				t.Fatalf("cut at %d: %v", n, err)
			}
			for _, note := range rep.Notes {
				if strings.Contains(note, "internal error") {
					t.Fatalf("cut at %d: %s", n, note)
				}
			}
		}
	}
	// Cut inside the last frame.
	file := c.pcap()
	rep := analyze(t, file[:len(file)-30], Options{})
	f := findingOf(rep, "capture")
	if f == nil || !strings.Contains(f.Summary, "truncated after frame") {
		t.Errorf("findings %+v", rep.Findings)
	}
	if _, err := Analyze(bytes.NewReader([]byte("not a capture")), Options{}); err == nil {
		t.Error("garbage accepted as a capture")
	}
}

// TestMidRecordEnd: the capture stops in the middle of a record.
func TestMidRecordEnd(t *testing.T) {
	c := newCapture(t, linkEthernet)
	k := c.dial("10.0.0.1:800", "10.0.0.9:2049")
	call, _ := nfs3Getattr(1)
	k.call(call)
	r := rec(rpcReply(1, &nfs3xdr.READ3res{Status: nfs3xdr.NFS3_OK, Resok: nfs3xdr.READ3resok{Count: 3000, Data: make([]byte, 3000)}}))
	k.send(false, r[:1448])
	rep := analyze(t, c.pcap(), Options{})
	f := findingOf(rep, "capture")
	if f == nil || f.Summary != "capture ends mid-record at frame 5" {
		t.Errorf("findings %+v", rep.Findings)
	}
	if u := findingOf(rep, "unanswered"); u == nil || u.Severity != SevInfo {
		t.Errorf("the cut call should be unanswered at the capture's end: %+v", rep.Findings)
	}
}

// TestSnaplen: frames cut by the snapshot length are reported.
func TestSnaplen(t *testing.T) {
	c := newCapture(t, linkEthernet)
	nfs3Session(c, "192.168.1.10:871", "192.168.1.2:2049")
	for i := range c.frames {
		if len(c.frames[i].data) > 1000 {
			c.frames[i].cut = 200
		}
	}
	rep := analyze(t, c.pcap(), Options{})
	f := findingOf(rep, "capture")
	if f == nil || !strings.Contains(strings.Join(f.Evidence, ""), "snapshot length") {
		t.Errorf("findings %+v", rep.Findings)
	}
	if rep.Calls != 4 {
		t.Errorf("calls %d", rep.Calls)
	}
}

func TestSummaryOnly(t *testing.T) {
	c := newCapture(t, linkEthernet)
	nfs3Session(c, "192.168.1.10:871", "192.168.1.2:2049")
	rep := analyze(t, c.pcap(), Options{SummaryOnly: true})
	if len(rep.Messages) != 0 || rep.Calls != 4 {
		t.Errorf("messages %d calls %d", len(rep.Messages), rep.Calls)
	}
	var b bytes.Buffer
	rep.WriteText(&b, true)
	if strings.Contains(b.String(), "xid") || !strings.Contains(b.String(), "NFSv3 READ") {
		t.Errorf("summary:\n%s", b.String())
	}
}

// TestSequenceDistance: segments 2^31 away from the expected sequence
// number, in either direction (a fuzz crasher: negating the distance
// overflowed int32).
func TestSequenceDistance(t *testing.T) {
	for _, off := range []uint32{0x80000000, 0x7fffffff, 0x80000001} {
		c := newCapture(t, linkEthernet)
		k := c.dial("10.0.0.1:800", "10.0.0.9:2049")
		call, reply := nfs3Getattr(1)
		c.put(c.tcpFrame(k.cli, k.srv, k.cseq+off, k.sseq, "PA", call))
		k.call(call)
		k.reply(reply)
		rep := analyze(t, c.pcap(), Options{})
		if rep.Replies != 1 {
			t.Errorf("offset %#x: %d replies", off, rep.Replies)
		}
	}
}
