package localfs

import (
	"encoding/binary"
	"errors"
	"fmt"
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

// TestIODecisions checks Read, Write, Lookup and ReadDir permission for
// non-root callers against what the kernel decides, and that only the
// cases that need the kernel's help switch identities: files with an ACL
// (perm.go case 4) and writes that must strip a setuid bit. Every row runs
// its operation twice, the second time after the first changed ctime (a
// write) or with the decision cached.
func TestIODecisions(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	fs := newTestFS(t, dir, Options{})
	if !fs.genericPerm {
		t.Skip("the test directory's filesystem is not one perm.go decides for")
	}
	const undefined = 0xffffffff
	// user:1002 may read and write (the mask makes the group bits rw-).
	aclRW1002 := posixACL(
		[3]uint32{0x01, 6, undefined}, // user::rw-
		[3]uint32{0x02, 6, 1002},      // user:1002:rw-
		[3]uint32{0x04, 4, undefined}, // group::r--
		[3]uint32{0x10, 6, undefined}, // mask::rw-
		[3]uint32{0x20, 4, undefined}, // other::r--
	)
	// user:1002 may search, nobody else but the owner.
	aclX1002 := posixACL(
		[3]uint32{0x01, 7, undefined}, // user::rwx
		[3]uint32{0x02, 1, 1002},      // user:1002:--x
		[3]uint32{0x04, 0, undefined}, // group::---
		[3]uint32{0x10, 1, undefined}, // mask::--x
		[3]uint32{0x20, 0, undefined}, // other::---
	)
	squashed := &vfs.Cred{UID: 65534, GID: 65534}
	type op int
	const (
		read op = iota
		write
		lookup  // Lookup of "c" in the directory
		readdir // ReadDir without plus
	)
	rows := []struct {
		name     string
		dir      bool
		mode     uint32
		uid, gid uint32
		acl      []byte
		c        *vfs.Cred
		op       op
		want     syscall.Errno // 0: allowed
		switches bool          // whether the kernel is asked under c
		after    uint32        // mode after the operation; 0: unchanged
	}{
		{name: "owner writes", mode: 0o644, uid: 1000, gid: 1000, c: userCred, op: write},
		{name: "owner writes read-only file", mode: 0o444, uid: 1000, gid: 1000, c: userCred, op: write},
		{name: "owner reads mode 0", mode: 0, uid: 1000, gid: 1000, c: userCred, op: read},
		{name: "group member writes", mode: 0o664, uid: 1000, gid: 1000, c: &vfs.Cred{UID: 1001, GID: 1000}, op: write},
		{name: "group member may not write", mode: 0o644, uid: 1000, gid: 1000, c: &vfs.Cred{UID: 1001, GID: 1000}, op: write, want: syscall.EACCES},
		{name: "supplementary group reads", mode: 0o640, uid: 1000, gid: 1000, c: &vfs.Cred{UID: 1001, GID: 1001, Groups: []uint32{5, 1000}}, op: read},
		{name: "group class denies though other allows", mode: 0o604, uid: 1000, gid: 1000, c: &vfs.Cred{UID: 1001, GID: 1000}, op: read, want: syscall.EACCES},
		{name: "other writes", mode: 0o646, uid: 1000, gid: 1000, c: &vfs.Cred{UID: 1001, GID: 1001}, op: write},
		{name: "other may not write", mode: 0o644, uid: 1000, gid: 1000, c: &vfs.Cred{UID: 1001, GID: 1001}, op: write, want: syscall.EACCES},
		{name: "other may not read", mode: 0o640, uid: 1000, gid: 1000, c: &vfs.Cred{UID: 1001, GID: 1001}, op: read, want: syscall.EACCES},
		{name: "squashed root reads", mode: 0o644, uid: 0, gid: 0, c: squashed, op: read},
		{name: "squashed root may not write", mode: 0o644, uid: 0, gid: 0, c: squashed, op: write, want: syscall.EACCES},
		{name: "squashed root writes world-writable", mode: 0o666, uid: 0, gid: 0, c: squashed, op: write},
		{name: "ACL lets a user write", mode: 0o644, uid: 1000, gid: 1000, acl: aclRW1002, c: &vfs.Cred{UID: 1002, GID: 1002}, op: write, switches: true},
		{name: "ACL file, other may not write", mode: 0o644, uid: 1000, gid: 1000, acl: aclRW1002, c: &vfs.Cred{UID: 1003, GID: 1003}, op: write, want: syscall.EACCES, switches: true},
		{name: "setuid file written by other", mode: 0o4666, uid: 1000, gid: 1000, c: &vfs.Cred{UID: 1001, GID: 1001}, op: write, switches: true, after: 0o666},
		{name: "setuid file written by owner", mode: 0o4755, uid: 1000, gid: 1000, c: userCred, op: write, switches: true, after: 0o755},
		{name: "setgid file written by group member", mode: 0o2775, uid: 1000, gid: 1000, c: &vfs.Cred{UID: 1001, GID: 1000}, op: write, switches: true, after: 0o775},
		{name: "setuid file written by root", mode: 0o4755, uid: 1000, gid: 1000, c: rootCred, op: write},
		{name: "directory owner class only", dir: true, mode: 0o070, uid: 1001, gid: 1000, c: &vfs.Cred{UID: 1001, GID: 1000}, op: lookup, want: syscall.EACCES},
		{name: "directory group searches", dir: true, mode: 0o070, uid: 1001, gid: 1000, c: &vfs.Cred{UID: 1002, GID: 1000}, op: lookup},
		{name: "directory other may not list", dir: true, mode: 0o751, uid: 1001, gid: 1000, c: &vfs.Cred{UID: 1002, GID: 1002}, op: readdir, want: syscall.EACCES},
		{name: "directory other lists", dir: true, mode: 0o755, uid: 1001, gid: 1000, c: &vfs.Cred{UID: 1002, GID: 1002}, op: readdir},
		{name: "directory ACL lets a user search", dir: true, mode: 0o700, uid: 1001, gid: 1000, acl: aclX1002, c: &vfs.Cred{UID: 1002, GID: 1002}, op: lookup, switches: true},
		{name: "directory ACL file, other may not search", dir: true, mode: 0o700, uid: 1001, gid: 1000, acl: aclX1002, c: &vfs.Cred{UID: 1003, GID: 1003}, op: lookup, want: syscall.EACCES, switches: true},
	}
	ctx := t.Context()
	for i, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			name := fmt.Sprint("f", i)
			path := filepath.Join(dir, name)
			var h vfs.Handle
			var err error
			if r.dir {
				h, _, err = fs.Mkdir(ctx, rootCred, fs.Root(), name, vfs.SetAttr{})
				if err == nil {
					_, _, _, err = fs.Create(ctx, rootCred, h, "c", vfs.SetAttr{}, true)
				}
			} else {
				h, _, _, err = fs.Create(ctx, rootCred, fs.Root(), name, vfs.SetAttr{}, true)
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(path, int(r.uid), int(r.gid)); err != nil {
				t.Fatal(err)
			}
			if r.acl != nil {
				if err := unix.Setxattr(path, aclAccess, r.acl, 0); err != nil {
					t.Skipf("cannot set a POSIX ACL here: %v", err)
				}
			} else if err := os.Chmod(path, os.FileMode(r.mode&0o777)|modeBits(r.mode)); err != nil {
				t.Fatal(err)
			}
			n, err := fs.resolve(h)
			if err != nil {
				t.Fatal(err)
			}
			defer fs.cache.release(n)
			// What the kernel says under the caller's identity, with
			// knfsd's owner override for I/O.
			kmode := map[op]uint32{read: unix.R_OK, write: unix.W_OK, lookup: unix.X_OK, readdir: unix.R_OK}[r.op]
			var kernel syscall.Errno
			if r.c.UID != 0 {
				fs.as(r.c, func() error {
					if err := unix.Faccessat2(n.fd, "", kmode, unix.AT_EACCESS|unix.AT_EMPTY_PATH); err != nil {
						kernel = err.(syscall.Errno)
					}
					return nil
				})
				if kernel == syscall.EACCES && (r.op == read || r.op == write) && r.uid == r.c.UID {
					kernel = 0
				}
			}
			if kernel != r.want {
				t.Fatalf("the kernel says %v, the row %v", kernel, r.want)
			}
			before := fs.switches.Load()
			for round := range 2 {
				switch r.op {
				case read:
					_, _, err = fs.Read(ctx, r.c, h, 0, make([]byte, 1))
				case write:
					_, _, err = fs.Write(ctx, r.c, h, uint64(round), []byte("x"), vfs.Unstable)
				case lookup:
					_, _, err = fs.Lookup(ctx, r.c, h, "c")
				case readdir:
					err = fs.ReadDir(ctx, r.c, h, 0, false, func(*vfs.DirEntry) bool { return true })
				}
				if r.want == 0 && err != nil || r.want != 0 && !errors.Is(err, r.want) {
					t.Fatalf("round %d: err %v, want %v", round, err, r.want)
				}
			}
			if switched := fs.switches.Load() != before; switched != r.switches {
				t.Errorf("switched identity: %v, want %v", switched, r.switches)
			}
			a, err := fs.GetAttr(ctx, h)
			if err != nil {
				t.Fatal(err)
			}
			want := r.mode
			if r.after != 0 {
				want = r.after
			}
			if r.acl == nil && a.Mode != want {
				t.Errorf("mode after: %o, want %o", a.Mode, want)
			}
		})
	}
}

// modeBits converts setuid, setgid and sticky bits to os.FileMode.
func modeBits(m uint32) os.FileMode {
	var f os.FileMode
	if m&unix.S_ISUID != 0 {
		f |= os.ModeSetuid
	}
	if m&unix.S_ISGID != 0 {
		f |= os.ModeSetgid
	}
	if m&unix.S_ISVTX != 0 {
		f |= os.ModeSticky
	}
	return f
}
