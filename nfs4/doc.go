// Package nfs4 serves NFS version 4 minor versions 0, 1 and 2 (RFC 7530,
// RFC 8881, RFC 7862, RFC 8276) from the exports of a namespace.
//
// Server is a sunrpc.Handler for program 100003 version 4. A COMPOUND is
// decoded and answered one operation at a time, straight from the request
// record into the reply buffer: the op table (ops.go) is indexed by
// operation number, each entry names the minor versions that have the
// operation, and each operation lives in its own op_*.go file. An
// operation decodes its own arguments, acts, and encodes its own result;
// the loop stops at the first result that is not NFS4_OK (RFC 8881 §16.2.3).
//
// Every compound of minor version 1 or 2 runs in a session (RFC 8881
// §2.10): SEQUENCE comes first and picks a slot whose reply cache gets the
// whole COMPOUND4res, so a retransmission is answered from the cache
// without running anything twice; only EXCHANGE_ID, CREATE_SESSION,
// DESTROY_SESSION, BIND_CONN_TO_SESSION and DESTROY_CLIENTID may come
// alone without one. Callbacks (CB_COMPOUND with CB_SEQUENCE) go back over
// the session's back channel, the client's own TCP connection.
//
// Protocol state (clients, sessions, slots, stateids, opens, locks, leases,
// grace) is decided by package nfs4/state, a pure state machine; this
// package holds no state of its own beyond the compound being served and
// the per-session channel limits, and never holds the state lock across a
// backend call. Byte-range locks and share reservations live in the lock
// table shared with NLM, so NFSv3 and NFSv4 clients conflict correctly.
//
// Minor version 0 (RFC 7530) runs through the same loop and handlers,
// with the differences as flags: no sessions (any operation may come
// anywhere; the operations of later minor versions, SEQUENCE included, are
// OP_ILLEGAL), no current stateid, client IDs from SETCLIENTID and
// SETCLIENTID_CONFIRM (op_setclientid.go), leases renewed by RENEW and by
// every stateful operation, and owner seqids: OPEN, OPEN_CONFIRM,
// OPEN_DOWNGRADE, CLOSE, LOCK and LOCKU have 4.0 variants (opInfo.fn40,
// op_seqid40.go) that order them by their owner's seqid and answer a
// retransmission with the owner's last reply, byte for byte (RFC 7530
// §9.1.9). Callbacks go to the address the client named in SETCLIENTID
// over a connection the server opens (callback40.go).
//
// Duplicate requests of 4.0: the owner seqid replay protects the
// stateful operations; for the others (REMOVE, RENAME, CREATE, LINK,
// SETATTR) Server.IdempotentArgs tells the RPC duplicate request cache
// which 4.0 compounds to keep, from their arguments (drc40.go), since the
// procedure number is COMPOUND for every minor version.
//
// Read and write delegations (RFC 8881 §10.2-§10.4) are granted at OPEN and
// WANT_DELEGATION under nfs4/state's policy (callback path up, no
// conflicting opener, not in grace, not recently recalled, allowed by the
// export). A conflicting request from any protocol is answered
// NFS4ERR_DELAY, NFS3ERR_JUKEBOX or NLM4_DENIED_GRACE_PERIOD while CB_RECALL
// goes out from its own goroutine; a delegation not returned within a
// lease is revoked. A GETATTR of a write-delegated file waits up to 2 s for
// the holder's CB_GETATTR. Directory delegations are not offered
// (GET_DIR_DELEGATION answers NFS4ERR_DIRDELEG_UNAVAIL, §18.39.3) because
// the server does not send CB_NOTIFY (§10.9, §20.4); DELEGPURGE and the
// DELEGATE_PREV claims are NFS4ERR_NOTSUPP, since no delegation records are
// kept across a client restart.
//
// NFSv4.2 (RFC 7862): SEEK and READ_PLUS find holes with the backend's
// SEEK_DATA/SEEK_HOLE; COPY is intra-server, synchronous up to 64 MiB or when
// asked, otherwise in the background with CB_OFFLOAD at the end; CLONE is
// NFS4ERR_NOTSUPP where the filesystem cannot reflink (ext4, tmpfs); SEEK
// for data past the last data answers NFS4ERR_NXIO, as knfsd does and as
// the Linux client's lseek(SEEK_DATA) needs. Extended attributes (RFC 8276)
// are the backend's user.* namespace.
//
// Concurrency: compounds run concurrently as the RPC layer delivers them;
// the per-compound context (current and saved filehandle, current stateid,
// session slot) belongs to one goroutine.
package nfs4
