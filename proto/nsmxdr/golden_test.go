package nsmxdr

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
	priv := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	const privHex = "0102030405060708090a0b0c0d0e0f10"
	xdrtest.CheckGolden(t, []golden{
		// SM_MON from lockd: watch "server", call back NLM (100021) v4
		// procedure 16 on "client".
		{"mon", &Mon{MonId: MonId{MonName: "server", MyId: MyId{MyName: "client", MyProg: 100021, MyVers: 4, MyProc: 16}},
			Priv: priv},
			"00000006 7365727665720000 00000006 636c69656e740000 000186b5 00000004 00000010 " + privHex, nil},
		{"sm_stat_res", &SmStatRes{ResStat: Stat_succ, State: 3}, "00000000 00000003", nil},
		{"stat_chge", &StatChge{MonName: "server", State: 4}, "00000006 7365727665720000 00000004", nil},
		{"nsm_status_cb", &NsmStatusCb{MonName: "server", State: 5, Priv: priv},
			"00000006 7365727665720000 00000005 " + privHex, nil},

		// Bytes the definitions forbid.
		{"mon_name of 1025 bytes", new(SmName), "00000401" + strings.Repeat("61", 1028), xdr.ErrTooLong},
		{"mon with short priv", new(Mon), "00000000 00000000 00000000 00000000 00000000 0102030405060708", xdr.ErrShort},
	})
}
