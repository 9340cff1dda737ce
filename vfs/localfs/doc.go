// Package localfs serves a directory of the local filesystem as a vfs.FS.
// It is the default backend of the gonfs server.
//
// # Handles
//
// New decides between two kinds of handle, once, for the life of the FS:
//
//   - Kernel handles, when name_to_handle_at(2) and open_by_handle_at(2)
//     work (the process has CAP_DAC_READ_SEARCH and the filesystem can
//     export handles; New checks by opening the root by its own handle).
//     The backend handle is the kernel's file handle (type and bytes), so it
//     survives renames, restarts of the server and reboots exactly as knfsd
//     handles do, and resolving it costs one open_by_handle_at.
//   - Index handles otherwise (or with Options.ForceIndex): the inode number
//     and a tag (the birth time from statx(2), 0 where the filesystem has
//     none). An index inode → (parent inode, name), kept in a bbolt file in
//     Options.StateDir and updated by our own operations, lets a handle be
//     resolved by walking the parent chain from the root with openat(2),
//     checking the inode number at every step. When the chain is broken
//     (the file was moved behind our back, or the index was lost) a bounded
//     depth-first scan of the export (Options.RescanLimit entries) looks for
//     the inode; if it is not found the handle is stale (ESTALE). The index is
//     a hint, never trusted: every step is verified, and losing the index
//     file only costs scans. Without a StateDir the index lives in memory and
//     a restart relies on the scan alone. Inode reuse is detected by the tag;
//     on a filesystem without birth times a reused inode number found at the
//     recorded place is taken for the old file.
//
// The two kinds do not mix: a server that once ran as root and now runs
// unprivileged (or the reverse, or with ForceIndex toggled) finds all
// earlier handles stale. Choose the mode of an export once.
//
// Resolved handles are kept in an LRU cache of O_PATH file descriptors
// (Options.CacheSize); eviction only costs a new resolution. Listings do
// not fill it (see ReadDir below); Lookup adds the file it opens, and a
// Lookup of a name whose inode is cached needs only one statx. Kernel
// handles themselves are also cached by file identity, without a
// descriptor (see Attributes and directories).
//
// # Confinement
//
// Every operation works on a directory file descriptor and a single name with
// the *at system calls and O_NOFOLLOW / AT_SYMLINK_NOFOLLOW, so no symlink is
// ever followed; "..": of the root is the root. A kernel handle may name any
// file of the filesystem, so one that resolves outside the export is stale:
//
//   - a directory is accepted when walking ".." from it reaches the root
//     (same device and inode) within 4096 steps;
//   - a non-directory is accepted when the export is the root of its
//     filesystem; otherwise when the path the kernel reports for it
//     (/proc/self/fd) lies below the export and walking that path from the
//     root with O_NOFOLLOW reaches the same inode; otherwise when the bounded
//     scan of the export finds a link to it. Files found by name from a
//     verified directory (Lookup, ReadDir, Create...) are verified by
//     construction. A verified file stays in the cache until evicted, even if
//     it is moved out of the export behind our back meanwhile; so do the
//     handles a listing issued without caching their files, in a set of the
//     last 2-4 x CacheSize of them, and resolving one skips the checks above.
//
// Filesystems mounted inside the export are not crossed (like knfsd without
// crossmnt, but simpler), bind mounts of the export's own filesystem
// included (they have its device but another mount ID, which statx and
// name_to_handle_at report): Lookup of a mount point fails with EACCES,
// ReadDir lists it as a directory with the inode number of the covered
// directory and no handle, and a handle never resolves to a file on another
// device or mount.
//
// # Identity
//
// When the process runs as root (and Options.NoIdentity is not set), every
// operation that takes a *vfs.Cred runs with that identity: on a locked OS
// thread the supplementary groups, fsgid and fsuid of that thread only are
// switched with raw setgroups/setfsgid/setfsuid system calls, the operation
// is done, and the thread's identity is restored; a thread whose restore
// fails stays locked so that the Go runtime discards it. The kernel then
// does the permission checks and gives new files the caller's owner and
// group. Changing fsuid away from 0 also drops the filesystem capabilities
// (CAP_DAC_OVERRIDE, CAP_CHOWN, CAP_FOWNER, ...), so root squashing and
// chown(2) rules are the kernel's. Device nodes need CAP_MKNOD, which is not
// a filesystem capability, so Mknod refuses them (EPERM) for a non-root Cred
// itself. Handles are resolved, and verification scans run, as the process.
//
// Otherwise (not root, or NoIdentity) operations run as the process: files
// belong to the process's user whatever the Cred, the kernel checks what
// the process may do, and Access reports that.
//
// Switching costs about 13 µs per operation (every setfsuid, setfsgid or
// setgroups that changes something commits a new struct cred), more than a
// 4 KiB read. So operations that need only a permission decision (Read,
// Lookup, ReadDir, Access, and Write to a file with no setuid/setgid bit
// to strip) decide without switching, then do the work as the process
// (perm.go has the details): the owner may read and write (knfsd's owner
// override); a decision is reused while the file's ctime, mode and owner
// are unchanged; on ext4, xfs, btrfs and tmpfs a file without a POSIX ACL
// (one getxattr tells) is decided from its mode bits as the kernel's
// generic_permission would; anything else is asked of the kernel with
// faccessat2 (AT_EACCESS) under the caller's identity. So a stream of
// writes, each of which changes ctime, needs no switch unless the file has
// an ACL. Security modules are then asked about the process rather than the
// caller, which for label-based modules (SELinux, AppArmor, Smack,
// Landlock) is the same thing: the fsuid switch does not change a label.
// File capabilities need no switch either: the kernel removes them on any
// write, by root too. Operations that change the tree always run under the
// caller's identity.
//
// Read and Write use pread/pwrite on a descriptor cached with the resolved
// handle (opened O_RDWR when possible, else O_RDONLY, through /proc/self/fd
// so that no name is walked). Because that descriptor was opened by the
// process, permission is checked on every call as described above. Like
// knfsd (NFSD_MAY_OWNER_OVERRIDE), the owner of a file may read and write
// it, and truncate it with SetAttr, whatever its mode: NFS clients check
// permissions at open time and then write through files created read-only.
// Stability: Unstable is a plain pwrite, DataSync adds fdatasync, FileSync
// fsync; Commit is fsync. Writes past the end leave holes.
//
// # Attributes and directories
//
// Attributes come from statx(2). Change is the ctime in nanoseconds: the
// kernel's i_version change counter is not visible to user space. Since
// Linux 6.13 ext4, xfs, btrfs and tmpfs use multigrain timestamps, so a ctime
// queried after a change always differs from the one before it; on older
// kernels ctime is jiffy-granular and Change may not advance between two quick
// changes.
//
// ReadDir with attributes (READDIRPLUS) neither opens nor caches the
// entries: statx by name relative to the directory gives the attributes;
// an index handle is made from them, and a kernel handle comes from
// name_to_handle_at by name. Since the name may point at another file
// between the two calls, a kernel handle is accepted only when the inode
// number it encodes (the layouts of ext4, xfs, btrfs and tmpfs are known;
// see handleIno) is the one statx reported; otherwise, and on other
// filesystems, the entry is opened and both come from the descriptor.
//
// Kernel handles of files seen before are cached, so that listing a
// directory again costs one statx per entry instead of statx and
// name_to_handle_at. The cache maps (inode number, birth time) to the
// kernel handle; listings, lookups, creations and resolutions fill it
// wherever the kernel gave a handle for a file whose statx is at hand (on
// a descriptor, or by name when the handle encodes the inode statx
// reported). A listing consults it when getdents reports an inode number
// it holds: statx of the name must then report that inode with the cached
// birth time, or the entry is named by the kernel as above. Lookup and
// the creating operations use it for the descriptor they open, and
// resolving a handle uses it to know the handle is the one we issue. The
// pair names one file: a kernel handle names (inode, generation), and an
// inode number that is freed and reused belongs to a new file with a new
// birth time, so statx and the cached handle describe the same file, as
// an index handle and its statx do. It holds 65,536 handles in 4.25 MiB
// per FS, in sets of four under their own mutexes, and is used only in
// kernel mode on the filesystems whose handle layouts handleIno reads
// (ext4, xfs, btrfs, tmpfs) and only for files with a birth time;
// elsewhere every entry costs what it did.
//
// Caveat: birth times can be coarse (ext4 takes them from the coarse
// clock, which advances once a tick, every 1-10 ms), and ext4 gives a
// freed inode number to the next file it creates. So a file
// created, listed, deleted behind our back and replaced by a new file
// with its inode number, all within the tick of the first one's creation,
// is taken for the first: the listing gives the new file the old file's
// handle. That handle is stale, never another file's: it names the old
// inode number and generation, the new file has another generation (ext4,
// xfs and tmpfs choose it at random or from a counter, btrfs from the
// transaction), so open_by_handle_at refuses it, and the client gets
// ESTALE and looks the name up again. The refusal drops the cached entry
// (the handle tells its inode number), and our own Remove and Rename drop
// the entry of a file whose last link they remove, so the mistake lasts
// until the handle is first used, and never comes from removals made
// through this FS.
//
// ReadDir cookies are the kernel's d_off values, and resuming seeks the
// directory to the cookie. They are stable positions, valid across restarts,
// on ext4 and xfs (hashes of the name; ext4 and xfs can in rare cases
// collide), btrfs (index numbers) and tmpfs since Linux 6.6 (offset maps;
// before 6.6 tmpfs positions were counts and shifted when entries were
// removed). They are not stable on filesystems that use counts, such as
// older tmpfs, some FUSE filesystems, and NFS mounts re-exported.
//
// # Concurrency
//
// All methods are safe for concurrent use; the kernel orders conflicting
// operations. The node cache, the kernel-handle cache and the index have
// their own locks, held for map work only (lookups and updates), never
// over a system call (the index's bbolt writes happen on a background
// goroutine). One bbolt
// file serves one export at a time: a second FS on the same directory and
// StateDir fails in New after a second, while the first is open.
package localfs
