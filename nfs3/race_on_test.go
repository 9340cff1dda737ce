//go:build race

package nfs3

// raceEnabled: the race detector makes sync.Pool drop items at random,
// so allocation counts of pooled paths are not exact under it.
const raceEnabled = true
