package nfs4

import (
	"testing"

	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

// RFC 8881 §18.35, §18.36, §18.46: a client gets a session and runs
// compounds in it; the SEQUENCE result echoes the slot.
func TestSessionEndToEnd(t *testing.T) {
	f := newFixture(t, "")
	s := f.newSession(root)
	res := s.call(opPutrootfh(), opGetfh())
	f.wantStatus(res, nfs4xdr.NFS4_OK, 3)
	seq := res.Resarray[0].Opsequence.SrResok4
	if seq.SrSessionid != s.id || seq.SrSequenceid != 1 || seq.SrSlotid != 0 {
		t.Fatalf("SEQUENCE result %+v", seq)
	}
	res = s.call42(opPutrootfh())
	f.wantStatus(res, nfs4xdr.NFS4_OK, 2)
}
