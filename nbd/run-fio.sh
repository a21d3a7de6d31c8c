#!/usr/bin/env bash
# The seed's Test 1 and Test 2 with fio's nbd engine against a running `./dionode serve --nbd`,
# for each lock policy and job count; prints an IOPS table per test (and the node's lock counters).
#
#   ./dionode serve --nbd &          # native on 127.0.0.1:7070, NBD on 127.0.0.1:10809
#   nbd/run-fio.sh
#
# env (defaults): NODE=127.0.0.1:7070  NBD=127.0.0.1:10809  TESTS="1 2"  JOBS="1 4 16"
#   POLICIES="overwrite-check aligned-shared zeroing-aware"  RUNTIME=5  REGION_MIB=256  MAX_FILE_MIB=1024
#   OUT=nbd/out (fio JSON per run)  DIONODE=./dionode (the client CLI)
# Region per job = min(REGION_MIB, MAX_FILE_MIB / jobs), file = jobs x region: the sizes `load-gen seed`
# uses, so the two tables compare. Per run: a new file created with that policy (`put --policy`),
# fallocated (all unwritten), laid out with layoutN.fio over NBD, its layout checked (written blocks
# = size/8192), then testN.fio, then removed. The node needs room for one file of MAX_FILE_MIB.
# fio's nbd engine opens one NBD connection per job, so jobs=N is N connections with one request each.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
NODE=${NODE:-127.0.0.1:7070}
NBD=${NBD:-127.0.0.1:10809}
TESTS=${TESTS:-"1 2"}
JOBLIST=${JOBS:-"1 4 16"}   # JOBS itself is the job files' per-run variable
POLICIES=${POLICIES:-"overwrite-check aligned-shared zeroing-aware"}
RUNTIME=${RUNTIME:-5}
REGION_MIB=${REGION_MIB:-256}
MAX_FILE_MIB=${MAX_FILE_MIB:-1024}
OUT=${OUT:-$here/out}
DIONODE=${DIONODE:-$root/dionode}
export RUNTIME
mkdir -p "$OUT"
command -v fio >/dev/null || { echo "run-fio.sh: fio is not installed (apt-get install -y fio)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "run-fio.sh: python3 is needed for the tables" >&2; exit 1; }
cli() { "$DIONODE" "$@" --target "$NODE"; }

remove() { cli rm "$1" 2>/dev/null || true; }

written_blocks() { cli stat "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["layout"]["written_blocks"])'; }

for t in $TESTS; do
  for j in $JOBLIST; do
    region_mib=$(( REGION_MIB < MAX_FILE_MIB / j ? REGION_MIB : MAX_FILE_MIB / j ))
    region=$(( region_mib << 20 ))
    total=$(( region * j ))
    for p in $POLICIES; do
      name="fio-t$t-$p-j$j"
      tag="test$t-$p-j$j"
      remove "$name"
      cli put --policy "$p" "$name" </dev/null
      cli fallocate "$name" 0 "$total"
      export URI="nbd://$NBD/$name"
      t0=$(date +%s.%N)
      if [ "$t" = 1 ]; then
        HALF=$((total / 2)) QUARTER=$((total / 4)) fio --output=/dev/null "$here/layout1.fio"
      else
        TOTAL=$total TOTALM12K=$((total - 12288)) QUARTER=$((total / 4)) fio --output=/dev/null "$here/layout2.fio"
      fi
      t1=$(date +%s.%N)
      got=$(written_blocks "$name")
      if [ "$got" != $((total / 8192)) ]; then
        echo "run-fio.sh: $name layout has $got written blocks, expected $((total / 8192))" >&2
        exit 1
      fi
      cli stats > "$OUT/$tag.stats0"
      export JOBS=$j REGION=$region REGIONM512=$((region - 512)) IO2=$((region / 16384 * 14336))
      fio --output-format=json --output="$OUT/$tag.json" "$here/test$t.fio"
      cli stats > "$OUT/$tag.stats1"
      remove "$name"
      printf 'test%s %-15s j%-2s region=%sMiB layout_s=%.1f\n' "$t" "$p" "$j" "$region_mib" "$(echo "$t1 - $t0" | bc)" >&2
    done
  done
done

OUT="$OUT" TESTS="$TESTS" JOBS="$JOBLIST" POLICIES="$POLICIES" python3 - <<'EOF'
import json, os
out, tests, jobs, pols = os.environ["OUT"], os.environ["TESTS"].split(), os.environ["JOBS"].split(), os.environ["POLICIES"].split()
def run(tag):
    # IOPS as fio's group_reporting and the kernel anchor: sum(job write ios) / max(job runtime)
    t = open(os.path.join(out, tag + ".json")).read()
    d = json.loads(t[t.index("{"):])
    ios = sum(j["write"]["total_ios"] for j in d["jobs"])
    rt = max(j["write"]["runtime"] for j in d["jobs"])
    errs = sum(j["error"] for j in d["jobs"])
    s0 = json.load(open(os.path.join(out, tag + ".stats0")))
    s1 = json.load(open(os.path.join(out, tag + ".stats1")))
    delta = {k: s1.get(k, 0) - s0.get(k, 0) for k in ("write_shared", "write_exclusive", "dio_drains", "lock_waits")}
    return ios / (rt / 1000) if rt else 0.0, errs, delta
for t in tests:
    print(f"\n### fio nbd, test {t} (IOPS; iodepth=1 per job, one NBD connection per job)\n")
    print("| jobs | " + " | ".join(pols) + " | " + " / ".join(p.split("-")[0] for p in pols) + " exclusive writes |")
    print("|---|" + "---|" * len(pols) + "---|")
    for j in jobs:
        cells, excl = [], []
        for p in pols:
            iops, errs, d = run(f"test{t}-{p}-j{j}")
            cells.append(f"{iops:,.0f}" + (f" ({errs} errors)" if errs else ""))
            n = d["write_shared"] + d["write_exclusive"]
            excl.append(f"{100.0 * d['write_exclusive'] / n:.0f}%" if n else "-")
        print(f"| {j} | " + " | ".join(cells) + " | " + " / ".join(excl) + " |")
EOF
