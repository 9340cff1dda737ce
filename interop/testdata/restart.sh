#!/bin/sh
# Guest half of TestRestart (interop_test.go): the server is SIGKILLed and
# restarted while this guest has the export mounted (hard,timeo=10,retrans=2)
# and a file open. Signals go through the 9p share /lab/share:
# A-ready (guest -> host), killed and restarted (host -> guest).
part=${1:-8M}
P=/lab/files/nfsprobe S=/lab/share W=$NFS_MNT/restart
fail() {
  echo "FAIL $1"
  echo "--- kernel messages:"
  dmesg | grep -iE 'nfs|rpc' | tail -20
  exit 1
}
pass() { echo "PASS $1"; }
same() { [ "$2" = "$3" ] || fail "$1 is \"$2\", want \"$3\""; }

mkdir "$W" "$W/sub" || fail "mkdir"
echo "before restart" > "$W/before" || fail "create before"
touch "$W/sub/x" || fail "create sub/x"
exec 4< "$W/before"
pass "files created before the restart"

# Part A is fsynced before A-ready appears; part B goes out once the server
# is dead and completes when it is back.
"$P" twophase "$W/data" "$part" "$S/A-ready" "$S/killed" ||
  fail "write across the restart (nfsprobe twophase)"
pass "part A fsynced before the kill; part B written and fsynced through the same fd across the restart"

n=0
until [ -e "$S/restarted" ]; do
  n=$((n + 1)); [ $n -lt 1200 ] || fail "the host never restarted the server"
  usleep 100000
done
ls -la "$W" || fail "ls after the restart"
same "entries after the restart" "$(ls "$W" | tr '\n' ' ')" "before data sub "
stat "$W/before" "$W/sub/x" > /dev/null || fail "stat of files known before the restart"
same "before, reopened" "$(cat "$W/before")" "before restart"
read -r line <&4 || fail "read through a descriptor opened before the restart"
same "before, through the old descriptor" "$line" "before restart"
same "ls of a directory known before the restart" "$(ls "$W/sub")" x
echo "after restart" > "$W/after" || fail "create after the restart"
mv "$W/sub/x" "$W/sub/y" || fail "rename in a directory known before the restart"
pass "directory listed, old files stat and read, new file created, rename done after the restart"
if dmesg | grep -i stale; then fail "the kernel logged a stale file handle"; fi
echo "--- kernel messages about the gap:"
dmesg | grep -iE 'nfs' | tail -5
pass "no ESTALE"
