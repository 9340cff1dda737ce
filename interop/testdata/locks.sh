#!/bin/sh
# Guest half of TestLocks (interop_test.go): two guests, A (alpha) and B
# (beta), lock files in the export over NLM; they signal each other with
# files on the 9p share /lab/share. Usage: locks.sh A|B
role=$1
s=/lab/share f=$NFS_MNT/shared.lock r=$NFS_MNT/ranges.lock
fails=0
# check WANT_EXIT WHAT NFSLOCK_ARGS...: one nfslock call from a new process
check() {
  want=$1 what=$2; shift 2
  out=$(nfslock "$@" 2>&1); rc=$?
  if [ "$rc" = "$want" ]; then echo "PASS $what"; else echo "FAIL $what (nfslock exit $rc, want $want)"; fails=$((fails + 1)); fi
  echo "    $out"
}
# granted FILE WHAT: FILE holds the output of an F_SETLKW that blocked; it
# must have been granted well before the 30 s after which the client polls
# the server again by itself, i.e. by the server's NLM_GRANTED callback.
granted() {
  d=$(sed -n 's/.*: locked by pid [0-9]* in \([0-9.]*\)s$/\1/p' "$1")
  if [ -n "$d" ] && awk -v d="$d" 'BEGIN {exit !(d < 15)}'; then
    echo "PASS $2 (${d}s: NLM_GRANTED)"
  else
    echo "FAIL $2: granted after ${d:-never}${d:+s}: no NLM_GRANTED callback?"
    fails=$((fails + 1))
  fi
}
# waitfor FILE [PATTERN]: until FILE exists (and holds PATTERN), at most 120 s
waitfor() {
  n=0
  until [ -e "$1" ] && { [ -z "${2:-}" ] || grep -q "$2" "$1"; }; do
    n=$((n + 1))
    [ $n -lt 2400 ] || { echo "FAIL $role: timed out waiting for $1 ${2:-}"; exit 1; }
    usleep 50000
  done
}
# The mount must have NLM: with nolock, locks are local and prove nothing.
grep " $NFS_MNT nfs " /proc/mounts | grep -qE 'nolock|local_lock=all' &&
  { echo "FAIL $role: mounted with nolock"; exit 1; }

case $role in
A)
  nfslock -start 0 -len 100 -until "$s/B-ranges-done" "$r" > /tmp/w.out &
  nfslock -s -start 200 -len 100 -until "$s/B-ranges-done" "$r" > /tmp/r.out &
  nfslock -until "$s/B-waiting" -hold 2s "$f" > "$s/A-hold.out" &
  waitfor /tmp/w.out locked; waitfor /tmp/r.out locked; waitfor "$s/A-hold.out" locked
  cat /tmp/w.out /tmp/r.out "$s/A-hold.out" | sed 's/^/    /'
  touch "$s/A-locked"
  wait
  touch "$s/A-released"
  sed 's/^/    /' "$s/A-hold.out"
  echo "PASS A: held W 0-99 and R 200-299 of ranges.lock, and all of shared.lock until B blocked, then 2 s"
  # The host restarts the server (SIGKILL) while B holds shared.lock; the
  # restarted server's SM_NOTIFY makes B's lockd reclaim it in the grace
  # period, which has ended when "rebooted" appears.
  waitfor "$s/rebooted"
  check 1 "A: after the server restart, F_SETLK on shared.lock is denied by B's reclaimed lock" "$f"
  touch "$s/A-checked"
  nfslock -wait -hold 0 "$f" > /tmp/again.out 2>&1
  sed 's/^/    /' /tmp/again.out
  granted /tmp/again.out "A: F_SETLKW on shared.lock, blocked by B's reclaimed lock, granted when B unlocked"
  ;;
B)
  waitfor "$s/A-locked"
  check 1 "B: W 50-149 of ranges.lock, overlapping A's W 0-99, is denied" -start 50 -len 100 "$r"
  check 0 "B: W 100-199 of ranges.lock, disjoint from A's locks, is granted" -start 100 -len 100 "$r"
  check 0 "B: R 250-259 of ranges.lock, inside A's R 200-299, is granted" -s -start 250 -len 10 "$r"
  check 1 "B: W 250-259 of ranges.lock, inside A's R 200-299, is denied" -start 250 -len 10 "$r"
  check 1 "B: F_GETLK at byte 10 of ranges.lock reports A's lock" -test -start 10 -len 1 "$r"
  touch "$s/B-ranges-done"
  check 1 "B: F_SETLK on shared.lock, held by A, is denied" "$f"
  check 1 "B: flock on shared.lock is denied" -flock "$f"
  check 1 "B: F_GETLK on shared.lock reports A's lock" -test "$f"
  touch "$s/B-waiting"
  nfslock -wait -until "$s/B-release" "$f" > "$s/B-hold.out" 2>&1 &
  waitfor "$s/B-hold.out" locked
  granted "$s/B-hold.out" "B: F_SETLKW on shared.lock granted when A unlocked"
  # The host kills and restarts the server now; see A above.
  touch "$s/B-holding"
  waitfor "$s/A-checked"
  sleep 2
  touch "$s/B-release"
  wait
  sed 's/^/    /' "$s/B-hold.out"
  echo "--- B's kernel and statd:"
  dmesg | grep -iE 'lockd|nfs:' | tail -5
  grep -E 'SM_NOTIFY|MONITORING|downcall|matched' /run/nlm/statd.log | tail -8 | sed 's/^/    /'
  if grep -q 'Received SM_NOTIFY' /run/nlm/statd.log; then
    echo "PASS B: statd received the restarted server's SM_NOTIFY"
  else
    echo "FAIL B: statd received no SM_NOTIFY from the restarted server"; fails=$((fails + 1))
  fi
  ;;
*) echo "usage: locks.sh A|B"; exit 2 ;;
esac
exit $((fails > 0))
