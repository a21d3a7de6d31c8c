#!/usr/bin/env bash
# 4 KiB buffered random writes (`loadgen run --buffered`) at 1 and 16 jobs against one or two node builds, in one run:
#   load-gen/bench-buffered.sh [--before DIR] [--after DIR] [--duration S]
# DIR is a checkout whose ./dionode serve starts a node; --after defaults to this tree, and without --before only the
# after build is measured. Each build gets a fresh node on a fresh 1 GiB device file in a temp dir under /work, bound
# to 127.0.0.1 on a free port (--port 0, read back from its "listening on" line). The client is always this tree's
# ./loadgen (--target, --node-pid): per job count a written 256 MiB file (256/jobs MiB per job), sync requests (one in
# flight per job), 1 s warm-up, then S s measured (default 10). Prints a markdown table.
# Environment: SERVE_OPTS extra serve flags of the after build (e.g. "--page-cache 256M"), BEFORE_SERVE_OPTS those of the
# before build, DIONODE_JAVA_OPTS the nodes' JVM options, JOBS (default "1 16"), BENCH_TMP (default /work) where the
# temp dir goes (must allow O_DIRECT: not tmpfs), KEEP=1 keeps it (node logs, reports, JSON).
# The builds happen first; the measurements hold /work/bench/BENCH.lock (the machine is shared).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
before=""; after="$root"; duration=10
usage() { sed -n '2,3p' "$0" | sed 's/^# *//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --before) [ $# -ge 2 ] || usage; before="$2"; shift 2 ;;
    --after) [ $# -ge 2 ] || usage; after="$2"; shift 2 ;;
    --duration) [ $# -ge 2 ] || usage; duration="$2"; shift 2 ;;
    -h|--help) usage ;;
    *) echo "bench-buffered: unknown argument $1" >&2; usage ;;
  esac
done
[[ "$duration" =~ ^[1-9][0-9]*$ ]] || { echo "bench-buffered: --duration wants whole seconds, got $duration" >&2; exit 2; }
jobs_list=${JOBS:-"1 16"}
labels=(); dirs=(); opts=()
if [ -n "$before" ]; then labels+=(before); dirs+=("$(cd "$before" && pwd)"); opts+=("${BEFORE_SERVE_OPTS:-}"); fi
labels+=(after); dirs+=("$(cd "$after" && pwd)"); opts+=("${SERVE_OPTS:-}")
for d in "${dirs[@]}"; do
  [ -x "$d/dionode" ] || { echo "bench-buffered: $d has no ./dionode launcher" >&2; exit 2; }
done
command -v jq >/dev/null || { echo "bench-buffered: needs jq" >&2; exit 2; }

# Build outside the lock: the launchers build on first use or when sources changed.
"$root/loadgen" --version >/dev/null
for d in "${dirs[@]}"; do "$d/dionode" --version >/dev/null; done

tmp="$(mktemp -d "${BENCH_TMP:-/work}/bench-buffered.XXXXXX")"
node=""
cleanup() {
  if [ -n "$node" ]; then kill -TERM "$node" 2>/dev/null || true; wait "$node" 2>/dev/null || true; fi
  if [ "${KEEP:-0}" = 1 ]; then echo "bench-buffered: kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

exec 9>/work/bench/BENCH.lock
echo "bench-buffered: waiting for the bench lock..." >&2
flock 9
for i in "${!labels[@]}"; do
  label=${labels[$i]}; dir=${dirs[$i]}
  # ./dionode execs java: $! is the node's JVM, what --node-pid measures
  # shellcheck disable=SC2086 # the serve options are words
  "$dir/dionode" serve --device "$tmp/$label.img" --size 1G --host 127.0.0.1 --port 0 ${opts[$i]} > "$tmp/$label-node.log" 2>&1 &
  node=$!
  port=""
  for _ in $(seq 1 1200); do
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/$label-node.log" | head -1)
    [ -n "$port" ] && break
    kill -0 "$node" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    echo "bench-buffered: the $label node ($dir) did not start:" >&2; tail -20 "$tmp/$label-node.log" >&2; exit 1
  fi
  for j in $jobs_list; do
    echo "bench-buffered: $label, $j job(s), ${duration} s" >&2
    "$root/loadgen" run --target "127.0.0.1:$port" --node-pid "$node" --buffered --layout written --pattern random --bs 4k \
        --jobs "$j" --region-mib $((256 / j)) --warmup 1 --duration "$duration" --file "bench-buffered-j$j" \
        --json "$tmp/$label-j$j.json" > "$tmp/$label-j$j.txt" 2>&1 || echo "bench-buffered: $label j$j ended with errors" >&2
  done
  kill -TERM "$node"; wait "$node" || true; node=""
  rm -f "$tmp/$label.img"
done
exec 9>&-

echo "| build | jobs | IOPS | p50 µs | p99 µs | node CPU µs/request | errors |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for label in "${labels[@]}"; do
  for j in $jobs_list; do
    f="$tmp/$label-j$j.json"
    if [ ! -s "$f" ]; then
      echo "| $label | $j | failed | | | | |"; tail -5 "$tmp/$label-j$j.txt" >&2; continue
    fi
    jq -r --arg b "$label" --arg j "$j" 'def n(d): if type == "number" then (. * d | round) / d else "-" end;
        "| \($b) | \($j) | \(.iops | n(1)) | \(.latency_us.p50 | n(1)) | \(.latency_us.p99 | n(1)) | \(.node_cpu.us_per_request | n(10)) | \(.errors) |"' "$f"
    # the node's own count: every measured write must have taken its buffered path
    ok=$(jq .requests_ok "$f")
    buf=$(sed -n 's/^  buffered_writes .*  +\([0-9]*\)$/\1/p' "$tmp/$label-j$j.txt")
    [ "$buf" = "$ok" ] || echo "bench-buffered: $label j$j: node buffered_writes +${buf:-?} for $ok requests ok" >&2
  done
done
