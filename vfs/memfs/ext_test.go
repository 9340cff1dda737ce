package memfs_test

import (
	"testing"

	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/vfs/memfs"
	"github.com/gonfs/gonfs/vfs/vfstest"
)

// TestConformanceExt runs the suite of the optional interfaces (vfs/ext.go).
func TestConformanceExt(t *testing.T) {
	vfstest.RunExt(t, func(t *testing.T) vfs.FS {
		return memfs.New(memfs.Options{})
	}, vfstest.Options{SparseUsed: true})
}
