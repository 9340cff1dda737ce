//go:build race

package fuse

// raceEnabled: the race detector slows the in-process server and client
// about fivefold, so the workload runs once (NFSv4.2) with a 16 MiB big
// file instead of 64 MiB, to stay within a minute.
const raceEnabled = true
