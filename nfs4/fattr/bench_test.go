package fattr

import (
	"testing"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/xdr"
)

// getattrSet is what the Linux client asks for on a plain GETATTR
// (nfs4_fattr_bitmap plus mounted_on_fileid).
var getattrSet = Of(x.FATTR4_TYPE, x.FATTR4_CHANGE, x.FATTR4_SIZE, x.FATTR4_FSID, x.FATTR4_FILEID,
	x.FATTR4_MODE, x.FATTR4_NUMLINKS, x.FATTR4_OWNER, x.FATTR4_OWNER_GROUP, x.FATTR4_RAWDEV,
	x.FATTR4_SPACE_USED, x.FATTR4_TIME_ACCESS, x.FATTR4_TIME_METADATA, x.FATTR4_TIME_MODIFY,
	x.FATTR4_MOUNTED_ON_FILEID)

func getattrSources() map[string]*Source {
	numeric := testSource(2)
	named := testSource(2)
	named.Export.IDs = NewMapper(MapperOptions{Domain: "example.com", Directory: fakeDir()})
	return map[string]*Source{"numeric": numeric, "named": named}
}

// TestEncodeGetattrDoesNotAllocate keeps the common GETATTR free of
// allocations, with numeric owners and with a warm domain Mapper.
func TestEncodeGetattrDoesNotAllocate(t *testing.T) {
	w := xdr.Writer{Buf: make([]byte, 0, 512)}
	for name, src := range getattrSources() {
		if _, err := Encode(&w, getattrSet, src); err != nil { // warms the Mapper
			t.Fatal(err)
		}
		n := testing.AllocsPerRun(100, func() {
			w.Buf = w.Buf[:0]
			if _, err := Encode(&w, getattrSet, src); err != nil {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("%s: %v allocations per Encode, want 0", name, n)
		}
	}
}

func BenchmarkEncodeGetattr(b *testing.B) {
	for name, src := range getattrSources() {
		b.Run(name, func(b *testing.B) {
			w := xdr.Writer{Buf: make([]byte, 0, 512)}
			b.ReportAllocs()
			for b.Loop() {
				w.Buf = w.Buf[:0]
				if _, err := Encode(&w, getattrSet, src); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(w.Buf)))
		})
	}
}

func BenchmarkDecodeSetattr(b *testing.B) {
	f := fattr(Of(x.FATTR4_MODE, x.FATTR4_OWNER, x.FATTR4_TIME_MODIFY_SET), wU32(0o644), wStr("1000"), wU32(0))
	e := testExport(1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(f, e, false); err != nil {
			b.Fatal(err)
		}
	}
}
