package portmap

import (
	"cmp"
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/gonfs/gonfs/proto/pmapxdr"
	"github.com/gonfs/gonfs/sunrpc"
	"github.com/gonfs/gonfs/xdr"
)

// fakeRPCBind stands in for a system rpcbind: it accepts SET and UNSET
// (versions 2 and 4) into a Server, refusing a SET of a mapping that
// exists as rpcbind does, and answers everything else from the Server.
type fakeRPCBind struct{ s *Server }

func (f fakeRPCBind) ServeRPC(ctx context.Context, call *sunrpc.Call, w *xdr.Writer) sunrpc.Status {
	switch {
	case call.Vers == 4 && (call.Proc == pmapxdr.RPCBPROC_SET || call.Proc == pmapxdr.RPCBPROC_UNSET):
		var r pmapxdr.Rpcb
		if !decode(call.Args, &r) {
			return sunrpc.GarbageArgs
		}
		if call.Proc == pmapxdr.RPCBPROC_UNSET {
			w.Bool(f.s.Unset(r.RProg, r.RVers, r.RNetid))
			return sunrpc.Success
		}
		ap, err := ParseUAddr(r.RAddr)
		w.Bool(err == nil && f.set(Mapping{Prog: r.RProg, Vers: r.RVers, Netid: r.RNetid, Addr: ap, Owner: r.ROwner}))
		return sunrpc.Success
	case call.Vers == 2 && (call.Proc == pmapxdr.PMAPPROC_SET || call.Proc == pmapxdr.PMAPPROC_UNSET):
		var m pmapxdr.Mapping
		if !decode(call.Args, &m) {
			return sunrpc.GarbageArgs
		}
		if call.Proc == pmapxdr.PMAPPROC_UNSET {
			w.Bool(f.s.Unset(m.Prog, m.Vers, ""))
			return sunrpc.Success
		}
		netid := map[uint32]string{6: "tcp", 17: "udp"}[m.Prot]
		ap := netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(m.Port))
		w.Bool(f.set(Mapping{Prog: m.Prog, Vers: m.Vers, Netid: netid, Addr: ap}))
		return sunrpc.Success
	}
	return f.s.ServeRPC(ctx, call, w)
}

func (f fakeRPCBind) set(m Mapping) bool {
	if _, ok := f.s.find(m.Prog, m.Vers, m.Netid, true); ok {
		return false
	}
	return f.s.Set(m) == nil
}

// stale is a mapping an earlier run left behind.
var stale = Mapping{Prog: 100005, Vers: 3, Netid: "tcp", Addr: netip.MustParseAddrPort("127.0.0.1:1")}

func TestRegisterV4(t *testing.T) {
	f := fakeRPCBind{New(Options{})}
	f.s.Set(stale)
	addr := serve(t, f, 2, 3, 4)
	ctx := context.Background()
	if err := Register(ctx, addr, testMappings); err != nil {
		t.Fatal(err)
	}
	got := f.s.Mappings()
	slices.SortFunc(got, compareMappings)
	want := slices.SortedFunc(slices.Values(testMappings), compareMappings)
	if !slices.Equal(got, want) {
		t.Fatalf("registered:\n got %v\nwant %v", got, want)
	}
	if err := Unregister(ctx, addr, testMappings); err != nil {
		t.Fatal(err)
	}
	if got := f.s.Mappings(); len(got) != 0 {
		t.Fatalf("after Unregister: %v", got)
	}
}

func TestRegisterV2Fallback(t *testing.T) {
	f := fakeRPCBind{New(Options{})}
	f.s.Set(stale)
	addr := serve(t, f, 2) // a port mapper without rpcbind 3 and 4
	ctx := context.Background()
	if err := Register(ctx, addr, testMappings); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range f.s.Mappings() {
		got = append(got, m.Netid+" "+FormatUAddr(m.Addr))
	}
	slices.Sort(got)
	want := []string{ // tcp6 cannot be said in version 2; the stale port is gone
		"tcp 0.0.0.0.15.205", "tcp 0.0.0.0.78.80", "tcp 0.0.0.0.8.1", "tcp 0.0.0.0.8.1", "udp 0.0.0.0.8.1",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("registered %v, want %v", got, want)
	}
	if err := Unregister(ctx, addr, testMappings); err != nil {
		t.Fatal(err)
	}
	if got := f.s.Mappings(); len(got) != 0 {
		t.Fatalf("after Unregister: %v", got)
	}
}

func TestRegisterRefused(t *testing.T) {
	_, addr := start(t) // our own portmap refuses every remote SET
	err := Register(context.Background(), addr, testMappings[:1])
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("Register = %v, want a refusal", err)
	}
}

func TestRegisterInvalid(t *testing.T) {
	// Checked before dialing: the address is never contacted.
	err := Register(context.Background(), "127.0.0.1:1", []Mapping{{Prog: 1, Vers: 1, Netid: "tcp"}})
	if err == nil || !strings.Contains(err.Error(), "needs an address") {
		t.Fatalf("Register = %v", err)
	}
}

func TestGetPort(t *testing.T) {
	_, addr := start(t)
	ctx := context.Background()
	tests := []struct {
		prog, vers, proto uint32
		want              uint16
		err               error
	}{
		{100005, 3, pmapxdr.IPPROTO_TCP, 20048, nil},
		{100003, 3, pmapxdr.IPPROTO_UDP, 2049, nil},
		{100021, 4, pmapxdr.IPPROTO_TCP, 4045, nil},
		{100021, 4, pmapxdr.IPPROTO_UDP, 0, ErrNotRegistered},
		{300000, 1, pmapxdr.IPPROTO_TCP, 0, ErrNotRegistered},
	}
	for _, tt := range tests {
		got, err := GetPort(ctx, addr, tt.prog, tt.vers, tt.proto)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("GetPort(%d, %d, %d) = %d, %v; want %d, %v", tt.prog, tt.vers, tt.proto, got, err, tt.want, tt.err)
		}
	}
}

func TestWithPort(t *testing.T) {
	tests := []struct{ in, want string }{
		{"127.0.0.1", "127.0.0.1:111"},
		{"127.0.0.1:4000", "127.0.0.1:4000"},
		{"::1", "[::1]:111"},
		{"[::1]", "[::1]:111"},
		{"[::1]:4000", "[::1]:4000"},
		{"client.example", "client.example:111"},
	}
	for _, tt := range tests {
		if got := withPort(tt.in); got != tt.want {
			t.Errorf("withPort(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func compareMappings(a, b Mapping) int {
	return cmp.Or(cmp.Compare(a.Prog, b.Prog), cmp.Compare(a.Vers, b.Vers), strings.Compare(a.Netid, b.Netid))
}
