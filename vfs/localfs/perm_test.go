package localfs

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gonfs/gonfs/vfs"
)

// posixACL encodes a system.posix_acl_access value (version 2; entries
// of tag, perm, id).
func posixACL(entries ...[3]uint32) []byte {
	b := binary.LittleEndian.AppendUint32(nil, 2)
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint16(b, uint16(e[0]))
		b = binary.LittleEndian.AppendUint16(b, uint16(e[1]))
		b = binary.LittleEndian.AppendUint32(b, e[2])
	}
	return b
}

// TestPermCacheFollowsChanges: cached permission decisions give way to
// changes made behind our back, by mode and by an ACL that leaves the
// mode as it was.
func TestPermCacheFollowsChanges(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	fs := newTestFS(t, dir, Options{})
	f := mustCreate(t, fs, fs.Root(), "f", "data")
	path := filepath.Join(dir, "f")
	u := &vfs.Cred{UID: 1000, GID: 1000}
	read := func() error {
		_, _, err := fs.Read(t.Context(), u, f, 0, make([]byte, 4))
		return err
	}
	if err := read(); err != nil {
		t.Fatalf("read of 0644 file: %v", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	wantErrno(t, read(), syscall.EACCES, "read after chmod 0600 behind our back")
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := read(); err != nil {
		t.Fatalf("read after chmod back: %v", err)
	}
	const undefined = 0xffffffff
	acl := posixACL(
		[3]uint32{0x01, 6, undefined}, // user::rw-
		[3]uint32{0x02, 0, 1000},      // user:1000:---
		[3]uint32{0x04, 4, undefined}, // group::r--
		[3]uint32{0x10, 4, undefined}, // mask::r--
		[3]uint32{0x20, 4, undefined}, // other::r--
	)
	if err := unix.Setxattr(path, "system.posix_acl_access", acl, 0); err != nil {
		t.Skipf("cannot set a POSIX ACL here: %v", err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Fatalf("ACL changed the mode to %v; the test needs it unchanged", fi.Mode())
	}
	wantErrno(t, read(), syscall.EACCES, "read after an ACL denies uid 1000")
	if got, err := fs.Access(t.Context(), u, f, vfs.AccessRead); err != nil || got != 0 {
		t.Errorf("Access after the ACL: %x, %v; want 0", got, err)
	}
}
