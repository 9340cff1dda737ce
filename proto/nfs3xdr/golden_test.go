package nfs3xdr

import (
	"strings"
	"testing"

	"github.com/gonfs/gonfs/xdr"
	"github.com/gonfs/gonfs/xdr/xdrtest"
)

type golden struct {
	Name string
	V    xdr.Codec
	Hex  string // spaces are ignored
	Err  error
}

var fh = NfsFh3{Data: []byte{0xaa, 0xbb, 0xcc, 0xdd}}

// unset is an sattr3 that sets nothing: six zero discriminants.
const unsetHex = "00000000 00000000 00000000 00000000 00000000 00000000"

func TestGolden(t *testing.T) {
	xdrtest.CheckGolden(t, []golden{
		{"GETATTR3args", &GETATTR3args{Object: NfsFh3{Data: []byte{0, 1, 2, 3, 4, 5, 6, 7}}},
			"00000008 0001020304050607", nil},
		{"LOOKUP3args", &LOOKUP3args{What: Diropargs3{Dir: fh, Name: "a.txt"}},
			"00000004 aabbccdd 00000005 612e747874000000", nil},
		{"SETATTR3args mode, truncate, times, guard", &SETATTR3args{
			Object: fh,
			NewAttributes: Sattr3{
				Mode:  SetMode3{SetIt: true, Mode: 0o644},
				Size:  SetSize3{SetIt: true, Size: 0},
				Atime: SetAtime{SetIt: SET_TO_SERVER_TIME},
				Mtime: SetMtime{SetIt: SET_TO_CLIENT_TIME, Mtime: Nfstime3{Seconds: 1, Nseconds: 2}},
			},
			Guard: Sattrguard3{Check: true, ObjCtime: Nfstime3{Seconds: 0x5f5e1000}},
		},
			"00000004 aabbccdd" +
				" 00000001 000001a4" + // mode
				" 00000000 00000000" + // uid, gid
				" 00000001 0000000000000000" + // size
				" 00000001" + // atime: server time
				" 00000002 00000001 00000002" + // mtime: client time
				" 00000001 5f5e1000 00000000", // guard
			nil},
		{"CREATE3args EXCLUSIVE", &CREATE3args{
			Where: Diropargs3{Dir: fh, Name: "f"},
			How:   Createhow3{Mode: EXCLUSIVE, Verf: Createverf3{1, 2, 3, 4, 5, 6, 7, 8}},
		},
			"00000004 aabbccdd 00000001 66000000 00000002 0102030405060708", nil},
		{"CREATE3args GUARDED", &CREATE3args{
			Where: Diropargs3{Dir: fh, Name: "f"},
			How:   Createhow3{Mode: GUARDED},
		},
			"00000004 aabbccdd 00000001 66000000 00000001 " + unsetHex, nil},
		{"MKNOD3args FIFO", &MKNOD3args{Where: Diropargs3{Dir: fh, Name: "p"}, What: Mknoddata3{Type: NF3FIFO}},
			"00000004 aabbccdd 00000001 70000000 00000007 " + unsetHex, nil},
		{"MKNOD3args CHR", &MKNOD3args{Where: Diropargs3{Dir: fh, Name: "c"},
			What: Mknoddata3{Type: NF3CHR, Device: Devicedata3{Spec: Specdata3{Specdata1: 1, Specdata2: 3}}}},
			"00000004 aabbccdd 00000001 63000000 00000004 " + unsetHex + " 00000001 00000003", nil},
		{"WRITE3args", &WRITE3args{File: fh, Offset: 4096, Count: 3, Stable: FILE_SYNC, Data: []byte("abc")},
			"00000004 aabbccdd 0000000000001000 00000003 00000002 00000003 61626300", nil},
		{"WRITE3res ok", &WRITE3res{Status: NFS3_OK, Resok: WRITE3resok{
			FileWcc: WccData{Before: PreOpAttr{AttributesFollow: true, Attributes: WccAttr{
				Size: 0, Mtime: Nfstime3{Seconds: 1}, Ctime: Nfstime3{Seconds: 1}}}},
			Count: 3, Committed: FILE_SYNC, Verf: Writeverf3{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}}},
			"00000000" +
				" 00000001 0000000000000000 00000001 00000000 00000001 00000000" + // before
				" 00000000" + // after: no attributes
				" 00000003 00000002 1122334455667788",
			nil},
		{"READ3res NFS3ERR_STALE", &READ3res{Status: NFS3ERR_STALE}, "00000046 00000000", nil},
		{"READ3res ok", &READ3res{Status: NFS3_OK, Resok: READ3resok{Count: 3, Eof: true, Data: []byte("abc")}},
			"00000000 00000000 00000003 00000001 00000003 61626300", nil},
		{"GETATTR3res directory", &GETATTR3res{Status: NFS3_OK, Resok: GETATTR3resok{ObjAttributes: Fattr3{
			Type: NF3DIR, Mode: 0o755, Nlink: 2, Uid: 0, Gid: 0, Size: 4096, Used: 4096,
			Fsid: 1, Fileid: 2,
			Atime: Nfstime3{Seconds: 1, Nseconds: 2}, Mtime: Nfstime3{Seconds: 3, Nseconds: 4}, Ctime: Nfstime3{Seconds: 5, Nseconds: 6},
		}}},
			"00000000" +
				" 00000002 000001ed 00000002 00000000 00000000" + // type, mode, nlink, uid, gid
				" 0000000000001000 0000000000001000" + // size, used
				" 00000000 00000000" + // rdev
				" 0000000000000001 0000000000000002" + // fsid, fileid
				" 00000001 00000002 00000003 00000004 00000005 00000006", // atime, mtime, ctime
			nil},
		{"READDIR3res two entries", &READDIR3res{Status: NFS3_OK, Resok: READDIR3resok{
			Cookieverf: Cookieverf3{1, 2, 3, 4, 5, 6, 7, 8},
			Reply: Dirlist3{Eof: true, Entries: &Entry3{Fileid: 2, Name: ".", Cookie: 1,
				Nextentry: &Entry3{Fileid: 3, Name: "..", Cookie: 2}}},
		}},
			"00000000 00000000 0102030405060708" +
				" 00000001 0000000000000002 00000001 2e000000 0000000000000001" +
				" 00000001 0000000000000003 00000002 2e2e0000 0000000000000002" +
				" 00000000 00000001",
			nil},
		{"ACCESS3args read+lookup", &ACCESS3args{Object: fh, Access: ACCESS3_READ | ACCESS3_LOOKUP},
			"00000004 aabbccdd 00000003", nil},

		// Bytes the definitions forbid.
		{"nfs_fh3 of 65 bytes", new(NfsFh3), "00000041" + strings.Repeat("00", 68), xdr.ErrTooLong},
		{"post_op_attr flag 2", new(PostOpAttr), "00000002", xdr.ErrBadValue},
		{"createhow3 mode 3", new(Createhow3), "00000003", xdr.ErrBadValue},
		{"READ3args cut short", new(READ3args), "00000004 aabbccdd 00000000", xdr.ErrShort},
	})
}
