package vfs

import (
	"testing"

	"github.com/gonfs/gonfs/proto/nfs3xdr"
	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

// The protocol layers convert file types and stability levels by value;
// these pin the values to the wire enums.
func TestValuesMatchTheWire(t *testing.T) {
	for _, tc := range []struct {
		got, want3, want4 int
	}{
		{int(Unstable), int(nfs3xdr.UNSTABLE), int(nfs4xdr.UNSTABLE4)},
		{int(DataSync), int(nfs3xdr.DATA_SYNC), int(nfs4xdr.DATA_SYNC4)},
		{int(FileSync), int(nfs3xdr.FILE_SYNC), int(nfs4xdr.FILE_SYNC4)},
		{int(TypeRegular), int(nfs3xdr.NF3REG), int(nfs4xdr.NF4REG)},
		{int(TypeDirectory), int(nfs3xdr.NF3DIR), int(nfs4xdr.NF4DIR)},
		{int(TypeBlockDevice), int(nfs3xdr.NF3BLK), int(nfs4xdr.NF4BLK)},
		{int(TypeCharDevice), int(nfs3xdr.NF3CHR), int(nfs4xdr.NF4CHR)},
		{int(TypeSymlink), int(nfs3xdr.NF3LNK), int(nfs4xdr.NF4LNK)},
		{int(TypeSocket), int(nfs3xdr.NF3SOCK), int(nfs4xdr.NF4SOCK)},
		{int(TypeFIFO), int(nfs3xdr.NF3FIFO), int(nfs4xdr.NF4FIFO)},
	} {
		if tc.got != tc.want3 || tc.got != tc.want4 {
			t.Errorf("value %d: NFSv3 %d, NFSv4 %d", tc.got, tc.want3, tc.want4)
		}
	}
}
