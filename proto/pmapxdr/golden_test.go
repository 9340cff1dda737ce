package pmapxdr

import (
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
		// PMAPPROC_GETPORT for NFS v3 over TCP.
		{"mapping", &Mapping{Prog: 100003, Vers: 3, Prot: IPPROTO_TCP},
			"000186a3 00000003 00000006 00000000", nil},
		// The body of a PMAPPROC_DUMP reply after its leading 1.
		{"pmaplist of two", &Pmaplist{Map: Mapping{Prog: 100000, Vers: 2, Prot: IPPROTO_UDP, Port: PMAP_PORT},
			Next: &Pmaplist{Map: Mapping{Prog: 100003, Vers: 3, Prot: IPPROTO_TCP, Port: 2049}}},
			"000186a0 00000002 00000011 0000006f 00000001 000186a3 00000003 00000006 00000801 00000000", nil},
		{"call_args", &CallArgs{Prog: 100003, Vers: 3, Proc: 0}, "000186a3 00000003 00000000 00000000", nil},
		// RPCBPROC_GETADDR for NFS v3 over tcp6.
		{"rpcb", &Rpcb{RProg: 100003, RVers: 3, RNetid: "tcp6", RAddr: "::1.8.1", ROwner: "gonfs"},
			"000186a3 00000003 00000004 74637036 00000007 3a3a312e382e3100 00000005 676f6e6673000000", nil},
		{"uaddr", ptr(Uaddr("127.0.0.1.8.1")), "0000000d 3132372e302e302e312e382e31000000", nil},
		{"rpcb_entry", &RpcbEntry{RMaddr: "127.0.0.1.8.1", RNcNetid: "tcp", RNcSemantics: 3, RNcProtofmly: "inet", RNcProto: "tcp"},
			"0000000d 3132372e302e302e312e382e31000000 00000003 74637000 00000003 00000004 696e6574 00000003 74637000", nil},
		{"netbuf", &Netbuf{Maxlen: 16, Buf: []byte{0x7f, 0, 0, 1}}, "00000010 00000004 7f000001", nil},

		// Bytes the definitions forbid.
		{"pmaplist flag 2", new(Pmaplist), "00000000 00000000 00000000 00000000 00000002", xdr.ErrBadValue},
		{"rpcb cut short", new(Rpcb), "000186a3 00000003 00000004 7463", xdr.ErrShort},
	})
}

func ptr[T any](v T) *T { return &v }
