package xdrgen

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestNoDrift regenerates every proto/*/*.x with the flags of the generate
// directive in its package's doc.go and compares with the checked-in output, so a change to
// a definition or to the generator cannot land without its generated code.
func TestNoDrift(t *testing.T) {
	specs, err := filepath.Glob("../../proto/*/*.x")
	if err != nil || len(specs) == 0 {
		t.Fatalf("no specs found: %v", err)
	}
	genLine := regexp.MustCompile(`//go:generate go run \.\./\.\./cmd/xdrgen -pkg (\w+) -o (\S+) (\S+)`)
	for _, spec := range specs {
		dir := filepath.Dir(spec)
		doc, err := os.ReadFile(filepath.Join(dir, "doc.go"))
		if err != nil {
			t.Fatal(err)
		}
		var pkg, out string
		for _, m := range genLine.FindAllStringSubmatch(string(doc), -1) {
			if m[3] == filepath.Base(spec) {
				pkg, out = m[1], m[2]
			}
		}
		if pkg == "" {
			t.Errorf("%s: no go:generate line for it in doc.go", spec)
			continue
		}
		src, err := os.ReadFile(spec)
		if err != nil {
			t.Fatal(err)
		}
		code, tests, err := Generate(pkg, filepath.Base(spec), string(src))
		if err != nil {
			t.Errorf("%s: %v", spec, err)
			continue
		}
		testOut := out[:len(out)-len(".go")] + "_test.go"
		for name, want := range map[string][]byte{out: code, testOut: tests} {
			got, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Errorf("%v (run go generate ./proto/...)", err)
				continue
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s/%s is out of date: run go generate ./proto/...", dir, name)
			}
		}
	}
}
