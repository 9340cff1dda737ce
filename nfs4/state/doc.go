// Package state is the NFSv4 protocol state of the server (RFC 8881, and
// RFC 7530 for minor version 0, see below):
// client IDs, sessions and their slot tables with reply caches,
// connections, stateids, opens with their share reservations, byte-range
// lock stateids, leases with courtesy clients, and the grace period after
// a restart.
//
// Like etcd's raft core it is a pure state machine: the COMPOUND layer
// feeds it decoded operations and it answers with decisions (results and
// nfs4xdr.Nfsstat4 statuses) and Effects. It has no goroutines, does no
// I/O, never sleeps, and reads time only from Options.Now. It uses its own
// small Go types (Stateid, ClientID, SessionID, ...) rather than the wire
// types, so it is tested without XDR; the values are laid out so the
// COMPOUND layer converts with field copies and casts.
//
// Byte-range locks and share reservations live in the lock.Table that NLM
// also uses (Options.Locks), under lock.Owner{Kind: lock.NFS4, Client: the
// client ID in hex, ID: the lock-owner or open-owner bytes}, so NFSv3 and
// NFSv4 clients conflict with each other.
//
// # Concurrency
//
// A Manager is safe for concurrent use. One mutex guards all of its state;
// every method holds it for its whole, short, duration. The only calls out
// while holding it are into the lock.Table, whose own mutex is always
// taken inside this one and never the other way round. Returned values are
// copies.
//
// # The caller's duties
//
//   - Build the Manager with the boot epoch and the client records read
//     from the recovery store, and a ServerOwner/ServerScope stable across
//     restarts.
//   - Call Tick every few seconds and apply its Effects.
//   - Apply every Effects before sending the reply of the operation that
//     returned it, outside any lock: write Remove then Persist to the
//     recovery store (durably: a client told RECLAIM_COMPLETE succeeded
//     must be able to reclaim after a crash), and pass Woken to the NLM
//     server's Wake so it sends NLM_GRANTED.
//   - For every COMPOUND starting with SEQUENCE: if Sequence returns
//     Replay, send those bytes as the reply and run nothing; if it returns
//     a Token, run the other operations and then call Done with the
//     encoded reply, whatever happened — a slot whose Done never comes
//     answers NFS4ERR_DELAY for ever. Check each reply against
//     SequenceResult.MaxCachedReply when sa_cachethis is set
//     (NFS4ERR_REP_TOO_BIG_TO_CACHE).
//   - Pass the client ID from SEQUENCE to the operations that take one,
//     and the lock.FileKey of the current file handle (nlm.FileKey) to
//     those that take a file. Substitute the current stateid for
//     CurrentStateid before calling (RFC 8881 §16.2.3.1.2).
//   - Enforce what needs the COMPOUND's shape: EXCHANGE_ID,
//     CREATE_SESSION, DESTROY_SESSION, BIND_CONN_TO_SESSION and
//     DESTROY_CLIENTID rules about being alone or first
//     (NFS4ERR_NOT_ONLY_OP), ca_maxoperations, sizes.
//   - Report closed transport connections with ConnClosed, so callbacks
//     are not sent on them; give each connection a ConnID unique for the
//     life of the server.
//   - Do backend work (create, read, write) without any state lock: call
//     Open after the file exists, Close if the OPEN fails afterwards, and
//     CheckAccess before READ, WRITE and SETATTR of the size.
//   - Name the principal consistently (Principal strings): the same RPC
//     credential must give the same string, whatever squashing does.
//
// # Choices where the RFC leaves room
//
//   - State protection: only SP4_NONE. SP4_MACH_CRED is NFS4ERR_INVAL and
//     SP4_SSV NFS4ERR_ENCR_ALG_UNSUPP (what Linux nfsd answers without
//     Kerberos); clients fall back to SP4_NONE.
//   - CREATE_SESSION: only a success advances the client's CREATE_SESSION
//     slot and is cached for replay.
//   - Courteous server: an expired client that holds state keeps it until
//     another client's OPEN, LOCK, LOCKT or anonymous I/O conflicts with
//     it (then exactly that state is revoked: the client later sees
//     SEQ4_STATUS_EXPIRED_SOME_STATE_REVOKED and NFS4ERR_EXPIRED, and
//     frees the stateids), until Options.CourtesyLimit (24h) after expiry,
//     or until Options.MaxCourtesyClients is exceeded. NLM asks through
//     ReleaseCourtesyHolder. An expired client without state is destroyed
//     at the next Tick.
//   - CLOSE with locks held is NFS4ERR_LOCKS_HELD (RFC 8881 §18.2.4 allows
//     it or freeing the locks).
//   - READ through a write-only open is allowed; anonymous I/O conflicting
//     with a deny reservation is NFS4ERR_LOCKED, and during grace
//     NFS4ERR_GRACE.
//   - Recovery records are persisted at RECLAIM_COMPLETE and removed when
//     the client is destroyed or replaced, or at the end of grace for
//     previous clients that never came back. With no previous clients
//     there is no grace period at all.
//   - Running out of a per-client allowance is NFS4ERR_DELAY (4.1 has no
//     NFS4ERR_RESOURCE).
//   - The slot table has a fixed size; a replay is not compared with the
//     original (no NFS4ERR_SEQ_FALSE_RETRY).
//   - Reply caches of all sessions together are bounded by
//     Options.MaxCachedReplyBytes (256 MiB): a SEQUENCE with sa_cachethis
//     reserves ca_maxresponsesize_cached until Done, and is NFS4ERR_DELAY
//     (slot unchanged) when that does not fit; past three quarters of the
//     budget sr_target_highest_slotid falls below the highest slot
//     (replycache.go).
//
// # NFSv4.0
//
// NFSv4.0 clients (RFC 7530) live beside NFSv4.1 ones (clients40.go,
// owners40.go). SetClientID and SetClientIDConfirm share the owner index
// and the confirmed/unconfirmed records of ExchangeID (a record made by
// SETCLIENTID carries a client40: callback address, confirm verifier,
// owner seqids). Renew is RENEW; a 4.0 client's lease is also renewed by
// every use of its client ID or stateids (RFC 7530 §9.5), and it needs no
// RECLAIM_COMPLETE (its record is persisted at its first confirmed OPEN).
// The caller's further duties for 4.0:
//
//   - A 4.0 compound has no client of its own: pass ClientID 0 to
//     CheckAccess, Close, Unlock, OpenDowngrade and DelegReturn, and the
//     stateid names its (4.0) client; pass the client ID the operation
//     names (open_owner4, lock_owner4) or that BeginSeqid returns where
//     one is needed.
//   - Bracket every seqid-bearing operation (OPEN, OPEN_CONFIRM,
//     OPEN_DOWNGRADE, CLOSE, LOCK, LOCKU) with BeginSeqid and EndSeqid
//     (always, like Sequence and Done): BeginSeqid answers a
//     retransmission with the owner's last reply, to be sent byte for
//     byte; EndSeqid keeps the new one.
//   - Send callbacks to the address Callback40 gives, and report the
//     path's state with SetCallbackDown (RENEW answers
//     NFS4ERR_CB_PATH_DOWN from it for a client with delegations, and no
//     delegation is granted while it is down).
//
// Running out of a per-client allowance is still NFS4ERR_DELAY for 4.0
// clients (RFC 7530 has it too); NFS4ERR_RESOURCE is not produced.
//
// # Delegations
//
// Read and write delegations (RFC 8881 §10.2-§10.4) are kindDeleg
// stateids (deleg.go). Delegate decides a grant after OPEN or for
// WANT_DELEGATION; Open, CheckAccess (I/O without an open) and
// RecallConflicts (SETATTR, REMOVE, RENAME, LINK, NFSv3, NLM) recall the
// delegations of other clients that stand in the way: the request gets
// NFS4ERR_DELAY and Effects.Recalls lists the CB_RECALLs to send. A recall
// not answered by DELEGRETURN within a lease revokes the delegation
// (NFS4ERR_DELEG_REVOKED, SEQ4_STATUS_RECALLABLE_STATE_REVOKED until
// FREE_STATEID). The caller's further duties: send Effects.Recalls from
// goroutines of its own, and answer other clients' GETATTRs of a write
// delegated file with WriteDelegated, CB_GETATTR and GetattrReply.
//
// NFSv4.0 clients get delegations once the CB_NULL probe of their
// SETCLIENTID callback address answered (callbackUp40).
package state
