#!/usr/bin/env bash
# End-to-end ledger benchmarks on a real SQLite data directory:
#  1. durable appends/s of pre-signed entries, each signature verified before
#     it is stored, with group commit (`cairn ledger load`, 2 appending
#     threads), against Ed25519 verification alone on the same 2 cores (the
#     ceiling: every entry needs one verification);
#  2. p99 latency from append to inclusion in a signed checkpoint (same run);
#  3. `cairn ledger verify` throughput on one core against one-core Ed25519
#     verification.
# Usage: bench/ledger_append.sh [BUILD_DIR] [ENTRIES]
set -euo pipefail
BUILD="${1:-build}"
N="${2:-100000}"
DIR="$(mktemp -d /tmp/cairn-ledger-bench-XXXXXX)"
trap 'rm -rf "$DIR"' EXIT

"$BUILD/cairn" ledger init --data-dir "$DIR/ledger" --origin cairn.bench/ledger >/dev/null
baseline() {  # -> "one-core-verifies/s two-core-verifies/s"
  "$BUILD/bench/ledger_bench" --benchmark_filter='BM_Ed25519VerifyOneShotBaseline' --benchmark_min_time=2 \
      --benchmark_format=json 2>/dev/null |
    python3 -c '
import json, sys
b = {x["name"]: x["items_per_second"] for x in json.load(sys.stdin)["benchmarks"]}
one = [v for k, v in b.items() if "threads:1" in k][0]; two = [v for k, v in b.items() if "threads:2" in k][0]
print(one, two)'
}
read -r v1a v2a < <(baseline)
load_json=$("$BUILD/cairn" ledger load --data-dir "$DIR/ledger" --entries "$N" --threads 2 --json 2>/dev/null)
start=$(date +%s.%N)
taskset -c 0 "$BUILD/cairn" ledger verify "$DIR/ledger" --json >/dev/null
end=$(date +%s.%N)
read -r v1b v2b < <(baseline)
python3 - "$load_json" "$start" "$end" "$N" "$v1a" "$v2a" "$v1b" "$v2b" <<'PY'
import json, sys
load = json.loads(sys.argv[1])
start, end, n = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
v1 = (float(sys.argv[5]) + float(sys.argv[7])) / 2
v2 = (float(sys.argv[6]) + float(sys.argv[8])) / 2
verify_rate = n / (end - start)
print(f"entries: {n}")
print(f"durable appends/s (2 threads, group commit): {load['entries_per_second']:.0f}"
      f"  vs Ed25519 verify on 2 threads {v2:.0f}/s  ratio {load['entries_per_second'] / v2:.3f}"
      f"  ({load['batches']} batches)")
print(f"append -> signed checkpoint latency: p50 {load['p50_ms']:.2f} ms  p99 {load['p99_ms']:.2f} ms  max {load['max_ms']:.2f} ms")
print(f"verify (1 core): {verify_rate:.0f} entries/s  vs Ed25519 verify on 1 core {v1:.0f}/s  ratio {verify_rate / v1:.3f}")
PY
