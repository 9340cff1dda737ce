#!/bin/sh
# Guest half of TestLocksV3V4 (v4_test.go): one guest mounts over NFSv3 and
# locks through NLM (role V3), the other over NFSv4.2 and locks with LOCK,
# LOCKT and LOCKU (role V4); both lock the same file, so their locks must
# meet in the server's one lock table. Signals go through the 9p share
# /lab/share. Usage: locks_v3v4.sh V3|V4
role=$1
s=/lab/share f=$NFS_MNT/mixed.lock
fails=0
# check WANT_EXIT WHAT NFSLOCK_ARGS...: one nfslock call from a new process
check() {
  want=$1 what=$2; shift 2
  out=$(nfslock "$@" 2>&1); rc=$?
  if [ "$rc" = "$want" ]; then echo "PASS $what"; else echo "FAIL $what (nfslock exit $rc, want $want)"; fails=$((fails + 1)); fi
  echo "$out" | sed 's/^/    /'
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
m=$(grep " $NFS_MNT nfs" /proc/mounts)
echo "$m"
echo "$m" | grep -qE 'nolock|local_lock=all' && { echo "FAIL $role: mounted with nolock: locks would be local"; exit 1; }

case $role in
V3)
  echo "$m" | grep -q 'vers=3' || { echo "FAIL V3: not an NFSv3 mount"; exit 1; }
  : > "$f"
  nfslock -start 0 -len 100 -until "$s/V4-denied" "$f" > "$s/V3-hold.out" &
  waitfor "$s/V3-hold.out" locked
  touch "$s/V3-locked"
  wait
  sed 's/^/    /' "$s/V3-hold.out"
  touch "$s/V3-released"
  echo "PASS V3: held W 0-99 through NLM until V4 had been denied, then unlocked"
  waitfor "$s/V4-locked"
  check 1 "V3: F_SETLK W 50-149, overlapping V4's NFSv4 lock, is denied (NLM)" -start 50 -len 100 "$f"
  check 1 "V3: F_GETLK at byte 10 reports V4's lock (NLM TEST)" -test -start 10 -len 1 "$f"
  check 0 "V3: F_SETLK W 200-299, disjoint from V4's lock, is granted" -start 200 -len 100 "$f"
  # A blocked NLM LOCK waiting on an NFSv4 lock: the server must send
  # NLM_GRANTED when V4's LOCKU frees the range, well before the 30 s
  # after which the client would poll again by itself.
  nfslock -wait -start 0 -len 100 "$f" > /tmp/waiter 2>&1 &
  sleep 1
  touch "$s/V3-waiting"
  wait
  sed 's/^/    /' /tmp/waiter
  d=$(sed -n 's/.*: locked by pid [0-9]* in \([0-9.]*\)s$/\1/p' /tmp/waiter)
  if [ -n "$d" ] && awk -v d="$d" 'BEGIN {exit !(d < 15)}'; then
    echo "PASS V3: F_SETLKW blocked by V4's lock granted ${d}s later, when V4 unlocked (NLM_GRANTED)"
  else
    echo "FAIL V3: F_SETLKW blocked by V4's lock granted after ${d:-never}${d:+s}: no NLM_GRANTED when the NFSv4 lock went?"
    fails=$((fails + 1))
  fi
  ;;
V4)
  echo "$m" | grep -q 'vers=4.2' || { echo "FAIL V4: not an NFSv4.2 mount"; exit 1; }
  waitfor "$s/V3-locked"
  check 1 "V4: F_SETLK W 50-149, overlapping V3's NLM lock, is denied (LOCK: NFS4ERR_DENIED)" -start 50 -len 100 "$f"
  check 1 "V4: F_GETLK at byte 10 reports V3's lock (LOCKT)" -test -start 10 -len 1 "$f"
  check 1 "V4: a shared lock inside V3's write lock is denied" -s -start 20 -len 10 "$f"
  check 0 "V4: F_SETLK W 100-199, disjoint from V3's lock, is granted" -start 100 -len 100 "$f"
  touch "$s/V4-denied"
  waitfor "$s/V3-released"
  # Held until V3 has been denied and is waiting (F_SETLKW), then 2 s more.
  nfslock -start 0 -len 100 -until "$s/V3-waiting" -hold 2s "$f" > "$s/V4-hold.out" &
  waitfor "$s/V4-hold.out" "nfslock:"
  if grep -q locked "$s/V4-hold.out"; then
    echo "PASS V4: F_SETLK W 0-99 granted once V3 unlocked"
  else
    echo "FAIL V4: F_SETLK W 0-99 after V3 unlocked"; fails=$((fails + 1))
  fi
  touch "$s/V4-locked"
  wait
  sed 's/^/    /' "$s/V4-hold.out"
  ;;
*) echo "usage: locks_v3v4.sh V3|V4"; exit 2 ;;
esac
exit $((fails > 0))
