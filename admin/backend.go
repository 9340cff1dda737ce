package admin

import (
	"github.com/gonfs/gonfs/capture"
	"github.com/gonfs/gonfs/debuglog"
	"github.com/gonfs/gonfs/lock"
	"github.com/gonfs/gonfs/namespace"
	"github.com/gonfs/gonfs/nfs4/collide"
	"github.com/gonfs/gonfs/nfs4/state"
	"github.com/gonfs/gonfs/stats"
)

// Backend is what a server shows and lets the admin change. Every method
// is called concurrently from connection goroutines.
type Backend interface {
	// Namespace is the served exports.
	Namespace() *namespace.Namespace
	// NFS4 is the NFSv4 protocol state, nil when NFSv4 is not served.
	NFS4() *state.Manager
	// Locks is the lock table NLM and NFSv4 share.
	Locks() *lock.Table
	// NLMHosts lists the NFSv3 clients the lock manager monitors.
	NLMHosts() []NLMHost
	// Collisions lists what the client-owner collision detector found
	// (nil when NFSv4 is not served).
	Collisions() []collide.Finding
	// InFlight lists the calls running now.
	InFlight() []InFlight
	// Stats is the server's statistics.
	Stats() *stats.Stats
	// Debug is the server's debug switches.
	Debug() *debuglog.Switches
	// Capture is the switch the server's RPC traffic passes through.
	Capture() *capture.Switch
	// RevokeNFS4 destroys an NFSv4 client and all its state, and applies
	// what that leaves to do (recovery store, NLM grants). It reports
	// whether the client existed.
	RevokeNFS4(id state.ClientID) (bool, error)
	// RevokeNLM drops every lock, waiter and share of an NLM host (as
	// FREE_ALL does) and grants what waited for them; it returns the
	// files concerned.
	RevokeNLM(name string) (files int, err error)
	// Reload re-reads the exports file the server was started with and
	// swaps it in; it returns the file and the outcome.
	Reload() (file string, res namespace.ReloadResult, warnings []string, err error)
}
