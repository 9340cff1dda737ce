package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// listDir must see every entry once, however many getdents calls the
// listing takes, and count churn names apart.
func TestListDir(t *testing.T) {
	for _, tc := range []struct{ stable, churn int }{{0, 0}, {1, 0}, {500, 0}, {300, 7}} {
		t.Run(fmt.Sprintf("%d+%d", tc.stable, tc.churn), func(t *testing.T) {
			dir := t.TempDir()
			for i := range tc.stable {
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s%06d", stablePrefix, i)), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for i := range tc.churn {
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s1-%d", churnPrefix, i)), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			seen, churn, err := listDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(seen) != tc.stable || churn != tc.churn {
				t.Fatalf("saw %d names and %d churn entries, want %d and %d", len(seen), churn, tc.stable, tc.churn)
			}
			for name, n := range seen {
				if n != 1 {
					t.Errorf("%s seen %d times", name, n)
				}
			}
		})
	}
}
