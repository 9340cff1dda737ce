package fattr

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// testExport is an export with every field distinct from its zero value,
// so that a value taken from the wrong field shows.
func testExport(minor uint32) *Export {
	return &Export{
		Minor: minor,
		FSID:  x.Fsid4{Major: 0x0102030405060708, Minor: 0x1112131415161718},
		Info: vfs.Info{
			MaxName: 255, MaxLink: 65000, MaxFileSize: 1<<63 - 1,
			TimeDelta: 1500 * time.Millisecond, CaseSensitive: true, Symlinks: true, HardLinks: true,
		},
		LeaseTime:     90 * time.Second,
		MaxRead:       1 << 20,
		MaxWrite:      1 << 19,
		UniqueHandles: true,
		Xattrs:        true,
		CharsetCap:    x.FSCHARSET_CAP4_CONTAINS_NON_UTF8,
		CloneBlksize:  4096,
	}
}

var testStat = vfs.FSStat{
	TotalBytes: 1 << 40, FreeBytes: 1 << 39, AvailBytes: 1 << 38,
	TotalFiles: 1000, FreeFiles: 500, AvailFiles: 400,
}

func testSource(minor uint32) *Source {
	return &Source{
		Export: testExport(minor),
		Attr: vfs.Attr{
			Type: vfs.TypeRegular, Mode: 0o100644 &^ 0o170000, Nlink: 2, UID: 1000, GID: 100,
			Size: 12345, Used: 16384, Major: 8, Minor: 1, FSID: 99, FileID: 4242,
			Atime:  time.Unix(1700000000, 5),
			Mtime:  time.Unix(1700000001, 999999999),
			Ctime:  time.Unix(1700000002, 0),
			Change: 77,
		},
		FH:     []byte{1, 2, 3, 4, 5},
		StatFS: func() (vfs.FSStat, error) { return testStat, nil },
	}
}

// enc builds expected XDR with a Writer.
func enc(f func(w *xdr.Writer)) []byte {
	var w xdr.Writer
	f(&w)
	return w.Buf
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fattr builds a fattr4 from a mask and values.
func fattr(mask Bitmap, vals ...func(w *xdr.Writer)) *x.Fattr4 {
	var w xdr.Writer
	for _, v := range vals {
		v(&w)
	}
	return &x.Fattr4{Attrmask: mask.Bitmap4(), AttrVals: w.Buf}
}

// wantStatus checks that err is a *StatusError with status want.
func wantStatus(t *testing.T, err error, want x.Nfsstat4) {
	t.Helper()
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not a *StatusError, want %v", err, want)
	}
	if se.Status != want {
		t.Fatalf("status %v (%v), want %v", se.Status, err, want)
	}
}
