package nfs4

import (
	"testing"

	"github.com/gonfs/gonfs/proto/nfs4xdr"
)

// RFC 8881 §18.35.4 case 4: a second EXCHANGE_ID for an owner whose record
// is still unconfirmed replaces it, and CREATE_SESSION confirms the new
// one. The Linux client does exactly this when it mounts.
func TestExchangeIDReplacesUnconfirmed(t *testing.T) {
	f := newFixture(t, "")
	first, _ := f.exchangeID(root, "twice", nfs4xdr.Verifier4{1})
	cid, seq := f.exchangeID(root, "twice", nfs4xdr.Verifier4{1})
	if cid == first {
		t.Fatalf("unconfirmed record not replaced: client ID %x again", cid)
	}
	f.wantStatus(f.call(root, 1, opCreateSession(first, seq, 0)), nfs4xdr.NFS4ERR_STALE_CLIENTID, 1)
	f.wantStatus(f.call(root, 1, opCreateSession(cid, seq, 0)), nfs4xdr.NFS4_OK, 1)
}
