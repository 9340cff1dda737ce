package nfs4

import (
	"bytes"
	"context"
	"testing"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/vfs"
)

const mib = 1 << 20

// seedSparse makes file name in export "/" with 4 KiB of 'a' at 0 and of
// 'b' at 1 MiB, and a hole between (memfs blocks are 64 KiB, so the hole
// is [4096, 1 MiB) exactly).
func (f *fixture) seedSparse(name string) {
	f.t.Helper()
	f.seed(name, string(bytes.Repeat([]byte{'a'}, 4096)), 0o666, 0)
	fs := f.fs["/"]
	h, _, err := fs.Lookup(context.Background(), vfs.RootCred(), fs.Root(), name)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, _, err := fs.Write(context.Background(), vfs.RootCred(), h, mib, bytes.Repeat([]byte{'b'}, 4096), vfs.FileSync); err != nil {
		f.t.Fatal(err)
	}
}

func seekArg(sid x.Stateid4, off uint64, what x.DataContent4) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_SEEK, Opseek: &x.SEEK4args{SaStateid: sid, SaOffset: x.Offset4(off), SaWhat: what}}
}

func readPlusArg(sid x.Stateid4, off uint64, count uint32) x.NfsArgop4 {
	return x.NfsArgop4{Argop: x.OP_READ_PLUS, OpreadPlus: &x.READ_PLUS4args{RpaStateid: sid, RpaOffset: x.Offset4(off), RpaCount: x.Count4(count)}}
}

// RFC 7862 §15.11.3: SEEK finds data and holes, every file ends in a
// virtual hole, and an offset at or past the end is NFS4ERR_NXIO (also
// when no data follows, as knfsd answers; see opSeek).
func TestSeek(t *testing.T) {
	f := newFixture(t, "")
	f.seedSparse("f")
	s := f.newSession(root)
	o := s.open(openName("o", "f", accRead, denyNone))
	const size = mib + 4096
	tests := []struct {
		off    uint64
		what   x.DataContent4
		status x.Nfsstat4
		pos    uint64
		eof    bool
	}{
		{0, x.NFS4_CONTENT_DATA, x.NFS4_OK, 0, false},
		{0, x.NFS4_CONTENT_HOLE, x.NFS4_OK, 4096, false},
		{8192, x.NFS4_CONTENT_DATA, x.NFS4_OK, mib, false},
		{8192, x.NFS4_CONTENT_HOLE, x.NFS4_OK, 8192, false},
		{mib, x.NFS4_CONTENT_HOLE, x.NFS4_OK, size, true},
		{size - 1, x.NFS4_CONTENT_DATA, x.NFS4_OK, size - 1, false},
		{size, x.NFS4_CONTENT_DATA, x.NFS4ERR_NXIO, 0, false},
		{size, x.NFS4_CONTENT_HOLE, x.NFS4ERR_NXIO, 0, false},
		{1 << 62, x.NFS4_CONTENT_DATA, x.NFS4ERR_NXIO, 0, false},
		{0, x.DataContent4(7), x.NFS4ERR_UNION_NOTSUPP, 0, false},
	}
	for _, tt := range tests {
		res := s.call42(opPutfh(o.fh), seekArg(o.sid, tt.off, tt.what))
		if st := lastStatus(res); st != tt.status {
			t.Errorf("SEEK %d %v: %v, want %v", tt.off, tt.what, st, tt.status)
			continue
		}
		if tt.status != x.NFS4_OK {
			continue
		}
		got := res.Resarray[2].Opseek.Resok4
		if uint64(got.SrOffset) != tt.pos || got.SrEof != tt.eof {
			t.Errorf("SEEK %d %v = %d eof %v, want %d eof %v", tt.off, tt.what, got.SrOffset, got.SrEof, tt.pos, tt.eof)
		}
	}
	// Past the last data only holes remain.
	fs := f.fs["/"]
	h, _, _ := fs.Lookup(context.Background(), vfs.RootCred(), fs.Root(), "f")
	size3 := uint64(3 * mib)
	if _, err := fs.SetAttr(context.Background(), vfs.RootCred(), h, vfs.SetAttr{Size: &size3}); err != nil {
		t.Fatal(err)
	}
	res := s.call42(opPutfh(o.fh), seekArg(o.sid, 2*mib, x.NFS4_CONTENT_DATA))
	if st := lastStatus(res); st != x.NFS4ERR_NXIO {
		t.Errorf("SEEK for data in a trailing hole: %v, want NFS4ERR_NXIO", st)
	}
	// A directory is not a file to seek in; a bad stateid is refused.
	res = s.call42(opPutrootfh(), seekArg(x.Stateid4{}, 0, x.NFS4_CONTENT_DATA))
	if st := lastStatus(res); st != x.NFS4ERR_ISDIR {
		t.Errorf("SEEK on a directory: %v, want NFS4ERR_ISDIR", st)
	}
	bad := o.sid
	bad.Other[11] ^= 0xff
	res = s.call42(opPutfh(o.fh), seekArg(bad, 0, x.NFS4_CONTENT_DATA))
	if st := lastStatus(res); st != x.NFS4ERR_BAD_STATEID {
		t.Errorf("SEEK with an unknown stateid: %v, want NFS4ERR_BAD_STATEID", st)
	}
}

// RFC 7862 §15.10.3: READ_PLUS returns data and hole segments in order,
// clipped to the range asked for and to the file, with eof.
func TestReadPlus(t *testing.T) {
	f := newFixture(t, "")
	f.seedSparse("f")
	f.seed("small", "0123456789", 0o666, 0)
	s := f.newSession(root)
	o := s.open(openName("o", "f", accRead, denyNone))
	small := s.open(openName("o", "small", accRead, denyNone))
	a, b := bytes.Repeat([]byte{'a'}, 4096), bytes.Repeat([]byte{'b'}, 4096)
	data := func(off uint64, d []byte) x.ReadPlusContent {
		return x.ReadPlusContent{RpcContent: x.NFS4_CONTENT_DATA, RpcData: x.Data4{DOffset: x.Offset4(off), DData: d}}
	}
	hole := func(off, n uint64) x.ReadPlusContent {
		return x.ReadPlusContent{RpcContent: x.NFS4_CONTENT_HOLE, RpcHole: x.DataInfo4{DiOffset: x.Offset4(off), DiLength: x.Length4(n)}}
	}
	tests := []struct {
		name  string
		fh    []byte
		sid   x.Stateid4
		off   uint64
		count uint32
		want  []x.ReadPlusContent
		eof   bool
	}{
		// The count is capped at maxIO (1 MiB).
		{"capped", o.fh, o.sid, 0, 2 * mib, []x.ReadPlusContent{data(0, a), hole(4096, mib-4096)}, false},
		{"to the end", o.fh, o.sid, 8192, mib, []x.ReadPlusContent{hole(8192, mib-8192), data(mib, b)}, true},
		{"data then hole", o.fh, o.sid, 100, 8000, []x.ReadPlusContent{data(100, a[100:]), hole(4096, 8100-4096)}, false},
		{"in the hole", o.fh, o.sid, 8192, 4096, []x.ReadPlusContent{hole(8192, 4096)}, false},
		{"hole to the end", o.fh, o.sid, mib - 10, 1 << 30, []x.ReadPlusContent{hole(mib-10, 10), data(mib, b)}, true},
		{"past the end", o.fh, o.sid, 2 * mib, 100, nil, true},
		{"count 0", o.fh, o.sid, 0, 0, nil, false},
		{"dense", small.fh, small.sid, 2, 5, []x.ReadPlusContent{data(2, []byte("23456"))}, false},
		{"dense to eof", small.fh, small.sid, 5, 100, []x.ReadPlusContent{data(5, []byte("56789"))}, true},
	}
	for _, tt := range tests {
		res := s.call42(opPutfh(tt.fh), readPlusArg(tt.sid, tt.off, tt.count))
		f.wantStatus(res, x.NFS4_OK, 3)
		got := res.Resarray[2].OpreadPlus.RpResok4
		if got.RprEof != tt.eof || !equalContents(got.RprContents, tt.want) {
			t.Errorf("%s: READ_PLUS %d+%d = eof %v %s, want eof %v %s", tt.name, tt.off, tt.count,
				got.RprEof, describe(got.RprContents), tt.eof, describe(tt.want))
		}
	}
	res := s.call42(opPutrootfh(), readPlusArg(x.Stateid4{}, 0, 10))
	if st := lastStatus(res); st != x.NFS4ERR_ISDIR {
		t.Errorf("READ_PLUS of a directory: %v, want NFS4ERR_ISDIR", st)
	}
}

func equalContents(a, b []x.ReadPlusContent) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].RpcContent != b[i].RpcContent || a[i].RpcHole != b[i].RpcHole ||
			a[i].RpcData.DOffset != b[i].RpcData.DOffset || !bytes.Equal(a[i].RpcData.DData, b[i].RpcData.DData) {
			return false
		}
	}
	return true
}

func describe(cs []x.ReadPlusContent) string {
	var buf bytes.Buffer
	for _, c := range cs {
		if c.RpcContent == x.NFS4_CONTENT_HOLE {
			buf.WriteString("[hole " + itoa(uint64(c.RpcHole.DiOffset)) + "+" + itoa(uint64(c.RpcHole.DiLength)) + "]")
		} else {
			buf.WriteString("[data " + itoa(uint64(c.RpcData.DOffset)) + "+" + itoa(uint64(len(c.RpcData.DData))) + "]")
		}
	}
	return buf.String()
}

func itoa(v uint64) string {
	if v == 0 {
		return "0"
	}
	var b []byte
	for ; v > 0; v /= 10 {
		b = append([]byte{byte('0' + v%10)}, b...)
	}
	return string(b)
}

// RFC 7862 §11.2 (and RFC 8881 §15.2): the operations new in minor
// version 2 do not exist in a minor version 1 compound, which answers
// them OP_ILLEGAL.
func TestV42OpsIllegalInV41(t *testing.T) {
	f := newFixture(t, "")
	s := f.newSession(root)
	for _, op := range []x.NfsOpnum4{x.OP_ALLOCATE, x.OP_COPY, x.OP_COPY_NOTIFY, x.OP_DEALLOCATE, x.OP_IO_ADVISE,
		x.OP_LAYOUTERROR, x.OP_LAYOUTSTATS, x.OP_OFFLOAD_CANCEL, x.OP_OFFLOAD_STATUS, x.OP_READ_PLUS, x.OP_SEEK,
		x.OP_WRITE_SAME, x.OP_CLONE, x.OP_GETXATTR, x.OP_SETXATTR, x.OP_LISTXATTRS, x.OP_REMOVEXATTR} {
		res := s.call(opPutrootfh(), x.NfsArgop4{Argop: op})
		if res.Status != x.NFS4ERR_OP_ILLEGAL || len(res.Resarray) != 3 || res.Resarray[2].Resop != x.OP_ILLEGAL {
			t.Errorf("%v in a 4.1 compound: %v %v, want OP_ILLEGAL", op, res.Status, statuses(res))
		}
	}
}
