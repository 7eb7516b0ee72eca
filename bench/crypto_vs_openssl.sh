#!/usr/bin/env bash
# Ed25519 sign/verify per second on one core, cairn against OpenSSL's own
# `openssl speed -seconds 3 ed25519` in the same session (OpenSSL is the
# ceiling cairn builds on). Prints a table with the ratios.
# Usage: bench/crypto_vs_openssl.sh [BUILD_DIR]
set -euo pipefail
BUILD="${1:-build}"
CORE="${CAIRN_BENCH_CORE:-0}"
pin() { if command -v taskset >/dev/null; then taskset -c "$CORE" "$@"; else "$@"; fi; }

openssl_rates() {
  # "... EdDSA (Ed25519)   0.0000s   0.0001s  23456.7   8765.4" -> "23456.7 8765.4"
  pin openssl speed -seconds 3 ed25519 2>/dev/null | awk '/Ed25519\)/ {print $(NF-1), $NF}' | tail -n 1
}
cairn_rates() {
  pin "$BUILD/bench/crypto_bench" --benchmark_filter='BM_Ed25519(Sign|Verify)$' \
      --benchmark_min_time=3 --benchmark_format=json 2>/dev/null |
    python3 -c 'import json,sys; b={x["name"]:x["items_per_second"] for x in json.load(sys.stdin)["benchmarks"]}; print(b["BM_Ed25519Sign"], b["BM_Ed25519Verify"])'
}

# Baseline before and after, so drift during the run shows up.
read -r o_sign1 o_verify1 < <(openssl_rates)
read -r c_sign c_verify < <(cairn_rates)
read -r o_sign2 o_verify2 < <(openssl_rates)
python3 - "$o_sign1" "$o_verify1" "$c_sign" "$c_verify" "$o_sign2" "$o_verify2" <<'PY'
import sys
os1, ov1, cs, cv, os2, ov2 = map(float, sys.argv[1:])
os_, ov = (os1 + os2) / 2, (ov1 + ov2) / 2
print(f"{'op':8} {'openssl/s':>12} {'cairn/s':>12} {'ratio':>7}")
print(f"{'sign':8} {os_:12.0f} {cs:12.0f} {cs/os_:7.3f}   (openssl runs: {os1:.0f}, {os2:.0f})")
print(f"{'verify':8} {ov:12.0f} {cv:12.0f} {cv/ov:7.3f}   (openssl runs: {ov1:.0f}, {ov2:.0f})")
PY
