#!/usr/bin/env bash
# A DAX file beside an extent-mapped one, in one run: one `dionode serve` on a fresh device file, then
# `loadgen run` against each kind of file at each job count, same load: BS sequential overwrites of a
# written file, one region per job, DURATION s measured after a 1 s warm-up. Prints IOPS and p50 per run.
#   JOBS="1 16" DURATION=5 BS=8k READ_PCT=0 PORT=17315 DIR=load-gen/target/dax-bench
# Take the machine's benchmark lock first where the machine is shared.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
JOBS=${JOBS:-"1 16"}; DURATION=${DURATION:-5}; BS=${BS:-8k}; READ_PCT=${READ_PCT:-0}; PORT=${PORT:-17315}
DIR=${DIR:-load-gen/target/dax-bench}
mkdir -p "$DIR"
rm -f "$DIR/dev.img"
./dionode serve --device "$DIR/dev.img" --size 2G --port "$PORT" > "$DIR/node.txt" 2>&1 &
node_pid=$!
trap 'kill $node_pid 2>/dev/null; wait $node_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
for j in $JOBS; do
  for kind in extent dax; do
    flag=""; [ "$kind" = dax ] && flag="--dax"
    ./loadgen run --target "127.0.0.1:$PORT" --file "$kind-j$j" --layout written --pattern seq --bs "$BS" --jobs "$j" \
        --read-pct "$READ_PCT" --duration "$DURATION" --warmup 1 --region-mib $(( 512 / j )) --node-pid "$node_pid" $flag \
        > "$DIR/$kind-j$j.txt"
    printf '%-7s j%-3s %s  p50 %s us\n' "$kind" "$j" "$(grep -o '[0-9,]* req/s' "$DIR/$kind-j$j.txt")" \
        "$(grep -o 'p50 [0-9]*' "$DIR/$kind-j$j.txt" | head -1 | cut -d' ' -f2)"
  done
done
