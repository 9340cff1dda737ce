package memfs_test

import (
	"context"
	"testing"

	"github.com/gonfs/gonfs/vfs/memfs"
)

// BenchmarkGetAttr is the backend half of every GETATTR, and of the
// post-op attributes most NFSv3 replies carry. Read4K and Write4K are in
// memfs_test.go; localfs has the same three in its bench_test.go.
func BenchmarkGetAttr(b *testing.B) {
	ctx := context.Background()
	fs := memfs.New(memfs.Options{})
	h, _, _, err := fs.Create(ctx, root, fs.Root(), "f", mode(0o644), true)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fs.GetAttr(ctx, h); err != nil {
			b.Fatal(err)
		}
	}
}
