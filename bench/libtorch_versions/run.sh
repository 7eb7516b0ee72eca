#!/usr/bin/env bash
# The same model's CPU step time on the LibTorch cairn builds against now
# (PyPI's torch wheel in .venv/) and on Debian 12's libtorch-dev 1.13 (what
# cairn used before), measured alternately in one run: bench/RESULTS.md
# records the ratio. Needs Debian's libtorch-dev installed for the old side
# (scripts/setup no longer installs it; `apt-get install libtorch-dev`).
#   bench/libtorch_versions/run.sh [STEPS=1000] [REPS=3] [THREADS=1]
set -euo pipefail
cd "$(dirname "$0")/../.."
steps=${1:-1000}; reps=${2:-3}; threads=${3:-1}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
src=bench/libtorch_versions/plain_step.cc
wheel=$(ls -d .venv/lib/python3*/site-packages/torch | head -1)
[ -d "$wheel/include" ] || { echo "no torch wheel in .venv/ (run scripts/setup --deps)" >&2; exit 1; }
nvlibs=$(ls -d "$wheel"/../nvidia/*/lib | tr '\n' ':')
echo "building against the wheel ($("$wheel/../../../../bin/python" -c 'import torch; print(torch.__version__)'))..."
g++ -O2 -std=c++20 -DNDEBUG "$src" -o "$out/new" -isystem "$wheel/include" -isystem "$wheel/include/torch/csrc/api/include" \
  -L"$wheel/lib" -Wl,-rpath,"${nvlibs}$wheel/lib" -ltorch -ltorch_cpu -lc10
have_old=0
if [ -f /usr/include/torch/csrc/api/include/torch/torch.h ] || [ -f /usr/include/torch/torch.h ]; then
  echo "building against Debian's libtorch-dev ($(dpkg-query -W -f='${Version}' libtorch-dev))..."
  g++ -O2 -std=c++17 -DNDEBUG "$src" -o "$out/old" -I/usr/include/torch/csrc/api/include -ltorch -ltorch_cpu -lc10
  have_old=1
else
  echo "Debian's libtorch-dev is not installed: only the wheel's side is measured"
fi
for model in mlp cnn; do
  n=$steps; [ "$model" = cnn ] && n=$((steps / 4))
  for r in $(seq "$reps"); do
    echo "$model new $("$out/new" "$model" "$n" "$threads")"
    [ $have_old = 1 ] && echo "$model old $("$out/old" "$model" "$n" "$threads")"
  done
done | tee "$out/runs"
echo
echo "| model | threads | 1.13 (Debian) ms/step, median | wheel ms/step, median | ratio wheel/1.13 |"
echo "|---|---|---|---|---|"
for model in mlp cnn; do
  med() { grep "^$model $1 " "$out/runs" | awk '{print $4}' | sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}'; }
  o=$(med old); n=$(med new)
  ratio=$(awk -v o="$o" -v n="$n" 'BEGIN { if (o == "-" || o == 0) print "-"; else printf "%.3f", n / o }')
  echo "| $model | $threads | $o | $n | $ratio |"
done
