package fuse

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gonfs/gonfs/client"
	"github.com/gonfs/gonfs/exports"
	"github.com/gonfs/gonfs/proto/rpcxdr"
	"github.com/gonfs/gonfs/server"
)

// fuseUsable skips the test when this machine cannot mount FUSE: no
// /dev/fuse, no fusermount3 (Debian's fuse3), or not root.
func fuseUsable(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skipf("FUSE unavailable: %v", err)
	}
	if _, err := exec.LookPath("fusermount3"); err != nil {
		if _, err := exec.LookPath("fusermount"); err != nil {
			t.Skip("FUSE unavailable: no fusermount3 or fusermount (install Debian's fuse3)")
		}
	}
	if os.Getuid() != 0 {
		t.Skip("FUSE mount test needs root (mounts without a setuid fusermount)")
	}
}

// mountServer runs an embedded gonfs on 127.0.0.1 over a fresh directory
// owned by uid 1000, dials it as uid 1000 and mounts it; all three are
// stopped when the test ends.
func mountServer(t *testing.T, version string) (mnt, dir string) {
	t.Helper()
	dir, state := t.TempDir(), t.TempDir()
	if err := os.Chown(dir, 1000, 1000); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{Exports: exports.Default(dir), Listen: "127.0.0.1:0", StateDir: state, Portmap: "off"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	auth := &rpcxdr.AuthsysParms{Machinename: "fuse-test", Uid: 1000, Gid: 1000}
	c, err := client.Dial(ctx, fmt.Sprintf("nfs://%s/?version=%s", srv.Addr(), version), client.Options{Auth: auth})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	mnt = t.TempDir()
	fs, err := Mount(mnt, c, Options{FsName: "gonfs-test"})
	if err != nil {
		t.Skipf("FUSE unavailable: mount: %v", err)
	}
	t.Cleanup(func() {
		if err := fs.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})
	return mnt, dir
}

// TestWorkload runs testdata/workload.sh, the FUSE-expressible part of
// the kernel client's workload, on a FUSE mount of the embedded server,
// over NFSv4.2 and NFSv3 (NFSv4.2 only, with a 16 MiB big file, under the
// race detector: see raceEnabled).
func TestWorkload(t *testing.T) {
	fuseUsable(t)
	versions, big := []string{"4.2", "3"}, "64"
	if raceEnabled {
		versions, big = []string{"4.2"}, "16"
	}
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			mnt, dir := mountServer(t, v)
			cmd := exec.Command("sh", "testdata/workload.sh")
			cmd.Env = append(os.Environ(), "MNT="+mnt, "big="+big)
			out, err := cmd.CombinedOutput()
			t.Logf("%s", out)
			if err != nil || !strings.Contains(string(out), "ALL PASS") {
				t.Fatalf("workload failed: %v", err)
			}
			// The server's own directory shows what the mount left.
			if b, err := os.ReadFile(filepath.Join(dir, "work", "hello")); err != nil || string(b) != "line Xne\nline two\n" {
				t.Errorf("server's copy of work/hello: %q, %v", b, err)
			}
		})
	}
}

// lockHelperEnv names the file the lock helper process locks.
const lockHelperEnv = "GONFS_FUSE_LOCK_HELPER"

// TestLockHelper is not a test: it is the second process of TestLocks,
// run from the test binary. It takes a write lock on the whole file, says
// "locked", and holds it until its standard input closes.
func TestLockHelper(t *testing.T) {
	p := os.Getenv(lockHelperEnv)
	if p == "" {
		t.Skip("helper process of TestLocks")
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: 0, Len: 0}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	bufio.NewReader(os.Stdin).ReadString('\n')
	f.Close()
	os.Exit(0)
}

// TestLocks: a write lock taken with fcntl(F_SETLK) by one process on the
// mount makes another's conflicting F_SETLK fail with EAGAIN and F_GETLK
// report it; once the holder closes the file, the lock is free.
func TestLocks(t *testing.T) {
	fuseUsable(t)
	mnt, _ := mountServer(t, "4.2")
	p := filepath.Join(mnt, "locked")
	if err := os.WriteFile(p, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	helper := exec.Command(os.Args[0], "-test.run=^TestLockHelper$")
	helper.Env = append(os.Environ(), lockHelperEnv+"="+p)
	stdin, err := helper.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	defer helper.Wait()
	defer stdin.Close()
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		t.Fatalf("helper: %q", line)
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Start: 0, Len: 0}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk); err != syscall.EAGAIN && err != syscall.EACCES {
		t.Fatalf("F_SETLK while another process holds the lock: %v, want EAGAIN", err)
	}
	get := syscall.Flock_t{Type: syscall.F_RDLCK, Start: 0, Len: 10}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &get); err != nil || get.Type != syscall.F_WRLCK {
		t.Errorf("F_GETLK: type %d, %v; want F_WRLCK reported", get.Type, err)
	}
	stdin.Close()
	if err := helper.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	lk = syscall.Flock_t{Type: syscall.F_WRLCK, Start: 0, Len: 0}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk); err != nil {
		t.Fatalf("F_SETLK after the holder closed: %v", err)
	}
}
