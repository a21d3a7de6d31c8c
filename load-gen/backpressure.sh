#!/usr/bin/env bash
# The backpressure experiment of load-gen/BACKPRESSURE.md, reproducible:
#   load-gen/backpressure.sh [OUTDIR]      (run from anywhere; OUTDIR must be on a disk filesystem, not tmpfs)
# Starts a node with -Xmx1g and a GC log on a 2 GiB device in OUTDIR, samples its heap (jstat) every
# second, measures its capacity, then drives it open-loop above capacity and back down, and shows
# NOWAIT failing fast. Everything lands in OUTDIR (default load-gen/target/backpressure); the node
# is stopped and its device removed at the end.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/load-gen/target/backpressure}"
port="${PORT:-47913}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
lg() { "$root/loadgen" "$@"; }
lg --version >/dev/null   # build first, outside the measurements

rm -f "$out/bp.img" "$out/node-gc.log"
DIONODE_JAVA_OPTS="-Xmx1g -XX:NativeMemoryTracking=summary -Xlog:gc:file=$out/node-gc.log:uptime" \
  "$root/dionode" serve --device "$out/bp.img" --size 2G --port "$port" > "$out/node.out" 2> "$out/node.err" &
node=$!   # ./dionode execs java: this is the node's JVM
cleanup() { kill -TERM "$node" 2>/dev/null || true; wait "$node" 2>/dev/null || true; rm -f "$out/bp.img"; kill "${jstat:-}" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 1 600); do grep -q listening "$out/node.out" 2>/dev/null && break; sleep 0.5; done
grep -q listening "$out/node.out" || { echo "node did not start, see $out/node.err" >&2; exit 1; }
jstat -gc -t "$node" 1000 > "$out/jstat.log" &
jstat=$!
t="--target 127.0.0.1:$port"

echo "== capacity: closed loop, 16 jobs x 8 in flight, 8 KiB overwrites of written blocks" | tee "$out/capacity.txt"
lg run $t --layout written --jobs 16 --iodepth 8 --duration 5 --region-mib 32 | tee -a "$out/capacity.txt"
cap=$(sed -n 's/.* ok in [0-9.]* s: \([0-9,]*\) req\/s.*/\1/p' "$out/capacity.txt" | tr -d , | head -1)
hi=$((cap * 2)); low=$((cap / 5)); flood=$((cap * 10))

echo "== A: open loop at 2x capacity (${hi}/s) for 10 s, then ${low}/s for 30 s; nothing dropped" | tee "$out/a-overload.txt"
lg run $t --layout written --jobs 16 --rate "${hi}/s@10,${low}/s@30" --region-mib 64 --timeline --node-pid "$node" \
  | tee -a "$out/a-overload.txt"

echo "== B: 10x capacity (${flood}/s) on 64 connections for 15 s, then ${low}/s for 15 s; requests later than 2 s dropped" \
  | tee "$out/b-flood.txt"
# about 8 s into the flood: the live heap (class histogram after a forced full GC) and native memory
(sleep 14; jcmd "$node" GC.class_histogram > "$out/b-histogram.txt" 2>&1; jcmd "$node" VM.native_memory summary > "$out/b-nmt.txt" 2>&1) &
lg run $t --layout written --jobs 64 --rate "${flood}/s@15,${low}/s@15" --max-lag 2 --region-mib 16 --timeline \
  --node-pid "$node" | tee -a "$out/b-flood.txt"
wait $! 2>/dev/null || true

echo "== C: NOWAIT. Test 1 layout under overwrite-check (every write needs the exclusive lock), 16 jobs, closed loop" \
  | tee "$out/c-nowait.txt"
echo "-- C1: without NOWAIT (requests wait for the lock)" | tee -a "$out/c-nowait.txt"
lg run $t --layout test1 --policy overwrite-check --jobs 16 --duration 5 --region-mib 32 | tee -a "$out/c-nowait.txt"
echo "-- C2: all NOWAIT, EAGAIN not retried (fail fast)" | tee -a "$out/c-nowait.txt"
lg run $t --layout test1 --policy overwrite-check --jobs 16 --duration 5 --region-mib 32 --nowait-pct 100 --eagain count \
  | tee -a "$out/c-nowait.txt"
echo "-- C3: same, open loop at ${flood}/s: refusals under overload" | tee -a "$out/c-nowait.txt"
lg run $t --layout test1 --policy overwrite-check --jobs 16 --rate "${flood}/s@5" --max-lag 2 --region-mib 32 --nowait-pct 100 \
  --eagain count | tee -a "$out/c-nowait.txt"

kill "$jstat" 2>/dev/null || true
echo "== node heap (jstat, KiB used = S0U+S1U+EU+OU), max over the experiment:" | tee "$out/summary.txt"
awk 'NR>1 && $1 ~ /^[0-9.]+$/ { u = $4 + $5 + $7 + $9; if (u > m) m = u } END { printf "   max heap used %.0f MiB\n", m/1024 }' \
  "$out/jstat.log" | tee -a "$out/summary.txt"
echo "== GC pauses (from $out/node-gc.log):" | tee -a "$out/summary.txt"
grep "Pause" "$out/node-gc.log" | awk '{ v = $NF; sub("ms", "", v); print v + 0 }' | sort -n \
  | awk '{ s[NR] = $1; if ($1 > 50) c++ } END { printf "   %d pauses, p50 %.1f ms, p99 %.1f ms, longest %.1f ms, %d over 50 ms\n", NR, s[int(NR / 2) + 1], s[int(NR * 0.99) + 1], s[NR], c }' \
  | tee -a "$out/summary.txt"
grep "Pause" "$out/node-gc.log" | grep -o "[0-9]*M->[0-9]*M([0-9]*M)" | awk -F'[M>(-]+' '{ if ($1 > m) m = $1; if ($2 > a) a = $2; if ($3 > c) c = $3 }
  END { printf "   heap before a GC at most %d MiB, after at most %d MiB, committed at most %d MiB (-Xmx1g)\n", m, a, c }' \
  | tee -a "$out/summary.txt"
echo "== node RSS (VmRSS from the timelines), max:" | tee -a "$out/summary.txt"
awk '$1 ~ /^[0-9]+$/ && NF >= 11 && $10 ~ /^[0-9]+$/ { if ($10 > m) m = $10 } END { printf "   max RSS %d MiB\n", m }' \
  "$out/a-overload.txt" "$out/b-flood.txt" | tee -a "$out/summary.txt"
