package nfs4

import (
	"github.com/gonfs/gonfs/proto/nfs4xdr"
	"github.com/gonfs/gonfs/xdr"
)

// opFunc runs one operation: it decodes its arguments from r, acts, and
// writes its whole result (after the opnum, which the loop writes) to w.
// It returns the status it wrote.
type opFunc func(c *compound, r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4

// opInfo is an entry of the op table.
type opInfo struct {
	fn opFunc
	// fn40, when set, serves minor version 0 instead of fn: the
	// operations with NFSv4.0 owner seqids (op_seqid40.go).
	fn40     opFunc
	minMinor uint32 // first minor version with the operation
	// notIn41 marks NFSv4.0-only operations, which NFSv4.1 servers answer
	// with NFS4ERR_NOTSUPP (RFC 8881 §18.35 and following name them).
	notIn41 bool
}

// opTable is indexed by operation number. Operations of a later minor
// version than the compound's are not there at all for it: they are
// answered OP_ILLEGAL (RFC 7862 §11.2).
var opTable = [...]opInfo{
	nfs4xdr.OP_ACCESS:               {fn: (*compound).opAccess},
	nfs4xdr.OP_CLOSE:                {fn: (*compound).opClose, fn40: (*compound).opClose40},
	nfs4xdr.OP_COMMIT:               {fn: (*compound).opCommit},
	nfs4xdr.OP_CREATE:               {fn: (*compound).opCreate},
	nfs4xdr.OP_DELEGPURGE:           {fn: notSupp}, // no CLAIM_DELEGATE_PREV to purge for, RFC 8881 §18.5.3 (op_deleg.go)
	nfs4xdr.OP_DELEGRETURN:          {fn: (*compound).opDelegreturn},
	nfs4xdr.OP_GETATTR:              {fn: (*compound).opGetattr},
	nfs4xdr.OP_GETFH:                {fn: (*compound).opGetfh},
	nfs4xdr.OP_LINK:                 {fn: (*compound).opLink},
	nfs4xdr.OP_LOCK:                 {fn: (*compound).opLock, fn40: (*compound).opLock40},
	nfs4xdr.OP_LOCKT:                {fn: (*compound).opLockt, fn40: (*compound).opLockt40},
	nfs4xdr.OP_LOCKU:                {fn: (*compound).opLocku, fn40: (*compound).opLocku40},
	nfs4xdr.OP_LOOKUP:               {fn: (*compound).opLookup},
	nfs4xdr.OP_LOOKUPP:              {fn: (*compound).opLookupp},
	nfs4xdr.OP_NVERIFY:              {fn: (*compound).opNverify},
	nfs4xdr.OP_OPEN:                 {fn: (*compound).opOpen, fn40: (*compound).opOpen40},
	nfs4xdr.OP_OPENATTR:             {fn: notSupp}, // no named attributes (named_attr false), RFC 8881 §18.17.3
	nfs4xdr.OP_OPEN_CONFIRM:         {fn: (*compound).opOpenConfirm, notIn41: true},
	nfs4xdr.OP_OPEN_DOWNGRADE:       {fn: (*compound).opOpenDowngrade, fn40: (*compound).opOpenDowngrade40},
	nfs4xdr.OP_PUTFH:                {fn: (*compound).opPutfh},
	nfs4xdr.OP_PUTPUBFH:             {fn: (*compound).opPutpubfh},
	nfs4xdr.OP_PUTROOTFH:            {fn: (*compound).opPutrootfh},
	nfs4xdr.OP_READ:                 {fn: (*compound).opRead},
	nfs4xdr.OP_READDIR:              {fn: (*compound).opReaddir},
	nfs4xdr.OP_READLINK:             {fn: (*compound).opReadlink},
	nfs4xdr.OP_REMOVE:               {fn: (*compound).opRemove},
	nfs4xdr.OP_RENAME:               {fn: (*compound).opRename},
	nfs4xdr.OP_RENEW:                {fn: (*compound).opRenew, notIn41: true},
	nfs4xdr.OP_RESTOREFH:            {fn: (*compound).opRestorefh},
	nfs4xdr.OP_SAVEFH:               {fn: (*compound).opSavefh},
	nfs4xdr.OP_SECINFO:              {fn: (*compound).opSecinfo},
	nfs4xdr.OP_SETATTR:              {fn: (*compound).opSetattr},
	nfs4xdr.OP_SETCLIENTID:          {fn: (*compound).opSetclientid, notIn41: true},
	nfs4xdr.OP_SETCLIENTID_CONFIRM:  {fn: (*compound).opSetclientidConfirm, notIn41: true},
	nfs4xdr.OP_VERIFY:               {fn: (*compound).opVerify},
	nfs4xdr.OP_WRITE:                {fn: (*compound).opWrite},
	nfs4xdr.OP_RELEASE_LOCKOWNER:    {fn: (*compound).opReleaseLockowner, notIn41: true},
	nfs4xdr.OP_BACKCHANNEL_CTL:      {fn: (*compound).opBackchannelCtl, minMinor: 1},
	nfs4xdr.OP_BIND_CONN_TO_SESSION: {fn: (*compound).opBindConnToSession, minMinor: 1},
	nfs4xdr.OP_EXCHANGE_ID:          {fn: (*compound).opExchangeID, minMinor: 1},
	nfs4xdr.OP_CREATE_SESSION:       {fn: (*compound).opCreateSession, minMinor: 1},
	nfs4xdr.OP_DESTROY_SESSION:      {fn: (*compound).opDestroySession, minMinor: 1},
	nfs4xdr.OP_FREE_STATEID:         {fn: (*compound).opFreeStateid, minMinor: 1},
	nfs4xdr.OP_GET_DIR_DELEGATION:   {fn: (*compound).opGetDirDelegation, minMinor: 1},
	nfs4xdr.OP_GETDEVICEINFO:        {fn: notSupp, minMinor: 1},
	nfs4xdr.OP_GETDEVICELIST:        {fn: notSupp, minMinor: 1},
	nfs4xdr.OP_LAYOUTCOMMIT:         {fn: notSupp, minMinor: 1},
	nfs4xdr.OP_LAYOUTGET:            {fn: notSupp, minMinor: 1},
	nfs4xdr.OP_LAYOUTRETURN:         {fn: notSupp, minMinor: 1},
	nfs4xdr.OP_SECINFO_NO_NAME:      {fn: (*compound).opSecinfoNoName, minMinor: 1},
	nfs4xdr.OP_SEQUENCE:             {fn: opSequenceMisplaced, minMinor: 1},
	nfs4xdr.OP_SET_SSV:              {fn: notSupp, minMinor: 1},
	nfs4xdr.OP_TEST_STATEID:         {fn: (*compound).opTestStateid, minMinor: 1},
	nfs4xdr.OP_WANT_DELEGATION:      {fn: (*compound).opWantDelegation, minMinor: 1},
	nfs4xdr.OP_DESTROY_CLIENTID:     {fn: (*compound).opDestroyClientID, minMinor: 1},
	nfs4xdr.OP_RECLAIM_COMPLETE:     {fn: (*compound).opReclaimComplete, minMinor: 1},
	nfs4xdr.OP_ALLOCATE:             {fn: (*compound).opAllocate, minMinor: 2},
	nfs4xdr.OP_COPY:                 {fn: (*compound).opCopy, minMinor: 2},
	nfs4xdr.OP_COPY_NOTIFY:          {fn: notSupp, minMinor: 2}, // inter-server copy only (op_copy.go),
	nfs4xdr.OP_DEALLOCATE:           {fn: (*compound).opDeallocate, minMinor: 2},
	nfs4xdr.OP_IO_ADVISE:            {fn: (*compound).opIoAdvise, minMinor: 2},
	nfs4xdr.OP_LAYOUTERROR:          {fn: notSupp, minMinor: 2}, // no pNFS,
	nfs4xdr.OP_LAYOUTSTATS:          {fn: notSupp, minMinor: 2}, // no pNFS,
	nfs4xdr.OP_OFFLOAD_CANCEL:       {fn: (*compound).opOffloadCancel, minMinor: 2},
	nfs4xdr.OP_OFFLOAD_STATUS:       {fn: (*compound).opOffloadStatus, minMinor: 2},
	nfs4xdr.OP_READ_PLUS:            {fn: (*compound).opReadPlus, minMinor: 2},
	nfs4xdr.OP_SEEK:                 {fn: (*compound).opSeek, minMinor: 2},
	nfs4xdr.OP_WRITE_SAME:           {fn: notSupp, minMinor: 2}, // RFC 7862 §15.12: optional; not offered,
	nfs4xdr.OP_CLONE:                {fn: (*compound).opClone, minMinor: 2},
	nfs4xdr.OP_GETXATTR:             {fn: (*compound).opGetxattr, minMinor: 2},
	nfs4xdr.OP_SETXATTR:             {fn: (*compound).opSetxattr, minMinor: 2},
	nfs4xdr.OP_LISTXATTRS:           {fn: (*compound).opListxattrs, minMinor: 2},
	nfs4xdr.OP_REMOVEXATTR:          {fn: (*compound).opRemovexattr, minMinor: 2},
}

// lookupOp finds the handler of opnum in a minor version.
func lookupOp(opnum nfs4xdr.NfsOpnum4, minor uint32) (opInfo, bool) {
	if opnum < nfs4xdr.OP_ACCESS || int(opnum) >= len(opTable) {
		return opInfo{}, false
	}
	info := opTable[opnum]
	if info.fn == nil || minor < info.minMinor {
		return opInfo{}, false
	}
	if info.notIn41 && minor >= 1 {
		info.fn = notSupp
	}
	if minor == 0 && info.fn40 != nil {
		info.fn = info.fn40
	}
	return info, true
}

// notSupp answers an operation the server does not offer. The loop stops
// at it, so its arguments need not be decoded.
func notSupp(c *compound, r *xdr.Reader, w *xdr.Writer) nfs4xdr.Nfsstat4 {
	return c.fail(w, nfs4xdr.NFS4ERR_NOTSUPP)
}
