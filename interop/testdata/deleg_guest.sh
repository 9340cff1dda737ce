#!/bin/sh
# Guest half of the delegation tests (deleg_test.go).
#
# TestDelegRecall, roles A and B: two NFSv4 guests, A and B
# (distinct hostnames, unique ids and addresses: two clients), on files the
# host made before they booted: deleg/read ("host-original") and
# deleg/write (empty). Signals go through the 9p share /lab/share:
#   A-read-open (A): A has deleg/read open for reading on descriptor 3 and
#     read it: its OPEN was answered with a read delegation;
#   B-wrote (B): B's truncating open for writing succeeded, which it can
#     only after the server recalled A's delegation (CB_RECALL) and A gave it
#     back (DELEGRETURN); A then reopens and must read B's bytes;
#   A-write-open (A): A has deleg/write open read-write on descriptor 4 and
#     has written 13 bytes through it without closing: with a write
#     delegation they may still be only in A's page cache;
#   B-appended (B): B's stat saw A's 13 bytes (the server asked A with
#     CB_GETATTR) and B's append succeeded (after a recall of A's write
#     delegation, which makes A flush first); A closes.
# The host checks both files and the capture.
#
# TestDelegDeadHolder, roles dead-A and dead-B: dead-A opens deleg/read for
# reading, keeps it open and waits to be killed: the host kills A's qemu
# once the server lists A's read delegation. dead-B then opens the file for
# writing: the server recalls A's delegation, gets no answer, and revokes it
# about a lease later; B's open completes then. Signals: A-read-open (A),
# A-killed (host), B-wrote (B).
#
# Usage: deleg_guest.sh A|B|dead-A|dead-B VERS
role=$1 vers=$2
s=/lab/share D=$NFS_MNT/deleg r=$NFS_MNT/deleg/read w=$NFS_MNT/deleg/write
fail() {
  echo "FAIL $role: $1"
  echo "--- kernel messages:"
  dmesg | grep -iE 'nfs|rpc' | tail -20
  exit 1
}
# waitfor FILE: until FILE exists, at most 90 s
waitfor() {
  n=0
  until [ -e "$1" ]; do
    n=$((n + 1)); [ $n -lt 1800 ] || fail "timed out waiting for $1"
    usleep 50000
  done
}
# hold_read: open deleg/read for reading on descriptor 3, kept open (the
# OPEN gets A a read delegation), read it, and say so with A-read-open.
hold_read() {
  exec 3< "$r" || fail "open $r for reading"
  got=$(cat <&3)
  [ "$got" = host-original ] || fail "read '$got' from $r, want host-original"
  echo "PASS A: $r open for reading (descriptor 3 kept open), read host-original"
  touch "$s/A-read-open"
}
m=$(grep " $NFS_MNT nfs4 " /proc/mounts) || fail "no NFSv4 mount"
echo "$m"
case $m in *vers=$vers*) ;; *) fail "not vers=$vers" ;; esac
[ -d "$D" ] || fail "no $D"

case $role in
A)
  hold_read
  waitfor "$s/B-wrote"
  exec 3<&-
  got=$(cat "$r") || fail "reopen $r"
  [ "$got" = written-by-B ] || fail "reopened $r and read '$got', want B's written-by-B"
  echo "PASS A: closed, reopened $r and read B's bytes"
  exec 4<> "$w" || fail "open $w read-write"
  echo written-by-A >&4 || fail "write to $w"
  echo "PASS A: $w open read-write (descriptor 4 kept open), 13 bytes written, not closed"
  touch "$s/A-write-open"
  waitfor "$s/B-appended"
  exec 4>&-
  echo "PASS A: closed $w"
  ;;
B)
  waitfor "$s/A-read-open"
  echo written-by-B > "$r" || fail "open $r for writing (O_TRUNC) and write"
  got=$(cat "$r")
  [ "$got" = written-by-B ] || fail "read back '$got' from $r"
  echo "PASS B: opened $r for writing while A held it open for reading; wrote written-by-B"
  touch "$s/B-wrote"
  waitfor "$s/A-write-open"
  size=$(stat -c %s "$w") || fail "stat $w"
  [ "$size" = 13 ] || fail "stat $w: size $size, want 13 (A's unflushed bytes)"
  echo "PASS B: stat $w while A holds it open for writing: size 13, A's bytes"
  echo appended-by-B >> "$w" || fail "append to $w"
  echo "PASS B: appended to $w"
  touch "$s/B-appended"
  ;;
dead-A)
  hold_read
  echo "PASS A: waiting to be killed"
  waitfor "$s/never"
  fail "not killed"
  ;;
dead-B)
  waitfor "$s/A-killed"
  t0=$(date +%s)
  echo written-by-B > "$r" || fail "open $r for writing (O_TRUNC) and write"
  t1=$(date +%s)
  got=$(cat "$r")
  [ "$got" = written-by-B ] || fail "read back '$got' from $r"
  echo "PASS B: opened $r for writing and wrote, $((t1 - t0)) s after A was killed holding a read delegation"
  touch "$s/B-wrote"
  ;;
*) echo "usage: deleg_guest.sh A|B|dead-A|dead-B VERS"; exit 2 ;;
esac
echo "--- kernel messages:"
dmesg | grep -iE 'nfs' | tail -5
