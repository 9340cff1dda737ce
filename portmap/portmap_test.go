package portmap

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/gonfs/gonfs/proto/pmapxdr"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

var testTime = time.Unix(1700000000, 0)

// testMappings are what a gonfs serving NFS, MOUNT and NLM registers.
var testMappings = []Mapping{
	{Prog: 100003, Vers: 3, Netid: "tcp", Addr: netip.MustParseAddrPort("127.0.0.1:2049"), Owner: "gonfs"},
	{Prog: 100003, Vers: 3, Netid: "udp", Addr: netip.MustParseAddrPort("127.0.0.1:2049"), Owner: "gonfs"},
	{Prog: 100003, Vers: 4, Netid: "tcp", Addr: netip.MustParseAddrPort("127.0.0.1:2049"), Owner: "gonfs"},
	{Prog: 100003, Vers: 3, Netid: "tcp6", Addr: netip.MustParseAddrPort("[::1]:2049"), Owner: "gonfs"},
	{Prog: 100005, Vers: 3, Netid: "tcp", Addr: netip.MustParseAddrPort("127.0.0.1:20048"), Owner: "gonfs"},
	{Prog: 100021, Vers: 4, Netid: "tcp", Addr: netip.MustParseAddrPort("0.0.0.0:4045"), Owner: "gonfs"},
}

// serve registers h for program 100000 in the given versions on
// 127.0.0.1 (TCP and UDP, one port) until the test ends, and returns the
// address.
func serve(t *testing.T, h sunrpc.Handler, versions ...uint32) string {
	t.Helper()
	rpc := sunrpc.NewServer(sunrpc.Options{})
	for _, v := range versions {
		rpc.Register(pmapxdr.PMAP_PROG, v, h)
	}
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
	go func() { rpc.ServeTCP(l); done <- struct{}{} }()
	go func() { rpc.ServeUDP(pc); done <- struct{}{} }()
	t.Cleanup(func() {
		rpc.Close()
		<-done
		<-done
	})
	return l.Addr().String()
}

// start serves a portmap Server holding testMappings.
func start(t *testing.T) (*Server, string) {
	t.Helper()
	s := New(Options{Clock: func() time.Time { return testTime }})
	for _, m := range testMappings {
		if err := s.Set(m); err != nil {
			t.Fatal(err)
		}
	}
	return s, serve(t, s, Versions...)
}

func dialT(t *testing.T, network, addr string) *sunrpc.Client {
	t.Helper()
	c, err := sunrpc.Dial(context.Background(), network, addr, sunrpc.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func call(t *testing.T, c *sunrpc.Client, vers, proc uint32, args xdr.Marshaler, res xdr.Unmarshaler) {
	t.Helper()
	if err := c.Call(context.Background(), pmapxdr.PMAP_PROG, vers, proc, args, res); err != nil {
		t.Fatalf("version %d procedure %d: %v", vers, proc, err)
	}
}

// optional decodes an XDR optional-data list head ("T *"), which the
// generated code leaves as a bare pointer type.
type optional[T any, P interface {
	*T
	xdr.Unmarshaler
}] struct{ v P }

func (o *optional[T, P]) Decode(r *xdr.Reader) {
	o.v = nil
	if r.Bool() {
		o.v = P(new(T))
		o.v.Decode(r)
	}
}

func TestSet(t *testing.T) {
	s := New(Options{})
	bad := []Mapping{
		{Prog: 1, Vers: 1, Netid: "sctp", Addr: netip.MustParseAddrPort("127.0.0.1:1")},
		{Prog: 1, Vers: 1, Netid: "tcp", Addr: netip.MustParseAddrPort("[::1]:1")},
		{Prog: 1, Vers: 1, Netid: "udp6", Addr: netip.MustParseAddrPort("127.0.0.1:1")},
		{Prog: 1, Vers: 1, Netid: "tcp", Addr: netip.MustParseAddrPort("127.0.0.1:0")},
		{Prog: 1, Vers: 1, Netid: "tcp"},
	}
	for _, m := range bad {
		if err := s.Set(m); err == nil {
			t.Errorf("Set(%+v) succeeded", m)
		}
	}
	a := Mapping{Prog: 1, Vers: 1, Netid: "tcp", Addr: netip.MustParseAddrPort("127.0.0.1:1")}
	b := Mapping{Prog: 1, Vers: 1, Netid: "udp", Addr: netip.MustParseAddrPort("127.0.0.1:2")}
	a2 := Mapping{Prog: 1, Vers: 1, Netid: "tcp", Addr: netip.MustParseAddrPort("127.0.0.1:3")}
	c := Mapping{Prog: 1, Vers: 2, Netid: "tcp", Addr: netip.MustParseAddrPort("127.0.0.1:4")}
	for _, m := range []Mapping{a, b, a2, c} {
		if err := s.Set(m); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := s.Mappings(), []Mapping{a2, b, c}; !slices.Equal(got, want) {
		t.Fatalf("Mappings = %v, want %v (a2 replacing a in place)", got, want)
	}
	if !s.Unset(1, 1, "udp") || s.Unset(1, 1, "udp") {
		t.Fatal("Unset of one netid: want true, then false")
	}
	if got, want := s.Mappings(), []Mapping{a2, c}; !slices.Equal(got, want) {
		t.Fatalf("Mappings after Unset = %v, want %v", got, want)
	}
	s.Set(b)
	if !s.Unset(1, 1, "") {
		t.Fatal("Unset of all netids: want true")
	}
	if got, want := s.Mappings(), []Mapping{c}; !slices.Equal(got, want) {
		t.Fatalf("Mappings after Unset of all netids = %v, want %v", got, want)
	}
}

func TestV2(t *testing.T) {
	_, addr := start(t)
	for _, network := range []string{"tcp", "udp"} {
		t.Run(network, func(t *testing.T) {
			c := dialT(t, network, addr)
			call(t, c, 2, pmapxdr.PMAPPROC_NULL, nil, nil)

			getport := []struct {
				prog, vers, prot, want uint32
			}{
				{100003, 3, pmapxdr.IPPROTO_TCP, 2049},
				{100003, 3, pmapxdr.IPPROTO_UDP, 2049},
				{100005, 3, pmapxdr.IPPROTO_TCP, 20048},
				{100005, 1, pmapxdr.IPPROTO_TCP, 20048}, // another version: the client learns the range from PROG_MISMATCH
				{100005, 3, pmapxdr.IPPROTO_UDP, 0},     // not on UDP
				{100021, 4, pmapxdr.IPPROTO_TCP, 4045},
				{100003, 3, 132, 0},                 // SCTP
				{200000, 1, pmapxdr.IPPROTO_TCP, 0}, // unknown program
			}
			for _, g := range getport {
				var port xdr.Uint32
				call(t, c, 2, pmapxdr.PMAPPROC_GETPORT, &pmapxdr.Mapping{Prog: g.prog, Vers: g.vers, Prot: g.prot}, &port)
				if uint32(port) != g.want {
					t.Errorf("GETPORT %d/%d/%d = %d, want %d", g.prog, g.vers, g.prot, port, g.want)
				}
			}

			var list optional[pmapxdr.Pmaplist, *pmapxdr.Pmaplist]
			call(t, c, 2, pmapxdr.PMAPPROC_DUMP, nil, &list)
			var got []pmapxdr.Mapping
			for l := list.v; l != nil; l = l.Next {
				got = append(got, l.Map)
			}
			want := []pmapxdr.Mapping{ // IPv4 only, in registration order
				{Prog: 100003, Vers: 3, Prot: 6, Port: 2049},
				{Prog: 100003, Vers: 3, Prot: 17, Port: 2049},
				{Prog: 100003, Vers: 4, Prot: 6, Port: 2049},
				{Prog: 100005, Vers: 3, Prot: 6, Port: 20048},
				{Prog: 100021, Vers: 4, Prot: 6, Port: 4045},
			}
			if !slices.Equal(got, want) {
				t.Errorf("DUMP = %v, want %v", got, want)
			}
		})
	}
}

// TestRemoteSetRefused checks that no SET or UNSET from the network takes
// effect, in any version (see the package documentation).
func TestRemoteSetRefused(t *testing.T) {
	s, addr := start(t)
	c := dialT(t, "tcp", addr)
	tests := []struct {
		name       string
		vers, proc uint32
		args       xdr.Marshaler
	}{
		{"v2 SET new", 2, pmapxdr.PMAPPROC_SET, &pmapxdr.Mapping{Prog: 300000, Vers: 1, Prot: 6, Port: 9999}},
		{"v2 SET hijack", 2, pmapxdr.PMAPPROC_SET, &pmapxdr.Mapping{Prog: 100003, Vers: 3, Prot: 6, Port: 9999}},
		{"v2 UNSET", 2, pmapxdr.PMAPPROC_UNSET, &pmapxdr.Mapping{Prog: 100003, Vers: 3}},
		{"v3 SET", 3, pmapxdr.RPCBPROC_SET, &pmapxdr.Rpcb{RProg: 300000, RVers: 1, RNetid: "tcp", RAddr: "127.0.0.1.39.15"}},
		{"v3 UNSET", 3, pmapxdr.RPCBPROC_UNSET, &pmapxdr.Rpcb{RProg: 100005, RVers: 3, RNetid: "tcp"}},
		{"v4 SET hijack", 4, pmapxdr.RPCBPROC_SET, &pmapxdr.Rpcb{RProg: 100005, RVers: 3, RNetid: "tcp", RAddr: "10.9.9.9.39.15"}},
		{"v4 UNSET all netids", 4, pmapxdr.RPCBPROC_UNSET, &pmapxdr.Rpcb{RProg: 100003, RVers: 3}},
	}
	for _, tt := range tests {
		ok := xdr.Bool(true)
		call(t, c, tt.vers, tt.proc, tt.args, &ok)
		if ok {
			t.Errorf("%s answered true", tt.name)
		}
	}
	if got := s.Mappings(); !slices.Equal(got, testMappings) {
		t.Errorf("mappings changed:\n got %v\nwant %v", got, testMappings)
	}
}

func TestRPCBind(t *testing.T) {
	_, addr := start(t)
	for _, vers := range []uint32{3, 4} {
		for _, network := range []string{"tcp", "udp"} {
			t.Run(network+"/v"+string(rune('0'+vers)), func(t *testing.T) {
				testRPCBind(t, dialT(t, network, addr), vers, network)
			})
		}
	}
}

func testRPCBind(t *testing.T, c *sunrpc.Client, vers uint32, network string) {
	call(t, c, vers, pmapxdr.RPCBPROC_NULL, nil, nil)

	getaddr := []struct {
		prog, vers   uint32
		netid        string
		want         string // GETADDR
		wantVersAddr string // GETVERSADDR (v4): exact version only
	}{
		{100003, 3, "tcp", "127.0.0.1.8.1", "127.0.0.1.8.1"},
		{100003, 3, "udp", "127.0.0.1.8.1", "127.0.0.1.8.1"},
		{100003, 3, "tcp6", "::1.8.1", "::1.8.1"},
		{100003, 4, "tcp", "127.0.0.1.8.1", "127.0.0.1.8.1"},
		{100003, 2, "tcp", "127.0.0.1.8.1", ""}, // another version
		{100003, 4, "udp", "127.0.0.1.8.1", ""}, // v3 is on udp
		{100005, 3, "", map[string]string{"tcp": "127.0.0.1.78.80", "udp": ""}[network], map[string]string{"tcp": "127.0.0.1.78.80", "udp": ""}[network]}, // the caller's netid
		{100005, 3, "udp6", "", ""},
		{100021, 4, "tcp", "127.0.0.1.15.205", "127.0.0.1.15.205"}, // wildcard: the address we were reached at
		{200000, 1, "tcp", "", ""},                                 // unknown program
	}
	for _, g := range getaddr {
		args := pmapxdr.Rpcb{RProg: g.prog, RVers: g.vers, RNetid: g.netid, RAddr: "ignored", ROwner: "ignored"}
		var got pmapxdr.Uaddr
		call(t, c, vers, pmapxdr.RPCBPROC_GETADDR, &args, &got)
		if string(got) != g.want {
			t.Errorf("GETADDR %d/%d/%q = %q, want %q", g.prog, g.vers, g.netid, got, g.want)
		}
		if vers == 4 {
			call(t, c, vers, pmapxdr.RPCBPROC_GETVERSADDR, &args, &got)
			if string(got) != g.wantVersAddr {
				t.Errorf("GETVERSADDR %d/%d/%q = %q, want %q", g.prog, g.vers, g.netid, got, g.wantVersAddr)
			}
		}
	}

	var list optional[pmapxdr.RpList, *pmapxdr.RpList]
	call(t, c, vers, pmapxdr.RPCBPROC_DUMP, nil, &list)
	var dump []pmapxdr.Rpcb
	for l := list.v; l != nil; l = l.RpcbNext {
		dump = append(dump, l.RpcbMap)
	}
	var want []pmapxdr.Rpcb
	for _, m := range testMappings {
		want = append(want, pmapxdr.Rpcb{RProg: m.Prog, RVers: m.Vers, RNetid: m.Netid, RAddr: FormatUAddr(m.Addr), ROwner: "gonfs"})
	}
	if !slices.Equal(dump, want) {
		t.Errorf("DUMP = %v, want %v", dump, want)
	}

	var now xdr.Uint32
	call(t, c, vers, pmapxdr.RPCBPROC_GETTIME, nil, &now)
	if int64(now) != testTime.Unix() {
		t.Errorf("GETTIME = %d, want %d", now, testTime.Unix())
	}

	nb := pmapxdr.Netbuf{Maxlen: 99, Buf: []byte{1}}
	u := pmapxdr.Uaddr("127.0.0.1.8.1")
	call(t, c, vers, pmapxdr.RPCBPROC_UADDR2TADDR, &u, &nb)
	if nb.Maxlen != 0 || len(nb.Buf) != 0 {
		t.Errorf("UADDR2TADDR = %+v, want an empty netbuf", nb)
	}
	u = "x"
	call(t, c, vers, pmapxdr.RPCBPROC_TADDR2UADDR, &pmapxdr.Netbuf{Maxlen: 16, Buf: make([]byte, 16)}, &u)
	if u != "" {
		t.Errorf("TADDR2UADDR = %q, want empty", u)
	}

	if vers == 3 {
		for _, proc := range []uint32{9, 10, 11, 12} {
			_, err := c.CallRaw(context.Background(), sunrpc.CallHeader{Prog: pmapxdr.PMAP_PROG, Vers: 3, Proc: proc}, nil)
			var ae *sunrpc.AcceptError
			if !errors.As(err, &ae) || ae.Stat != rpcxdr.PROC_UNAVAIL {
				t.Errorf("version 3 procedure %d: %v, want PROC_UNAVAIL", proc, err)
			}
		}
		return
	}

	var entries optional[pmapxdr.RpcbEntryList, *pmapxdr.RpcbEntryList]
	call(t, c, 4, pmapxdr.RPCBPROC_GETADDRLIST, &pmapxdr.Rpcb{RProg: 100003, RVers: 3, RNetid: "tcp"}, &entries)
	var got []pmapxdr.RpcbEntry
	for l := entries.v; l != nil; l = l.RpcbEntryNext {
		got = append(got, l.RpcbEntryMap)
	}
	wantEntries := []pmapxdr.RpcbEntry{
		{RMaddr: "127.0.0.1.8.1", RNcNetid: "tcp", RNcSemantics: 3, RNcProtofmly: "inet", RNcProto: "tcp"},
		{RMaddr: "127.0.0.1.8.1", RNcNetid: "udp", RNcSemantics: 1, RNcProtofmly: "inet", RNcProto: "udp"},
		{RMaddr: "::1.8.1", RNcNetid: "tcp6", RNcSemantics: 3, RNcProtofmly: "inet6", RNcProto: "tcp"},
	}
	if !slices.Equal(got, wantEntries) {
		t.Errorf("GETADDRLIST = %v, want %v", got, wantEntries)
	}
	call(t, c, 4, pmapxdr.RPCBPROC_GETADDRLIST, &pmapxdr.Rpcb{RProg: 100003, RVers: 9}, &entries)
	if entries.v != nil {
		t.Errorf("GETADDRLIST of an unregistered version = %v, want empty", entries.v)
	}
}

func TestGetStat(t *testing.T) {
	s, addr := start(t)
	ctx := context.Background()
	c := dialT(t, "tcp", addr)
	call(t, c, 2, pmapxdr.PMAPPROC_NULL, nil, nil)
	call(t, c, 2, pmapxdr.PMAPPROC_NULL, nil, nil)
	var port xdr.Uint32
	call(t, c, 2, pmapxdr.PMAPPROC_GETPORT, &pmapxdr.Mapping{Prog: 100005, Vers: 3, Prot: 6}, &port)
	call(t, c, 2, pmapxdr.PMAPPROC_GETPORT, &pmapxdr.Mapping{Prog: 100005, Vers: 3, Prot: 6}, &port)
	call(t, c, 2, pmapxdr.PMAPPROC_GETPORT, &pmapxdr.Mapping{Prog: 7, Vers: 1, Prot: 17}, &port)
	var ua pmapxdr.Uaddr
	call(t, c, 3, pmapxdr.RPCBPROC_GETADDR, &pmapxdr.Rpcb{RProg: 100003, RVers: 3, RNetid: "udp"}, &ua)

	// The remote calls are never answered: run them on the handler
	// directly, as the server would.
	rmt := xdr.Marshal(nil, &pmapxdr.RpcbRmtcallargs{Prog: 100003, Vers: 3, Proc: 0})
	local := netip.MustParseAddrPort("127.0.0.1:111")
	for _, rc := range []struct{ vers, proc uint32 }{{2, 5}, {3, 5}, {4, 5}, {4, 10}, {4, 10}} {
		w := xdr.Writer{}
		c := sunrpc.Call{Prog: pmapxdr.PMAP_PROG, Vers: rc.vers, Proc: rc.proc, Args: rmt, Transport: "udp", Local: local}
		if st := s.ServeRPC(ctx, &c, &w); st != sunrpc.NoReply || len(w.Buf) != 0 {
			t.Errorf("version %d procedure %d = %v with %d bytes, want NoReply", rc.vers, rc.proc, st, len(w.Buf))
		}
	}

	var st pmapxdr.RpcbStatByvers
	call(t, c, 4, pmapxdr.RPCBPROC_GETSTAT, nil, &st)

	v2, v3, v4 := &st[pmapxdr.RPCBVERS_2_STAT], &st[pmapxdr.RPCBVERS_3_STAT], &st[pmapxdr.RPCBVERS_4_STAT]
	if v2.Info[0] != 2 || v2.Info[3] != 3 || v2.Info[5] != 1 {
		t.Errorf("v2 info = %v, want NULL 2, GETPORT 3, CALLIT 1", v2.Info)
	}
	if v3.Info[3] != 1 || v3.Info[5] != 1 {
		t.Errorf("v3 info = %v, want GETADDR 1, CALLIT 1", v3.Info)
	}
	if v4.Info[5] != 1 || v4.Info[10] != 2 || v4.Info[12] != 1 {
		t.Errorf("v4 info = %v, want BCAST 1, INDIRECT 2, GETSTAT 1", v4.Info)
	}
	var addrs []pmapxdr.RpcbsAddrlist
	for a := v2.Addrinfo; a != nil; a = a.Next {
		addrs = append(addrs, pmapxdr.RpcbsAddrlist{Prog: a.Prog, Vers: a.Vers, Success: a.Success, Failure: a.Failure, Netid: a.Netid})
	}
	wantAddrs := []pmapxdr.RpcbsAddrlist{
		{Prog: 100005, Vers: 3, Success: 2, Netid: "tcp"},
		{Prog: 7, Vers: 1, Failure: 1, Netid: "udp"},
	}
	if !slices.Equal(addrs, wantAddrs) {
		t.Errorf("v2 addrinfo = %v, want %v", addrs, wantAddrs)
	}
	if a := v3.Addrinfo; a == nil || a.Prog != 100003 || a.Success != 1 || a.Netid != "udp" || a.Next != nil {
		t.Errorf("v3 addrinfo = %+v", a)
	}
	// BCAST and INDIRECT of one target share an entry; INDIRECT also
	// counts as indirect (RFC 1833 §2.1, rpcbs_rmtcalllist).
	if r := v4.Rmtinfo; r == nil || r.Prog != 100003 || r.Vers != 3 || r.Proc != 0 || r.Netid != "udp" ||
		r.Success != 0 || r.Failure != 3 || r.Indirect != 2 || r.Next != nil {
		t.Errorf("v4 rmtinfo = %+v", r)
	}
	if v2.Setinfo != 0 || v4.Unsetinfo != 0 {
		t.Errorf("set/unset counts %d/%d, want 0", v2.Setinfo, v4.Unsetinfo)
	}
}

func TestStatBound(t *testing.T) {
	s := New(Options{})
	for i := range maxStatEntries + 10 {
		s.countLookup(2, uint32(i), 1, "tcp", false)
	}
	n := 0
	for a := s.snapshot()[pmapxdr.RPCBVERS_2_STAT].Addrinfo; a != nil; a = a.Next {
		n++
	}
	if n != maxStatEntries {
		t.Fatalf("addrinfo has %d entries, want %d", n, maxStatEntries)
	}
}

func TestGarbageArgs(t *testing.T) {
	_, addr := start(t)
	c := dialT(t, "tcp", addr)
	tests := []struct {
		vers, proc uint32
		args       []byte
	}{
		{2, pmapxdr.PMAPPROC_NULL, []byte{0, 0, 0, 0}},
		{2, pmapxdr.PMAPPROC_SET, []byte{0, 0, 0, 1}},
		{2, pmapxdr.PMAPPROC_GETPORT, make([]byte, 20)}, // trailing bytes
		{2, pmapxdr.PMAPPROC_DUMP, []byte{0, 0, 0, 0}},
		{3, pmapxdr.RPCBPROC_GETADDR, []byte{0, 0, 0, 1}},
		{4, pmapxdr.RPCBPROC_GETADDR, []byte{0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9, 't'}}, // netid cut short
		{4, pmapxdr.RPCBPROC_GETTIME, []byte{0, 0, 0, 0}},
		{4, pmapxdr.RPCBPROC_UADDR2TADDR, nil},
		{4, pmapxdr.RPCBPROC_TADDR2UADDR, []byte{0, 0, 0, 1}},
		{4, pmapxdr.RPCBPROC_GETADDRLIST, nil},
		{4, pmapxdr.RPCBPROC_GETSTAT, []byte{0, 0, 0, 0}},
	}
	for _, tt := range tests {
		_, err := c.CallRaw(context.Background(), sunrpc.CallHeader{Prog: pmapxdr.PMAP_PROG, Vers: tt.vers, Proc: tt.proc}, tt.args)
		var ae *sunrpc.AcceptError
		if !errors.As(err, &ae) || ae.Stat != rpcxdr.GARBAGE_ARGS {
			t.Errorf("version %d procedure %d: %v, want GARBAGE_ARGS", tt.vers, tt.proc, err)
		}
	}
	for _, v := range []uint32{2, 3, 4} {
		_, err := c.CallRaw(context.Background(), sunrpc.CallHeader{Prog: pmapxdr.PMAP_PROG, Vers: v, Proc: uint32(highProc(v) + 1)}, nil)
		var ae *sunrpc.AcceptError
		if !errors.As(err, &ae) || ae.Stat != rpcxdr.PROC_UNAVAIL {
			t.Errorf("version %d procedure %d: %v, want PROC_UNAVAIL", v, highProc(v)+1, err)
		}
	}
}
