#!/usr/bin/env bash
# compare.sh: gonfs beside nfs-ganesha on loopback, the same `gonfs bench` workloads against
# both over NFSv3 and NFSv4.1, nfs-cp (libnfs) as an independent client, and an iperf3 loopback
# baseline; prints one table. Run as root from anywhere in the repository:
#   bash bench/compare.sh [OUTDIR]
# Everything runs in a private network + mount namespace (unshare), on one tmpfs, each server in
# turn: gonfs on 127.0.0.1:2050 (portmapper off) and ganesha on 2049 with its own rpcbind, via
# ../shared/lab/peers/ganesha.sh (GANESHA_SH overrides). gonfs runs afresh for each workload with
# --cpuprofile, so each workload has its own profile in OUTDIR/prof. Sizes and durations are
# chosen so that a run takes under about 10 minutes on 2 cores; override with the variables below.
set -euo pipefail

SIZE=${SIZE:-1G}            # test file of the I/O workloads, and nfs-cp's file
READ_PASSES=${READ_PASSES:-4}  # seqread reads the file this many times (a longer window than one pass)
DURATION=${DURATION:-5s}    # bound of each workload
CONNS=${CONNS:-2}           # connections x depth = queue depth
DEPTH=${DEPTH:-8}
FILES=${FILES:-10000}       # meta
ENTRIES=${ENTRIES:-50000}   # lsl
CURVE=${CURVE:-1 2 4 8 16 32 64}  # connections of the seqread curve (depth 4 each)
WORKLOADS=${WORKLOADS:-seqwrite seqread randread randwrite meta lsl getattr}
VERSIONS=${VERSIONS:-3 4.1}
GPORT=2050

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { echo "compare: $*" >&2; }
die() { say "$*"; exit 1; }

if [[ "${COMPARE_IN_NS:-}" != 1 ]]; then
  [[ $(id -u) == 0 ]] || die "run as root (it makes namespaces, mounts a tmpfs and installs packages)"
  need=()
  for p in nfs-ganesha nfs-ganesha-vfs rpcbind nfs-common libnfs-utils iperf3 jq iproute2 util-linux procps; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
  if ((${#need[@]})); then
    say "installing ${need[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
  fi
  command -v go >/dev/null || export PATH=$PATH:/usr/local/go/bin
  out=${1:-/tmp/gonfs-compare-$(date +%Y%m%d-%H%M%S)}
  mkdir -p "$out/prof" "$out/json"
  out=$(cd "$out" && pwd)
  say "building gonfs"
  (cd "$repo" && go build -o "$out/gonfs" ./cmd/gonfs)
  gsh=${GANESHA_SH:-$repo/../shared/lab/peers/ganesha.sh}
  [[ -x "$gsh" || -f "$gsh" ]] || die "no ganesha.sh at $gsh (set GANESHA_SH)"
  exec unshare --net --mount --propagation private env COMPARE_IN_NS=1 OUT="$out" GANESHA_SH="$(cd "$(dirname "$gsh")" && pwd)/$(basename "$gsh")" \
    bash "${BASH_SOURCE[0]}"
fi

# Inside the namespace from here on.
ip link set lo up
ip -6 addr add fd00::1/128 dev lo
mount -t tmpfs r /run
W=$(mktemp -d /tmp/compare.XXXXXX)
mount -t tmpfs -o size=12g,mode=0755 compare "$W"
G="$OUT/gonfs"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  umount "$W" 2>/dev/null || true
  rmdir "$W" 2>/dev/null || true
}
trap cleanup EXIT

wait_port() { for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
# stop PID...: TERM, wait for each, drop them from pids.
stop() {
  for p in "$@"; do kill "$p" 2>/dev/null || true; done
  for p in "$@"; do
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    local keep=()
    for q in "${pids[@]}"; do [[ $q == "$p" ]] || keep+=("$q"); done
    pids=("${keep[@]}")
  done
}

mkdir -p "$W/gonfs" "$W/ganesha" "$W/local"
chown 1000:1000 "$W/gonfs" "$W/ganesha"
ID='uid=1000&gid=1000'

# gonfs_start NAME: a fresh gonfs (fresh state directory: no grace period) profiling to prof/NAME.
gonfs_start() {
  rm -rf "$W/state"
  "$G" serve --listen 127.0.0.1:$GPORT --portmap off --state "$W/state" --cpuprofile "$OUT/prof/$1.pprof" \
    --log-level warn "$W/gonfs" >>"$OUT/gonfs.log" 2>&1 &
  gpid=$!
  pids+=("$gpid")
  wait_port $GPORT || die "gonfs did not listen; see $OUT/gonfs.log"
}

url() { # url SERVER VERSION
  local v=${2//./}
  if [[ $1 == gonfs ]]; then
    echo "nfs://127.0.0.1:$GPORT/bench$v?version=$2&$ID"
  elif [[ $2 == 3 ]]; then
    echo "nfs://127.0.0.1/$W/ganesha/bench$v?version=3&nfsport=2049&mountport=20048&$ID"
  else
    echo "nfs://127.0.0.1:2049/bench$v?version=$2&$ID"
  fi
}

bench() { # bench SERVER VERSION WORKLOAD PID [extra args]
  local s=$1 v=$2 w=$3 pid=$4
  shift 4
  say "$s NFSv$v $w"
  "$G" bench "$(url "$s" "$v")" --workload "$w" --conns "$CONNS" --depth "$DEPTH" --size "$SIZE" --duration "$DURATION" \
    --files "$FILES" --entries "$ENTRIES" --read-passes "$READ_PASSES" --server-pid "$pid" --json "$@" >"$OUT/json/$s-v$v-$w.json" 2>>"$OUT/bench.log" ||
    say "  failed: see $OUT/bench.log"
}

nfscp() { # nfscp SERVER: a SIZE file in and out with libnfs over NFSv3, MB/s each way
  local s=$1 base
  if [[ $s == gonfs ]]; then
    # libnfs splits the path into export and file at the last slash: "//" makes the export "/".
    base="nfs://127.0.0.1//nfscp.dat?version=3&nfsport=$GPORT&mountport=$GPORT&$ID"
  else
    base="nfs://127.0.0.1$W/ganesha/nfscp.dat?version=3&nfsport=2049&mountport=20048&$ID"
  fi
  local bytes t0 t1 t2
  bytes=$(stat -c %s "$W/local/in.dat")
  rm -f "$W/local/out.dat"
  t0=$(date +%s.%N)
  nfs-cp "$W/local/in.dat" "$base" >>"$OUT/nfscp.log" 2>&1 || say "  nfs-cp in to $s failed"
  t1=$(date +%s.%N)
  nfs-cp "$base" "$W/local/out.dat" >>"$OUT/nfscp.log" 2>&1 || say "  nfs-cp out of $s failed"
  t2=$(date +%s.%N)
  cmp -s "$W/local/in.dat" "$W/local/out.dat" || say "  nfs-cp: the copy out of $s differs from the file copied in"
  jq -n --argjson b "$bytes" --argjson t0 "$t0" --argjson t1 "$t1" --argjson t2 "$t2" \
    '{results: [{workload: "nfs-cp-in", mb_per_s: ($b/1e6/($t1-$t0))}, {workload: "nfs-cp-out", mb_per_s: ($b/1e6/($t2-$t1))}]}' \
    >"$OUT/json/$s-v3-nfscp.json"
}

say "output in $OUT"
head -c "$(numfmt --from=iec "$SIZE")" /dev/urandom >"$W/local/in.dat"

# iperf3 baseline: one stream, 10 s, over the same loopback.
say "iperf3 loopback baseline (10 s)"
# (not -1: the port probe would be its one client)
iperf3 -s -B 127.0.0.1 -p 5201 >/dev/null 2>&1 &
ipid=$!
pids+=("$ipid")
wait_port 5201 || die "iperf3 server did not start"
iperf3 -c 127.0.0.1 -p 5201 -t 10 -J >"$OUT/json/iperf3.json"
stop "$ipid"

# gonfs: one server process per version and workload, each with its own CPU profile.
for v in $VERSIONS; do
  for w in $WORKLOADS; do
    gonfs_start "gonfs-v$v-$w"
    bench gonfs "$v" "$w" "$gpid"
    stop "$gpid"
  done
done
gonfs_start gonfs-nfscp
nfscp gonfs
# The seqread curve against connections (depth 4 each), on one server process.
for v in $VERSIONS; do
  for c in $CURVE; do
    say "gonfs NFSv$v seqread, $c connections"
    "$G" bench "$(url gonfs "$v")" --workload seqread --conns "$c" --depth 4 --size "$SIZE" --duration 3s --json \
      >"$OUT/json/curve-v$v-c$c.json" 2>>"$OUT/bench.log" || say "  failed"
  done
done
stop "$gpid"
rm -rf "${W:?}/gonfs/"*

# ganesha: one server for everything.
bash "$GANESHA_SH" "$W/ganesha" >"$OUT/ganesha.out" 2>&1 &
gshpid=$!
pids+=("$gshpid")
wait_port 2049 || die "ganesha did not start; see $OUT/ganesha.out"
sleep 1
npid=$(pgrep -P "$gshpid" -x ganesha.nfsd || true)
[[ -n $npid ]] || die "no ganesha.nfsd under ganesha.sh"
children=$(pgrep -P "$gshpid" | tr '\n' ' ')
for v in $VERSIONS; do
  for w in $WORKLOADS; do
    bench ganesha "$v" "$w" "$npid"
  done
done
nfscp ganesha
# ganesha.sh stops its rpcbind, statd and ganesha on exit; stop them by PID as well.
stop "$gshpid"
for p in $children; do kill "$p" 2>/dev/null || true; done
rm -rf "${W:?}/ganesha/"*

# The table.
metric() { # metric FILE WORKLOAD: MB/s for data, entries/s for listings, ops/s otherwise
  [[ -s $1 ]] || { echo ""; return; }
  jq -r --arg w "$2" '.results[] | select(.workload == $w) |
    if (.workload | test("^seq|nfs-cp")) then .mb_per_s elif (.entries // 0) > 0 then .entries_per_s else .ops_per_s end' "$1" | head -1
}
p50() { # in µs below 10 ms, else ms
  [[ -s $1 ]] && jq -r --arg w "$2" '.results[] | select(.workload == $w) | .p50_ns / 1000 |
    if . < 10000 then "\(floor)µs" else "\(. / 1000 | floor)ms" end' "$1" | head -1
}
cpu() { [[ -s $1 ]] && jq -r --arg w "$2" '.results[] | select(.workload == $w) | .server_cpu_s * 100 | round / 100' "$1" | head -1; }
ipmb=$(jq '.end.sum_received.bits_per_second / 8 / 1e6' "$OUT/json/iperf3.json")
unit() { case $1 in seq*|nfs-cp*) echo MB/s;; lsl|meta-readdir) echo entries/s;; *) echo ops/s;; esac; }
{
  printf "%-22s %-10s %12s %12s %8s %10s %10s %9s %9s\n" workload unit gonfs ganesha ratio "p50 gonfs" "p50 gan." "cpu gonfs" "cpu gan."
  for v in $VERSIONS; do
    for w in $WORKLOADS; do
      subs=$w
      [[ $w == meta ]] && subs="meta-create meta-stat meta-readdir meta-remove"
      for s in $subs; do
        a=$(metric "$OUT/json/gonfs-v$v-$w.json" "$s")
        b=$(metric "$OUT/json/ganesha-v$v-$w.json" "$s")
        r=$(awk -v a="${a:-0}" -v b="${b:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
        printf "%-22s %-10s %12.1f %12.1f %8s %10s %10s %9s %9s\n" "v$v $s" "$(unit "$s")" "${a:-0}" "${b:-0}" "$r" \
          "$(p50 "$OUT/json/gonfs-v$v-$w.json" "$s")" "$(p50 "$OUT/json/ganesha-v$v-$w.json" "$s")" \
          "$(cpu "$OUT/json/gonfs-v$v-$w.json" "$s")" "$(cpu "$OUT/json/ganesha-v$v-$w.json" "$s")"
      done
    done
  done
  for s in nfs-cp-in nfs-cp-out; do
    a=$(metric "$OUT/json/gonfs-v3-nfscp.json" "$s")
    b=$(metric "$OUT/json/ganesha-v3-nfscp.json" "$s")
    r=$(awk -v a="${a:-0}" -v b="${b:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
    printf "%-22s %-10s %12.1f %12.1f %8s\n" "v3 $s (libnfs)" MB/s "${a:-0}" "${b:-0}" "$r"
  done
  echo
  printf "iperf3 loopback, 1 stream, 10 s: %.0f MB/s\n" "$ipmb"
  for v in $VERSIONS; do
    for s in gonfs ganesha; do
      a=$(metric "$OUT/json/$s-v$v-seqread.json" seqread)
      printf "seqread v%s %-7s / iperf3: %.2f\n" "$v" "$s" "$(awk -v a="${a:-0}" -v b="$ipmb" 'BEGIN { print a / b }')"
    done
  done
  echo
  echo "gonfs seqread against connections (depth 4 each), MB/s:"
  printf "%-6s" conns
  for c in $CURVE; do printf "%8s" "$c"; done
  echo
  for v in $VERSIONS; do
    printf "%-6s" "v$v"
    for c in $CURVE; do printf "%8.0f" "$(metric "$OUT/json/curve-v$v-c$c.json" seqread)"; done
    echo
  done
} | tee "$OUT/table.txt"
say "profiles: go tool pprof -top $OUT/gonfs $OUT/prof/gonfs-vVERSION-WORKLOAD.pprof"
