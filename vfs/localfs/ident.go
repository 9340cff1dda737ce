package localfs

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gonfs/gonfs/vfs"
)

// as runs fn with c's identity when the FS switches identities. Linux keeps
// credentials per thread; the raw system calls below change only the
// calling thread (glibc's and Go's syscall.Setgroups broadcast the change to
// every thread, which is exactly what must not happen here). fn must not
// start goroutines that do file system work: they would not inherit the
// identity.
func (fs *FS) as(c *vfs.Cred, fn func() error) error {
	if !fs.switchID || c == nil || (c.UID == 0 && c.GID == 0 && len(c.Groups) == 0) {
		return fn()
	}
	fs.switches.Add(1)
	runtime.LockOSThread()
	restored := false
	defer func() {
		// A thread whose identity could not be restored stays locked:
		// when the goroutine exits, the runtime terminates the thread
		// instead of reusing it.
		if restored {
			runtime.UnlockOSThread()
		}
	}()
	if err := setThreadID(c.UID, c.GID, c.Groups); err != nil {
		restored = setThreadID(0, fs.procGID, fs.procGroups) == nil
		return err
	}
	defer func() { restored = setThreadID(0, fs.procGID, fs.procGroups) == nil }()
	return fn()
}

// setThreadID sets the calling thread's supplementary groups, fsgid and
// fsuid. setfsuid/setfsgid report the previous value rather than errors,
// so each is called twice: the second call returns what the first set.
func setThreadID(uid, gid uint32, groups []uint32) error {
	var p unsafe.Pointer
	if len(groups) > 0 {
		p = unsafe.Pointer(&groups[0])
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(groups)), uintptr(p), 0); e != 0 {
		return e
	}
	unix.RawSyscall(unix.SYS_SETFSGID, uintptr(gid), 0, 0)
	if got, _, _ := unix.RawSyscall(unix.SYS_SETFSGID, uintptr(gid), 0, 0); uint32(got) != gid {
		return unix.EPERM
	}
	unix.RawSyscall(unix.SYS_SETFSUID, uintptr(uid), 0, 0)
	if got, _, _ := unix.RawSyscall(unix.SYS_SETFSUID, uintptr(uid), 0, 0); uint32(got) != uid {
		return unix.EPERM
	}
	return nil
}
