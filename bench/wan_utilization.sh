#!/usr/bin/env bash
# Compute utilization of ddp and diloco when workers are 100 Mbit/s apart.
# Each worker runs in its own network namespace, joined to a bridge in the
# root namespace (where the coordinator runs) by a veth pair whose two ends
# are rate-limited with `tc qdisc ... tbf rate 100mbit` (this kernel has tbf
# and htb, no netem). Both strategies train the Fashion-MNIST MLP for the same
# steps; utilization is the share of each round not spent waiting in
# collectives (the engine measures it), averaged over rounds, from the logs.
# The effect of a 50 ms round-trip time is added from the measured number of
# collective calls: each ring all-reduce / all-gather over 2 workers waits
# about one round trip more.
#   sudo bench/wan_utilization.sh [BUILD_DIR]      (root: namespaces and tc)
#   DILOCO_H=250 sudo bench/wan_utilization.sh     (inner steps per round)
#   BENCH_MODEL=char-gpt sudo bench/wan_utilization.sh
#       (benchmark (b)'s char-gpt, 2 layers, width 64, on tinyshakespeare,
#        instead of the Fashion-MNIST MLP)
set -euo pipefail
build=$(realpath "${1:-build}")
bin="$build/cairn"
work=$(mktemp -d /tmp/cairn-wan.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for i in 1 2; do ip netns del "cairn-w$i" 2>/dev/null || true; done
  ip link del br-cairn 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

ip link add br-cairn type bridge
ip addr add 10.77.0.1/24 dev br-cairn
ip link set br-cairn up
for i in 1 2; do
  ns="cairn-w$i"
  ip netns add "$ns"
  ip link add "w$i-br" type veth peer name "w$i-ns"
  ip link set "w$i-ns" netns "$ns"
  ip link set "w$i-br" master br-cairn up
  ip netns exec "$ns" ip addr add "10.77.0.1$i/24" dev "w$i-ns"
  ip netns exec "$ns" ip link set "w$i-ns" up
  ip netns exec "$ns" ip link set lo up
  tc qdisc add dev "w$i-br" root tbf rate 100mbit burst 32kbit latency 400ms               # toward the worker
  ip netns exec "$ns" tc qdisc add dev "w$i-ns" root tbf rate 100mbit burst 32kbit latency 400ms  # from it
done

where=(--coordinator 10.77.0.1:7450 --coordinator-http 7480)
CAIRN_HOME="$work/coord-home" "$bin" coordinator --data-dir "$work/coord" --bus tcp://10.77.0.1:7450 \
  --http 10.77.0.1:7480 >"$work/coord.log" 2>&1 &
pids+=($!)
sleep 1
model=${BENCH_MODEL:-mlp}
if [ "$model" = char-gpt ]; then
  shared=${CAIRN_SHARED_DATA:-$(dirname "$build")/../shared/data}
  CAIRN_HOME="$work/alice" "$bin" dataset add "$shared/tinyshakespeare/input.txt" --name corpus --format text \
    --license CC0-1.0 "${where[@]}" >/dev/null 2>&1
  model_lines="model: char-gpt
datasets: [corpus]"
  shape="layers: 2, heads: 4, width: 64, context: 64, lr: 0.002, batch_size: 32"
else
  CAIRN_HOME="$work/alice" "$bin" dataset add /usr/share/datasets/fashion-mnist --name corpus --format idx \
    --license MIT "${where[@]}" >/dev/null 2>&1
  model_lines="model: mlp
datasets: [corpus]"
  shape="batch_size: 64"
fi
for i in 1 2; do
  ip netns exec "cairn-w$i" env CAIRN_HOME="$work/w$i" CAIRN_LOG_LEVEL=warn "$bin" worker --name "w$i" --threads 1 \
    --measure-seconds 0 "${where[@]}" >"$work/w$i.log" 2>&1 &
  pids+=($!)
done
sleep 2

common="kind: train
$model_lines
resources: {workers: 2}"
cat >"$work/ddp.yaml" <<EOT
name: wan-ddp
$common
hyperparameters: {$shape, steps: 300, round_steps: 50}
strategy: ddp
EOT
cat >"$work/diloco.yaml" <<EOT
name: wan-diloco
$common
hyperparameters: {$shape, steps: $((6 * ${DILOCO_H:-100}))}
strategy: {diloco: {inner_steps: ${DILOCO_H:-100}, compress: int8}}
EOT
for s in ddp diloco; do
  CAIRN_HOME="$work/alice" "$bin" submit "$work/$s.yaml" --follow "${where[@]}" >"$work/$s.out" 2>&1 || {
    cat "$work/$s.out"; exit 1; }
done

BATCH=$([ "$model" = char-gpt ] && echo 32 || echo 64) python3 - "$work" <<'PY'
import os, re, sys
work = sys.argv[1]
print("%-18s %8s %12s %14s %12s %22s" % ("strategy", "rounds", "calls/round", "compute/round", "utilization", "with 50 ms RTT (est.)"))
batch = int(os.environ["BATCH"])
for name, calls_per_round in (("ddp", 50), ("diloco", 1)):
    text = open(f"{work}/{name}.out").read()
    rows = re.findall(r"\] round (\d+)/(\d+) loss \S+ (?:(?:test_acc|val_loss) \S+ )?samples/s (\d+) sent \S+ KiB compute (\d+)%", text)
    steps = 50 if name == "ddp" else int(os.environ.get("DILOCO_H", "100"))
    util, util_rtt, compute = [], [], []
    for _, _, sps, comp in rows:
        round_s = steps * batch / max(1.0, float(sps))
        compute_s = round_s * float(comp) / 100
        compute.append(compute_s)
        util.append(compute_s / round_s)
        util_rtt.append(compute_s / (round_s + calls_per_round * 0.050))
    if not util:
        print(name, "no rounds parsed"); continue
    print("%-18s %8d %12d %13.3fs %11.1f%% %21.1f%%" % (name, len(util), calls_per_round,
          sum(compute) / len(compute), 100 * sum(util) / len(util), 100 * sum(util_rtt) / len(util_rtt)))
PY
