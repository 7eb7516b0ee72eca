#!/usr/bin/env bash
# cairn's Ed25519 and SHA-256 on one core against OpenSSL's own loops
# (`openssl speed`), measured in the same session: OpenSSL is the ceiling
# cairn builds on, so the ratios say how much the wrapping costs.
#   Ed25519: `openssl speed -seconds 3 ed25519` (20-byte messages)
#   SHA-256: `openssl speed -seconds 3 -bytes N -evp sha256` for N = 64, 1 MiB
# The baseline runs before and after cairn's, so drift shows up.
# Usage: bench/crypto_vs_openssl.sh [BUILD_DIR]
set -euo pipefail
BUILD="${1:-build}"
CORE="${CAIRN_BENCH_CORE:-0}"
pin() { if command -v taskset >/dev/null; then taskset -c "$CORE" "$@"; else "$@"; fi; }

openssl_ed25519() {  # -> "sign/s verify/s"
  pin openssl speed -seconds 3 ed25519 2>/dev/null | awk '/Ed25519\)/ {print $(NF-1), $NF}' | tail -n 1
}
openssl_sha256() {  # $1 bytes -> bytes/s
  pin openssl speed -seconds 3 -bytes "$1" -evp sha256 2>/dev/null |
    awk '/^sha256/ {v=$NF; sub(/k$/, "", v); printf "%.0f\n", v * 1000}' | tail -n 1
}
cairn_rates() {  # -> "sign/s verify/s sha64 B/s sha1M B/s"
  pin "$BUILD/bench/crypto_bench" --benchmark_filter='BM_Ed25519(Sign|Verify)$|BM_Sha256' \
      --benchmark_min_time=3 --benchmark_format=json 2>/dev/null |
    python3 -c '
import json, sys
b = {x["name"]: x for x in json.load(sys.stdin)["benchmarks"]}
print(b["BM_Ed25519Sign"]["items_per_second"], b["BM_Ed25519Verify"]["items_per_second"],
      b["BM_Sha256/64"]["bytes_per_second"], b["BM_Sha256/1048576"]["bytes_per_second"])'
}

read -r os1 ov1 < <(openssl_ed25519)
h64a=$(openssl_sha256 64); h1ma=$(openssl_sha256 1048576)
read -r cs cv c64 c1m < <(cairn_rates)
read -r os2 ov2 < <(openssl_ed25519)
h64b=$(openssl_sha256 64); h1mb=$(openssl_sha256 1048576)
python3 - "$os1" "$ov1" "$os2" "$ov2" "$h64a" "$h64b" "$h1ma" "$h1mb" "$cs" "$cv" "$c64" "$c1m" <<'PY'
import sys
os1, ov1, os2, ov2, h64a, h64b, h1ma, h1mb, cs, cv, c64, c1m = map(float, sys.argv[1:])
rows = [("ed25519 sign /s", os1, os2, cs), ("ed25519 verify /s", ov1, ov2, cv),
        ("sha256 64 B, MB/s", h64a / 1e6, h64b / 1e6, c64 / 1e6),
        ("sha256 1 MiB, MB/s", h1ma / 1e6, h1mb / 1e6, c1m / 1e6)]
print(f"{'op':20} {'openssl':>10} {'cairn':>10} {'ratio':>6}   openssl before/after")
for name, a, b, c in rows:
    base = (a + b) / 2
    print(f"{name:20} {base:10.0f} {c:10.0f} {c / base:6.3f}   {a:.0f} / {b:.0f}")
PY
