package localfs

import (
	"slices"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/gonfs/gonfs/vfs"
)

// Switching a thread's identity costs about 13 µs here (each setfsuid,
// setfsgid or setgroups that changes something commits a new struct cred),
// far more than a 4 KiB read. The operations that only need a permission
// decision (Read, Write of a file without privileges to clear, Lookup,
// ReadDir, Access) therefore decide without switching where they can:
//
//  1. Read and Write by the file's owner are allowed outright: knfsd's owner
//     override (NFSD_MAY_OWNER_OVERRIDE) lets the owner read and write
//     whatever the mode, and it is checked before anything else there too.
//     (An immutable or append-only file is left to the kernel's check.)
//  2. A decision already made for the same Cred is reused while the file's
//     ctime, mode and owner are unchanged. Everything that decides
//     permission (mode, owner, group, ACLs and security labels, which live
//     in xattrs) changes ctime. Since Linux 6.13 ctime is multigrain: once
//     we have read it, the next change gets a later one, so a change is
//     never missed. On older kernels ctime is jiffy-granular and a change
//     of ACL (not of mode or owner, which are compared too) made within
//     the jiffy of a cached check is seen only at the next change.
//  3. On filesystems whose permission check is the kernel's
//     generic_permission (ext2/3/4, xfs, btrfs, tmpfs: fs.genericPerm), a
//     regular file or directory without a POSIX access ACL is decided here
//     from its mode, owner and group, exactly as generic_permission does
//     for a caller without capabilities (the switch away from fsuid 0 drops
//     them): the owner class if the caller owns the file, else the group
//     class if the caller's gid or a supplementary group is the file's,
//     else other. One getxattr(2) of system.posix_acl_access tells whether
//     there is an ACL, and costs far less than a switch. This is what keeps
//     a stream of writes by non-owners (each write changes ctime, so 2
//     never helps) from paying a switch per write. It is used for reading
//     (R_OK), searching a directory (X_OK), and writing through our own
//     descriptor (W_OK from Write and the ext.go data operations, which
//     fail by themselves on a read-only mount), not for Access's W_OK
//     or X_OK on files, where the kernel also reports read-only mounts
//     (EROFS), running executables (ETXTBSY) and noexec mounts.
//     Caveat: security modules are not asked about the caller. They were
//     not asked about the caller's uid before either in any way that
//     matters: SELinux, AppArmor, Smack and Landlock decide by the
//     process's label or domain, which the fsuid switch does not change,
//     and they still check the process when the file is opened and
//     written. A module that decides by fsuid would see only the process.
//  4. Otherwise the kernel is asked with faccessat2 (AT_EACCESS) under the
//     caller's identity, and the answer is cached as in 2.
//
// Operations that change the tree keep switching identities: the kernel
// then also applies ownership of new files, sticky directories, chown rules
// and setuid clearing for the caller.

// permStamp is what a cached decision depends on besides the Cred.
type permStamp struct {
	ctimeSec  int64
	ctimeNsec uint32
	mode      uint16
	uid, gid  uint32
}

func stampOf(stx *unix.Statx_t) permStamp {
	return permStamp{stx.Ctime.Sec, stx.Ctime.Nsec, stx.Mode, stx.Uid, stx.Gid}
}

// permEntry caches faccessat2 answers for one Cred; errs is indexed by
// permBit, and known says which are filled.
type permEntry struct {
	uid, gid uint32
	groups   []uint32
	stamp    permStamp
	known    uint8
	errs     [3]unix.Errno
}

const permEntries = 4 // distinct users working on one file at once

// permCache is a node's small cache of decisions, replaced round robin.
type permCache struct {
	mu      sync.Mutex
	entries [permEntries]permEntry
	next    int
}

func permBit(mode uint32) int {
	switch mode {
	case unix.R_OK:
		return 0
	case unix.W_OK:
		return 1
	}
	return 2
}

// allowed reports whether c may access n with mode (one of R_OK, W_OK,
// X_OK), as the kernel decides for c, and returns the file's stat used.
// Only call it when fs.switchID and c is not root.
func (fs *FS) allowed(c *vfs.Cred, n *node, mode uint32) (*unix.Statx_t, error) {
	stx := new(unix.Statx_t)
	if err := statx(n.fd, stx); err != nil {
		return nil, err
	}
	return stx, fs.decide(c, n, stx, mode, false)
}

// allowedIO is allowed for I/O through our own descriptor of n, with
// knfsd's owner override (NFSD_MAY_OWNER_OVERRIDE): the owner may read
// and write its file whatever the mode, because NFS clients check
// permission at open and may then write through a file they created
// read-only.
func (fs *FS) allowedIO(c *vfs.Cred, n *node, mode uint32) (*unix.Statx_t, error) {
	stx := new(unix.Statx_t)
	if err := statx(n.fd, stx); err != nil {
		return nil, err
	}
	if stx.Uid == c.UID && (mode != unix.W_OK || writableFlags(stx)) {
		return stx, nil
	}
	err := fs.decide(c, n, stx, mode, true)
	if err == unix.EACCES && stx.Uid == c.UID {
		err = nil
	}
	return stx, err
}

// writableFlags reports whether stx shows that the file is neither
// immutable nor append-only (chattr +i, +a), which the kernel's check
// refuses whoever asks.
func writableFlags(stx *unix.Statx_t) bool {
	const flags = unix.STATX_ATTR_IMMUTABLE | unix.STATX_ATTR_APPEND
	return stx.Attributes_mask&flags == flags && stx.Attributes&flags == 0
}

// decide is allowed for a file already statted into stx; io says that
// the access is I/O through our own descriptor (see the list above).
func (fs *FS) decide(c *vfs.Cred, n *node, stx *unix.Statx_t, mode uint32, io bool) error {
	st := stampOf(stx)
	bit := permBit(mode)
	if errno, ok := n.perm.lookup(c, st, bit); ok {
		if errno == 0 {
			return nil
		}
		return errno
	}

	var errno unix.Errno
	if fs.decidable(n, stx, mode, io) {
		errno = modeDecision(c, stx, mode)
	} else {
		err := fs.as(c, func() error {
			err := unix.Faccessat2(n.fd, "", mode, unix.AT_EACCESS|unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW)
			if err == unix.ENOSYS {
				err = nil
				if !fs.modeAllows(c, n, mode) {
					err = unix.EACCES
				}
			}
			if err != nil {
				e, ok := err.(unix.Errno)
				if !ok {
					return err
				}
				errno = e
			}
			return nil
		})
		if err != nil {
			return err // the switch itself failed: decide nothing
		}
	}
	n.perm.store(c, st, bit, errno)
	if errno == 0 {
		return nil
	}
	return errno
}

// decidable reports whether c's access to n with mode can be decided from
// stx alone (case 3 above). It asks the filesystem whether n has an ACL.
func (fs *FS) decidable(n *node, stx *unix.Statx_t, mode uint32, io bool) bool {
	if !fs.genericPerm {
		return false
	}
	switch mode {
	case unix.R_OK:
	case unix.W_OK:
		if !io || !writableFlags(stx) {
			return false
		}
	case unix.X_OK:
		if n.typ != vfs.TypeDirectory {
			return false
		}
	default:
		return false
	}
	var err error
	switch n.typ {
	case vfs.TypeRegular:
		// Read and Write opened the I/O descriptor before deciding;
		// the xattr calls refuse O_PATH descriptors.
		n.ioMu.RLock()
		if n.ioFD >= 0 {
			_, err = unix.Fgetxattr(n.ioFD, aclAccess, nil)
		} else {
			_, err = unix.Getxattr(procPath(n.fd), aclAccess, nil)
		}
		n.ioMu.RUnlock()
	case vfs.TypeDirectory:
		_, err = unix.Getxattr(procPath(n.fd), aclAccess, nil)
	default:
		return false
	}
	// No ACL, or a filesystem mounted without ACL support.
	return err == unix.ENODATA || err == unix.EOPNOTSUPP
}

const aclAccess = "system.posix_acl_access"

// modeDecision is generic_permission for a caller without capabilities on
// a file without ACL: one class of mode bits decides, the first of owner,
// group and other that the caller belongs to.
func modeDecision(c *vfs.Cred, stx *unix.Statx_t, mode uint32) unix.Errno {
	m := uint32(stx.Mode)
	switch {
	case stx.Uid == c.UID:
		m >>= 6
	case stx.Gid == c.GID || containsGID(c.Groups, stx.Gid):
		m >>= 3
	}
	if m&mode&7 == mode {
		return 0
	}
	return unix.EACCES
}

// lookup returns a cached decision for c at stamp st.
func (pc *permCache) lookup(c *vfs.Cred, st permStamp, bit int) (unix.Errno, bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	for i := range pc.entries {
		e := &pc.entries[i]
		if e.known&(1<<bit) != 0 && e.uid == c.UID && e.gid == c.GID && e.stamp == st && slices.Equal(e.groups, c.Groups) {
			return e.errs[bit], true
		}
	}
	return 0, false
}

// store caches a decision for c at stamp st.
func (pc *permCache) store(c *vfs.Cred, st permStamp, bit int, errno unix.Errno) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	var e *permEntry
	for i := range pc.entries {
		x := &pc.entries[i]
		if x.uid == c.UID && x.gid == c.GID && slices.Equal(x.groups, c.Groups) {
			e = x
			break
		}
	}
	if e == nil {
		e = &pc.entries[pc.next]
		pc.next = (pc.next + 1) % permEntries
		*e = permEntry{uid: c.UID, gid: c.GID, groups: slices.Clone(c.Groups)}
	}
	if e.stamp != st {
		// The file changed: earlier decisions of this Cred are void.
		e.stamp, e.known = st, 0
	}
	e.known |= 1 << bit
	e.errs[bit] = errno
}

// needsPrivDrop reports whether a write by an unprivileged user must run
// under its identity so that the kernel strips privileges from the file:
// a setuid or setgid bit, which a writer with CAP_FSETID (the process)
// would leave. File capabilities (security.capability) need no switch:
// the kernel removes them on any write, by root too
// (cap_inode_need_killpriv asks for no capability), and so for the
// other data operations that modify the file (fallocate, copy, clone).
func (fs *FS) needsPrivDrop(n *node, stx *unix.Statx_t) bool {
	return stx.Mode&(unix.S_ISUID|unix.S_ISGID) != 0
}
