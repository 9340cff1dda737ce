// Package stats counts what the server does, for nfsstat-style reports,
// Prometheus (package metrics) and the admin socket.
//
// A Stats records two levels:
//
//   - RPC: every call the sunrpc server dispatches, by program, version,
//     procedure and RPC status, with its latency. *Stats is a
//     sunrpc.Observer; the server sets it in sunrpc.Options.
//   - NFS operations: every NFSv3 procedure and every NFSv4 operation inside
//     a COMPOUND, by version, minor version, operation and the NFS status of
//     its result (nfsstat3 or nfsstat4), with its latency, the client's
//     address and the export. The protocol packages call Op (through a
//     small Recorder interface of their own).
//
// Errors by status, per-client and per-export totals are kept beside them.
// Snapshot copies everything for a reader; FormatNFSStat prints a snapshot
// the way `nfsstat -s` does.
//
// Hot path: recording is on every request, so it takes no lock for the
// counters and never allocates once a program, client and export have been
// seen. Counters are atomic integers in tables allocated up front (RPC
// programs when first seen): a histogram is a fixed array of log-scale
// buckets (bucket k holds durations up to 2^k µs), an NFS status is counted
// in one of a few per-operation slots claimed by compare-and-swap. Clients
// are kept in a sharded map capped at Options.MaxClients, the least
// recently seen evicted first (its counts go to an "evicted" total, so
// totals still add up); the map is under a read lock per shard for a known
// client, a write lock only to add one.
//
// Snapshots read the counters one by one without stopping writers: counts
// of a snapshot may be a few calls apart from each other, never lower than
// in an earlier snapshot.
//
// Concurrency: every method of Stats may be called from any goroutine.
package stats
