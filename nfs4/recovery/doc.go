// Package recovery keeps the NFSv4 server's stable client records in a
// bbolt file under the state directory, so that after a restart the
// clients that held state may reclaim it during the grace period
// (RFC 8881 §8.4.2.1), and only they (§8.4.3).
//
// A Store holds one record per client that completed its reclaims
// (state.ClientRecord: owner bytes → principal), written when the state
// layer asks (state.Effects.Persist and Remove, applied by the nfs4
// server before it replies), and the server's boot epoch, a counter
// bumped at every start so that client IDs, session IDs and stateids of
// an earlier instance are recognised as stale.
//
// Concurrency: every method is safe for concurrent use; each write is
// its own bbolt transaction, durable (fsync'd) when the method returns.
// bbolt locks the file, so one process at a time has a state directory.
package recovery
