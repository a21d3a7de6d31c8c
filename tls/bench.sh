#!/usr/bin/env bash
# TLS cost: 8 KiB sequential overwrites at 1 and 16 jobs, plain and TLS nodes, one run; then a TLS
# node's 1-job throughput without and with 2000 half-open connections.
set -u
cd "$(dirname "$0")/.."
D=${DIR:-target/tls-bench}; mkdir -p "$D"
C=$D/certs
rm -rf $C; ./dionode certs --dir $C --server-name 127.0.0.1 --client alice >/dev/null
A="--tls-ca $C/alice/ca-cert.pem --tls-cert $C/alice/client-cert.pem --tls-key $C/alice/client-key.pem"
./dionode serve --device $D/plain.img --size 1G --port 17401 > $D/plain.log 2>&1 & P1=$!
./dionode serve --device $D/tls.img --size 1G --port 17402 --tls-cert $C/server-cert.pem --tls-key $C/server-key.pem --tls-ca $C/ca-cert.pem > $D/tls.log 2>&1 & P2=$!
for i in $(seq 60); do grep -q listening $D/plain.log && grep -q listening $D/tls.log && break; sleep 1; done
run() { ./loadgen run --target 127.0.0.1:$1 --file f$3 --layout written --pattern seq --bs 8k --jobs $3 --duration 5 --warmup 1 --region-mib $((256/$3)) ${4:-} 2>&1 | grep -E '^(throughput|latency|IOPS)|iops|p50' | head -3; }
for j in 1 16; do
  echo "== plain j$j"; run 17401 x $j
  echo "== tls j$j"; run 17402 x $j "$A"
done
echo "== tls j1 unloaded"; run 17402 x 1 "$A"
python3 tls/half-open.py 127.0.0.1 17402 2000 25 > $D/half.txt & H=$!
sleep 5
echo "== tls j1 with 2000 half-open"; run 17402 x 1 "$A"
wait $H; cat $D/half.txt
./dionode stats --target 127.0.0.1:17402 $A | tr ',' '\n' | grep -E 'tls_failures|refused_connections|connections_native'
kill $P1 $P2; wait
