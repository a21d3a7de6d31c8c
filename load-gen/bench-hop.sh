#!/usr/bin/env bash
# The cost of a hop through another node (DESIGN §7), in one run:
#   load-gen/bench-hop.sh [--duration S]
# Starts two nodes of one cluster on 127.0.0.1 (A and B, fresh 1 GiB device files in a temp dir under /work), puts a
# written 256 MiB file on A's volume (put --volume), then per job count drives 4 KiB random direct writes to it with
# ./loadgen run --layout existing: "local" connects to A, "forwarded" to B, which sends every request to A over cluster
# sharding. Each point gets a 2 s unmeasured warm-up run, then S s measured (default 10). Node CPU is both JVMs'
# utime+stime (/proc/PID/stat) over the measured run. Prints a markdown table.
# Environment: JOBS (default "1 16"), NODE_JAVA_OPTS the nodes' JVM options, NODE_JFR=DIR a JFR recording of each node
# (DIR/n0.jfr is A, DIR/n1.jfr is B), BENCH_TMP (default /work), KEEP=1 keeps
# the temp dir (node logs, reports, JSON). The measurements hold /work/bench/BENCH.lock (the machine is shared).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
duration=10
usage() { sed -n '2,3p' "$0" | sed 's/^# *//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) [ $# -ge 2 ] || usage; duration="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "bench-hop: unknown argument $1" >&2; usage ;;
  esac
done
[[ "$duration" =~ ^[1-9][0-9]*$ ]] || { echo "bench-hop: --duration wants whole seconds, got $duration" >&2; exit 2; }
jobs_list=${JOBS:-"1 16"}
command -v jq >/dev/null || { echo "bench-hop: needs jq" >&2; exit 2; }
"$root/loadgen" --version >/dev/null
"$root/dionode" --version >/dev/null

tmp="$(mktemp -d "${BENCH_TMP:-/work}/bench-hop.XXXXXX")"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "${KEEP:-0}" = 1 ]; then echo "bench-hop: kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cluster=("$(free_port)" "$(free_port)")
seeds="127.0.0.1:${cluster[0]},127.0.0.1:${cluster[1]}"
ports=()
for i in 0 1; do
  jfr=""; [ -n "${NODE_JFR:-}" ] && jfr="-XX:StartFlightRecording=filename=$NODE_JFR/n$i.jfr,settings=profile,dumponexit=true"
  DIONODE_JAVA_OPTS="${NODE_JAVA_OPTS:-} $jfr" "$root/dionode" serve --device "$tmp/n$i.img" --size 1G --host 127.0.0.1 --port 0 \
      --cluster-bind "127.0.0.1:${cluster[$i]}" --seed-nodes "$seeds" > "$tmp/n$i.log" 2>&1 &
  pids+=($!)
done
for i in 0 1; do
  port=""
  for _ in $(seq 1 1200); do
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/n$i.log" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "bench-hop: node $i did not start:" >&2; tail -20 "$tmp/n$i.log" >&2; exit 1; }
  ports+=("$port")
done
a="127.0.0.1:${ports[0]}"; b="127.0.0.1:${ports[1]}"
for _ in $(seq 1 300); do
  up=$("$root/dionode" members --json --target "$b" | jq '[.[] | select(.status == "up" and .reachable)] | length')
  [ "$up" = 2 ] && break
  sleep 0.2
done
[ "$up" = 2 ] || { echo "bench-hop: the two nodes did not form a cluster" >&2; exit 1; }
vol_a=$("$root/dionode" members --json --target "$a" | jq -r --arg addr "pekko://dionode@127.0.0.1:${cluster[0]}" \
    '.[] | select(.address == $addr) | .volume')
head -c 256M /dev/urandom | "$root/dionode" put hop --volume "$vol_a" --target "$a"
[ "$("$root/dionode" stat hop --json --target "$b" | jq -r .volume)" = "$vol_a" ] || { echo "bench-hop: hop is not on A" >&2; exit 1; }

cpu_ticks() { local t=0; for p in "${pids[@]}"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
hz=$(getconf CLK_TCK)

exec 9>/work/bench/BENCH.lock
echo "bench-hop: waiting for the bench lock..." >&2
flock 9
for j in $jobs_list; do
  for path in local forwarded; do
    target=$a; [ "$path" = forwarded ] && target=$b
    run=("$root/loadgen" run --target "$target" --layout existing --file hop --keep --pattern random --bs 4k
        --jobs "$j" --region-mib $((256 / j)))
    "${run[@]}" --duration 2 > "$tmp/$path-j$j-warmup.txt" 2>&1 || true
    echo "bench-hop: $path, $j job(s), ${duration} s" >&2
    c0=$(cpu_ticks)
    "${run[@]}" --duration "$duration" --json "$tmp/$path-j$j.json" > "$tmp/$path-j$j.txt" 2>&1 \
        || echo "bench-hop: $path j$j ended with errors" >&2
    c1=$(cpu_ticks)
    echo $((c1 - c0)) > "$tmp/$path-j$j.cpu"
  done
done
exec 9>&-

echo "| jobs | path | IOPS | p50 µs | p99 µs | CPU µs/request (both nodes) | errors |"
echo "|---:|---|---:|---:|---:|---:|---:|"
for j in $jobs_list; do
  for path in local forwarded; do
    f="$tmp/$path-j$j.json"
    if [ ! -s "$f" ]; then echo "| $j | $path | failed | | | | |"; tail -5 "$tmp/$path-j$j.txt" >&2; continue; fi
    jq -r --arg j "$j" --arg p "$path" --argjson ticks "$(cat "$tmp/$path-j$j.cpu")" --argjson hz "$hz" \
        'def n(d): if type == "number" then (. * d | round) / d else "-" end;
        "| \($j) | \($p) | \(.iops | n(1)) | \(.latency_us.p50 | n(1)) | \(.latency_us.p99 | n(1)) | \(($ticks * 1000000 / $hz / .requests_ok) | n(10)) | \(.errors) |"' "$f"
  done
done
