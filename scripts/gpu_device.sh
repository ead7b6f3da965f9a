#!/usr/bin/env bash
# Runs ON the GPU machine lent by the device tool (README.md, "On a GPU").
#
#   bash scripts/gpu_device.sh receive          # calls 1..K-1: keep this call's parts
#   bash scripts/gpu_device.sh bench [ARGS...]  # last call: keep its parts, install the
#                                               # carried wheels, rebuild the datasets,
#                                               # run scripts/gpu_bench.py ARGS
#
# Each device call copies the working tree afresh (64 MiB at most), so the data
# packed by `python scripts/gpu_pack.py pack` travels as .gpu/call-1, .gpu/call-2,
# ... one folder per call, each kept under $CVBENCH_PARTS_DIR (default
# /tmp/cvbench-parts), which outlives the call while the machine stays warm.
# Wheels in .whl/ (keras and what the GPU image lacks) install into /tmp/site.
# Rows go to $OUT/gpu_bench.csv ($OUT is the device tool's folder that comes back).
set -euo pipefail
cd "$(dirname "$0")/.."

parts="${CVBENCH_PARTS_DIR:-/tmp/cvbench-parts}"
data="${CVBENCH_GPU_DATA:-/tmp/cvbench-data}"
mkdir -p "$parts"
shopt -s nullglob
for f in .gpu/call-*/*; do
  cp "$f" "$parts/"
done
echo "gpu_device: $(ls "$parts" | wc -l) files in $parts"

mode="${1:-receive}"
[ "$#" -gt 0 ] && shift
case "$mode" in
  receive) exit 0 ;;
  bench) ;;
  *) echo "gpu_device: unknown mode '$mode' (receive or bench)" >&2; exit 2 ;;
esac

wheels=(.whl/*.whl)
if [ "${#wheels[@]}" -gt 0 ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site "${wheels[@]}"
  export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
python3 scripts/gpu_pack.py unpack "$parts" --into "$data"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
export KERAS_BACKEND="${KERAS_BACKEND:-jax}" PYTHONUNBUFFERED=1
python3 scripts/gpu_bench.py --data-dir "$data" --out "${OUT:-results}/gpu_bench.csv" "$@"
