#!/bin/sh
# Guest half of TestRestartV4 (v4_test.go): two NFSv4.2 guests, A and B
# (distinct hostnames and unique ids, so two NFSv4 clients). The server is
# SIGKILLed and restarted while A has a file open, part A of it fsynced, and
# all of it write-locked, and B has the same file open. Signals go through
# the 9p share /lab/share:
#   A-ready, B-ready (guests -> host): A holds the lock; B, with the file
#     open on descriptor 5, has been denied it;
#   restarted (host): the new server is up, in its grace period;
#   B-trying (B): B's F_SETLK on descriptor 5 is under way. B's client has
#     reclaimed its open (CLAIM_PREVIOUS) and sent a new LOCK, which the
#     server must answer NFS4ERR_GRACE while A has not reclaimed (RFC 8881
#     §8.4.2.1); the client retries, so F_SETLK blocks;
#   A-written (A): part B written and fsynced through A's old descriptor, so
#     A's client has recovered: OPEN and LOCK reclaimed, RECLAIM_COMPLETE,
#     which ends the grace period early (§18.51.3: every previous client is
#     done), and B's F_SETLK is then denied;
#   B-tried (B); grace-over (host): the 15 s grace period is over anyway;
#   B-checked (B): B was denied again after the grace period; A unlocks;
#   A-unlocked (A); then B must be granted the lock.
# Usage: restart_v4.sh A|B PART (PART: size of each half, e.g. 4M)
role=$1 part=${2:-4M}
P=/lab/files/nfsprobe s=/lab/share W=$NFS_MNT/restart4 f=$NFS_MNT/restart4/data
fail() {
  echo "FAIL $role: $1"
  echo "--- kernel messages:"
  dmesg | grep -iE 'nfs|rpc' | tail -20
  exit 1
}
# waitfor FILE: until FILE exists, at most 240 s
waitfor() {
  n=0
  until [ -e "$1" ]; do
    n=$((n + 1)); [ $n -lt 4800 ] || fail "timed out waiting for $1"
    usleep 50000
  done
}
m=$(grep " $NFS_MNT nfs4 " /proc/mounts) || fail "no NFSv4 mount"
echo "$m"
case $m in *vers=4.2*) ;; *) fail "not vers=4.2" ;; esac

case $role in
A)
  mkdir "$W" || fail "mkdir"
  "$P" twophase "$f" "$part" "$s/A-ready" "$s/B-trying" "$s/A-written" "$s/B-checked" ||
    fail "write and lock across the restart (nfsprobe twophase)"
  echo "PASS A: part A fsynced and the file locked before the kill; after the restart part B written and fsynced through the same fd, the lock kept until B had been denied"
  touch "$s/A-unlocked"
  ;;
B)
  waitfor "$s/A-ready"
  exec 5<> "$f" || fail "open $f"
  "$P" trylock fd:5 0 0 denied 20s || fail "F_SETLK before the restart"
  echo "PASS B: F_SETLK on A's locked file denied before the restart"
  touch "$s/B-ready"
  waitfor "$s/restarted"
  "$P" trylock fd:5 0 0 denied 60s > /tmp/try.out 2>&1 &
  sleep 1
  touch "$s/B-trying"
  wait $! || { cat /tmp/try.out; fail "F_SETLK during the grace period"; }
  cat /tmp/try.out
  echo "PASS B: F_SETLK sent during the grace period, before A reclaimed, not granted"
  touch "$s/B-tried"
  waitfor "$s/grace-over"
  "$P" trylock fd:5 0 0 denied 20s || fail "F_SETLK after the grace period"
  echo "PASS B: F_SETLK after the grace period denied: A's lock was reclaimed"
  touch "$s/B-checked"
  waitfor "$s/A-unlocked"
  "$P" trylock fd:5 0 0 granted 30s || fail "F_SETLK after A unlocked"
  echo "PASS B: F_SETLK granted once A unlocked"
  exec 5<&-
  ;;
*) echo "usage: restart_v4.sh A|B PART"; exit 2 ;;
esac
if dmesg | grep -i stale; then fail "the kernel logged a stale file handle"; fi
echo "--- kernel messages:"
dmesg | grep -iE 'nfs' | tail -5
