// Package fuse mounts an NFS export through gonfs's own client library
// (package client) as a FUSE file system, with hanwen/go-fuse/v2's fs API.
//
//	c, _ := client.Dial(ctx, "nfs://server/?version=4.2", client.Options{})
//	srv, _ := fuse.Mount("/mnt/x", c, fuse.Options{})
//	srv.Wait() // until fusermount3 -u /mnt/x, or srv.Unmount()
//
// Each FUSE node stands for a path below the client's root: the kernel
// walks names one LOOKUP at a time and the node asks the client for the
// path it is at (Inode.Path), which the client's name and attribute
// caches answer without a round trip while fresh. Inode numbers are the
// server's fileids, so hard links share one inode.
//
// Caching is the client's: attributes and names as the client caches them
// (Options.AcRegMin and friends), data in the client's data cache validated
// by the change attribute and by delegations. The kernel's own caches are
// kept no longer than the client's: entry and attribute timeouts are the
// client's minimum timeouts (zero with client.Options.NoCache), and an open
// keeps the kernel's page cache (FOPEN_KEEP_CACHE) only when the file's
// change attribute is the one seen at the previous open (close-to-open).
// close(2) (FUSE FLUSH) writes dirty data back and COMMITs it, so errors
// show at close as they do on an NFS mount.
//
// Byte-range locks (fcntl F_SETLK, F_GETLK) become NFSv4 LOCK/LOCKT or NLM
// locks of the open file, without waiting: F_SETLKW is answered EAGAIN
// when the range is taken. The lock owner is the open file, so two
// descriptors of one process opened separately conflict with each other,
// unlike local POSIX locks.
//
// Not expressible through this mount: device nodes, FIFOs and sockets
// (mknod is ENOTSUP: the client library creates none), RENAME_EXCHANGE and
// RENAME_NOREPLACE, and extended attributes. chown works as far as the
// server lets the mount's NFS credential (client.Options.Auth) do it, which
// for an ordinary user is not at all; FUSE itself does not check
// permissions (no default_permissions): the server does, for the mount's
// credential, whoever the local caller is.
//
// Concurrency: go-fuse calls the node methods from many goroutines. The
// only lock of their own is a node's mutex around its page-cache decision
// (keepCache), never held across a call to the server; the client is safe
// for concurrent use.
package fuse
