package mountxdr

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

func TestGolden(t *testing.T) {
	xdrtest.CheckGolden(t, []golden{
		// MOUNTPROC3_MNT and UMNT argument.
		{"dirpath", ptr(Dirpath("/export")), "00000007 2f6578706f727400", nil},
		{"mountres3 OK", &Mountres3{FhsStatus: MNT3_OK, Mountinfo: Mountres3Ok{
			Fhandle: Fhandle3{1, 2, 3, 4, 5}, AuthFlavors: []int32{1, 390003}}},
			"00000000 00000005 0102030405000000 00000002 00000001 0005f373", nil},
		{"mountres3 MNT3ERR_ACCES", &Mountres3{FhsStatus: MNT3ERR_ACCES}, "0000000d", nil},
		// One MOUNTPROC3_DUMP entry; the reply puts a 1 (entry follows) before it.
		{"mountbody", &Mountbody{MlHostname: "c1", MlDirectory: "/srv"},
			"00000002 63310000 00000004 2f737276 00000000", nil},
		// One MOUNTPROC3_EXPORT entry: "/srv" exported to "*" and "lab".
		{"exportnode", &Exportnode{ExDir: "/srv", ExGroups: &Groupnode{GrName: "*", GrNext: &Groupnode{GrName: "lab"}}},
			"00000004 2f737276 00000001 00000001 2a000000 00000001 00000003 6c616200 00000000 00000000", nil},

		// Bytes the definitions forbid.
		{"fhandle3 of 65 bytes", new(Fhandle3), "00000041" + strings.Repeat("00", 68), xdr.ErrTooLong},
		{"dirpath of 1025 bytes", new(Dirpath), "00000401" + strings.Repeat("61", 1028), xdr.ErrTooLong},
		{"name of 256 bytes", new(Name), "00000100" + strings.Repeat("61", 256), xdr.ErrTooLong},
		{"mountlist flag 2", new(Mountbody), "00000000 00000000 00000002", xdr.ErrBadValue},
	})
}

func ptr[T any](v T) *T { return &v }
