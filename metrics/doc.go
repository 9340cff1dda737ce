// Package metrics exposes a server's statistics (package stats) to
// Prometheus.
//
// The Collector reads a stats.Snapshot when it is scraped and turns it
// into constant metrics: the request path counts only once, in package
// stats, and nothing here runs between scrapes. The metrics:
//
//	gonfs_rpc_calls_total{program,version,procedure,status}      counter
//	gonfs_rpc_duration_seconds{program,version,procedure}        histogram
//	gonfs_rpc_in_flight                                          gauge
//	gonfs_nfs_ops_total{version,op,status}                       counter
//	gonfs_nfs_op_duration_seconds{version,op}                    histogram
//	gonfs_export_ops_total{export}                               counter
//	gonfs_export_errors_total{export}                            counter
//	gonfs_export_op_seconds_total{export}                        counter
//	gonfs_nfs_ops_dropped_total                                  counter
//	gonfs_clients_evicted_total                                  counter
//	gonfs_nfs4_client_owner_collisions_total                     counter
//	gonfs_nfs4_client_owner_collision_info{owner,addresses}      gauge (1), with Options.Collisions
//	gonfs_client_calls_total{client}, gonfs_client_ops_total{client},
//	gonfs_client_op_errors_total{client}                         counters, with Options.PerClient
//
// Labels use the names of package stats: programs as rpcinfo names them
// ("nfs", "mountd"), procedures and operations in lower case ("getattr",
// "sequence"), NFS statuses in RFC spelling ("NFS3ERR_NOENT"), versions
// "3", "4.0", "4.1", "4.2". Histogram buckets are stats' power-of-two
// microsecond buckets, in seconds.
//
// Client owner collisions (package nfs4/collide): the counter has no
// owner label, since owner strings are chosen by clients (up to 1 KiB
// each) and a label per owner would let them grow the series without
// bound. Which owners collide now is in the info gauge, one series per
// active collision, at most MaxCollisionSeries of them, the owner cut to
// MaxOwnerLabel bytes; the full list is in the log and `gonfs ctl
// clients`.
//
// Serve runs an HTTP listener for /metrics; it is opt-in (`gonfs serve
// --metrics ADDR`) and should listen on loopback or a management network.
//
// Concurrency: a Collector may be scraped by any number of goroutines at
// once; each scrape takes its own snapshot.
package metrics
