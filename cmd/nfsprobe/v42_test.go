package main

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// quiet is the probe the tests pass; its lines go to stdout (shown by
// go test -v), the checks are in the returned errors.
var quiet = &probe{name: "test"}

// extentMap must describe data and holes as the local file system keeps
// them; files whose file system cannot punch holes skip.
func TestExtentMap(t *testing.T) {
	const blk = 64 << 10
	for _, tc := range []struct {
		name  string
		write [][2]int64 // offset, length of data
		punch [][2]int64
		size  int64
		want  string
	}{
		{"empty", nil, nil, 0, "empty"},
		{"all hole", nil, nil, 4 * blk, "hole 0+262144"},
		{"all data", [][2]int64{{0, 2 * blk}}, nil, 2 * blk, "data 0+131072"},
		{"data hole data", [][2]int64{{0, blk}, {3 * blk, blk}}, nil, 4 * blk, "data 0+65536 hole 65536+131072 data 196608+65536"},
		{"trailing hole", [][2]int64{{blk, blk}}, nil, 4 * blk, "hole 0+65536 data 65536+65536 hole 131072+131072"},
		{"punched", [][2]int64{{0, 4 * blk}}, [][2]int64{{blk, blk}}, 4 * blk, "data 0+65536 hole 65536+65536 data 131072+131072"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := os.Create(filepath.Join(t.TempDir(), "f"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.Truncate(tc.size); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.write {
				if _, err := writePattern(f, w[0], w[1]); err != nil {
					t.Fatal(err)
				}
			}
			for _, p := range tc.punch {
				if err := unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, p[0], p[1]); err != nil {
					t.Skipf("cannot punch holes here: %v", err)
				}
			}
			if err := f.Sync(); err != nil {
				t.Fatal(err)
			}
			got, err := extentMap(int(f.Fd()), tc.size)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				if tc.size > 0 && got == "data 0+"+strconv.FormatInt(tc.size, 10) {
					t.Skipf("this file system reports no holes (%s)", got)
				}
				t.Errorf("extentMap = %q, want %q", got, tc.want)
			}
		})
	}
}

// The fallocate command allocates, and with "punch" deallocates, as the
// resulting map shows; bad arguments are refused.
func TestFallocate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := runFallocate(quiet, []string{path, "0", "256K"}); errors.Is(err, unix.EOPNOTSUPP) {
		t.Skipf("no fallocate here: %v", err)
	} else if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Size() != 256<<10 {
		t.Fatalf("after fallocate 0+256K: %v, %v; want size 262144", st, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writePattern(f, 0, 256<<10); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := runFallocate(quiet, []string{path, "64K", "64K", "punch"}); err != nil {
		t.Skipf("cannot punch holes here: %v", err)
	}
	f, err = os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, err := extentMap(int(f.Fd()), 256<<10); err != nil || got != "data 0+65536 hole 65536+65536 data 131072+131072" {
		t.Errorf("map after punch = %q, %v", got, err)
	}
	for _, args := range [][]string{{path, "x", "1"}, {path, "0", "1", "zero"}} {
		if err := runFallocate(quiet, args); err == nil {
			t.Errorf("fallocate %q succeeded", args)
		}
	}
}

// copyrange copies exactly, and the copy reads back equal.
func TestCopyrange(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	const size = 3*chunk + 12345
	if _, err := writePattern(f, 0, size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := runCopyrange(quiet, []string{src, dst}); err != nil {
		if errors.Is(err, unix.EINVAL) {
			t.Skipf("no O_DIRECT on this file system: %v", err)
		}
		t.Fatal(err)
	}
	if err := runVerify(quiet, []string{dst, strconv.Itoa(size)}); err != nil {
		t.Error(err)
	}
}

// The xattr scenario passes on a file system with user xattrs.
func TestXattr(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(path, "user.probe", []byte("1"), 0); err != nil {
		t.Skipf("no user xattrs here: %v", err)
	}
	if err := unix.Removexattr(path, "user.probe"); err != nil {
		t.Fatal(err)
	}
	if err := runXattr(quiet, []string{path}); err != nil {
		t.Error(err)
	}
	// A leftover name makes the listing check fail.
	if err := unix.Setxattr(path, "user.stray", []byte("1"), 0); err != nil {
		t.Fatal(err)
	}
	if err := runXattr(quiet, []string{path}); err == nil {
		t.Error("runXattr passed with user.stray present")
	}
}

func TestSameSet(t *testing.T) {
	for _, tc := range []struct {
		a, b []string
		want bool
	}{
		{nil, nil, true}, {[]string{"a"}, []string{"a"}, true}, {[]string{"a", "b"}, []string{"b", "a"}, true},
		{[]string{"a"}, nil, false}, {[]string{"a", "a"}, []string{"a", "b"}, false}, {[]string{"a"}, []string{"b"}, false},
	} {
		if got := sameSet(tc.a, tc.b); got != tc.want {
			t.Errorf("sameSet(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

// trylock is granted on a free file and denied, at once, when an open file
// description lock (which conflicts with this process's fcntl locks too)
// holds the range; bad arguments are refused.
func TestTrylock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l")
	if err := os.WriteFile(path, make([]byte, 100), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := runTrylock(quiet, []string{path, "0", "0", "granted", "5s"}); err != nil {
		t.Fatal(err)
	}
	if err := runTrylock(quiet, []string{path, "0", "0", "denied", "5s"}); err == nil {
		t.Error("want denied passed on a free file")
	}
	h, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK, Start: 10, Len: 10}
	if err := unix.FcntlFlock(h.Fd(), unix.F_OFD_SETLK, &lk); err != nil {
		t.Skipf("no OFD locks: %v", err)
	}
	for _, tc := range []struct {
		args    []string
		wantErr bool
	}{
		{[]string{path, "15", "1", "denied", "5s"}, false},
		{[]string{path, "0", "0", "denied", "5s"}, false},
		{[]string{path, "0", "0", "granted", "5s"}, true},
		{[]string{path, "20", "10", "granted", "5s"}, false},
		{[]string{path, "0", "0", "maybe", "5s"}, true},
		{[]string{path, "0", "0", "denied", "soon"}, true},
		{[]string{"fd:x", "0", "0", "denied", "5s"}, true},
	} {
		if err := runTrylock(quiet, tc.args); (err != nil) != tc.wantErr {
			t.Errorf("trylock %q: %v, want error %v", tc.args, err, tc.wantErr)
		}
	}
}
