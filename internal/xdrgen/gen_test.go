package xdrgen

import (
	"strings"
	"testing"
)

func TestGoName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"post_op_attr", "PostOpAttr"},
		{"nfsstat3", "Nfsstat3"},
		{"READ3args", "READ3args"},
		{"attributes_follow", "AttributesFollow"},
		{"nlm4_testargs", "Nlm4Testargs"},
		{"fileid", "Fileid"},
	} {
		if got := goName(tc.in); got != tc.want {
			t.Errorf("goName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestShortNames(t *testing.T) {
	got := shortNames([]Proc{{Name: "NFSPROC3_NULL"}, {Name: "NFSPROC3_GETATTR"}, {Name: "NFSPROC3_READDIRPLUS"}})
	want := []string{"NULL", "GETATTR", "READDIRPLUS"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got %v, want %v", got, want)
	}
	got = shortNames([]Proc{{Name: "NLMPROC4_TEST"}, {Name: "NLMPROC4_TEST_MSG"}})
	if got[1] != "TEST_MSG" {
		t.Errorf("got %v", got)
	}
}

// TestErrors checks that bad specifications are refused with the line.
func TestErrors(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"const A = ;", "line 1: expected a number or constant"},
		{"struct s { int a; };\nstruct s { int b; };", "line 2: type s defined twice"},
		{"struct s {\n foo a; };", "line 2: undefined type foo"},
		{"struct s { opaque a<N>; };", "undefined constant N"},
		{"struct s { string a; };", "must be variable-length"},
		{"struct s { struct { int x; } a; };", "anonymous inline struct"},
		{"union u switch (hyper d) { case 1: void; };", "discriminant type hyper"},
		{"union u switch (int d) { case 1: void; case 1: int x; };", "case 1 repeated"},
		{"union u switch (int d) { case 1: int x; case 2: hyper x; };", "declared twice with different types"},
		{"/* open", "unterminated comment"},
		{"struct s { int a; } ", "unexpected end of file"},
		{"const A = 1; const A = 2;", "Go name A already used"},
		{"program P { version V { void X(void) = 0; } = 1; } = 2;\nconst X = 3;", "Go name X already used"},
	} {
		_, _, err := Generate("p", "t.x", tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want error containing %q", tc.spec, err, tc.want)
		}
	}
}

// TestSmallSpec generates a spec that uses every construct.
func TestSmallSpec(t *testing.T) {
	spec := `
const MAX = 4;
typedef unsigned hyper u64;
typedef u64 id;
typedef opaque fh<MAX>;
typedef string name<>;
enum color { RED = 0, GREEN = 1, ALSO_RED = 0 };
struct node { id v; node *next; };
typedef node *list;
union pick switch (color c) { case RED: case GREEN: fh h; default: void; };
union flag switch (bool b) { case TRUE: name n; case FALSE: void; };
struct all { int a[2]; unsigned b<MAX>; opaque c[3]; list l; pick p; flag f; double d; float e; hyper h; };
program PROG { version V1 { all GET(name) = 1; void PING(void) = 0; bool SET(unsigned int) = 2; } = 1; } = 100;
`
	code, tests, err := Generate("p", "t.x", spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"type Id U64", "type Fh []byte", "type List = *Node", "RED Color = 0",
		"func V1ProcName(proc uint32) string", "return new(xdr.Bool)", "r.ArrayLen(MAX, 4)",
		`r.BadDiscriminant("flag", 0)`,
	} {
		if !strings.Contains(string(code), want) {
			t.Errorf("generated code lacks %q", want)
		}
	}
	if !strings.Contains(string(tests), "func FuzzXDRDecode") {
		t.Error("tests lack the fuzz target")
	}
	// The String method must not repeat the aliased value.
	if strings.Contains(string(code), `return "ALSO_RED"`) {
		t.Error("String repeats an aliased enum value")
	}
}
