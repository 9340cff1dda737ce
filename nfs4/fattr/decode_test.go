package fattr

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

func u32p(v uint32) *uint32 { return &v }
func u64p(v uint64) *uint64 { return &v }

func wU32(v uint32) func(*xdr.Writer) { return func(w *xdr.Writer) { w.Uint32(v) } }
func wU64(v uint64) func(*xdr.Writer) { return func(w *xdr.Writer) { w.Uint64(v) } }
func wStr(s string) func(*xdr.Writer) { return func(w *xdr.Writer) { w.String(s) } }
func wRaw(b ...byte) func(*xdr.Writer) {
	return func(w *xdr.Writer) { w.Buf = append(w.Buf, b...) }
}
func wClientTime(sec int64, nsec uint32) func(*xdr.Writer) {
	return func(w *xdr.Writer) { w.Int32(int32(x.SET_TO_CLIENT_TIME4)); w.Int64(sec); w.Uint32(nsec) }
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name   string
		minor  uint32
		create bool
		f      *x.Fattr4
		want   vfs.SetAttr
	}{
		{name: "nothing", minor: 1, f: fattr(Bitmap{}), want: vfs.SetAttr{}},
		{name: "mode", minor: 1, f: fattr(Of(x.FATTR4_MODE), wU32(0o4755)),
			want: vfs.SetAttr{Mode: u32p(0o4755)}},
		{name: "mode type bits dropped", minor: 1, f: fattr(Of(x.FATTR4_MODE), wU32(0o100644)),
			want: vfs.SetAttr{Mode: u32p(0o644)}},
		{name: "size", minor: 0, f: fattr(Of(x.FATTR4_SIZE), wU64(1<<40)),
			want: vfs.SetAttr{Size: u64p(1 << 40)}},
		{name: "owner and group, numeric", minor: 1,
			f:    fattr(Of(x.FATTR4_OWNER, x.FATTR4_OWNER_GROUP), wStr("1000"), wStr("100")),
			want: vfs.SetAttr{UID: u32p(1000), GID: u32p(100)}},
		{name: "times", minor: 1,
			f: fattr(Of(x.FATTR4_TIME_ACCESS_SET, x.FATTR4_TIME_MODIFY_SET),
				wU32(uint32(x.SET_TO_SERVER_TIME4)), wClientTime(-5, 999999999)),
			want: vfs.SetAttr{Atime: vfs.TimeServer, Mtime: vfs.TimeClient, MtimeTime: time.Unix(-5, 999999999)}},
		{name: "everything settable, in bit order", minor: 1,
			f: fattr(Of(x.FATTR4_SIZE, x.FATTR4_MODE, x.FATTR4_OWNER, x.FATTR4_OWNER_GROUP,
				x.FATTR4_TIME_ACCESS_SET, x.FATTR4_TIME_MODIFY_SET),
				wU64(0), wU32(0o600), wStr("0"), wStr("0"), wClientTime(1, 2), wU32(0)),
			want: vfs.SetAttr{Size: u64p(0), Mode: u32p(0o600), UID: u32p(0), GID: u32p(0),
				Atime: vfs.TimeClient, AtimeTime: time.Unix(1, 2), Mtime: vfs.TimeServer}},
		{name: "mode_umask at creation", minor: 2, create: true,
			f:    fattr(Of(x.FATTR4_MODE_UMASK), wU32(0o777), wU32(0o022)),
			want: vfs.SetAttr{Mode: u32p(0o755)}},
		{name: "createattrs may carry mode", minor: 2, create: true,
			f:    fattr(Of(x.FATTR4_MODE), wU32(0o644)),
			want: vfs.SetAttr{Mode: u32p(0o644)}},
		{name: "trailing zero words in the mask", minor: 1,
			f:    &x.Fattr4{Attrmask: x.Bitmap4{0x10, 0, 0, 0, 0}, AttrVals: enc(wU64(7))},
			want: vfs.SetAttr{Size: u64p(7)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := testExport(tc.minor)
			s, err := Decode(tc.f, e, tc.create)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(tc.want, s.Attr) {
				t.Errorf("SetAttr = %s, want %s", show(s.Attr), show(tc.want))
			}
			if want, _ := rawBitmap(tc.f.Attrmask); s.Applied != want {
				t.Errorf("Applied = %v, want %v", s.Applied, want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	vals := func(fs ...func(*xdr.Writer)) []byte {
		var w xdr.Writer
		for _, f := range fs {
			f(&w)
		}
		return w.Buf
	}
	for _, tc := range []struct {
		name   string
		minor  uint32
		create bool
		mask   x.Bitmap4
		vals   []byte
		want   x.Nfsstat4
	}{
		{"read-only attribute (type)", 1, false, Of(x.FATTR4_TYPE).Words(), vals(wU32(1)), x.NFS4ERR_INVAL},
		{"read-only attribute (time_modify)", 1, false, Of(x.FATTR4_TIME_MODIFY).Words(), vals(wU64(0), wU32(0)), x.NFS4ERR_INVAL},
		{"read-only beside a settable one", 1, false, Of(x.FATTR4_MODE, x.FATTR4_NUMLINKS).Words(), vals(wU32(0), wU32(1)), x.NFS4ERR_INVAL},
		{"acl unsupported", 1, false, Of(x.FATTR4_ACL).Words(), vals(wU32(0)), x.NFS4ERR_ATTRNOTSUPP},
		{"unsupported wins over read-only", 1, false, Of(x.FATTR4_TYPE, x.FATTR4_HIDDEN).Words(), vals(wU32(1), wU32(0)), x.NFS4ERR_ATTRNOTSUPP},
		{"mode_umask in 4.1", 1, true, Of(x.FATTR4_MODE_UMASK).Words(), vals(wU32(0), wU32(0)), x.NFS4ERR_ATTRNOTSUPP},
		{"bit beyond any defined", 2, false, x.Bitmap4{0, 0, 0, 1}, nil, x.NFS4ERR_ATTRNOTSUPP},
		{"defined bit we lack in word 2", 2, false, x.Bitmap4{0, 0, 1 << (x.FATTR4_SEC_LABEL - 64)}, nil, x.NFS4ERR_ATTRNOTSUPP},
		{"mode_umask in SETATTR", 2, false, Of(x.FATTR4_MODE_UMASK).Words(), vals(wU32(0o777), wU32(0o22)), x.NFS4ERR_INVAL},
		{"mode_umask with mode", 2, true, Of(x.FATTR4_MODE, x.FATTR4_MODE_UMASK).Words(), vals(wU32(0), wU32(0), wU32(0)), x.NFS4ERR_INVAL},
		{"open_arguments is read-only", 2, false, Of(x.FATTR4_OPEN_ARGUMENTS).Words(), unhex(t, openArgumentsHex), x.NFS4ERR_INVAL},
		{"open_arguments in 4.1", 1, false, Of(x.FATTR4_OPEN_ARGUMENTS).Words(), unhex(t, openArgumentsHex), x.NFS4ERR_ATTRNOTSUPP},
		{"no values", 1, false, Of(x.FATTR4_SIZE).Words(), nil, x.NFS4ERR_BADXDR},
		{"short value", 1, false, Of(x.FATTR4_SIZE).Words(), vals(wU32(1)), x.NFS4ERR_BADXDR},
		{"bits set beyond the values", 1, false, Of(x.FATTR4_SIZE, x.FATTR4_MODE).Words(), vals(wU64(1)), x.NFS4ERR_BADXDR},
		{"trailing bytes", 1, false, Of(x.FATTR4_MODE).Words(), vals(wU32(0), wU32(0)), x.NFS4ERR_BADXDR},
		{"values with an empty mask", 1, false, nil, vals(wU32(0)), x.NFS4ERR_BADXDR},
		{"owner string runs past the end", 1, false, Of(x.FATTR4_OWNER).Words(), vals(wU32(100), wU32(0)), x.NFS4ERR_BADXDR},
		{"owner string without padding", 1, false, Of(x.FATTR4_OWNER).Words(), vals(wU32(1), wRaw('1')), x.NFS4ERR_BADXDR},
		{"bad time_how4", 1, false, Of(x.FATTR4_TIME_ACCESS_SET).Words(), vals(wU32(2)), x.NFS4ERR_BADXDR},
		{"client time cut short", 1, false, Of(x.FATTR4_TIME_MODIFY_SET).Words(), vals(wU32(1), wU64(0)), x.NFS4ERR_BADXDR},
		{"nseconds out of range", 1, false, Of(x.FATTR4_TIME_MODIFY_SET).Words(), vals(wClientTime(0, 1e9)), x.NFS4ERR_INVAL},
		{"owner name unknown", 1, false, Of(x.FATTR4_OWNER).Words(), vals(wStr("alice@example.com")), x.NFS4ERR_BADOWNER},
		{"owner empty", 1, false, Of(x.FATTR4_OWNER).Words(), vals(wStr("")), x.NFS4ERR_INVAL},
		{"owner not UTF-8", 1, false, Of(x.FATTR4_OWNER).Words(), vals(wStr("\xff")), x.NFS4ERR_BADOWNER},
		{"group with a leading zero", 1, false, Of(x.FATTR4_OWNER_GROUP).Words(), vals(wStr("0100")), x.NFS4ERR_BADOWNER},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(&x.Fattr4{Attrmask: tc.mask, AttrVals: tc.vals}, testExport(tc.minor), tc.create)
			wantStatus(t, err, tc.want)
			if err.Error() == "" {
				t.Error("empty message")
			}
		})
	}
}

func TestDecodeWithMapper(t *testing.T) {
	e := testExport(1)
	e.IDs = NewMapper(MapperOptions{Domain: "example.com", Directory: fakeDir()})
	s, err := Decode(fattr(Of(x.FATTR4_OWNER, x.FATTR4_OWNER_GROUP), wStr("alice@example.com"), wStr("100")), e, false)
	if err != nil {
		t.Fatal(err)
	}
	if *s.Attr.UID != 1000 || *s.Attr.GID != 100 {
		t.Errorf("uid %d gid %d", *s.Attr.UID, *s.Attr.GID)
	}
	_, err = Decode(fattr(Of(x.FATTR4_OWNER), wStr("mallory@example.com")), e, false)
	wantStatus(t, err, x.NFS4ERR_BADOWNER)
	if !errors.Is(err, ErrBadOwner) {
		t.Errorf("%v does not wrap ErrBadOwner", err)
	}
}

// TestDecodeEncodeAgree: what Encode writes for the settable, readable
// attributes Decode reads back to the same values.
func TestDecodeEncodeAgree(t *testing.T) {
	src := testSource(1)
	var w xdr.Writer
	req := Of(x.FATTR4_SIZE, x.FATTR4_MODE, x.FATTR4_OWNER, x.FATTR4_OWNER_GROUP)
	if _, err := Encode(&w, req, src); err != nil {
		t.Fatal(err)
	}
	var f x.Fattr4
	if err := xdr.Unmarshal(w.Buf, &f); err != nil {
		t.Fatal(err)
	}
	s, err := Decode(&f, src.Export, false)
	if err != nil {
		t.Fatal(err)
	}
	a := src.Attr
	want := vfs.SetAttr{Size: &a.Size, Mode: &a.Mode, UID: &a.UID, GID: &a.GID}
	if !reflect.DeepEqual(want, s.Attr) {
		t.Errorf("SetAttr = %s, want %s", show(s.Attr), show(want))
	}
}

// show prints a SetAttr with its pointers followed.
func show(s vfs.SetAttr) string {
	p32 := func(p *uint32) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%#o", *p)
	}
	size := "-"
	if s.Size != nil {
		size = fmt.Sprint(*s.Size)
	}
	return fmt.Sprintf("{mode %s uid %s gid %s size %s atime %d %v mtime %d %v}",
		p32(s.Mode), p32(s.UID), p32(s.GID), size, s.Atime, s.AtimeTime, s.Mtime, s.MtimeTime)
}
