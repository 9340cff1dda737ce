// Package collide tells when several NFSv4 clients share one client owner
// string, the classic NFS failure nothing else explains.
//
// The Linux client names itself "Linux NFSv4.2 <hostname>" (RFC 8881
// §2.4 leaves the co_ownerid to the client): cloned VMs, containers and
// hosts left as "localhost" therefore present one owner. The server must
// take each new EXCHANGE_ID (or SETCLIENTID) with another verifier as a
// reboot of that client (RFC 8881 §18.35.4 case 5, RFC 7530 §16.33.5) and
// destroy the previous incarnation's sessions and state when the new one is
// confirmed. The other client then gets NFS4ERR_BADSESSION, its
// CREATE_SESSION NFS4ERR_STALE_CLIENTID, it registers again and evicts the
// first, for ever: reclaims fail, soft mounts return EIO, and no log says
// why. The server cannot fix it (the protocol gives it no way to tell the
// clients apart), but it can say so.
//
// # Input and output
//
// A Detector is fed Events, one per change to an owner's records as
// package nfs4/state reports them (state.Options.OnClientEvent): a new
// record, a restart (a new record beside a confirmed one), a replacement
// (the confirmed record destroyed with its state: a teardown) and a
// CLID_INUSE refusal. Observe returns an Alert when the caller should log
// or count something; Findings lists what is known now, for the admin view
// (`gonfs ctl clients`).
//
// # The rule
//
// For each owner the detector keeps the events of the last Window (default
// 3 × lease). When that window holds at least two teardowns:
//
//   - Collision, when the owner came back to a source address it had left
//     (A, B, A) or to a verifier it had left (v1, v2, v1). One machine
//     never goes back to an older boot verifier, and one that moved (DHCP,
//     failover) does not move back and forth; two machines fighting over
//     one owner do both, within seconds. The verifier rule catches two
//     clients behind one address (NAT, containers sharing an address).
//   - Restarts, the milder finding, otherwise: one client that restarted
//     (new verifier each time, no return) twice within the window, from
//     one address or having moved. That is a crash loop or a client that
//     loses its verifier, not a collision: it is shown in Findings and
//     worth an Info line, not a warning, and is not counted as a
//     collision.
//
// A Restarts episode becomes a Collision when the evidence arrives. An
// episode stays active while the owner has events less than Window apart;
// after that it is kept (inactive) for Retain so the admin view still
// shows it.
//
// Two clients that happen to share the verifier as well are not seen: the
// server answers the second with the first one's client ID (case 2) and
// nothing is torn down. Linux's lease-purge verifier (all ones, sent after
// NFS4ERR_SEQ_MISORDERED on CREATE_SESSION) could in principle produce
// v1, purge, v1 with two teardowns from one address; that needs two
// purges within the window and is not special-cased.
//
// # Rate limiting and bounds
//
// Alert.Warn is set at most once per RateLimit (default 1 h) per owner,
// and Alert.Count once per collision episode, so a collision that goes on
// for days logs one line an hour and counts once. At most MaxOwners
// owners are tracked (the least recently seen forgotten first) and at
// most MaxFindings findings kept; every list in a finding is bounded too.
//
// # Concurrency
//
// A Detector is safe for concurrent use: one mutex, held for the short
// duration of each method. It is otherwise pure: no goroutines, no I/O;
// Observe reads time only from the events and Findings from Options.Now.
package collide
