package exports

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseGood(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  string   // summary of the table
		warns []string // Table.Warnings
	}{
		{"one client", "/srv host1(rw)\n", "/srv host1(rw)", nil},
		{"no options gets defaults", "/srv host1", "/srv host1", nil},
		{"empty parentheses", "/srv host1()", "/srv host1", nil},
		{"several clients", "/srv a(rw) b(ro,async) 10.0.0.0/8(insecure)",
			"/srv a(rw) b(async) 10.0.0.0/8(insecure)", nil},
		{"default options", "/srv -rw,async a b(ro) c(sync)",
			"/srv a(rw,async) b(async) c(rw)", nil},
		{"default options only", "/srv -rw",
			"/srv *(rw)", []string{`exports:1: no client given for "/srv": exporting to everyone (write * to silence this)`}},
		{"bare path", "/srv\n",
			"/srv *", []string{`exports:1: no client given for "/srv": exporting to everyone (write * to silence this)`}},
		{"options without host", "\n/srv (rw)",
			"/srv *(rw)", []string{`exports:2: no host name before "(rw)" for "/srv": exporting to everyone (write *(rw) to silence this)`}},
		{"quoted path", `"/srv/my share" *(rw)`, "/srv/my share *(rw)", nil},
		{"quoted part of path", `/srv/"my share" *`, "/srv/my share *", nil},
		{"octal escape", `/srv/my\040share *`, "/srv/my share *", nil},
		{"octal escape in quotes", `"/srv/a\042b" *`, `/srv/a"b *`, nil},
		{"comments and blank lines", "# header\n\n   \n/srv a # trailing comment\n\t# indented\n", "/srv a", nil},
		{"hash inside a token is not a comment", "/srv/a#b x", "/srv/a#b x", nil},
		{"quoted hash", `"/srv/#x" y`, "/srv/#x y", nil},
		{"continuation", "/srv a(rw) \\\n    b(ro) \\\n  c\n/other d", "/srv a(rw) b c\n/other d", nil},
		{"continuation with trailing blanks", "/srv a \\  \n b", "/srv a b", nil},
		{"continuation at end of file", "/srv a \\", "/srv a", nil},
		{"crlf", "/srv a(rw)\r\n/x b\r\n", "/srv a(rw)\n/x b", nil},
		{"trailing slash cleaned", "/srv/ a\n/srv//x/./y b", "/srv a\n/srv/x/y b", nil},
		{"same path on two lines", "/srv a(rw)\n/x c\n/srv b", "/srv a(rw) b\n/x c", nil},
		{"root path", "/ *(ro,fsid=0)", "/ *(fsid=root)", nil},
		{"fsid forms", "/a *(fsid=root)\n/b *(fsid=12)\n/c *(fsid=0123456789abcdef0123456789ABCDEF)\n/d *(fsid=01234567-89ab-cdef-0123-456789abcdee)",
			"/a *(fsid=root)\n/b *(fsid=12)\n/c *(fsid=01234567-89ab-cdef-0123-456789abcdef)\n/d *(fsid=01234567-89ab-cdef-0123-456789abcdee)", nil},
		{"same fsid on two rules of one export", "/a x(fsid=3) y(fsid=3) z", "/a x(fsid=3) y(fsid=3) z", nil},
		{"sec list and aliases", "/a x(sec=krb5p:krb5i:krb5:unix:null) y(sec=sys:sys)",
			"/a x(sec=krb5p:krb5i:krb5:sys:none) y", nil},
		{"squash options", "/a w(no_root_squash) x(all_squash,anonuid=1000,anongid=0) y(all_squash,no_all_squash)",
			"/a w(no_root_squash) x(all_squash,anonuid=1000,anongid=0) y", nil},
		{"last of ro/rw wins", "/a x(ro,rw) y(rw,ro)", "/a x(rw) y", nil},
		{"the other flags", "/a x(async,no_wdelay,nohide,crossmnt,subtree_check,no_acl,pnfs,nodelegations,insecure_locks)",
			"/a x(async,no_wdelay,nohide,crossmnt,subtree_check,no_acl,pnfs,nodelegations,insecure_locks)", nil},
		{"flag aliases", "/a x(no_auth_nlm) y(insecure_locks,auth_nlm) z(secure,wdelay,hide,no_pnfs,delegations,acl,sync)",
			"/a x(insecure_locks) y z", nil},
		{"mountpoint", "/a x(mountpoint) y(mp=/a/) z(mountpoint=/b/c)",
			"/a x(mountpoint) y(mountpoint=/a) z(mountpoint=/b/c)", nil},
		{"recorded but not acted on", "/a x(nordirplus,security_label,refer=/b@h1+h2,replicas=/c@h3)",
			"/a x(nordirplus,security_label,refer=/b@h1+h2,replicas=/c@h3)", nil},
		{"client kinds", "/a 10.0.0.5 10.0.0.0/8 10.1.2.3/255.255.0.0 ::1 fe80::/10 ::ffff:192.0.2.1 ::ffff:192.0.2.0/120 Host.Example.COM. *.lab h?st[0-9].x *",
			"/a 10.0.0.5 10.0.0.0/8 10.1.2.3/255.255.0.0 ::1 fe80::/10 ::ffff:192.0.2.1 ::ffff:192.0.2.0/120 Host.Example.COM. *.lab h?st[0-9].x *", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb, err := Parse(strings.NewReader(tt.in), "")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := summary(tb); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			if strings.Join(tb.Warnings, "\n") != strings.Join(tt.warns, "\n") {
				t.Errorf("warnings\n%q\nwant\n%q", tb.Warnings, tt.warns)
			}
		})
	}
}

func TestParseClientKinds(t *testing.T) {
	tb, err := Parse(strings.NewReader("/a 10.0.0.5 10.1.2.3/255.255.0.0 ::ffff:192.0.2.1 ::ffff:192.0.2.0/120 ::ffff:0:0/64 Host.Example.COM. *.Lab *"), "x")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"network 10.0.0.5/32",
		"network 10.1.0.0/16",
		"network 192.0.2.1/32",
		"network 192.0.2.0/24",
		"network ::/64", // masked: ::ffff: lies in bits 80-95
		"host host.example.com",
		"wildcard *.lab",
		"anyone ",
	}
	e, _ := tb.Lookup("/a")
	for i, r := range e.Rules {
		got := r.Kind.String() + " " + r.Name
		if r.Kind == ClientPrefix {
			got = r.Kind.String() + " " + r.Prefix.String()
		}
		if got != want[i] {
			t.Errorf("rule %d (%s): got %q, want %q", i, r.Spec, got, want[i])
		}
	}
}

func TestParseBad(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"relative path", "srv *", `f:1: export path "srv" is not absolute`},
		{"dotdot", "\n/srv/../etc *", `f:2: export path "/srv/../etc" contains ".."`},
		{"unknown option", "/srv a(rw,bogus)", `f:1: unknown option "bogus"`},
		{"unknown option with value", "/srv a(bogus=1)", `f:1: unknown option "bogus=1"`},
		{"flag with value", "/srv a(ro=1)", `f:1: option "ro" takes no value`},
		{"missing value", "/srv a(anonuid)", `f:1: option "anonuid" needs a value (anonuid=...)`},
		{"empty option", "/srv a(rw,,sync)", `f:1: empty option in "rw,,sync"`},
		{"trailing comma", "/srv a(rw,)", `f:1: empty option in "rw,"`},
		{"bad anonuid", "/srv a(anonuid=nobody)", `f:1: bad anonuid "nobody": want a number from 0 to 4294967294`},
		{"negative anonuid", "/srv a(anonuid=-2)", `f:1: bad anonuid "-2": want a number from 0 to 4294967294`},
		{"anongid -1", "/srv a(anongid=4294967295)", `f:1: bad anongid "4294967295": want a number from 0 to 4294967294`},
		{"bad fsid", "/srv a(fsid=abc)", `f:1: bad fsid "abc": want a number, "root", or a UUID of 32 hex digits`},
		{"fsid too big", "/srv a(fsid=4294967296)", `f:1: bad fsid "4294967296": number out of range`},
		{"bad flavor", "/srv a(sec=sys:krb6)", `f:1: unknown security flavor "krb6" in sec= (want sys, none, krb5, krb5i or krb5p)`},
		{"empty flavor", "/srv a(sec=sys:)", `f:1: empty flavor in sec=sys:`},
		{"two sec", "/srv a(sec=krb5,rw,sec=sys,ro)", `f:1: more than one sec= in one option list (per-flavor options) is not supported`},
		{"xprtsec", "/srv a(xprtsec=tls)", `f:1: option "xprtsec=tls" is not supported`},
		{"relative mountpoint", "/srv a(mp=x)", `f:1: mp="x": path must be absolute`},
		{"bad default option", "/srv -rw,nope a", `f:1: unknown option "nope"`},
		{"empty default list", "/srv - a", `f:1: empty default option list after "/srv"`},
		{"late default options", "/srv a -rw", `f:1: default options "-rw" must come right after the path`},
		{"bad prefix length", "/srv 10.0.0.0/33", `f:1: bad CIDR "10.0.0.0/33": prefix length must be a number from 0 to 32`},
		{"bad v6 prefix length", "/srv fe80::/129", `f:1: bad CIDR "fe80::/129": prefix length must be a number from 0 to 128`},
		{"signed prefix length", "/srv 10.0.0.0/+8", `f:1: bad CIDR "10.0.0.0/+8": prefix length must be a number from 0 to 32`},
		{"bad CIDR address", "/srv 10.0.0.x/8", `f:1: bad CIDR "10.0.0.x/8": invalid address "10.0.0.x"`},
		{"non-contiguous mask", "/srv 10.0.0.0/255.0.255.0", `f:1: bad CIDR "10.0.0.0/255.0.255.0": netmask 255.0.255.0 is not contiguous`},
		{"v6 with dotted mask", "/srv fe80::/255.0.0.0", `f:1: bad CIDR "fe80::/255.0.0.0": invalid netmask "255.0.0.0"`},
		{"bad IPv4", "/srv 10.0.0.256", `f:1: bad IPv4 address "10.0.0.256"`},
		{"zone", "/srv fe80::1%eth0", `f:1: bad address "fe80::1%eth0": zones are not allowed`},
		{"bracketed v6", "/srv [::1](rw)", `f:1: client "[::1]": write IPv6 addresses without brackets`},
		{"bad host char", "/srv ho$t", `f:1: bad client "ho$t": invalid character '$' in host name`},
		{"bad pattern", "/srv host[1-", `f:1: bad client "host[1-": malformed wildcard pattern`},
		{"netgroup", "/srv @trusted(rw)", `f:1: client "@trusted": netgroups are not supported`},
		{"gss client", "/srv gss/krb5(rw)", `f:1: client "gss/krb5": the gss/ client syntax is obsolete; use *(sec=...)`},
		{"duplicate client", "/srv a(rw) b\n/srv a(ro)", `f:2: duplicate export of "/srv" to "a" (first on line 1)`},
		{"duplicate via equal CIDR", "/srv 10.0.0.0/8 10.0.0.0/255.0.0.0", `f:1: duplicate export of "/srv" to "10.0.0.0/255.0.0.0" (first on line 1)`},
		{"duplicate via cleaned path", "/srv *\n/srv/ *", `f:2: duplicate export of "/srv" to "*" (first on line 1)`},
		{"duplicate address as prefix", "/srv 10.0.0.1 10.0.0.1/32", `f:1: duplicate export of "/srv" to "10.0.0.1/32" (first on line 1)`},
		{"duplicate implied star", "/srv\n/srv *", `f:2: duplicate export of "/srv" to "*" (first on line 1)`},
		{"conflicting fsid", "/a x(fsid=1)\n/a y(fsid=2)", `f:2: conflicting fsid for "/a": fsid=2 here, fsid=1 on line 1`},
		{"fsid reused", "/a x(fsid=root)\n/b y(fsid=0)", `f:2: fsid=root of "/b" is already used by "/a" (line 1)`},
		{"unterminated quote", `"/srv *`, `f:1: unterminated quoted string`},
		{"bad escape", `/srv\x *`, `f:1: invalid escape: a backslash must start an octal escape \000 to \377`},
		{"escape out of range", `/srv\400 *`, `f:1: invalid escape: a backslash must start an octal escape \000 to \377`},
		{"short escape", `/srv a\04`, `f:1: invalid escape: a backslash must start an octal escape \000 to \377`},
		{"blank in options", "/srv a(rw, sync)", `f:1: unterminated option list in "a(rw," (no blanks are allowed inside the parentheses)`},
		{"junk after options", "/srv a(rw)b", `f:1: unexpected "b" after ')' in "a(rw)b"`},
		{"nested paren", "/srv a(rw(x))", `f:1: unexpected ")" after ')' in "a(rw(x))"`},
		{"open paren in options", "/srv a(rw(x)", `f:1: unexpected '(' in "a(rw(x)"`},
		{"stray close paren", "/srv a)", `f:1: unexpected ')' in "a)"`},
		{"error on a continued line", "# c\n/srv a(rw) \\\n  b(rw) \\\n  c(bad)\n", `f:4: unknown option "bad"`},
		{"NUL in path", "/srv\\000x *", `f:1: export path "/srv\x00x" contains a NUL byte`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb, err := Parse(strings.NewReader(tt.in), "f")
			if err == nil {
				t.Fatalf("Parse succeeded:\n%s", summary(tb))
			}
			if err.Error() != tt.want {
				t.Errorf("got  %s\nwant %s", err, tt.want)
			}
		})
	}
}

func TestParseLongLine(t *testing.T) {
	in := "/a *\n/b " + strings.Repeat("x", maxLine+1) + "\n"
	_, err := Parse(strings.NewReader(in), "f")
	if err == nil || err.Error() != "f:2: line too long" {
		t.Fatalf("got %v, want f:2: line too long", err)
	}
}

func TestParseFileMissing(t *testing.T) {
	if _, err := ParseFile("testdata/does-not-exist"); err == nil {
		t.Fatal("ParseFile of a missing file succeeded")
	}
}

// TestFormatRoundTrip checks that Format writes what Parse reads back as
// the same table.
func TestFormatRoundTrip(t *testing.T) {
	in := `"/srv/a b" -rw 10.0.0.0/8 *.lab(ro,sec=krb5p:sys,fsid=9)
/srv/c\043 ::1(all_squash,anonuid=7,mp=/x\040y,refer=/r@h) host(nohide,crossmnt,async)
/#x *
`
	tb, err := Parse(strings.NewReader(in), "in")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := tb.Format(&out); err != nil {
		t.Fatal(err)
	}
	tb2, err := Parse(&out, "out")
	if err != nil {
		t.Fatalf("reparse: %v\n%s", err, out.String())
	}
	if a, b := summary(tb), summary(tb2); a != b {
		t.Errorf("round trip changed the table:\n%s\n----\n%s", a, b)
	}
}
