#!/bin/sh
# Runs the interop suite in a private network namespace: the server's
# portmapper takes 127.0.0.1:111 there, and the guests' lock callbacks their
# own 127.0.0.N addresses, without touching the host's loopback. The Go test
# re-executes itself the same way when run directly as root; this script is
# for callers that prefer to do it from outside. Arguments go to go test,
# e.g. interop/run.sh -run TestRestart -v
set -e
cd "$(dirname "$0")/.."
exec unshare -n sh -c 'ip link set lo up && GONFS_INTEROP_NETNS=1 exec go test -tags interop -count=1 -timeout 25m "$@" ./interop/' sh "$@"
