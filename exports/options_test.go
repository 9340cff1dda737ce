package exports

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"
)

func TestSquash(t *testing.T) {
	root := DefaultOptions()
	none := DefaultOptions()
	none.RootSquash = false
	all := DefaultOptions()
	all.AllSquash = true
	allNoRoot := all
	allNoRoot.RootSquash = false
	anon := DefaultOptions()
	anon.AnonUID, anon.AnonGID = 1000, 1001

	type ids struct {
		uid, gid uint32
		gids     []uint32
	}
	tests := []struct {
		name string
		o    Options
		in   ids
		want ids
	}{
		{"root squashed", root, ids{0, 0, []uint32{0, 5}}, ids{65534, 65534, []uint32{65534, 5}}},
		{"root uid only", root, ids{0, 7, []uint32{7}}, ids{65534, 7, []uint32{7}}},
		{"gid 0 alone is squashed", root, ids{1000, 0, nil}, ids{1000, 65534, nil}},
		{"supplementary 0 is squashed", root, ids{1000, 100, []uint32{10, 0, 0}}, ids{1000, 100, []uint32{10, 65534, 65534}}},
		{"ordinary user untouched", root, ids{1000, 100, []uint32{10, 20}}, ids{1000, 100, []uint32{10, 20}}},
		{"custom anon ids", anon, ids{0, 0, []uint32{0}}, ids{1000, 1001, []uint32{1001}}},
		{"no_root_squash", none, ids{0, 0, []uint32{0}}, ids{0, 0, []uint32{0}}},
		{"all_squash", all, ids{1000, 100, []uint32{10, 20}}, ids{65534, 65534, nil}},
		{"all_squash root", all, ids{0, 0, []uint32{0}}, ids{65534, 65534, nil}},
		{"all_squash beats no_root_squash", allNoRoot, ids{0, 0, nil}, ids{65534, 65534, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.in.gids)
			uid, gid, gids := tt.o.Squash(tt.in.uid, tt.in.gid, in)
			if uid != tt.want.uid || gid != tt.want.gid || !slices.Equal(gids, tt.want.gids) {
				t.Errorf("got %d %d %v, want %d %d %v", uid, gid, gids, tt.want.uid, tt.want.gid, tt.want.gids)
			}
			if !slices.Equal(in, tt.in.gids) {
				t.Errorf("caller's groups modified: %v", in)
			}
		})
	}
}

func TestPortAllowed(t *testing.T) {
	secure := DefaultOptions()
	insecure := DefaultOptions()
	insecure.Secure = false
	tests := []struct {
		o    Options
		port uint16
		want bool
	}{
		{secure, 0, true},
		{secure, 111, true},
		{secure, 1023, true},
		{secure, 1024, false},
		{secure, 65535, false},
		{insecure, 1023, true},
		{insecure, 1024, true},
		{insecure, 65535, true},
	}
	for _, tt := range tests {
		if got := tt.o.PortAllowed(tt.port); got != tt.want {
			t.Errorf("secure=%v port %d: got %v, want %v", tt.o.Secure, tt.port, got, tt.want)
		}
	}
}

func TestNames(t *testing.T) {
	tests := []struct{ got, want string }{
		{SquashNone.String(), "no_root_squash"},
		{SquashRoot.String(), "root_squash"},
		{SquashAll.String(), "all_squash"},
		{SquashMode(9).String(), "SquashMode(9)"},
		{FlavorNone.String(), "none"},
		{FlavorSys.String(), "sys"},
		{FlavorKrb5.String(), "krb5"},
		{FlavorKrb5i.String(), "krb5i"},
		{FlavorKrb5p.String(), "krb5p"},
		{Flavor(6).String(), "Flavor(6)"},
		{ClientAnyone.String(), "anyone"},
		{ClientKind(-1).String(), "ClientKind(-1)"},
		{Fsid{}.String(), ""},
		{DefaultOptions().String(), "ro,sync,wdelay,hide,no_subtree_check,root_squash,no_all_squash,anonuid=65534,anongid=65534,secure,sec=sys,acl,no_pnfs,delegations,secure_locks"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestDefault(t *testing.T) {
	tb := Default("/home/u/share/")
	es := tb.Exports()
	if len(es) != 1 || es[0].Path != "/" || es[0].Dir != "/home/u/share" {
		t.Fatalf("exports: %+v", es)
	}
	if got := fmt.Sprint(tb.List()); got != "[{/ [127.0.0.0/8 ::1]}]" {
		t.Errorf("List: %s", got)
	}
	tests := []struct {
		client  string
		wantErr error
	}{
		{"127.0.0.1:40000", nil},
		{"127.9.9.9:700", nil},
		{"[::1]:40000", nil},
		{"[::ffff:127.0.0.1]:40000", nil},
		{"10.0.0.1:700", ErrDenied},
		{"[::2]:700", ErrDenied},
	}
	for _, tt := range tests {
		d, err := tb.Access(context.Background(), "/", netip.MustParseAddrPort(tt.client))
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: got %v, want %v", tt.client, err, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if d.ReadOnly || d.Secure || d.Squash != SquashRoot || !slices.Equal(d.Sec, []Flavor{FlavorSys}) || d.AnonUID != AnonID {
			t.Errorf("%s: decision %+v, want rw, insecure, root_squash, sec=sys", tt.client, d)
		}
	}
	if _, err := tb.Access(context.Background(), "/home/u/share", netip.MustParseAddrPort("127.0.0.1:1")); !errors.Is(err, ErrNotExported) {
		t.Errorf("the on-disk path is not a client path: got %v", err)
	}
}

func TestFind(t *testing.T) {
	tb, err := ParseFile("testdata/example.exports")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ in, want string }{
		{"/srv/home", "/srv/home"},
		{"/srv/home/alice/docs", "/srv/home"},
		{"/srv/homes", ""},
		{"/srv", ""},
		{"/", ""},
		{"srv/home", ""},
		{"/srv/public share/x", "/srv/public share"},
	}
	for _, tt := range tests {
		e, ok := tb.Find(tt.in)
		got := ""
		if ok {
			got = e.Path
		}
		if got != tt.want {
			t.Errorf("Find(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	root := Default("/d")
	if e, ok := root.Find("/any/thing"); !ok || e.Path != "/" {
		t.Errorf("Find under a / export: %v %v", e, ok)
	}
}

// TestExampleFile reads testdata/example.exports, the sample shipped for
// operators, and checks the listing and a few decisions.
func TestExampleFile(t *testing.T) {
	res := &dnsResolver{
		ptrResolver: ptrResolver{ptr: map[string][]string{
			"192.0.2.10": {"admin.example.com."},
			"192.0.2.11": {"ws1.dept.example.com."},
		}},
		host: map[string][]string{
			"admin.example.com":    {"192.0.2.10"},
			"ws1.dept.example.com": {"192.0.2.11"},
		},
	}
	tb, err := ParseFileWith("testdata/example.exports", ParseOptions{Resolver: res})
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.Warnings) != 0 {
		t.Errorf("warnings: %q", tb.Warnings)
	}
	wantList := "[{/srv/home [10.1.0.0/16 172.16.0.0/255.240.0.0 admin.example.com]} " +
		"{/srv/public share [*.example.com 2001:db8::/32]} " +
		"{/srv/scratch space [*]}]"
	if got := fmt.Sprint(tb.List()); got != wantList {
		t.Errorf("List:\n%s\nwant\n%s", got, wantList)
	}
	e, _ := tb.Lookup("/srv/scratch space")
	if e.Fsid != (Fsid{Kind: FsidNum, Num: 7}) {
		t.Errorf("fsid %+v", e.Fsid)
	}

	tests := []struct {
		path, client string
		want         string // decisionString-like summary or error
	}{
		{"/srv/home", "10.1.5.5:900", "rw root_squash"},
		{"/srv/home", "172.31.0.1:900", "ro root_squash"},
		{"/srv/home", "192.0.2.10:900", "rw no_root_squash"},
		{"/srv/home", "192.0.2.11:900", ErrDenied.Error()},
		{"/srv/home", "10.1.5.5:2000", ErrInsecurePort.Error()},
		{"/srv/public share", "192.0.2.11:900", "ro all_squash 1000:1000"},
		{"/srv/public share", "[2001:db8::5]:900", "rw all_squash 1000:1000"},
		{"/srv/scratch space", "198.51.100.1:40000", "rw root_squash krb5p:krb5i:sys"},
	}
	for _, tt := range tests {
		d, err := tb.Access(context.Background(), tt.path, netip.MustParseAddrPort(tt.client))
		var got string
		switch {
		case err != nil:
			got = errors.Unwrap(err).Error()
		default:
			got = "rw"
			if d.ReadOnly {
				got = "ro"
			}
			got += " " + d.Squash.String()
			if d.AnonUID != AnonID || d.AnonGID != AnonID {
				got += fmt.Sprintf(" %d:%d", d.AnonUID, d.AnonGID)
			}
			if len(d.Sec) != 1 || d.Sec[0] != FlavorSys {
				got += " " + secString(d.Sec)
			}
		}
		if got != tt.want {
			t.Errorf("%s from %s: got %q, want %q", tt.path, tt.client, got, tt.want)
		}
	}
}

func secString(fs []Flavor) string {
	s := ""
	for i, f := range fs {
		if i > 0 {
			s += ":"
		}
		s += f.String()
	}
	return s
}
