// Package vfs defines the handle-based storage interface that the NFS
// protocol layers serve files from, and nothing else: backends know nothing
// of NFS, and the NFS layer knows nothing of how a backend stores files.
//
// Backends live in sub-packages: localfs serves a directory of the local
// filesystem, memfs keeps a tree in memory (tests, scratch exports). The
// vfstest sub-package is a conformance suite that every backend runs.
//
// Concurrency: every FS method may be called from many goroutines at once.
// Backends order conflicting operations on one file as the local kernel
// would; the NFS layer adds no locking of its own around backend calls.
package vfs
