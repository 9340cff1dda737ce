#!/bin/sh
# Guest half of TestOwnerCollision (collision_test.go): two NFSv4.2 guests
# mounted at once, with the same hostname (one client owner string, the
# collision) or with distinct --unique-id (two clients). Each writes, reads
# back and removes small files in its own directory for SECONDS seconds.
# Under a collision the server destroys one guest's state whenever the
# other registers, so I/O errors and stalls are expected there: they are
# counted and printed, never a FAIL. The mount is soft (the test passes
# --opts soft,...) so that no operation hangs for ever.
# Usage: collide.sh NAME SECONDS
name=$1 secs=${2:-30}
d=$NFS_MNT/collide-$name
m=$(grep " $NFS_MNT nfs4 " /proc/mounts) || { echo "FAIL $name: no NFSv4 mount"; exit 1; }
echo "$m"
mkdir -p "$d" 2>/dev/null
start=$(date +%s) ok=0 bad=0 i=0
while [ $(($(date +%s) - start)) -lt "$secs" ]; do
  i=$((i + 1)) f=$d/f$((i % 8))
  if echo "$name $i" > "$f" 2>/dev/null && [ "$(cat "$f" 2>/dev/null)" = "$name $i" ] && rm -f "$f" 2>/dev/null; then
    ok=$((ok + 1))
  else
    bad=$((bad + 1))
  fi
  usleep 100000
done
echo "PASS $name: I/O for ${secs}s: $ok write/read/remove rounds ok, $bad failed"
echo "--- kernel messages:"
dmesg | grep -iE 'nfs|rpc' | tail -10
exit 0
