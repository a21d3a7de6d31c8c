#!/usr/bin/env bash
# A served TLS client's 8 KiB write throughput (1 job, 8 s after a 3 s warm-up), without and then with
# 2000 half-open connections opened 1 s into the run (after the client has connected).
set -u
cd "$(dirname "$0")/.."
D=${DIR:-target/tls-bench}; mkdir -p "$D"; C=$D/certs  # made by tls/bench.sh
A="--tls-ca $C/alice/ca-cert.pem --tls-cert $C/alice/client-cert.pem --tls-key $C/alice/client-key.pem"
./dionode serve --device $D/tls.img --size 1G --port 17402 --tls-cert $C/server-cert.pem --tls-key $C/server-key.pem --tls-ca $C/ca-cert.pem > $D/tls2.log 2>&1 & P=$!
for i in $(seq 60); do grep -q listening $D/tls2.log && break; sleep 1; done
run() { ./loadgen run --target 127.0.0.1:17402 --file h --layout $1 --pattern seq --bs 8k --jobs 1 --duration 8 --warmup 3 --region-mib 256 ${2:-} $A 2>&1 | grep -E "latency us|rror|refused|EIO" | head -3; }
echo "== unloaded"; run written --keep
echo "== with 2000 half-open"
(sleep 1; python3 tls/half-open.py 127.0.0.1 17402 2000 12 > $D/half2.txt) &
run existing; wait %1 2>/dev/null; sleep 1; cat $D/half2.txt
./dionode stats --target 127.0.0.1:17402 $A | tr ',' '\n' | grep -E 'tls_failures|refused_connections'
kill $P; wait $P
