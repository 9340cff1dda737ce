// Package nlm is the server side of the Network Lock Manager, version 4
// (program 100021; RFC 1813 Appendix II and the Open Group XNFS
// specification), through which NFSv3 clients take byte-range locks and DOS
// share reservations, and of the Network Status Monitor, version 1 (program
// 100024, "statd"), through which lock servers and clients learn that a
// peer rebooted.
//
// # What it owns
//
//   - Translating NLM requests to the shared lock table (package lock):
//     file handles become a lock.FileKey (FileKey), (caller_name, svid, oh)
//     becomes a lock.Owner, (l_offset, l_len) a lock.Range.
//   - Blocked locks: a LOCK with block set that cannot be granted is queued
//     in the table and answered NLM4_BLOCKED. When the table grants it (any
//     later unlock, cancel or client release, also from NFSv4 through
//     Server.Wake) the server calls NLMPROC4_GRANTED on the client's lock
//     manager, found through the portmapper at the caller's address over
//     TCP. If the client refuses the lock or cannot be reached after the
//     retries, the lock is released again (XNFS, "NLM_GRANTED").
//   - The asynchronous _MSG procedures: they run like their synchronous
//     forms and the result goes back as the matching _RES call to the
//     client's lock manager, from a goroutine; the _MSG itself is answered
//     with an empty success, as Linux lockd does.
//   - Stable state under Options.StateDir: the NSM state number (file
//     "state", made odd and incremented on every start, as statd does) and
//     one record per client holding locks (directory "sm", the SM_MON
//     equivalent: we are our own status monitor). On start the records of
//     the previous run move to "sm.bak"; Start sends SM_NOTIFY to each of
//     those clients' statd, and a record is dropped once it was delivered.
//     A record is also dropped when its client holds nothing any more.
//   - The grace period: after a start that follows an earlier run, only
//     reclaims are granted for Options.Grace (90 s by default): new LOCK,
//     TEST and SHARE requests get NLM4_DENIED_GRACE_PERIOD, so that clients
//     told by SM_NOTIFY get their old locks back first. UNLOCK, CANCEL and
//     UNSHARE are always served (they cannot take anything a reclaim wants;
//     knfsd refuses them too during grace, which only delays clients).
//   - The NSM procedures. SM_NOTIFY from a rebooted client releases every
//     lock, share and queued request of that client. SM_MON, SM_UNMON,
//     SM_UNMON_ALL and SM_SIMU_CRASH are local-only (from a loopback
//     address), as in Linux statd.
//
// # Identity
//
// The client ("host") is the caller_name of the request, as in knfsd; an
// owner is caller_name plus svid plus oh. Two machines that send the same
// caller_name are therefore one client to us (Linux knfsd additionally keys
// hosts by source address; we keep the addresses only to find the client's
// lock manager and statd, and as SM_NOTIFY's fallback match).
//
// # Access checks
//
// As knfsd (fs/nfsd/lockd.c nlm_fopen): the handle must resolve (else
// NLM4_STALE_FH), the export must admit the caller with the credential of
// the call (else NLM4_FAILED), and the file must be a regular file the
// caller could open for reading (shared lock, or share access read) or for
// writing (exclusive lock, share access write), the file's owner always
// passing (NFSD_MAY_OWNER_OVERRIDE). An exclusive lock on a read-only
// export is refused with NLM4_FAILED (knfsd's nfserr_rofs becomes
// nlm4_failed). UNLOCK, CANCEL and UNSHARE check only the handle and the
// export.
//
// # Concurrency
//
// Handlers run concurrently. Backend checks run first without any lock of
// ours; then every change to the lock table is made under Server.mu, which
// also guards the per-client bookkeeping (hosts, queued requests, pending
// callbacks) so that the table and the records never disagree. A record is
// written under Server.mu the first time a client locks and removed when
// it holds nothing: two small file operations per client lifetime, in
// exchange for a simple invariant. Callbacks (GRANTED, _RES, SM_NOTIFY)
// run on goroutines of their own, never under Server.mu; Close cancels and
// waits for them.
package nlm
