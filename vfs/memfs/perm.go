package memfs

import (
	"slices"
	"syscall"

	"github.com/gonfs/gonfs/vfs"
)

// Permission bits as in an rwx triple.
const (
	permR = 4
	permW = 2
	permX = 1
)

// nobody is the identity used for a nil Cred: the least privilege, so a
// caller that forgot to pass one cannot gain anything.
var nobody = vfs.Cred{UID: 65534, GID: 65534}

func cred(c *vfs.Cred) *vfs.Cred {
	if c == nil {
		n := nobody
		return &n
	}
	return c
}

func inGroup(c *vfs.Cred, gid uint32) bool {
	return c.GID == gid || slices.Contains(c.Groups, gid)
}

// may reports whether c is granted all of want (permR|permW|permX) on n,
// following POSIX.1 §4.5 file access permissions: the owner class applies
// to the owner, else the group class to a member, else the other class,
// with no fall-through. Root passes read and write checks and searches any
// directory (CAP_DAC_OVERRIDE), but executes a non-directory only if some x
// bit is set.
func may(c *vfs.Cred, n *inode, want uint32) bool {
	if c.UID == 0 {
		if want&permX != 0 && n.typ != vfs.TypeDirectory && n.mode&0o111 == 0 {
			return false
		}
		return true
	}
	var bits uint32
	switch {
	case c.UID == n.uid:
		bits = n.mode >> 6
	case inGroup(c, n.gid):
		bits = n.mode >> 3
	default:
		bits = n.mode
	}
	return bits&want == want
}

// check is may as an error.
func check(c *vfs.Cred, n *inode, want uint32) error {
	if !may(c, n, want) {
		return syscall.EACCES
	}
	return nil
}

// checkIO is check for Read and Write: the file's owner may always read
// and write it (the vfs contract, as knfsd's owner override), since the
// client checked the mode when the file was opened.
func checkIO(c *vfs.Cred, n *inode, want uint32) error {
	if c != nil && c.UID == n.uid {
		return nil
	}
	return check(c, n, want)
}

func isOwner(c *vfs.Cred, n *inode) bool { return c.UID == 0 || c.UID == n.uid }

// stickyOK reports whether c may remove or replace victim in dir: in a
// sticky directory only the owner of the entry or of the directory, or
// root, may (Linux answers EPERM otherwise).
func stickyOK(c *vfs.Cred, dir, victim *inode) bool {
	return dir.mode&0o1000 == 0 || c.UID == 0 || c.UID == victim.uid || c.UID == dir.uid
}

// accessMask computes ACCESS as knfsd maps it onto permission checks
// (RFC 1813 §3.3.4): on a directory READ needs r, LOOKUP x, and MODIFY,
// EXTEND and DELETE w and x; on other files READ needs r, MODIFY and EXTEND
// w, EXECUTE x, and LOOKUP and DELETE are never granted.
func accessMask(c *vfs.Cred, n *inode, mask uint32) uint32 {
	var got uint32
	grant := func(bit, want uint32) {
		if mask&bit != 0 && may(c, n, want) {
			got |= bit
		}
	}
	if n.typ == vfs.TypeDirectory {
		grant(vfs.AccessRead, permR)
		grant(vfs.AccessLookup, permX)
		grant(vfs.AccessModify, permW|permX)
		grant(vfs.AccessExtend, permW|permX)
		grant(vfs.AccessDelete, permW|permX)
		return got
	}
	grant(vfs.AccessRead, permR)
	grant(vfs.AccessModify, permW)
	grant(vfs.AccessExtend, permW)
	grant(vfs.AccessExecute, permX)
	return got
}

// checkName validates a name for an operation that creates, removes or
// renames it; "." and ".." are for Lookup only (vfs.FS).
func checkName(name string) error {
	if err := checkLookupName(name); err != nil {
		return err
	}
	if name == "." || name == ".." {
		return syscall.EINVAL
	}
	return nil
}

func checkLookupName(name string) error {
	if name == "" {
		return syscall.EINVAL
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '/' || name[i] == 0 {
			return syscall.EINVAL
		}
	}
	if len(name) > maxName {
		return syscall.ENAMETOOLONG
	}
	return nil
}
