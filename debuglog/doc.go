// Package debuglog holds the server's runtime debug switches, one per
// subsystem, and the slog.Handler that obeys them.
//
// It is gonfs's answer to rpcdebug(8): where the Linux kernel has bit masks
// per module (rpcdebug -m nfsd -s all), gonfs has named subsystems (rpc,
// auth, nfs3, nfs4, state, lock, callback, backend, exports, mount, nlm,
// portmap) that an operator turns on and off while the server runs, without
// a restart and without raising the log level of everything else.
//
// A logger belongs to a subsystem through its "sub" attribute, as the
// server creates them: log.With("sub", "nfs3"). A Handler made by
// NewHandler passes the Debug records of such a logger only while the
// subsystem's switch is on; records at Info and above always go to the
// handler it wraps. Code on a hot path asks Logger.Enabled(ctx,
// slog.LevelDebug) before it builds attributes, which costs one atomic load
// when the switch is off.
//
// The attribute constructors (XID, Client, Op, Status, ...) give every
// subsystem the same keys, so that logs can be filtered by xid or client
// across subsystems.
//
// Concurrency: Switches is a lock-free bit set; every method may be called
// from any goroutine at any time, and a change is seen by the next record.
// Handler is immutable and safe for concurrent use, as slog requires.
package debuglog
