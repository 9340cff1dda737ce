package nfs4

import (
	"testing"

	x "github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/xdr"
)

// RFC 7530 §3.1.1: only NFSv4.0 compounds that would answer differently
// when run twice go through the RPC duplicate request cache.
func TestIdempotentArgs(t *testing.T) {
	f := newFixture(t, "")
	remove := x.NfsArgop4{Argop: x.OP_REMOVE, Opremove: &x.REMOVE4args{Target: x.Component4("f")}}
	compound := func(minor uint32, ops ...x.NfsArgop4) []byte {
		return xdr.Marshal(nil, &x.COMPOUND4args{Tag: x.Utf8strCs("t"), Minorversion: minor, Argarray: ops})
	}
	tests := []struct {
		name string
		proc uint32
		args []byte
		want bool
	}{
		{"4.0 REMOVE", x.NFSPROC4_COMPOUND, compound(0, opPutrootfh(), remove), false},
		{"4.0 lookups and reads", x.NFSPROC4_COMPOUND, compound(0, opPutrootfh(), opLookup("f"), opGetfh()), true},
		{"4.1 REMOVE", x.NFSPROC4_COMPOUND, compound(1, opPutrootfh(), remove), true},
		{"NULL", x.NFSPROC4_NULL, nil, true},
		{"truncated", x.NFSPROC4_COMPOUND, compound(0, opPutrootfh(), remove)[:20], true},
	}
	for _, tt := range tests {
		if got := f.srv.IdempotentArgs(tt.proc, tt.args); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
