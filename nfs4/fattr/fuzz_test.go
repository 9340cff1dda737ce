package fattr

import (
	"testing"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/xdr"
)

// fuzzInput splits a fuzz input: the first byte picks the minor version
// (low two bits, 3 meaning 2) and create (bit 2); the rest is a fattr4.
func fuzzInput(data []byte) (minor uint32, create bool, f *x.Fattr4, ok bool) {
	if len(data) == 0 {
		return 0, false, nil, false
	}
	minor = min(uint32(data[0]&3), 2)
	create = data[0]&4 != 0
	f = new(x.Fattr4)
	if xdr.Unmarshal(data[1:], f) != nil {
		return 0, false, nil, false
	}
	return minor, create, f, true
}

// fuzzSeed builds a seed input.
func fuzzSeed(flags byte, mask Bitmap, vals ...func(*xdr.Writer)) []byte {
	return append([]byte{flags}, xdr.Marshal(nil, fattr(mask, vals...))...)
}

// FuzzDecode feeds Decode any fattr4. It must not panic, must answer only
// with the statuses Decode documents, and must apply only settable
// attributes. Seeds beyond these are in testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	f.Add(fuzzSeed(1, Of(x.FATTR4_MODE), wU32(0o644)))
	f.Add(fuzzSeed(6, Of(x.FATTR4_MODE_UMASK), wU32(0o777), wU32(0o22)))
	f.Add(fuzzSeed(1, Of(x.FATTR4_OWNER, x.FATTR4_TIME_MODIFY_SET), wStr("1000"), wClientTime(-1, 5)))
	f.Fuzz(func(t *testing.T, data []byte) {
		minor, create, fa, ok := fuzzInput(data)
		if !ok {
			return
		}
		e := testExport(minor)
		s, err := Decode(fa, e, create)
		if err != nil {
			st, ok := StatusOf(err)
			switch {
			case !ok:
				t.Fatalf("error without a status: %v", err)
			case st != x.NFS4ERR_ATTRNOTSUPP && st != x.NFS4ERR_INVAL &&
				st != x.NFS4ERR_BADXDR && st != x.NFS4ERR_BADOWNER:
				t.Fatalf("unexpected status %v: %v", st, err)
			}
			return
		}
		if !s.Applied.AndNot(Settable(minor)).IsEmpty() {
			t.Fatalf("applied %v, settable %v", s.Applied, Settable(minor))
		}
		if (s.Attr.Mode != nil) != (s.Applied.Has(x.FATTR4_MODE) || s.Applied.Has(x.FATTR4_MODE_UMASK)) ||
			(s.Attr.Size != nil) != s.Applied.Has(x.FATTR4_SIZE) {
			t.Fatalf("SetAttr %s does not match applied %v", show(s.Attr), s.Applied)
		}
		if s.Attr.Mode != nil && *s.Attr.Mode&^0o7777 != 0 {
			t.Fatalf("mode %#o has bits beyond 07777", *s.Attr.Mode)
		}
	})
}

// FuzzCompare feeds Compare any fattr4, for VERIFY and NVERIFY.
func FuzzCompare(f *testing.F) {
	f.Add(fuzzSeed(1, Of(x.FATTR4_SIZE), wU64(12345)))
	f.Add(fuzzSeed(2, Of(x.FATTR4_SUPPORTED_ATTRS, x.FATTR4_OWNER), Supported(2).Encode, wStr("1000")))
	f.Add(fuzzSeed(1, Of(x.FATTR4_FS_LAYOUT_TYPES, x.FATTR4_FILEHANDLE), wU32(0), wStr("abc")))
	f.Fuzz(func(t *testing.T, data []byte) {
		minor, _, fa, ok := fuzzInput(data)
		if !ok {
			return
		}
		_, err := Compare(fa, testSource(minor))
		if err != nil {
			if _, ok := StatusOf(err); !ok {
				t.Fatalf("error without a status: %v", err)
			}
		}
	})
}
