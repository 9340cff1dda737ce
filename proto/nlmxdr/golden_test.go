package nlmxdr

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

// lock is the nlm4_lock used below and its 56-byte encoding.
var lock = Nlm4Lock{CallerName: "client", Fh: Netobj{0xaa, 0xbb, 0xcc, 0xdd}, Oh: Netobj("o1"),
	Svid: 42, LOffset: 0x100000000, LLen: 0}

const lockHex = "00000006 636c69656e740000 00000004 aabbccdd 00000002 6f310000 0000002a 0000000100000000 0000000000000000"

func TestGolden(t *testing.T) {
	xdrtest.CheckGolden(t, []golden{
		{"nlm4_lock", &lock, lockHex, nil},
		{"nlm4_lockargs blocking exclusive", &Nlm4Lockargs{Cookie: Netobj{1, 2, 3, 4}, Block: true, Exclusive: true,
			Alock: lock, Reclaim: false, State: 3},
			"00000004 01020304 00000001 00000001 " + lockHex + " 00000000 00000003", nil},
		{"nlm4_res NLM4_DENIED_GRACE_PERIOD", &Nlm4Res{Cookie: Netobj{1, 2, 3, 4}, Stat: Nlm4Stat{Stat: NLM4_DENIED_GRACE_PERIOD}},
			"00000004 01020304 00000004", nil},
		{"nlm4_testres denied", &Nlm4Testres{Cookie: Netobj{9}, Stat: Nlm4Testrply{Stat: NLM4_DENIED,
			Holder: Nlm4Holder{Exclusive: true, Svid: 7, Oh: Netobj("h"), LOffset: 10, LLen: 20}}},
			"00000001 09000000 00000001 00000001 00000007 00000001 68000000 000000000000000a 0000000000000014", nil},
		{"nlm4_testres granted", &Nlm4Testres{Cookie: Netobj{9}, Stat: Nlm4Testrply{Stat: NLM4_GRANTED}},
			"00000001 09000000 00000000", nil},
		{"nlm4_shareargs", &Nlm4Shareargs{Cookie: Netobj{}, Share: Nlm4Share{CallerName: "c", Fh: Netobj{0xaa},
			Oh: Netobj{0xbb}, Mode: Fsm_DW, Access: Fsa_RW}, Reclaim: true},
			"00000000 00000001 63000000 00000001 aa000000 00000001 bb000000 00000002 00000003 00000001", nil},
		{"nlm4_notify", &Nlm4Notify{Name: "host", State: 5}, "00000004 686f7374 00000005", nil},

		// Bytes the definitions forbid.
		{"netobj of 1025 bytes", new(Netobj), "00000401" + strings.Repeat("00", 1028), xdr.ErrTooLong},
		{"caller_name of 1025 bytes", new(Nlm4Lock), "00000401" + strings.Repeat("61", 1028), xdr.ErrTooLong},
		{"bool 2 in nlm4_testargs", new(Nlm4Testargs), "00000000 00000002", xdr.ErrBadValue},
	})
}
