// Command xdrgen turns an XDR specification (RFC 4506, with RFC 5531 program
// blocks) into Go types with Encode and Decode methods over package xdr, and
// a test file that round-trips, truncates and fuzzes every type.
//
//	xdrgen -pkg nfs3xdr -o nfs3_xdr.go nfs3.x
//
// The test file is written beside the output as NAME_test.go (for an output
// NAME.go). See internal/xdrgen for the Go mapping.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gonfs/gonfs/internal/xdrgen"
)

func main() {
	pkg := flag.String("pkg", "", "Go package name")
	out := flag.String("o", "", "output file (NAME.go; tests go to NAME_test.go)")
	flag.Parse()
	if *pkg == "" || *out == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: xdrgen -pkg NAME -o OUT.go SPEC.x")
		os.Exit(2)
	}
	src, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "xdrgen:", err)
		os.Exit(1)
	}
	code, tests, err := xdrgen.Generate(*pkg, filepath.Base(flag.Arg(0)), string(src))
	if err != nil {
		fmt.Fprintf(os.Stderr, "xdrgen: %s: %v\n", flag.Arg(0), err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, code, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "xdrgen:", err)
		os.Exit(1)
	}
	testOut := strings.TrimSuffix(*out, ".go") + "_test.go"
	if err := os.WriteFile(testOut, tests, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "xdrgen:", err)
		os.Exit(1)
	}
}
