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
// ReadDir, Access) therefore ask the kernel once, with faccessat2 under
// the caller's identity, and reuse the answer while the file's ctime, mode
// and owner are unchanged. Everything that decides permission (mode,
// owner, group, ACLs and security labels, which live in xattrs) changes
// ctime. Since Linux 6.13 ctime is multigrain: once we have read it, the
// next change gets a later one, so a change is never missed. On older
// kernels ctime is jiffy-granular and a change of ACL (not of mode or
// owner, which are compared too) made within the jiffy of a cached check
// is seen only at the next change of the file.
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

	// Whether the file has file capabilities (security.capability), which
	// a write by an unprivileged user must remove.
	capsKnown bool
	capsStamp permStamp
	hasCaps   bool
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
	st := stampOf(stx)
	bit := permBit(mode)
	pc := &n.perm
	pc.mu.Lock()
	for i := range pc.entries {
		e := &pc.entries[i]
		if e.known&(1<<bit) != 0 && e.uid == c.UID && e.gid == c.GID && e.stamp == st && slices.Equal(e.groups, c.Groups) {
			err := e.errs[bit]
			pc.mu.Unlock()
			if err == 0 {
				return stx, nil
			}
			return stx, err
		}
	}
	pc.mu.Unlock()

	var errno unix.Errno
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
		return stx, err // the switch itself failed: decide nothing
	}

	pc.mu.Lock()
	var e *permEntry
	for i := range pc.entries {
		x := &pc.entries[i]
		if x.uid == c.UID && x.gid == c.GID && x.stamp == st && slices.Equal(x.groups, c.Groups) {
			e = x
			break
		}
	}
	if e == nil {
		e = &pc.entries[pc.next]
		pc.next = (pc.next + 1) % permEntries
		*e = permEntry{uid: c.UID, gid: c.GID, groups: slices.Clone(c.Groups), stamp: st}
	}
	e.known |= 1 << bit
	e.errs[bit] = errno
	pc.mu.Unlock()
	if errno == 0 {
		return stx, nil
	}
	return stx, errno
}

// allowedIO is allowed with knfsd's owner override (NFSD_MAY_OWNER_OVERRIDE):
// the owner may read and write its file whatever the mode, because NFS
// clients check permission at open and may then write through a file they
// created read-only.
func (fs *FS) allowedIO(c *vfs.Cred, n *node, mode uint32) (*unix.Statx_t, error) {
	stx, err := fs.allowed(c, n, mode)
	if err == unix.EACCES && stx != nil && stx.Uid == c.UID {
		err = nil
	}
	return stx, err
}

// needsPrivDrop reports whether a write by an unprivileged user must run
// under its identity so that the kernel strips privileges from the file:
// setuid/setgid bits or file capabilities.
func (fs *FS) needsPrivDrop(n *node, stx *unix.Statx_t) bool {
	if stx.Mode&(unix.S_ISUID|unix.S_ISGID) != 0 {
		return true
	}
	st := stampOf(stx)
	pc := &n.perm
	pc.mu.Lock()
	if pc.capsKnown && pc.capsStamp == st {
		has := pc.hasCaps
		pc.mu.Unlock()
		return has
	}
	pc.mu.Unlock()
	n.ioMu.RLock()
	_, err := unix.Fgetxattr(n.ioFD, "security.capability", nil)
	n.ioMu.RUnlock()
	has := err != unix.ENODATA // when unsure, take the safe path
	pc.mu.Lock()
	pc.capsKnown, pc.capsStamp, pc.hasCaps = true, st, has
	pc.mu.Unlock()
	return has
}
