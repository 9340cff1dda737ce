package nfs4xdr

import (
	"bytes"
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

// bits builds a bitmap4 from attribute (or operation) numbers, RFC 8881
// §3.3.7: bit n is bit n%32 of word n/32.
func bits(nums ...int) Bitmap4 {
	var m Bitmap4
	for _, n := range nums {
		for len(m) <= n/32 {
			m = append(m, 0)
		}
		m[n/32] |= 1 << (n % 32)
	}
	return m
}

// type, size and fileid are bits 1, 4 and 20 of word 0.
const typeSizeFileidHex = "00000001 00100012"

// Their values for a 4096-byte regular file with fileid 42, in bit order.
const typeSizeFileidVals = "00000001 0000000000001000 000000000000002a"

var (
	fh  = NfsFh4{1, 2, 3, 4, 5, 6, 7, 8}
	sid = Sessionid4{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
)

const sidHex = "000102030405060708090a0b0c0d0e0f"

func TestGolden(t *testing.T) {
	attrs := Fattr4{
		Attrmask: bits(FATTR4_TYPE, FATTR4_SIZE, FATTR4_FILEID),
		AttrVals: xdrtest.Unhex(t, typeSizeFileidVals),
	}
	implID := NfsImplId4{
		NiiDomain: Utf8strCis("kernel.org"),
		NiiName:   Utf8strCs("Linux"),
	}
	exchangeID := EXCHANGE_ID4args{
		EiaClientowner: ClientOwner4{
			CoVerifier: Verifier4{1, 2, 3, 4, 5, 6, 7, 8},
			CoOwnerid:  []byte("linux"),
		},
		EiaFlags:        EXCHGID4_FLAG_SUPP_MOVED_REFER | EXCHGID4_FLAG_USE_NON_PNFS,
		EiaStateProtect: StateProtect4A{SpaHow: SP4_NONE},
		EiaClientImplId: []NfsImplId4{implID},
	}
	exchangeIDHex := "0102030405060708 00000005 6c696e7578000000" + // client owner
		" 00010001" + // flags
		" 00000000" + // SP4_NONE
		" 00000001 0000000a 6b65726e656c2e6f72670000 00000005 4c696e7578000000" + // impl id
		" 0000000000000000 00000000" // nii_date
	seqArgs := SEQUENCE4args{SaSessionid: sid, SaSequenceid: 1, SaSlotid: 0, SaHighestSlotid: 0, SaCachethis: false}
	seqArgsHex := sidHex + " 00000001 00000000 00000000 00000000"

	xdrtest.CheckGolden(t, []golden{
		// RFC 8881 §16.2: the smallest useful 4.0 request.
		{"COMPOUND4args PUTROOTFH GETFH GETATTR", &COMPOUND4args{
			Minorversion: 0,
			Argarray: []NfsArgop4{
				{Argop: OP_PUTROOTFH},
				{Argop: OP_GETFH},
				{Argop: OP_GETATTR, Opgetattr: &GETATTR4args{AttrRequest: bits(FATTR4_TYPE, FATTR4_SIZE, FATTR4_FILEID)}},
			},
		},
			"00000000" + // tag
				" 00000000" + // minorversion
				" 00000003" + // three operations
				" 00000018" + // PUTROOTFH (24)
				" 0000000a" + // GETFH (10)
				" 00000009 " + typeSizeFileidHex, // GETATTR (9)
			nil},
		{"COMPOUND4res PUTROOTFH GETFH GETATTR", &COMPOUND4res{
			Status: NFS4_OK,
			Resarray: []NfsResop4{
				{Resop: OP_PUTROOTFH, Opputrootfh: &PUTROOTFH4res{Status: NFS4_OK}},
				{Resop: OP_GETFH, Opgetfh: &GETFH4res{Status: NFS4_OK, Resok4: GETFH4resok{Object: fh}}},
				{Resop: OP_GETATTR, Opgetattr: &GETATTR4res{Status: NFS4_OK, Resok4: GETATTR4resok{ObjAttributes: attrs}}},
			},
		},
			"00000000 00000000 00000003" + // status, tag, count
				" 00000018 00000000" +
				" 0000000a 00000000 00000008 0102030405060708" +
				" 00000009 00000000 " + typeSizeFileidHex + " 00000014 " + typeSizeFileidVals,
			nil},
		{"COMPOUND4res stops at first error", &COMPOUND4res{
			Status: NFS4ERR_NOFILEHANDLE,
			Tag:    Utf8strCs("ab"),
			Resarray: []NfsResop4{
				{Resop: OP_GETFH, Opgetfh: &GETFH4res{Status: NFS4ERR_NOFILEHANDLE}},
			},
		},
			"00002724 00000002 61620000 00000001 0000000a 00002724", nil},
		{"EXCHANGE_ID4args", &exchangeID, exchangeIDHex, nil},
		{"nfs_argop4 EXCHANGE_ID", &NfsArgop4{Argop: OP_EXCHANGE_ID, OpexchangeId: &exchangeID},
			"0000002a " + exchangeIDHex, nil},
		{"SEQUENCE4args", &seqArgs, seqArgsHex, nil},
		{"SEQUENCE4res ok", &SEQUENCE4res{SrStatus: NFS4_OK, SrResok4: SEQUENCE4resok{
			SrSessionid: sid, SrSequenceid: 1, SrTargetHighestSlotid: 63,
			SrStatusFlags: SEQ4_STATUS_RECALLABLE_STATE_REVOKED,
		}},
			"00000000 " + sidHex + " 00000001 00000000 00000000 0000003f 00000040", nil},
		{"SEQUENCE4res NFS4ERR_BADSESSION", &SEQUENCE4res{SrStatus: NFS4ERR_BADSESSION}, "00002744", nil},
		// RFC 8881 §2.10.6.1: SEQUENCE comes first in every 4.1 request.
		{"COMPOUND4args 4.1 SEQUENCE PUTFH", &COMPOUND4args{
			Minorversion: 1,
			Argarray: []NfsArgop4{
				{Argop: OP_SEQUENCE, Opsequence: &seqArgs},
				{Argop: OP_PUTFH, Opputfh: &PUTFH4args{Object: fh}},
			},
		},
			"00000000 00000001 00000002 00000035 " + seqArgsHex + " 00000016 00000008 0102030405060708", nil},
		{"CB_COMPOUND4args CB_RECALL", &CB_COMPOUND4args{
			CallbackIdent: 7,
			Argarray: []NfsCbArgop4{{Argop: OP_CB_RECALL, Opcbrecall: CB_RECALL4args{
				Stateid: Stateid4{Seqid: 1, Other: [NFS4_OTHER_SIZE]byte{0xa, 0xb, 0xc}},
				Fh:      NfsFh4{0xaa, 0xbb, 0xcc, 0xdd},
			}}},
		},
			"00000000 00000000 00000007 00000001" + // tag, minorversion, ident, count
				" 00000004 00000001 0a0b0c000000000000000000 00000000 00000004 aabbccdd",
			nil},
		// RFC 9754 §10: five bitmap4s, bit N for enum value N.
		{"fattr4_open_arguments", &Fattr4OpenArguments{
			OaShareAccess:     bits(int(OPEN_ARGS_SHARE_ACCESS_READ), int(OPEN_ARGS_SHARE_ACCESS_BOTH)),
			OaShareDeny:       bits(int(OPEN_ARGS_SHARE_DENY_NONE)),
			OaShareAccessWant: bits(int(OPEN_ARGS_SHARE_ACCESS_WANT_OPEN_XOR_DELEGATION)),
			OaOpenClaim:       nil,
			OaCreateMode:      bits(int(OPEN_ARGS_CREATE_MODE_EXCLUSIVE4_1)),
		},
			"00000001 0000000a" + // READ, BOTH: bits 1 and 3
				" 00000001 00000001" + // NONE: bit 0
				" 00000001 00200000" + // OPEN_XOR_DELEGATION: bit 21
				" 00000000" + // no claims
				" 00000001 00000008", // EXCLUSIVE4_1: bit 3
			nil},
		{"SETXATTR4args", &SETXATTR4args{SxaOption: SETXATTR4_CREATE, SxaKey: Xattrkey4("user.a"), SxaValue: Xattrvalue4("v")},
			"00000001 00000006 757365722e610000 00000001 76000000", nil},

		// Bytes the definitions forbid.
		{"nfs_argop4 opcode 2", new(NfsArgop4), "00000002", xdr.ErrBadValue},
		{"nfs_argop4 opcode 76", new(NfsArgop4), "0000004c", xdr.ErrBadValue},
		{"nfs_fh4 of 129 bytes", new(NfsFh4), "00000081" + strings.Repeat("00", 132), xdr.ErrTooLong},
		{"callback_sec_parms4 flavor 3", new(CallbackSecParms4), "00000003", xdr.ErrBadValue},
		{"locker4 flag 2", new(Locker4), "00000002", xdr.ErrBadValue},
		{"eia_client_impl_id of two", new(EXCHANGE_ID4args),
			"0102030405060708 00000000 00000000 00000000 00000002", xdr.ErrTooLong},
		{"COMPOUND4args cut short", new(COMPOUND4args), "00000000 00000000 00000003 00000018", xdr.ErrShort},
	})
}

// TestAttrValues checks that the attribute value types encode the bytes
// fattr4 carries for them (RFC 8881 §3.3.7: concatenated in bit order).
func TestAttrValues(t *testing.T) {
	typ := Fattr4Type(NF4REG)
	size := Fattr4Size(4096)
	fileid := Fattr4Fileid(42)
	var got []byte
	for _, v := range []xdr.Codec{&typ, &size, &fileid} {
		got = xdr.Marshal(got, v)
	}
	if want := xdrtest.Unhex(t, typeSizeFileidVals); !bytes.Equal(got, want) {
		t.Fatalf("attr_vals:\n got %x\nwant %x", got, want)
	}
}

func TestProcNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   func(uint32) string
		proc uint32
		want string
	}{
		{"NFS NULL", NFS_V4ProcName, NFSPROC4_NULL, "NULL"},
		{"NFS COMPOUND", NFS_V4ProcName, NFSPROC4_COMPOUND, "COMPOUND"},
		{"NFS 2", NFS_V4ProcName, 2, ""},
		{"CB NULL", NFS_CBProcName, CB_NULL, "NULL"},
		{"CB COMPOUND", NFS_CBProcName, CB_COMPOUND, "COMPOUND"},
	} {
		if got := tc.fn(tc.proc); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	if _, ok := NFS_V4Args(NFSPROC4_COMPOUND).(*COMPOUND4args); !ok {
		t.Errorf("NFS_V4Args(COMPOUND) is %T", NFS_V4Args(NFSPROC4_COMPOUND))
	}
	if _, ok := NFS_CBResults(CB_COMPOUND).(*CB_COMPOUND4res); !ok {
		t.Errorf("NFS_CBResults(CB_COMPOUND) is %T", NFS_CBResults(CB_COMPOUND))
	}
}
