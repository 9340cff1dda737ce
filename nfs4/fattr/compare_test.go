package fattr

import (
	"errors"
	"strings"
	"testing"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/vfs"
	"github.com/gonfs/gonfs/xdr"
)

// ours encodes req for src and returns it as a decoded fattr4.
func ours(t *testing.T, req Bitmap, src *Source) *x.Fattr4 {
	t.Helper()
	var w xdr.Writer
	if _, err := Encode(&w, req, src); err != nil {
		t.Fatal(err)
	}
	var f x.Fattr4
	if err := xdr.Unmarshal(w.Buf, &f); err != nil {
		t.Fatal(err)
	}
	return &f
}

func TestCompareOwnEncoding(t *testing.T) {
	// Everything that can be verified matches what Encode says of the
	// same file, in each minor version.
	for minor := uint32(0); minor <= 2; minor++ {
		src := testSource(minor)
		req := Supported(minor).AndNot(WriteOnly())
		req.Clear(x.FATTR4_RDATTR_ERROR)
		eq, err := Compare(ours(t, req, src), src)
		if err != nil || !eq {
			t.Errorf("minor %d: Compare = %v, %v; want equal", minor, eq, err)
		}
	}
}

func TestCompare(t *testing.T) {
	mapper := NewMapper(MapperOptions{Domain: "example.com", Directory: fakeDir()})
	for _, tc := range []struct {
		name  string
		f     *x.Fattr4
		ids   IDMapper
		equal bool
	}{
		{"empty", fattr(Bitmap{}), nil, true},
		{"same size", fattr(Of(x.FATTR4_SIZE), wU64(12345)), nil, true},
		{"other size", fattr(Of(x.FATTR4_SIZE), wU64(1)), nil, false},
		{"size same, mode differs", fattr(Of(x.FATTR4_SIZE, x.FATTR4_MODE), wU64(12345), wU32(0o600)), nil, false},
		{"type and change", fattr(Of(x.FATTR4_TYPE, x.FATTR4_CHANGE), wU32(1), wU64(77)), nil, true},
		{"numeric owner", fattr(Of(x.FATTR4_OWNER), wStr("1000")), nil, true},
		{"numeric owner, other id", fattr(Of(x.FATTR4_OWNER), wStr("1001")), nil, false},
		{"name where we send numbers", fattr(Of(x.FATTR4_OWNER), wStr("alice@example.com")), nil, false},
		{"numeric owner against a named one", fattr(Of(x.FATTR4_OWNER), wStr("1000")), mapper, true},
		{"named owner", fattr(Of(x.FATTR4_OWNER), wStr("alice@Example.COM")), mapper, true},
		{"named group", fattr(Of(x.FATTR4_OWNER_GROUP), wStr("users@example.com")), mapper, true},
		{"unknown owner matches nothing", fattr(Of(x.FATTR4_OWNER), wStr("bob@example.com")), mapper, false},
		{"supported_attrs with a trailing zero word",
			&x.Fattr4{Attrmask: Of(x.FATTR4_SUPPORTED_ATTRS).Words(), AttrVals: enc(func(w *xdr.Writer) {
				w.Uint32(4)
				for _, v := range Supported(2) {
					w.Uint32(v)
				}
				w.Uint32(0)
			})}, nil, true},
		{"supported_attrs of another version", fattr(Of(x.FATTR4_SUPPORTED_ATTRS), Supported(1).Encode), nil, false},
		{"space counts", fattr(Of(x.FATTR4_FILES_FREE, x.FATTR4_SPACE_TOTAL), wU64(500), wU64(1<<40)), nil, true},
		{"empty layout list", fattr(Of(x.FATTR4_FS_LAYOUT_TYPES), wU32(0)), nil, true},
		{"a layout type", fattr(Of(x.FATTR4_FS_LAYOUT_TYPES), wU32(1), wU32(1)), nil, false},
		{"open_arguments", &x.Fattr4{Attrmask: Of(x.FATTR4_OPEN_ARGUMENTS).Words(), AttrVals: unhex(t, openArgumentsHex)}, nil, true},
		{"open_arguments claiming DELEGATE_PREV", &x.Fattr4{Attrmask: Of(x.FATTR4_OPEN_ARGUMENTS).Words(),
			AttrVals: unhex(t, strings.Replace(openArgumentsHex, "00000037", "0000003f", 1))}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := testSource(2)
			src.Export.IDs = tc.ids
			eq, err := Compare(tc.f, src)
			if err != nil {
				t.Fatal(err)
			}
			if eq != tc.equal {
				t.Errorf("equal = %v, want %v", eq, tc.equal)
			}
		})
	}
}

func TestCompareErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    *x.Fattr4
		want x.Nfsstat4
	}{
		{"unsupported", fattr(Of(x.FATTR4_ACL), wU32(0)), x.NFS4ERR_ATTRNOTSUPP},
		{"beyond any defined", &x.Fattr4{Attrmask: x.Bitmap4{0, 0, 0, 0x10}}, x.NFS4ERR_ATTRNOTSUPP},
		{"rdattr_error", fattr(Of(x.FATTR4_RDATTR_ERROR), wU32(0)), x.NFS4ERR_INVAL},
		{"write-only", fattr(Of(x.FATTR4_TIME_MODIFY_SET), wU32(0)), x.NFS4ERR_INVAL},
		{"mode_umask", fattr(Of(x.FATTR4_MODE_UMASK), wU32(0), wU32(0)), x.NFS4ERR_INVAL},
		{"short", fattr(Of(x.FATTR4_SIZE), wU32(0)), x.NFS4ERR_BADXDR},
		{"trailing", fattr(Of(x.FATTR4_SIZE), wU64(12345), wU32(0)), x.NFS4ERR_BADXDR},
		{"bad bool", fattr(Of(x.FATTR4_NO_TRUNC), wU32(2)), x.NFS4ERR_BADXDR},
		{"malformed after a difference", fattr(Of(x.FATTR4_SIZE, x.FATTR4_MODE), wU64(1)), x.NFS4ERR_BADXDR},
		{"filehandle too long", fattr(Of(x.FATTR4_FILEHANDLE), wU32(129), wRaw(make([]byte, 132)...)), x.NFS4ERR_BADXDR},
		{"layout list longer than the record", fattr(Of(x.FATTR4_FS_LAYOUT_TYPES), wU32(1000)), x.NFS4ERR_BADXDR},
		{"open_arguments cut short", fattr(Of(x.FATTR4_OPEN_ARGUMENTS), wU32(1), wU32(0xe), wU32(1)), x.NFS4ERR_BADXDR},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compare(tc.f, testSource(2))
			wantStatus(t, err, tc.want)
		})
	}
}

func TestCompareStatFSError(t *testing.T) {
	src := testSource(1)
	boom := errors.New("boom")
	src.StatFS = func() (vfs.FSStat, error) { return vfs.FSStat{}, boom }
	if _, err := Compare(fattr(Of(x.FATTR4_SPACE_FREE), wU64(0)), src); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
}

// TestEveryVerifiableAttributeHasAShape keeps skipValue in step with
// Supported.
func TestEveryVerifiableAttributeHasAShape(t *testing.T) {
	src := testSource(2)
	req := Supported(2).AndNot(WriteOnly())
	req.Clear(x.FATTR4_RDATTR_ERROR)
	for a, ok := req.First(); ok; a, ok = req.next(a + 1) {
		vals := encodeOne(t, a, src)
		r := xdr.NewReader(vals)
		if err := skipValue(r, a); err != nil || r.Remaining() != 0 {
			t.Errorf("%s: skipValue err %v, %d bytes left", Name(a), err, r.Remaining())
		}
	}
}
