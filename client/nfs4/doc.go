// Package nfs4 is the raw NFSv4.1 and 4.2 client (RFC 8881, RFC 7862,
// RFC 8276) that package client builds its friendly API on.
//
// It owns the client's protocol state: the client owner and client ID
// (EXCHANGE_ID), the session and its slot table (CREATE_SESSION,
// SEQUENCE), lease renewal, the backchannel, open and lock stateids, and
// recovery:
//
//   - Client owner: unique per machine, process and Client by default
//     (/etc/machine-id or a random id persisted in the user's cache
//     directory, the pid, a per-process random nonce and a counter), never
//     the hostname alone, so that containers sharing a hostname, or two
//     Clients in one process, never take over each other's state
//     (RFC 8881 §2.4). Options.Owner overrides it.
//   - Slots: every COMPOUND starts with SEQUENCE on a free slot; as many
//     COMPOUNDs run at once as the server granted slots (§2.10.6). The
//     goroutine that sent a request owns its slot until the reply arrives,
//     even if the caller's context ends, so the slot's sequence id never
//     goes wrong.
//   - Connection loss: the connection is replaced, bound to the session
//     (BIND_CONN_TO_SESSION, §18.34) and every request in flight is sent
//     again with its slot and sequence id; the server's reply cache makes
//     the replay exactly-once (§2.10.6.2).
//   - NFS4ERR_BADSESSION / DEADSESSION: a new session (§2.10.13.1).
//   - NFS4ERR_STALE_CLIENTID / EXPIRED, or a server restart: a new client
//     ID; opens are reclaimed with CLAIM_PREVIOUS during the server's grace
//     period (§8.4.2.1), then RECLAIM_COMPLETE; an open that cannot be
//     reclaimed is opened again by handle (CLAIM_FH) on next use. Byte-range
//     locks are not reclaimed: they are lost with the client ID.
//   - Lease: a SEQUENCE-only COMPOUND whenever a third of the lease passed
//     without a reply (§8.3).
//   - Backchannel: the TCP connection carries it (CREATE_SESSION4_FLAG_
//     CONN_BACK_CHAN); CB_NULL, CB_SEQUENCE, CB_RECALL and CB_GETATTR are
//     answered.
//   - Delegations (RFC 8881 §10.4): with Options.Delegations set, OPEN
//     expresses no preference and the client keeps the read or write
//     delegation the server grants (Client.Delegation, Open.Delegation).
//     CB_RECALL is answered NFS4_OK at once; from another goroutine the
//     handler writes the file's dirty data back and COMMITs it, then
//     DELEGRETURN goes out (§20.2.3). CB_GETATTR is answered from the
//     handler's change and size (§10.4.3). A delegation dies with its
//     client ID (it is not reclaimed). Without a handler, OPEN asks for no
//     delegation (OPEN4_SHARE_ACCESS_WANT_NO_DELEG) and one granted anyway
//     is returned at once.
//   - Bulk data: a READ's data goes from the socket straight into the
//     caller's buffer (sunrpc.Sink); a COMPOUND ending with WRITE sends the
//     data from the caller's buffer in one vectored write
//     (sunrpc.CallOptions Tail). A ReadAt whose context ends returns at
//     once: the request goes on for its slot's sake, but the buffer is
//     detached from it first (Sink.Detach), so nothing writes to it after.
//
// Concurrency: a Client and an Open are safe for concurrent use. One
// recovery runs at a time (recoverMu); calls that meet the same failure
// wait for it and then retry.
package nfs4
