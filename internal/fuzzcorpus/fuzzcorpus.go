// Package fuzzcorpus keeps fuzz seeds in the repository: Add gives a seed
// to a fuzz target and, when GONFS_WRITE_CORPUS=1, also writes it under
// testdata/fuzz/<target>/ in Go's corpus format, so that the committed
// corpus is exactly the seeds the code names.
//
//	GONFS_WRITE_CORPUS=1 go test -run '^$' -fuzz '^FuzzX$' -fuzztime 1x ./pkg
package fuzzcorpus

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Add adds args as a seed of f (see the package doc).
func Add(f *testing.F, args ...any) {
	f.Helper()
	f.Add(args...)
	if os.Getenv("GONFS_WRITE_CORPUS") != "1" {
		return
	}
	body, err := Encode(args...)
	if err != nil {
		f.Fatal(err)
	}
	dir := filepath.Join("testdata", "fuzz", f.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.Fatal(err)
	}
	name := fmt.Sprintf("seed-%x", sha256.Sum256([]byte(body)))[:21]
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		f.Fatal(err)
	}
}

// Encode renders values in Go's fuzz corpus file format ("go test fuzz v1").
func Encode(args ...any) (string, error) {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case string:
			fmt.Fprintf(&b, "string(%q)\n", v)
		case bool:
			fmt.Fprintf(&b, "bool(%v)\n", v)
		case uint8:
			fmt.Fprintf(&b, "byte(%d)\n", v)
		case uint16:
			fmt.Fprintf(&b, "uint16(%d)\n", v)
		case uint32:
			fmt.Fprintf(&b, "uint32(%d)\n", v)
		case uint64:
			fmt.Fprintf(&b, "uint64(%d)\n", v)
		case int:
			fmt.Fprintf(&b, "int(%d)\n", v)
		case int32:
			fmt.Fprintf(&b, "int32(%d)\n", v)
		case int64:
			fmt.Fprintf(&b, "int64(%d)\n", v)
		default:
			return "", fmt.Errorf("fuzzcorpus: unsupported seed type %T", a)
		}
	}
	return b.String(), nil
}
