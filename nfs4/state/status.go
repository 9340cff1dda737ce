package state

import "github.com/gonfs/gonfs/proto/nfs4xdr"

// Short names for the statuses used here, so the code reads like the RFC
// without the package prefix on every line.
const (
	errPerm            = nfs4xdr.NFS4ERR_PERM
	errNoent           = nfs4xdr.NFS4ERR_NOENT
	errInval           = nfs4xdr.NFS4ERR_INVAL
	errDelay           = nfs4xdr.NFS4ERR_DELAY
	errDenied          = nfs4xdr.NFS4ERR_DENIED
	errExpired         = nfs4xdr.NFS4ERR_EXPIRED
	errLocked          = nfs4xdr.NFS4ERR_LOCKED
	errGrace           = nfs4xdr.NFS4ERR_GRACE
	errShareDenied     = nfs4xdr.NFS4ERR_SHARE_DENIED
	errClidInuse       = nfs4xdr.NFS4ERR_CLID_INUSE
	errStaleClientID   = nfs4xdr.NFS4ERR_STALE_CLIENTID
	errStaleStateid    = nfs4xdr.NFS4ERR_STALE_STATEID
	errOldStateid      = nfs4xdr.NFS4ERR_OLD_STATEID
	errBadStateid      = nfs4xdr.NFS4ERR_BAD_STATEID
	errNotSame         = nfs4xdr.NFS4ERR_NOT_SAME
	errNoGrace         = nfs4xdr.NFS4ERR_NO_GRACE
	errReclaimBad      = nfs4xdr.NFS4ERR_RECLAIM_BAD
	errLocksHeld       = nfs4xdr.NFS4ERR_LOCKS_HELD
	errOpenmode        = nfs4xdr.NFS4ERR_OPENMODE
	errAdminRevoked    = nfs4xdr.NFS4ERR_ADMIN_REVOKED
	errBadSession      = nfs4xdr.NFS4ERR_BADSESSION
	errBadSlot         = nfs4xdr.NFS4ERR_BADSLOT
	errCompleteAlready = nfs4xdr.NFS4ERR_COMPLETE_ALREADY
	errSeqMisordered   = nfs4xdr.NFS4ERR_SEQ_MISORDERED
	errTooSmall        = nfs4xdr.NFS4ERR_TOOSMALL
	errRetryUncached   = nfs4xdr.NFS4ERR_RETRY_UNCACHED_REP
	errClientIDBusy    = nfs4xdr.NFS4ERR_CLIENTID_BUSY
	errEncrAlgUnsupp   = nfs4xdr.NFS4ERR_ENCR_ALG_UNSUPP
	errServerFault     = nfs4xdr.NFS4ERR_SERVERFAULT
	errReclaimConflict = nfs4xdr.NFS4ERR_RECLAIM_CONFLICT
	errDelegRevoked    = nfs4xdr.NFS4ERR_DELEG_REVOKED
)

// errResource is what running out of a per-client allowance answers. NFSv4.1
// has no NFS4ERR_RESOURCE (RFC 8881 §15.1.1.4 limits it to 4.0), so DELAY:
// the client retries, and by then it may have closed something. A 4.0
// extension answers NFS4ERR_RESOURCE here instead.
const errResource = errDelay
