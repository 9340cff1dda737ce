package localfs

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gonfs/gonfs/vfs"
)

// TestIdentityDoesNotLeak: operations as uid 1000 switch only the thread
// they run on, and only while they run: other goroutines keep creating
// root-owned files meanwhile, and afterwards every thread of the process
// has the process's fs identity again.
func TestIdentityDoesNotLeak(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	fs := newTestFS(t, dir, Options{})
	user := &vfs.Cred{UID: 1000, GID: 1000, Groups: []uint32{1001}}
	plain := t.TempDir()
	ctx := t.Context()

	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				h, a, _, err := fs.Create(ctx, user, fs.Root(), fmt.Sprintf("u%d-%d", w, i), vfs.SetAttr{}, true)
				if err != nil {
					errs <- err
					return
				}
				if a.UID != 1000 || a.GID != 1000 {
					errs <- fmt.Errorf("file created as 1000:1000 owned by %d:%d", a.UID, a.GID)
					return
				}
				if _, _, err := fs.Write(ctx, user, h, 0, []byte("x"), vfs.Unstable); err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Go(func() {
			for i := range 50 {
				name := filepath.Join(plain, fmt.Sprintf("r%d-%d", w, i))
				f, err := os.Create(name)
				if err != nil {
					errs <- err
					return
				}
				f.Close()
				var st syscall.Stat_t
				if err := syscall.Stat(name, &st); err != nil {
					errs <- err
					return
				}
				if st.Uid != 0 || st.Gid != 0 || os.Getuid() != 0 {
					errs <- fmt.Errorf("plain os.Create made a file owned by %d:%d (getuid %d)", st.Uid, st.Gid, os.Getuid())
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Every thread is back to the process identity.
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		uid, gid, groups := threadIDs(t, task.Name())
		if uid[3] != "0" || gid[3] != fmt.Sprint(os.Getegid()) || strings.Contains(groups, "1001") {
			t.Errorf("thread %s: Uid %v Gid %v Groups %q", task.Name(), uid, gid, groups)
		}
	}
}

// threadIDs reads a thread's Uid and Gid lines (real, effective, saved,
// fs) and supplementary groups.
func threadIDs(t *testing.T, tid string) (uid, gid []string, groups string) {
	t.Helper()
	f, err := os.Open("/proc/self/task/" + tid + "/status")
	if err != nil {
		t.Skipf("thread %s: %v", tid, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		switch k {
		case "Uid":
			uid = strings.Fields(v)
		case "Gid":
			gid = strings.Fields(v)
		case "Groups":
			groups = strings.TrimSpace(v)
		}
	}
	if len(uid) != 4 || len(gid) != 4 {
		t.Fatalf("thread %s: bad status", tid)
	}
	return uid, gid, groups
}

// TestWriteClearsSetuid: the write runs as the caller, so the kernel
// clears the setuid bit as it does for any user without CAP_FSETID.
func TestWriteClearsSetuid(t *testing.T) {
	needRoot(t)
	fs := newTestFS(t, t.TempDir(), Options{})
	f := mustCreate(t, fs, fs.Root(), "f", "")
	uid, gid, m := uint32(1000), uint32(1000), uint32(0o4755)
	if _, err := fs.SetAttr(t.Context(), rootCred, f, vfs.SetAttr{UID: &uid, GID: &gid}); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.SetAttr(t.Context(), rootCred, f, vfs.SetAttr{Mode: &m}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := fs.Write(t.Context(), &vfs.Cred{UID: 1000, GID: 1000}, f, 0, []byte("x"), vfs.Unstable); err != nil {
		t.Fatal(err)
	}
	a, err := fs.GetAttr(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	if a.Mode != 0o755 {
		t.Errorf("mode after write by owner = %o, want 755", a.Mode)
	}
}

// TestWriteStripsFileCaps: a write by a non-root caller removes the file's
// capabilities, as the kernel does for any writer, without switching to
// the caller's identity: a write as the process removes them too.
func TestWriteStripsFileCaps(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	fs := newTestFS(t, dir, Options{})
	f := mustCreate(t, fs, fs.Root(), "f", "")
	uid, gid := uint32(1000), uint32(1000)
	if _, err := fs.SetAttr(t.Context(), rootCred, f, vfs.SetAttr{UID: &uid, GID: &gid}); err != nil {
		t.Fatal(err)
	}
	// VFS_CAP_REVISION_2, effective, permitted CAP_NET_BIND_SERVICE.
	caps := binary.LittleEndian.AppendUint32(nil, 0x02000001)
	caps = binary.LittleEndian.AppendUint32(caps, 1<<10)
	caps = append(caps, make([]byte, 12)...)
	path := filepath.Join(dir, "f")
	if err := unix.Setxattr(path, "security.capability", caps, 0); err != nil {
		t.Skipf("cannot set file capabilities here: %v", err)
	}
	before := fs.switches.Load()
	if _, _, err := fs.Write(t.Context(), userCred, f, 0, []byte("x"), vfs.Unstable); err != nil {
		t.Fatal(err)
	}
	if fs.switches.Load() != before {
		t.Errorf("the owner's write switched identity")
	}
	if _, err := unix.Getxattr(path, "security.capability", nil); err != unix.ENODATA {
		t.Errorf("security.capability after write: %v, want ENODATA", err)
	}
}
