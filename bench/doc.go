// Package bench is the load generator behind `gonfs bench`: it drives an
// NFS server over loopback with sequential and random I/O, metadata and
// directory-listing workloads, and reports throughput, operation rates and
// latency quantiles, optionally with the server's CPU time.
//
// It talks to the server through the raw protocol clients (client/nfs3 and
// client/nfs4), not the io/fs API of package client, so that what it times
// is one RPC (or one COMPOUND) per operation: no path resolution, read-
// ahead or write-behind of its own. A connection is one TCP connection
// (one nfs3.Client, or one nfs4.Client with its own client ID and session);
// the queue depth is the number of goroutines that share a connection,
// each with at most one request outstanding.
//
// Every workload is bounded twice, by time (Config.Duration) and by count
// (bytes for the sequential workloads, Config.MaxOps for the others), and
// stops at whichever comes first. Run refuses targets that are not
// loopback addresses unless Config.AllowRemote is set: this is a load
// generator for a server on the same machine.
//
// Latencies go to Histogram, a log-bucketed histogram with 32 linear
// sub-buckets per power of two (quantiles within about 3%), one per worker
// goroutine and merged at the end, so recording takes no lock. The
// server's histograms in package stats use one bucket per power of two,
// which is right for always-on counters but too coarse to compare two
// servers' medians, hence a histogram of its own here.
//
// Concurrency: Run owns every goroutine it starts and returns after they
// have stopped. A Config must not change while Run uses it.
package bench
