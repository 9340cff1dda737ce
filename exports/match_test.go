package exports

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestAccess(t *testing.T) {
	const file = `
/v4    10.0.0.0/8(rw) 192.168.1.0/255.255.255.0 172.16.0.1(insecure)
/v6    2001:db8::/32(rw,insecure) ::1(insecure) fe80::/10(insecure)
/order *(ro,insecure) 10.0.0.5(rw,insecure) *.example.com(rw,insecure,all_squash) exact.example.com(rw,insecure,no_root_squash)
/wild  *.example.com(rw,insecure) host?.lab(insecure) ws[0-9][0-9].lab(insecure)
/mapped ::ffff:10.0.0.0/104(rw,insecure)
/sec   *(sec=krb5p:sys)
/all   0.0.0.0/0(insecure)
`
	res := &dnsResolver{
		ptrResolver: ptrResolver{ptr: map[string][]string{
			"10.9.9.9":    {"Exact.Example.COM."},
			"10.9.9.10":   {"a.b.example.com"},
			"10.9.9.11":   {"host1.lab"},
			"10.9.9.12":   {"host10.lab"},
			"10.9.9.13":   {"ws42.lab"},
			"10.9.9.14":   {"liar.example.com"}, // forward lookup disagrees
			"10.9.9.15":   {"nope.org", "second.example.com"},
			"2001:db9::1": {"v6.example.com"},
		}},
		host: map[string][]string{
			"exact.example.com":  {"10.9.9.9"},
			"a.b.example.com":    {"10.9.9.10"},
			"host1.lab":          {"10.9.9.11"},
			"host10.lab":         {"10.9.9.12"},
			"ws42.lab":           {"10.9.9.13"},
			"liar.example.com":   {"10.1.1.1"},
			"nope.org":           {"10.9.9.15"},
			"second.example.com": {"::ffff:10.9.9.15"}, // mapped form still confirms
			"v6.example.com":     {"2001:db9::1"},
		},
	}
	tb, err := ParseWith(strings.NewReader(file), "t", ParseOptions{Resolver: res})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, client string
		wantSpec     string // matched rule, or "" when an error is wanted
		wantErr      error
	}{
		{"/v4", "10.1.2.3:700", "10.0.0.0/8", nil},
		{"/v4", "[::ffff:10.1.2.3]:700", "10.0.0.0/8", nil},
		{"/v4", "192.168.1.200:1", "192.168.1.0/255.255.255.0", nil},
		{"/v4", "192.168.2.1:1", "", ErrDenied},
		{"/v4", "172.16.0.1:40000", "172.16.0.1", nil},
		{"/v4", "172.16.0.2:1", "", ErrDenied},
		{"/v4", "11.0.0.1:1", "", ErrDenied},
		{"/v4", "[2001:db8::1]:1", "", ErrDenied},
		{"/v6", "[2001:db8:ffff::1]:40000", "2001:db8::/32", nil},
		{"/v6", "[2001:db9::1]:40000", "", ErrDenied},
		{"/v6", "[::1]:40000", "::1", nil},
		{"/v6", "[fe80::1%eth0]:40000", "fe80::/10", nil},
		{"/v6", "127.0.0.1:1", "", ErrDenied},
		// Order of kinds, not of the line: host, address, wildcard, *.
		{"/order", "10.0.0.5:5000", "10.0.0.5", nil},
		{"/order", "10.9.9.9:5000", "exact.example.com", nil},
		{"/order", "10.9.9.10:5000", "*.example.com", nil},
		{"/order", "10.9.9.14:5000", "*", nil},
		{"/order", "10.0.0.6:5000", "*", nil},
		// Wildcards: * crosses dots, ? is one character, classes work.
		{"/wild", "10.9.9.10:5000", "*.example.com", nil},
		{"/wild", "10.9.9.11:5000", "host?.lab", nil},
		{"/wild", "10.9.9.12:5000", "", ErrDenied},
		{"/wild", "10.9.9.13:5000", "ws[0-9][0-9].lab", nil},
		{"/wild", "10.9.9.14:5000", "", ErrDenied},            // PTR not confirmed
		{"/wild", "10.9.9.15:5000", "*.example.com", nil},     // second name matches
		{"/wild", "10.200.0.1:5000", "", ErrDenied},           // lookup fails: no name
		{"/wild", "[2001:db9::1]:5000", "*.example.com", nil}, // v6 names too
		{"/mapped", "10.3.3.3:5000", "::ffff:10.0.0.0/104", nil},
		{"/mapped", "[::ffff:10.3.3.3]:5000", "::ffff:10.0.0.0/104", nil},
		{"/all", "1.2.3.4:5000", "0.0.0.0/0", nil},
		{"/all", "[::1]:5000", "", ErrDenied},
		// Secure ports.
		{"/sec", "10.0.0.1:1023", "*", nil},
		{"/sec", "10.0.0.1:0", "*", nil},
		{"/sec", "10.0.0.1:1024", "", ErrInsecurePort},
		{"/v4", "10.0.0.1:65535", "", ErrInsecurePort},
		// Paths.
		{"/nope", "10.0.0.1:1", "", ErrNotExported},
		{"/v4/", "10.0.0.1:1", "10.0.0.0/8", nil},
		{"v4", "10.0.0.1:1", "", ErrNotExported},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.client, func(t *testing.T) {
			d, err := tb.Access(context.Background(), tt.path, netip.MustParseAddrPort(tt.client))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v (rule %v), want %v", err, d.Rule, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Access: %v", err)
			}
			if d.Rule.Spec != tt.wantSpec {
				t.Errorf("matched %q, want %q", d.Rule.Spec, tt.wantSpec)
			}
		})
	}
}

func TestDecisionFields(t *testing.T) {
	tb, err := Parse(strings.NewReader("/a 10.0.0.1(rw,all_squash,anonuid=5,anongid=6,insecure,sec=krb5i:sys) 10.0.0.2 10.0.0.3(no_root_squash)"), "t")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		client string
		want   Decision
	}{
		{"10.0.0.1:2000", Decision{ReadOnly: false, Squash: SquashAll, AnonUID: 5, AnonGID: 6, Secure: false, Sec: []Flavor{FlavorKrb5i, FlavorSys}}},
		{"10.0.0.2:800", Decision{ReadOnly: true, Squash: SquashRoot, AnonUID: 65534, AnonGID: 65534, Secure: true, Sec: []Flavor{FlavorSys}}},
		{"10.0.0.3:800", Decision{ReadOnly: true, Squash: SquashNone, AnonUID: 65534, AnonGID: 65534, Secure: true, Sec: []Flavor{FlavorSys}}},
	}
	for _, tt := range tests {
		d, err := tb.Access(context.Background(), "/a", netip.MustParseAddrPort(tt.client))
		if err != nil {
			t.Fatalf("%s: %v", tt.client, err)
		}
		if d.Export == nil || d.Export.Path != "/a" || d.Rule == nil || d.Options() != &d.Rule.Options {
			t.Errorf("%s: export/rule not filled in: %+v", tt.client, d)
		}
		d.Export, d.Rule = nil, nil
		if got, want := decisionString(d), decisionString(tt.want); got != want {
			t.Errorf("%s: got %s, want %s", tt.client, got, want)
		}
	}
}

func decisionString(d Decision) string {
	var sec []string
	for _, f := range d.Sec {
		sec = append(sec, f.String())
	}
	o := DefaultOptions()
	o.ReadOnly, o.AnonUID, o.AnonGID, o.Secure = d.ReadOnly, d.AnonUID, d.AnonGID, d.Secure
	return o.String() + " squash=" + d.Squash.String() + " sec=" + strings.Join(sec, ":")
}

// TestNameCache checks that lookups are cached for NameTTL on the injected
// clock, that failures are cached too, and that an address rule that
// decides before any name rule is reached causes no lookup.
func TestNameCache(t *testing.T) {
	res := &ptrResolver{ptr: map[string][]string{"10.0.0.1": {"h.lab"}}}
	clock := &fakeClock{t: time.Unix(1000, 0)}
	tb, err := ParseWith(strings.NewReader("/a 10.0.0.9(insecure) *.lab(insecure)"), "t",
		ParseOptions{Resolver: res, Now: clock.Now, NameTTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	access := func(client string) error {
		_, err := tb.Access(ctx, "/a", netip.MustParseAddrPort(client))
		return err
	}
	steps := []struct {
		advance   time.Duration
		client    string
		wantErr   error
		wantCalls int
	}{
		{0, "10.0.0.9:5000", nil, 0}, // the address rule decides before the wildcard
		{0, "10.0.0.1:5000", nil, 1},
		{0, "10.0.0.1:5000", nil, 1},
		{59 * time.Second, "10.0.0.1:5000", nil, 1},
		{time.Second, "10.0.0.1:5000", nil, 2},            // expired
		{0, "10.0.0.2:5000", ErrDenied, 3},                // failure...
		{30 * time.Second, "10.0.0.2:5000", ErrDenied, 3}, // ...cached as no name
		{30 * time.Second, "10.0.0.2:5000", ErrDenied, 4},
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		if err := access(s.client); !errors.Is(err, s.wantErr) {
			t.Fatalf("step %d: got %v, want %v", i, err, s.wantErr)
		}
		if got := res.count(); got != s.wantCalls {
			t.Fatalf("step %d: %d lookups, want %d", i, got, s.wantCalls)
		}
	}

	// A lookup cut short by the caller's context is not remembered.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := tb.Access(cctx, "/a", netip.MustParseAddrPort("10.0.0.3:5000")); !errors.Is(err, ErrDenied) {
		t.Fatalf("cancelled: got %v, want ErrDenied", err)
	}
	if err := access("10.0.0.3:5000"); !errors.Is(err, ErrDenied) {
		t.Fatal(err)
	}
	if got := res.count(); got != 6 {
		t.Fatalf("%d lookups after a cancelled one, want 6 (not cached)", got)
	}
}

// TestNameCacheBound fills the cache past its limit and checks it stays
// bounded.
func TestNameCacheBound(t *testing.T) {
	clock := &fakeClock{t: time.Unix(0, 0)}
	c := newNameCache(ParseOptions{Resolver: &ptrResolver{}, Now: clock.Now})
	base := netip.MustParseAddr("2001:db8::")
	a := base
	for range maxCachedAddrs + 10 {
		a = a.Next()
		c.lookup(context.Background(), a)
	}
	if n := len(c.entries); n > maxCachedAddrs {
		t.Fatalf("cache holds %d entries, limit %d", n, maxCachedAddrs)
	}
}

func TestMatchZeroExport(t *testing.T) {
	// An Export built by hand (no name cache) still matches addresses and
	// treats name rules as unmatched.
	h, _ := parseClient("h.lab")
	p, _ := parseClient("10.0.0.0/8")
	e := &Export{Path: "/x", Dir: "/x", Rules: []*ClientRule{&h, &p}}
	if r, ok := e.Match(context.Background(), netip.MustParseAddrPort("10.1.1.1:1")); !ok || r != &p {
		t.Fatalf("got %v %v, want the 10.0.0.0/8 rule", r, ok)
	}
	if _, ok := e.Match(context.Background(), netip.MustParseAddrPort("11.1.1.1:1")); ok {
		t.Fatal("matched an address outside every rule")
	}
	if _, ok := e.Match(context.Background(), netip.AddrPort{}); ok {
		t.Fatal("matched the zero address")
	}
}
