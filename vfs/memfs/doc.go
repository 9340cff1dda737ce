// Package memfs is an in-memory vfs.FS: a POSIX-like tree kept in maps, for
// tests and scratch exports. Nothing survives the process.
//
// It emulates what a Linux filesystem does for the Cred of each call:
// permission checks from the mode bits (owner, then group including
// supplementary groups, then other, with no fall-through), root bypassing
// read and write checks as CAP_DAC_OVERRIDE does and needing one x bit to
// execute a file, chown(2)/chmod(2)/utimensat(2) ownership rules, sticky
// directories, and errno values as the matching system calls return them.
// Symlinks are stored, never followed.
//
// Handles are 12 bytes: the 8-byte inode number and a 4-byte generation,
// big-endian. Inode numbers of removed files are reused, with a new
// generation, so an old handle answers ESTALE instead of naming a stranger.
//
// File data lives in 64 KiB blocks allocated on first write, so holes cost
// nothing and a write at 1 TiB allocates one partial block; Attr.Used is the
// bytes of blocks actually held. Options.Capacity bounds the total (ENOSPC).
//
// Directory entries carry a per-directory sequence number given at
// insertion; ReadDir yields entries in that order and a cookie is the
// sequence number plus 3 (0, 1 and 2 stay free for "start", "." and ".."),
// so a cookie stays valid whatever else is added or removed. A rename gives
// the entry a new number in its (new) directory.
//
// Concurrency: one sync.RWMutex guards the whole tree, metadata and data.
// Read-only operations (GetAttr, Lookup, Access, Readlink, Read, StatFS and
// ReadDir) share it; everything else holds it exclusively for the length of
// the call. ReadDir calls its callback without the lock held, in batches, so
// the callback may call back into the FS. Reads do not update atime (as a
// noatime mount), which keeps them on the shared lock.
package memfs
