#!/usr/bin/env bash
# dionode beside its peers, in one run: 8 KiB sequential direct overwrites of a fully written target,
# each job in its own region, for each job count. Four columns:
#   raw       fio psync + O_DIRECT straight to a fully written file (the device's limit)
#   nbdkit    fio's nbd engine against nbdkit's file plugin (cache=none) on that same file
#   nbd       fio's nbd engine against `dionode serve --nbd`
#   native    `loadgen run` against the same node over dionode's own protocol, same pattern
# and prints IOPS / p50 µs per column and the ratios dionode ÷ nbdkit and ÷ raw.
#
#   nbd/compare-peers.sh                      # jobs 1 4 16, 5 s per point, 1 GiB target
#
# env (defaults): JOBS="1 4 16"  RUNTIME=5  TARGET_MIB=1024  BS=8k  DIR=nbd/out/peers (device files, JSON)
#   WARMUP=5 (seconds of the same pattern, over NBD and then native at 4 jobs, unmeasured, before dionode's first point:
#   the JIT compiles the node's 8 KiB path meanwhile, which a node that just started and took the fill has not done;
#   0 measures a cold node)
#   NBDKIT_PORT=10909  NODE_PORT=17070  NODE_NBD_PORT=10910  NODE_OPTS="" (extra `serve` options)
#   DIONODE=./dionode  LOADGEN=./loadgen  (set both to other checkouts' launchers to compare builds)
#   NATIVE_OPTS="--warmup 1" (extra `loadgen run` options: 1 s unmeasured, as fio's --ramp_time=1; empty for a
#   load-gen older than --warmup)
#   COLUMNS_RUN="raw nbdkit nbd native"
# Needs fio and nbdkit (Debian: apt-get install -y fio nbdkit) and python3 for the table.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
JOBLIST=${JOBS:-"1 4 16"}
RUNTIME=${RUNTIME:-5}
WARMUP=${WARMUP:-5}
TARGET_MIB=${TARGET_MIB:-1024}
BS=${BS:-8k}
DIR=${DIR:-$here/out/peers}
NBDKIT_PORT=${NBDKIT_PORT:-10909}
NODE_PORT=${NODE_PORT:-17070}
NODE_NBD_PORT=${NODE_NBD_PORT:-10910}
NODE_OPTS=${NODE_OPTS:-}
DIONODE=${DIONODE:-$root/dionode}
LOADGEN=${LOADGEN:-$root/loadgen}
NATIVE_OPTS=${NATIVE_OPTS---warmup 1}
COLUMNS_RUN=${COLUMNS_RUN:-"raw nbdkit nbd native"}
for tool in fio nbdkit python3; do
  command -v "$tool" >/dev/null || { echo "compare-peers.sh: $tool is not installed (apt-get install -y fio nbdkit python3)" >&2; exit 1; }
done
mkdir -p "$DIR"
rm -f "$DIR"/*.json "$DIR"/*.txt
raw="$DIR/raw.img"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

wait_port() {
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "compare-peers.sh: nothing listens on 127.0.0.1:$1" >&2
  exit 1
}

# fio over one target: $1 tag, $2 jobs, then fio's target options
run_fio() {
  local tag=$1 jobs=$2; shift 2
  local region=$(( (TARGET_MIB / jobs) << 20 ))
  fio --output-format=json --output="$DIR/$tag.json" --name=w --rw=write --bs="$BS" --numjobs="$jobs" \
      --size="$region" --offset_increment="$region" --time_based --runtime="$RUNTIME" --ramp_time=1 \
      --group_reporting=0 --lat_percentiles=1 "$@" >/dev/null
}

if [[ " $COLUMNS_RUN " == *" raw "* || " $COLUMNS_RUN " == *" nbdkit "* ]]; then
  if [ ! -f "$raw" ] || [ "$(stat -c %s "$raw")" -ne $(( TARGET_MIB << 20 )) ]; then
    echo "compare-peers.sh: writing $raw ($TARGET_MIB MiB of zeros, not sparse)" >&2
    dd if=/dev/zero of="$raw" bs=1M count="$TARGET_MIB" oflag=direct conv=fsync status=none
  fi
  for j in $JOBLIST; do
    if [[ " $COLUMNS_RUN " == *" raw "* ]]; then
      run_fio "raw-j$j" "$j" --ioengine=psync --direct=1 --filename="$raw"
      echo "raw j$j done" >&2
    fi
  done
  if [[ " $COLUMNS_RUN " == *" nbdkit "* ]]; then
    nbdkit -f -p "$NBDKIT_PORT" -i 127.0.0.1 file file="$raw" cache=none &
    pids+=($!)
    wait_port "$NBDKIT_PORT"
    for j in $JOBLIST; do
      run_fio "nbdkit-j$j" "$j" --ioengine=nbd --uri="nbd://127.0.0.1:$NBDKIT_PORT/"
      echo "nbdkit j$j done" >&2
    done
    kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
  fi
fi

if [[ " $COLUMNS_RUN " == *" nbd "* || " $COLUMNS_RUN " == *" native "* ]]; then
  dev="$DIR/dionode.img"
  rm -f "$dev"
  # shellcheck disable=SC2086
  "$DIONODE" serve --device "$dev" --size $(( TARGET_MIB * 2 ))M --port "$NODE_PORT" --nbd "$NODE_NBD_PORT" $NODE_OPTS \
      > "$DIR/node.txt" 2>&1 &
  pids+=($!)
  node_pid=$!
  wait_port "$NODE_PORT"
  wait_port "$NODE_NBD_PORT"
  cli() { "$DIONODE" "$@" --target "127.0.0.1:$NODE_PORT"; }
  cli put target </dev/null
  cli fallocate target 0 $(( TARGET_MIB << 20 ))
  fio --output=/dev/null --name=fill --ioengine=nbd --uri="nbd://127.0.0.1:$NODE_NBD_PORT/target" --rw=write --bs=1M \
      --size=$(( TARGET_MIB << 20 )) --iodepth=4
  unwritten=$(cli stat target --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["layout"]["unwritten_blocks"])')
  [ "$unwritten" = 0 ] || { echo "compare-peers.sh: target still has $unwritten unwritten blocks after the fill" >&2; exit 1; }
  if [ "$WARMUP" != 0 ]; then
    fio --output=/dev/null --name=warm --ioengine=nbd --uri="nbd://127.0.0.1:$NODE_NBD_PORT/target" --rw=write --bs="$BS" \
        --numjobs=4 --size=$(( (TARGET_MIB / 4) << 20 )) --offset_increment=$(( (TARGET_MIB / 4) << 20 )) --time_based \
        --runtime="$WARMUP"
    "$LOADGEN" run --target "127.0.0.1:$NODE_PORT" --file target --layout existing --pattern seq --bs "$BS" --jobs 4 \
        --duration "$WARMUP" --region-mib $(( TARGET_MIB / 4 )) >/dev/null
    echo "dionode warmed up (${WARMUP}s over NBD, ${WARMUP}s native, 4 jobs)" >&2
  fi
  for j in $JOBLIST; do
    if [[ " $COLUMNS_RUN " == *" nbd "* ]]; then
      run_fio "nbd-j$j" "$j" --ioengine=nbd --uri="nbd://127.0.0.1:$NODE_NBD_PORT/target"
      echo "dionode nbd j$j done" >&2
    fi
    if [[ " $COLUMNS_RUN " == *" native "* ]]; then
      "$LOADGEN" run --target "127.0.0.1:$NODE_PORT" --file target --layout existing --pattern seq --bs "$BS" \
          --jobs "$j" --duration "$RUNTIME" --region-mib $(( TARGET_MIB / j )) --node-pid "$node_pid" $NATIVE_OPTS \
          > "$DIR/native-j$j.txt"
      echo "dionode native j$j done" >&2
    fi
  done
fi

DIR="$DIR" JOBS="$JOBLIST" COLS="$COLUMNS_RUN" python3 - <<'EOF'
import json, os, re
d, jobs, cols = os.environ["DIR"], os.environ["JOBS"].split(), os.environ["COLS"].split()
def fio(tag):
    p = os.path.join(d, tag + ".json")
    if not os.path.exists(p):
        return None
    t = open(p).read()
    r = json.loads(t[t.index("{"):])
    ios = sum(j["write"]["total_ios"] for j in r["jobs"])
    rt = max(j["write"]["runtime"] for j in r["jobs"])
    # p50 of all jobs' total latencies (submission + completion): the median of the per-job medians weighted by their I/Os
    meds = sorted((j["write"]["lat_ns"]["percentile"]["50.000000"], j["write"]["total_ios"]) for j in r["jobs"])
    half, acc, p50 = ios / 2, 0, 0
    for m, n in meds:
        acc += n
        if acc >= half:
            p50 = m / 1000
            break
    return ios / (rt / 1000), p50
def native(tag):
    p = os.path.join(d, tag + ".txt")
    if not os.path.exists(p):
        return None
    t = open(p).read()
    iops = float(re.search(r"result: [\d,]+ requests ok in [\d.]+ s: ([\d,]+) req/s", t).group(1).replace(",", ""))
    p50 = float(re.search(r"latency us: p50 (\d+)", t).group(1))
    return iops, p50
names = {"raw": "raw psync O_DIRECT", "nbdkit": "nbdkit file cache=none", "nbd": "dionode serve --nbd", "native": "dionode native"}
head = [names[c] + " (IOPS / p50 µs)" for c in cols]
ratios = [c for c in ("nbd", "native") if c in cols]
for r in ratios:
    if "nbdkit" in cols:
        head.append(f"{r} ÷ nbdkit")
    if "raw" in cols:
        head.append(f"{r} ÷ raw")
print("| jobs | " + " | ".join(head) + " |")
print("|---|" + "---|" * len(head))
for j in jobs:
    vals = {c: (fio if c != "native" else native)(f"{c}-j{j}") for c in cols}
    cells = [f"{v[0]:,.0f} / {v[1]:.0f}" if v else "-" for v in vals.values()]
    for r in ratios:
        for base in ("nbdkit", "raw"):
            if base in cols:
                a, b = vals.get(r), vals.get(base)
                cells.append(f"{a[0] / b[0]:.2f}" if a and b else "-")
    print(f"| {j} | " + " | ".join(cells) + " |")
EOF
