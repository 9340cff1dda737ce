package nfs3xdr

import (
	"testing"

	"github.com/gonfs/gonfs/xdr"
)

// The hot NFSv3 paths decode and encode without allocating: the file
// handle and WRITE data alias the request record, and results append to a
// reused buffer. Run with -benchmem; TestHotPathsDoNotAllocate keeps it so.

func readArgs() []byte {
	a := READ3args{File: NfsFh3{Data: make([]byte, 40)}, Offset: 4096, Count: 4096}
	return xdr.Marshal(nil, &a)
}

func writeArgs() []byte {
	a := WRITE3args{File: NfsFh3{Data: make([]byte, 40)}, Offset: 4096, Count: 4096, Stable: UNSTABLE, Data: make([]byte, 4096)}
	return xdr.Marshal(nil, &a)
}

func getattrRes() *GETATTR3res {
	return &GETATTR3res{Status: NFS3_OK, Resok: GETATTR3resok{ObjAttributes: Fattr3{Type: NF3REG, Mode: 0o644, Nlink: 1, Size: 4096}}}
}

func decodeREAD(rec []byte, r *xdr.Reader, a *READ3args) {
	r.Reset(rec)
	a.Decode(r)
}

func TestHotPathsDoNotAllocate(t *testing.T) {
	rrec, wrec := readArgs(), writeArgs()
	var r xdr.Reader
	var ra READ3args
	var wa WRITE3args
	res := getattrRes()
	w := xdr.Writer{Buf: make([]byte, 0, 512)}
	for name, f := range map[string]func(){
		"READ3args decode":   func() { decodeREAD(rrec, &r, &ra) },
		"WRITE3args decode":  func() { r.Reset(wrec); wa.Decode(&r) },
		"GETATTR3res encode": func() { w.Buf = w.Buf[:0]; res.Encode(&w) },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", name, n)
		}
	}
}

func BenchmarkREAD3argsDecode(b *testing.B) {
	rec := readArgs()
	var r xdr.Reader
	var a READ3args
	b.ReportAllocs()
	for b.Loop() {
		decodeREAD(rec, &r, &a)
	}
}

func BenchmarkWRITE3argsDecode(b *testing.B) {
	rec := writeArgs()
	var r xdr.Reader
	var a WRITE3args
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(rec)
		a.Decode(&r)
	}
}

func BenchmarkGETATTR3resEncode(b *testing.B) {
	res := getattrRes()
	w := xdr.Writer{Buf: make([]byte, 0, 512)}
	b.ReportAllocs()
	for b.Loop() {
		w.Buf = w.Buf[:0]
		res.Encode(&w)
	}
}
