package fattr

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/xdr"
)

// The constant sets of supported.go, written out as plain lists.
var (
	supported0 = []uint32{
		x.FATTR4_SUPPORTED_ATTRS, x.FATTR4_TYPE, x.FATTR4_FH_EXPIRE_TYPE, x.FATTR4_CHANGE,
		x.FATTR4_SIZE, x.FATTR4_LINK_SUPPORT, x.FATTR4_SYMLINK_SUPPORT, x.FATTR4_NAMED_ATTR,
		x.FATTR4_FSID, x.FATTR4_UNIQUE_HANDLES, x.FATTR4_LEASE_TIME, x.FATTR4_RDATTR_ERROR,
		x.FATTR4_CANSETTIME, x.FATTR4_CASE_INSENSITIVE, x.FATTR4_CASE_PRESERVING,
		x.FATTR4_CHOWN_RESTRICTED, x.FATTR4_FILEHANDLE, x.FATTR4_FILEID, x.FATTR4_FILES_AVAIL,
		x.FATTR4_FILES_FREE, x.FATTR4_FILES_TOTAL, x.FATTR4_HOMOGENEOUS, x.FATTR4_MAXFILESIZE,
		x.FATTR4_MAXLINK, x.FATTR4_MAXNAME, x.FATTR4_MAXREAD, x.FATTR4_MAXWRITE, x.FATTR4_MODE,
		x.FATTR4_NO_TRUNC, x.FATTR4_NUMLINKS, x.FATTR4_OWNER, x.FATTR4_OWNER_GROUP,
		x.FATTR4_RAWDEV, x.FATTR4_SPACE_AVAIL, x.FATTR4_SPACE_FREE, x.FATTR4_SPACE_TOTAL,
		x.FATTR4_SPACE_USED, x.FATTR4_TIME_ACCESS, x.FATTR4_TIME_ACCESS_SET, x.FATTR4_TIME_DELTA,
		x.FATTR4_TIME_METADATA, x.FATTR4_TIME_MODIFY, x.FATTR4_TIME_MODIFY_SET,
		x.FATTR4_MOUNTED_ON_FILEID,
	}
	added1 = []uint32{x.FATTR4_FS_LAYOUT_TYPES, x.FATTR4_SUPPATTR_EXCLCREAT, x.FATTR4_FS_CHARSET_CAP}
	added2 = []uint32{x.FATTR4_CLONE_BLKSIZE, x.FATTR4_CHANGE_ATTR_TYPE, x.FATTR4_MODE_UMASK, x.FATTR4_XATTR_SUPPORT,
		x.FATTR4_OPEN_ARGUMENTS}
	// Attributes the brief and RFC 8881 §5.6/§5.7 say we must not claim.
	neverSupported = []uint32{
		x.FATTR4_ACL, x.FATTR4_ACLSUPPORT, x.FATTR4_ARCHIVE, x.FATTR4_FS_LOCATIONS, x.FATTR4_HIDDEN,
		x.FATTR4_MIMETYPE, x.FATTR4_QUOTA_AVAIL_HARD, x.FATTR4_QUOTA_AVAIL_SOFT, x.FATTR4_QUOTA_USED,
		x.FATTR4_SYSTEM, x.FATTR4_TIME_BACKUP, x.FATTR4_TIME_CREATE, x.FATTR4_DIR_NOTIF_DELAY,
		x.FATTR4_DIRENT_NOTIF_DELAY, x.FATTR4_DACL, x.FATTR4_SACL, x.FATTR4_LAYOUT_HINT,
		x.FATTR4_LAYOUT_TYPES, x.FATTR4_LAYOUT_BLKSIZE, x.FATTR4_LAYOUT_ALIGNMENT,
		x.FATTR4_SPACE_FREED, x.FATTR4_SEC_LABEL, x.FATTR4_MODE_SET_MASKED,
		// RFC 9754: no offline files, no delegated timestamps.
		x.FATTR4_OFFLINE, x.FATTR4_TIME_DELEG_ACCESS, x.FATTR4_TIME_DELEG_MODIFY,
	}
)

func TestSupported(t *testing.T) {
	all1 := slices.Concat(supported0, added1)
	all2 := slices.Concat(all1, added2)
	for _, tc := range []struct {
		minor uint32
		want  []uint32
	}{
		{0, supported0},
		{1, all1},
		{2, all2},
		{3, nil},
	} {
		if got, want := Supported(tc.minor), Of(tc.want...); got != want {
			t.Errorf("Supported(%d) = %v, want %v", tc.minor, got, want)
		}
	}
	for minor := uint32(0); minor <= 2; minor++ {
		for _, a := range neverSupported {
			if Supported(minor).Has(a) {
				t.Errorf("minor %d supports %s", minor, Name(a))
			}
		}
		s := Supported(minor)
		if !Settable(minor).AndNot(s).IsEmpty() || !ExclCreat(minor).AndNot(Settable(minor)).IsEmpty() {
			t.Errorf("minor %d: settable %v / exclcreat %v not within supported", minor, Settable(minor), ExclCreat(minor))
		}
	}
	if want := Of(x.FATTR4_SIZE, x.FATTR4_MODE, x.FATTR4_OWNER, x.FATTR4_OWNER_GROUP, x.FATTR4_MODE_UMASK); ExclCreat(2) != want {
		t.Errorf("ExclCreat(2) = %v, want %v", ExclCreat(2), want)
	}
	if Settable(1).Has(x.FATTR4_MODE_UMASK) || !Settable(2).Has(x.FATTR4_MODE_UMASK) {
		t.Errorf("mode_umask must be settable in 4.2 only")
	}
	if want := Of(x.FATTR4_TIME_ACCESS_SET, x.FATTR4_TIME_MODIFY_SET, x.FATTR4_MODE_UMASK); WriteOnly() != want {
		t.Errorf("WriteOnly() = %v, want %v", WriteOnly(), want)
	}
}

func TestNeedsStatFS(t *testing.T) {
	statAttrs := []uint32{x.FATTR4_FILES_AVAIL, x.FATTR4_FILES_FREE, x.FATTR4_FILES_TOTAL,
		x.FATTR4_SPACE_AVAIL, x.FATTR4_SPACE_FREE, x.FATTR4_SPACE_TOTAL}
	for a := uint32(0); a <= MaxAttr; a++ {
		if got, want := NeedsStatFS(Of(a)), slices.Contains(statAttrs, a); got != want {
			t.Errorf("NeedsStatFS(%s) = %v, want %v", Name(a), got, want)
		}
	}
}

func TestBitmapOps(t *testing.T) {
	var b Bitmap
	if !b.IsEmpty() || b.Len() != 0 {
		t.Fatal("zero Bitmap not empty")
	}
	if _, ok := b.First(); ok {
		t.Fatal("First of empty")
	}
	for _, a := range []uint32{0, 31, 32, 63, 64, 95} {
		b.Set(a)
		if !b.Has(a) {
			t.Errorf("Set(%d) then Has false", a)
		}
	}
	b.Set(96) // beyond MaxAttr: ignored
	b.Set(1 << 31)
	if b.Has(96) || b.Len() != 6 {
		t.Errorf("after Set(96): %v, len %d", b, b.Len())
	}
	b.Clear(31)
	b.Clear(1000)
	if b.Has(31) || b != Of(0, 32, 63, 64, 95) {
		t.Errorf("after Clear(31): %v", b)
	}
	o := Of(0, 1, 95)
	if got := b.And(o); got != Of(0, 95) {
		t.Errorf("And = %v", got)
	}
	if got := b.Or(o); got != Of(0, 1, 32, 63, 64, 95) {
		t.Errorf("Or = %v", got)
	}
	if got := b.AndNot(o); got != Of(32, 63, 64) {
		t.Errorf("AndNot = %v", got)
	}
	var got []uint32
	for a, ok := b.First(); ok; a, ok = b.next(a + 1) {
		got = append(got, a)
	}
	if want := []uint32{0, 32, 63, 64, 95}; !slices.Equal(got, want) || !slices.Equal(slices.Collect(b.All()), want) {
		t.Errorf("iteration = %v, All = %v, want %v", got, slices.Collect(b.All()), want)
	}
	for a := range b.All() {
		if a != 0 {
			t.Errorf("All does not stop when asked: %d", a)
		}
		break
	}
	if s := Of(x.FATTR4_TYPE, x.FATTR4_MODE_UMASK, 90).String(); s != "{type,mode_umask,attr90}" {
		t.Errorf("String = %q", s)
	}
}

func TestBitmapWire(t *testing.T) {
	for _, tc := range []struct {
		name  string
		b     Bitmap
		words []uint32
		wire  string
	}{
		{"empty", Bitmap{}, []uint32{}, "00000000"},
		{"word0", Of(1, 3), []uint32{0xa}, "00000001 0000000a"},
		{"trailing zero words trimmed", Of(33), []uint32{0, 2}, "00000002 00000000 00000002"},
		{"all words", Of(0, 95), []uint32{1, 0, 0x80000000}, "00000003 00000001 00000000 80000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if w := tc.b.Words(); !slices.Equal(w, tc.words) {
				t.Errorf("Words = %v, want %v", w, tc.words)
			}
			var w xdr.Writer
			tc.b.Encode(&w)
			if want := unhex(t, tc.wire); !bytes.Equal(w.Buf, want) {
				t.Errorf("Encode = %x, want %x", w.Buf, want)
			}
			// The generated type agrees with ours.
			bm := tc.b.Bitmap4()
			if g := xdr.Marshal(nil, &bm); !bytes.Equal(g, w.Buf) {
				t.Errorf("Bitmap4 encodes %x, Encode %x", g, w.Buf)
			}
			got, extra := DecodeBitmap(xdr.NewReader(w.Buf))
			if got != tc.b || extra {
				t.Errorf("DecodeBitmap = %v, %v", got, extra)
			}
			if FromWords(tc.words) != tc.b {
				t.Errorf("FromWords(%v) = %v", tc.words, FromWords(tc.words))
			}
		})
	}
}

func TestDecodeBitmapEdges(t *testing.T) {
	for _, tc := range []struct {
		name  string
		wire  string
		want  Bitmap
		extra bool
		err   error
	}{
		{"words beyond ours, zero", "00000005 00000002 00000000 00000001 00000000 00000000", Of(1, 64), false, nil},
		{"words beyond ours, set", "00000004 00000002 00000000 00000000 00000001", Of(1), true, nil},
		{"count larger than record", "00000003 00000001", Bitmap{}, false, xdr.ErrShort},
		{"huge count", "ffffffff", Bitmap{}, false, xdr.ErrShort},
		{"no count", "", Bitmap{}, false, xdr.ErrShort},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := xdr.NewReader(unhex(t, tc.wire))
			got, extra := DecodeBitmap(r)
			if !errors.Is(r.Err(), tc.err) {
				t.Fatalf("err = %v, want %v", r.Err(), tc.err)
			}
			if tc.err == nil && (got != tc.want || extra != tc.extra) {
				t.Errorf("got %v extra %v, want %v extra %v", got, extra, tc.want, tc.extra)
			}
		})
	}
	if FromWords([]uint32{1, 2, 4, 8, 16}) != (Bitmap{1, 2, 4}) {
		t.Error("FromWords does not drop words beyond ours")
	}
}

func TestName(t *testing.T) {
	// Every attribute number of nfs4.x has a name.
	for a := uint32(0); a <= x.FATTR4_XATTR_SUPPORT; a++ {
		if names[a] == "" {
			t.Errorf("attribute %d has no name", a)
		}
	}
	if Name(x.FATTR4_SUPPATTR_EXCLCREAT) != "suppattr_exclcreat" || Name(200) != "attr200" {
		t.Errorf("Name: %q %q", Name(x.FATTR4_SUPPATTR_EXCLCREAT), Name(200))
	}
}
