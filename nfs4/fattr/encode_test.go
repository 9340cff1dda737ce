package fattr

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// encodeOne encodes a single attribute and returns attr_vals.
func encodeOne(t *testing.T, a uint32, src *Source) []byte {
	t.Helper()
	var w xdr.Writer
	got, err := Encode(&w, Of(a), src)
	if err != nil {
		t.Fatalf("Encode(%s): %v", Name(a), err)
	}
	if got != Of(a) {
		t.Fatalf("Encode(%s) returned %v", Name(a), got)
	}
	var f x.Fattr4
	if err := xdr.Unmarshal(w.Buf, &f); err != nil {
		t.Fatalf("Encode(%s) output does not decode as fattr4: %v", Name(a), err)
	}
	if FromWords(f.Attrmask) != got {
		t.Fatalf("attrmask %v, returned %v", f.Attrmask, got)
	}
	return f.AttrVals
}

// TestEncodeEachAttribute checks the value of every supported attribute
// that can be read, against hand-built XDR.
func TestEncodeEachAttribute(t *testing.T) {
	src := testSource(2)
	u32 := func(v uint32) []byte { return enc(func(w *xdr.Writer) { w.Uint32(v) }) }
	u64 := func(v uint64) []byte { return enc(func(w *xdr.Writer) { w.Uint64(v) }) }
	tm := func(s int64, ns uint32) []byte { return enc(func(w *xdr.Writer) { w.Int64(s); w.Uint32(ns) }) }
	bm := func(b Bitmap) []byte { return enc(b.Encode) }
	tests := map[uint32][]byte{
		x.FATTR4_SUPPORTED_ATTRS:    bm(Supported(2)),
		x.FATTR4_TYPE:               u32(1),
		x.FATTR4_FH_EXPIRE_TYPE:     u32(0),
		x.FATTR4_CHANGE:             u64(77),
		x.FATTR4_SIZE:               u64(12345),
		x.FATTR4_LINK_SUPPORT:       u32(1),
		x.FATTR4_SYMLINK_SUPPORT:    u32(1),
		x.FATTR4_NAMED_ATTR:         u32(0),
		x.FATTR4_FSID:               unhex(t, "0102030405060708 1112131415161718"),
		x.FATTR4_UNIQUE_HANDLES:     u32(1),
		x.FATTR4_LEASE_TIME:         u32(90),
		x.FATTR4_RDATTR_ERROR:       u32(0),
		x.FATTR4_FILEHANDLE:         unhex(t, "00000005 0102030405 000000"),
		x.FATTR4_CANSETTIME:         u32(1),
		x.FATTR4_CASE_INSENSITIVE:   u32(0),
		x.FATTR4_CASE_PRESERVING:    u32(1),
		x.FATTR4_CHOWN_RESTRICTED:   u32(1),
		x.FATTR4_FILEID:             u64(4242),
		x.FATTR4_FILES_AVAIL:        u64(400),
		x.FATTR4_FILES_FREE:         u64(500),
		x.FATTR4_FILES_TOTAL:        u64(1000),
		x.FATTR4_HOMOGENEOUS:        u32(1),
		x.FATTR4_MAXFILESIZE:        u64(1<<63 - 1),
		x.FATTR4_MAXLINK:            u32(65000),
		x.FATTR4_MAXNAME:            u32(255),
		x.FATTR4_MAXREAD:            u64(1 << 20),
		x.FATTR4_MAXWRITE:           u64(1 << 19),
		x.FATTR4_MODE:               unhex(t, "000001a4"),
		x.FATTR4_NO_TRUNC:           u32(1),
		x.FATTR4_NUMLINKS:           u32(2),
		x.FATTR4_OWNER:              unhex(t, "00000004 31303030"),
		x.FATTR4_OWNER_GROUP:        unhex(t, "00000003 31303000"),
		x.FATTR4_RAWDEV:             unhex(t, "00000008 00000001"),
		x.FATTR4_SPACE_AVAIL:        u64(1 << 38),
		x.FATTR4_SPACE_FREE:         u64(1 << 39),
		x.FATTR4_SPACE_TOTAL:        u64(1 << 40),
		x.FATTR4_SPACE_USED:         u64(16384),
		x.FATTR4_TIME_ACCESS:        tm(1700000000, 5),
		x.FATTR4_TIME_DELTA:         unhex(t, "0000000000000001 1dcd6500"), // 1.5 s
		x.FATTR4_TIME_METADATA:      tm(1700000002, 0),
		x.FATTR4_TIME_MODIFY:        unhex(t, "000000006553f101 3b9ac9ff"),
		x.FATTR4_MOUNTED_ON_FILEID:  u64(4242),
		x.FATTR4_FS_LAYOUT_TYPES:    u32(0),
		x.FATTR4_SUPPATTR_EXCLCREAT: bm(Of(x.FATTR4_SIZE, x.FATTR4_MODE, x.FATTR4_OWNER, x.FATTR4_OWNER_GROUP, x.FATTR4_MODE_UMASK)),
		x.FATTR4_FS_CHARSET_CAP:     u32(1),
		x.FATTR4_CLONE_BLKSIZE:      u32(4096),
		x.FATTR4_CHANGE_ATTR_TYPE:   u32(0),
		x.FATTR4_XATTR_SUPPORT:      u32(1),
		x.FATTR4_OPEN_ARGUMENTS:     unhex(t, openArgumentsHex),
	}
	readable := Supported(2).AndNot(WriteOnly())
	for a, ok := readable.First(); ok; a, ok = readable.next(a + 1) {
		want, ok := tests[a]
		if !ok {
			t.Errorf("no test for supported attribute %s", Name(a))
			continue
		}
		if got := encodeOne(t, a, src); !bytes.Equal(got, want) {
			t.Errorf("%s = %x, want %x", Name(a), got, want)
		}
	}
}

// TestEncodeGolden checks whole fattr4 records byte for byte.
func TestEncodeGolden(t *testing.T) {
	src := testSource(1)
	for _, tc := range []struct {
		name string
		req  Bitmap
		want string
	}{
		{"nothing", Bitmap{}, "00000000 00000000"},
		{"type change size", Of(x.FATTR4_TYPE, x.FATTR4_CHANGE, x.FATTR4_SIZE),
			"00000001 0000001a 00000014 00000001 000000000000004d 0000000000003039"},
		{"mode numlinks owner group (word 1 only)",
			Of(x.FATTR4_MODE, x.FATTR4_NUMLINKS, x.FATTR4_OWNER, x.FATTR4_OWNER_GROUP),
			"00000002 00000000 0000003a 00000018 000001a4 00000002 00000004 31303030 00000003 31303000"},
		{"unsupported and 4.2 attributes dropped in 4.1",
			Of(x.FATTR4_ACL, x.FATTR4_SIZE, x.FATTR4_TIME_CREATE, x.FATTR4_XATTR_SUPPORT, x.FATTR4_FS_CHARSET_CAP),
			"00000003 00000010 00000000 00001000 0000000c 0000000000003039 00000001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := xdr.Writer{Buf: []byte{0xee}} // appends after what is there
			if _, err := Encode(&w, tc.req, src); err != nil {
				t.Fatal(err)
			}
			if want := append([]byte{0xee}, unhex(t, tc.want)...); !bytes.Equal(w.Buf, want) {
				t.Errorf("got  %x\nwant %x", w.Buf, want)
			}
		})
	}
}

// openArgumentsHex is our open_arguments (RFC 9754, XDR in its §10): five
// one-word bitmap4s, bit N set for each supported value N.
const openArgumentsHex = "00000001 0000000e" + // share access: READ 1, WRITE 2, BOTH 3
	" 00000001 0000000f" + // share deny: NONE 0 to BOTH 3
	" 00000001 00000038" + // wants: ANY_DELEG 3, NO_DELEG 4, CANCEL 5
	" 00000001 00000037" + // claims: NULL 0, PREVIOUS 1, DELEGATE_CUR 2, FH 4, DELEG_CUR_FH 5
	" 00000001 0000000f" // create modes: UNCHECKED4 0 to EXCLUSIVE4_1 3

// TestEncodeOpenArguments checks the whole fattr4 of open_arguments, and
// that it is a 4.2 attribute only.
func TestEncodeOpenArguments(t *testing.T) {
	for _, tc := range []struct {
		minor uint32
		want  string
	}{
		{0, "00000000 00000000"},
		{1, "00000000 00000000"},
		// Bit 86 is bit 22 of word 2; 40 bytes of values.
		{2, "00000003 00000000 00000000 00400000 00000028 " + openArgumentsHex},
	} {
		var w xdr.Writer
		if _, err := Encode(&w, Of(x.FATTR4_OPEN_ARGUMENTS), testSource(tc.minor)); err != nil {
			t.Fatalf("minor %d: %v", tc.minor, err)
		}
		if want := unhex(t, tc.want); !bytes.Equal(w.Buf, want) {
			t.Errorf("minor %d:\n got %x\nwant %x", tc.minor, w.Buf, want)
		}
	}
}

// TestOpenArgumentsValues reads our open_arguments back through the
// generated type and checks each bitmap4 names exactly the enum values
// OPEN supports (nfs4/op_open.go).
func TestOpenArgumentsValues(t *testing.T) {
	var oa x.Fattr4OpenArguments
	if err := xdr.Unmarshal(encodeOne(t, x.FATTR4_OPEN_ARGUMENTS, testSource(2)), &oa); err != nil {
		t.Fatal(err)
	}
	u := func(vs ...uint32) x.Bitmap4 {
		var b Bitmap
		for _, v := range vs {
			b.Set(v)
		}
		return b.Bitmap4()
	}
	for _, tc := range []struct {
		name      string
		got, want x.Bitmap4
	}{
		{"share access", oa.OaShareAccess, u(uint32(x.OPEN_ARGS_SHARE_ACCESS_READ),
			uint32(x.OPEN_ARGS_SHARE_ACCESS_WRITE), uint32(x.OPEN_ARGS_SHARE_ACCESS_BOTH))},
		{"share deny", oa.OaShareDeny, u(uint32(x.OPEN_ARGS_SHARE_DENY_NONE), uint32(x.OPEN_ARGS_SHARE_DENY_READ),
			uint32(x.OPEN_ARGS_SHARE_DENY_WRITE), uint32(x.OPEN_ARGS_SHARE_DENY_BOTH))},
		{"wants", oa.OaShareAccessWant, u(uint32(x.OPEN_ARGS_SHARE_ACCESS_WANT_ANY_DELEG),
			uint32(x.OPEN_ARGS_SHARE_ACCESS_WANT_NO_DELEG), uint32(x.OPEN_ARGS_SHARE_ACCESS_WANT_CANCEL))},
		{"claims", oa.OaOpenClaim, u(uint32(x.OPEN_ARGS_OPEN_CLAIM_NULL), uint32(x.OPEN_ARGS_OPEN_CLAIM_PREVIOUS),
			uint32(x.OPEN_ARGS_OPEN_CLAIM_DELEGATE_CUR), uint32(x.OPEN_ARGS_OPEN_CLAIM_FH),
			uint32(x.OPEN_ARGS_OPEN_CLAIM_DELEG_CUR_FH))},
		{"create modes", oa.OaCreateMode, u(uint32(x.OPEN_ARGS_CREATEMODE_UNCHECKED4),
			uint32(x.OPEN_ARGS_CREATE_MODE_GUARDED), uint32(x.OPEN_ARGS_CREATEMODE_EXCLUSIVE4),
			uint32(x.OPEN_ARGS_CREATE_MODE_EXCLUSIVE4_1))},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("%s = %#x, want %#x", tc.name, tc.got, tc.want)
		}
	}
}

func TestEncodeMinorVersions(t *testing.T) {
	all := Bitmap{^uint32(0), ^uint32(0), ^uint32(0)}.AndNot(WriteOnly())
	for minor := uint32(0); minor <= 2; minor++ {
		var w xdr.Writer
		got, err := Encode(&w, all, testSource(minor))
		if err != nil {
			t.Fatalf("minor %d: %v", minor, err)
		}
		if want := Supported(minor).AndNot(WriteOnly()); got != want {
			t.Errorf("minor %d: returned %v, want %v", minor, got, want)
		}
	}
}

func TestEncodeFileTypes(t *testing.T) {
	for vt, want := range map[vfs.FileType]x.NfsFtype4{
		vfs.TypeRegular: x.NF4REG, vfs.TypeDirectory: x.NF4DIR, vfs.TypeBlockDevice: x.NF4BLK,
		vfs.TypeCharDevice: x.NF4CHR, vfs.TypeSymlink: x.NF4LNK, vfs.TypeSocket: x.NF4SOCK,
		vfs.TypeFIFO: x.NF4FIFO,
	} {
		src := testSource(1)
		src.Attr.Type = vt
		if got := encodeOne(t, x.FATTR4_TYPE, src); !bytes.Equal(got, enc(func(w *xdr.Writer) { w.Int32(int32(want)) })) {
			t.Errorf("%v: %x, want %v", vt, got, want)
		}
	}
}

func TestEncodeValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    uint32
		set  func(*Source)
		want string
	}{
		{"time before the epoch", x.FATTR4_TIME_MODIFY,
			func(s *Source) { s.Attr.Mtime = time.Unix(-1, 250) }, "ffffffffffffffff 000000fa"},
		{"zero time is the epoch", x.FATTR4_TIME_ACCESS,
			func(s *Source) { s.Attr.Atime = time.Time{} }, "0000000000000000 00000000"},
		{"mode type bits dropped", x.FATTR4_MODE,
			func(s *Source) { s.Attr.Mode = 0o170000 | 0o4755 }, "000009ed"},
		{"mounted_on_fileid of a mount point", x.FATTR4_MOUNTED_ON_FILEID,
			func(s *Source) { s.MountedOnFileID = 2 }, "0000000000000002"},
		{"rdattr_error", x.FATTR4_RDATTR_ERROR,
			func(s *Source) { s.RdattrError = x.NFS4ERR_ACCESS }, "0000000d"},
		{"case-insensitive backend", x.FATTR4_CASE_INSENSITIVE,
			func(s *Source) { s.Export.Info.CaseSensitive = false }, "00000001"},
		{"no hard links", x.FATTR4_LINK_SUPPORT,
			func(s *Source) { s.Export.Info.HardLinks = false }, "00000000"},
		{"no xattrs", x.FATTR4_XATTR_SUPPORT,
			func(s *Source) { s.Export.Xattrs = false }, "00000000"},
		{"large owner id", x.FATTR4_OWNER,
			func(s *Source) { s.Attr.UID = 4294967294 }, "0000000a 34323934393637323934 0000"},
		{"owner from a mapper without NameAppender", x.FATTR4_OWNER,
			func(s *Source) { s.Export.IDs = plainMapper{} }, "00000007 7531303030406400"},
		{"group from a mapper without NameAppender", x.FATTR4_OWNER_GROUP,
			func(s *Source) { s.Export.IDs = plainMapper{} }, "00000006 673130304064 0000"},
		{"owner from a domain Mapper", x.FATTR4_OWNER,
			func(s *Source) {
				s.Export.IDs = NewMapper(MapperOptions{Domain: "ex.org", Directory: fakeDir()})
			}, "0000000c 616c696365406578 2e6f7267"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := testSource(2)
			tc.set(src)
			if got, want := encodeOne(t, tc.a, src), unhex(t, tc.want); !bytes.Equal(got, want) {
				t.Errorf("got %x, want %x", got, want)
			}
		})
	}
}

// plainMapper implements only IDMapper.
type plainMapper struct{}

func (plainMapper) UserName(uid uint32) string      { return "u" + itoa(uid) + "@d" }
func (plainMapper) GroupName(gid uint32) string     { return "g" + itoa(gid) + "@d" }
func (plainMapper) UID(name string) (uint32, error) { return 0, ErrBadOwner }
func (plainMapper) GID(name string) (uint32, error) { return 0, ErrBadOwner }

func itoa(v uint32) string { return strconv.FormatUint(uint64(v), 10) }

func TestEncodeStatFS(t *testing.T) {
	t.Run("fetched once, only when needed", func(t *testing.T) {
		for _, tc := range []struct {
			req   Bitmap
			calls int
		}{
			{Of(x.FATTR4_SIZE, x.FATTR4_MODE), 0},
			{Of(x.FATTR4_SPACE_USED), 0}, // from Attr, not StatFS
			{Of(x.FATTR4_SPACE_AVAIL), 1},
			{Of(x.FATTR4_FILES_FREE, x.FATTR4_SPACE_TOTAL, x.FATTR4_SPACE_FREE), 1},
		} {
			src := testSource(1)
			calls := 0
			src.StatFS = func() (vfs.FSStat, error) { calls++; return testStat, nil }
			var w xdr.Writer
			if _, err := Encode(&w, tc.req, src); err != nil {
				t.Fatal(err)
			}
			if calls != tc.calls {
				t.Errorf("%v: %d StatFS calls, want %d", tc.req, calls, tc.calls)
			}
		}
	})
	t.Run("error leaves the writer as it was", func(t *testing.T) {
		src := testSource(1)
		boom := errors.New("boom")
		src.StatFS = func() (vfs.FSStat, error) { return vfs.FSStat{}, boom }
		w := xdr.Writer{Buf: []byte{1, 2, 3}}
		if _, err := Encode(&w, Of(x.FATTR4_SIZE, x.FATTR4_FILES_AVAIL), src); !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
		if !bytes.Equal(w.Buf, []byte{1, 2, 3}) {
			t.Errorf("writer holds %x after error", w.Buf)
		}
	})
	t.Run("nil StatFS", func(t *testing.T) {
		src := testSource(1)
		src.StatFS = nil
		var w xdr.Writer
		if _, err := Encode(&w, Of(x.FATTR4_SIZE), src); err != nil {
			t.Fatalf("not needed, yet: %v", err)
		}
		if _, err := Encode(&w, Of(x.FATTR4_SPACE_FREE), src); !errors.Is(err, ErrNoStatFS) {
			t.Fatalf("err = %v, want ErrNoStatFS", err)
		}
	})
}

func TestEncodeErrors(t *testing.T) {
	t.Run("write-only attribute", func(t *testing.T) {
		for _, a := range []uint32{x.FATTR4_TIME_ACCESS_SET, x.FATTR4_TIME_MODIFY_SET, x.FATTR4_MODE_UMASK} {
			var w xdr.Writer
			_, err := Encode(&w, Of(x.FATTR4_SIZE, a), testSource(2))
			wantStatus(t, err, x.NFS4ERR_INVAL)
			if len(w.Buf) != 0 {
				t.Errorf("%s: wrote %x", Name(a), w.Buf)
			}
		}
	})
	t.Run("write-only attribute of a later minor version", func(t *testing.T) {
		var w xdr.Writer
		got, err := Encode(&w, Of(x.FATTR4_SIZE, x.FATTR4_MODE_UMASK), testSource(1))
		if err != nil || got != Of(x.FATTR4_SIZE) {
			t.Fatalf("got %v, %v; want size alone (mode_umask is not a 4.1 attribute)", got, err)
		}
	})
	t.Run("no file type", func(t *testing.T) {
		src := testSource(1)
		src.Attr.Type = 0
		w := xdr.Writer{Buf: []byte{9}}
		if _, err := Encode(&w, Of(x.FATTR4_SIZE, x.FATTR4_TYPE), src); !errors.Is(err, errBadType) {
			t.Fatalf("err = %v", err)
		}
		if _, ok := StatusOf(errBadType); ok {
			t.Error("a backend fault must not look like a protocol status")
		}
		if len(w.Buf) != 1 {
			t.Errorf("writer holds %x after error", w.Buf)
		}
	})
	t.Run("no file handle", func(t *testing.T) {
		src := testSource(1)
		src.FH = nil
		var w xdr.Writer
		got, err := Encode(&w, Of(x.FATTR4_FILEHANDLE, x.FATTR4_FILEID), src)
		if err != nil || got != Of(x.FATTR4_FILEID) {
			t.Fatalf("got %v, %v; want fileid alone", got, err)
		}
	})
}

func TestEncodeError(t *testing.T) {
	var w xdr.Writer
	EncodeError(&w, x.NFS4ERR_STALE)
	if want := unhex(t, "00000001 00000800 00000004 00000046"); !bytes.Equal(w.Buf, want) {
		t.Errorf("got %x, want %x", w.Buf, want)
	}
}
