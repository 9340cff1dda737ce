package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"

	"golang.org/x/sys/unix"
)

// runAsuser drops to UID:GID (supplementary groups: GID only) and execs the
// command, so permission and ownership checks run as an ordinary user. The
// group calls come first: once the uid is dropped they are no longer allowed.
func runAsuser(p *probe, args []string) error {
	uid, err1 := strconv.Atoi(args[0])
	gid, err2 := strconv.Atoi(args[1])
	if err1 != nil || err2 != nil || uid < 0 || gid < 0 {
		return fmt.Errorf("bad UID or GID %q %q", args[0], args[1])
	}
	path, err := exec.LookPath(args[2])
	if err != nil {
		return err
	}
	// These change every thread of the process (Go's runtime does it for
	// the whole process since Go 1.16), so the exec below runs as the user.
	if err := unix.Setgroups([]int{gid}); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := unix.Setresgid(gid, gid, gid); err != nil {
		return fmt.Errorf("setresgid: %w", err)
	}
	if err := unix.Setresuid(uid, uid, uid); err != nil {
		return fmt.Errorf("setresuid: %w", err)
	}
	return unix.Exec(path, args[2:], os.Environ())
}
