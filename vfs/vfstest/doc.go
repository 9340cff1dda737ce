// Package vfstest is a conformance suite for vfs.FS backends.
//
// A backend's test calls Run with a constructor that returns a fresh, empty
// filesystem for each subtest:
//
//	func TestConformance(t *testing.T) {
//		vfstest.Run(t, func(t *testing.T) vfs.FS {
//			return memfs.New(memfs.Options{})
//		}, vfstest.Options{})
//	}
//
// The suite checks what the vfs package documents and what Linux does for
// the matching system call (errno values are those of unlink(2), rmdir(2),
// rename(2), link(2), open(2) and friends), using errors.Is with syscall.Errno
// so backends may wrap their errors. Options tells the suite what a backend
// cannot do; the checks that need it are skipped with t.Skip and the reason,
// never silently passed.
//
// Requirements on the constructor: the root of the returned FS is an empty
// directory that vfs.RootCred() may create files in; it is the only state a
// subtest sees, and it is cleaned up by the constructor (for example with
// t.TempDir or t.Cleanup).
//
// Concurrency: Run runs its subtests one after another (not t.Parallel), so
// constructors need not be safe for concurrent use; some subtests call the FS
// from many goroutines and are meant to be run with -race.
package vfstest
