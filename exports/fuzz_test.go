package exports

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"os"
	"path"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that its errors always carry
// a file and a plausible line, and that every table it accepts is well
// formed, survives Format and Parse unchanged, and answers Access.
// Seeds: testdata/fuzz/FuzzParse and the example file.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("testdata/example.exports"); err == nil {
		f.Add(string(b))
	}
	res := &dnsResolver{
		ptrResolver: ptrResolver{ptr: map[string][]string{"10.0.0.1": {"a.example.com"}}},
		host:        map[string][]string{"a.example.com": {"10.0.0.1"}},
	}
	clients := []netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:700"),
		netip.MustParseAddrPort("[::ffff:10.0.0.1]:5000"),
		netip.MustParseAddrPort("[2001:db8::1]:700"),
	}
	f.Fuzz(func(t *testing.T, in string) {
		tb, err := ParseWith(strings.NewReader(in), "fuzz", ParseOptions{Resolver: res})
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a *ParseError: %v", err)
			}
			if pe.File != "fuzz" || pe.Line < 1 || pe.Line > strings.Count(in, "\n")+2 {
				t.Fatalf("bad position in %q", err)
			}
			return
		}
		for _, e := range tb.Exports() {
			if e.Path != e.Dir || !path.IsAbs(e.Path) || path.Clean(e.Path) != e.Path {
				t.Fatalf("bad export path %q dir %q", e.Path, e.Dir)
			}
			if len(e.Rules) == 0 {
				t.Fatalf("export %q has no rules", e.Path)
			}
			for _, r := range e.Rules {
				if r.Kind < ClientHost || r.Kind > ClientAnyone || len(r.Options.Sec) == 0 || r.Line < 1 {
					t.Fatalf("bad rule %+v", r)
				}
			}
			for _, c := range clients {
				e.Access(context.Background(), c)
			}
		}
		var out bytes.Buffer
		if err := tb.Format(&out); err != nil {
			t.Fatal(err)
		}
		tb2, err := Parse(bytes.NewReader(out.Bytes()), "formatted")
		if err != nil {
			t.Fatalf("Format output does not parse: %v\n%s", err, out.String())
		}
		if a, b := summary(tb), summary(tb2); a != b {
			t.Fatalf("round trip changed the table:\n%s\n----\n%s", a, b)
		}
	})
}
