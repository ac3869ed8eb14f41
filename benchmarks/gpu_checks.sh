#!/usr/bin/env bash
# Everything nas_rl checks on a GPU, in one run of at most ~8 minutes on one GPU: bash benchmarks/gpu_checks.sh OUT
#
# The GPU machines lent here have torch but no network and none of fastai, nbdev and their needs: on a machine with
# a network first run `python benchmarks/gpu_prep.py`, which puts Python 3.12 wheels of exactly the versions CI tests
# and the PTB text into .gpu/ (ignored by git; about 20 MiB), and send .gpu with the tree (the device tool: carry
# [".gpu"]). Without .gpu/ the script uses what is installed. Steps, each with its own time limit:
#   1. the notebook cells flagged `#| cuda` (and every other cell of 04, 05, 11 and 11a) with CUDA the default device;
#   2. benchmarks/gpu_checks.py: precision, autocast after a failed child, syncs per batch, images/s, tokens/s,
#      tiny digits searches (serial, pool of 2, --deterministic twice) and a tiny PTB cell search.
# OUT gets log.txt, gpu_checks.json and nbdev_test.txt. The exit code is that of the first step that failed.
set -uo pipefail
OUT=${1:?usage: bash benchmarks/gpu_checks.sh OUT}
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
cd "$(dirname "$0")/.."
exec > >(tee -a "$OUT/log.txt") 2>&1
export PYTHONUNBUFFERED=1 PYTHONWARNINGS=ignore
t0=$(date +%s); rc=0
step() { echo; echo "== $(date +%T) (+$(( $(date +%s) - t0 ))s) $*"; }
fail() { echo "FAILED ($1): $2"; [ $rc -ne 0 ] || rc=$1; }

step "packages"
if ls .gpu/whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/whl/*.whl || { echo "wheels did not install"; exit 1; }
  export PYTHONPATH=/tmp/site:$PWD PATH=/tmp/site/bin:$PATH
else export PYTHONPATH=$PWD; echo "no .gpu/whl: using what is installed"; fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "nvidia-smi not found"
python3 -c "import torch, fastai, nas_rl; print('torch', torch.__version__, '| fastai', fastai.__version__, '| cuda', torch.cuda.is_available())" || { echo "cannot import nas_rl's stack"; exit 1; }

step "1. notebook tests with the cuda flag (04, 05, 11, 11a), at most 150 s"
timeout -s INT 150 nbdev_test --path nbs --file_re '^(04|05|11).*\.ipynb$' --skip_folder_re '^(tutorials|[_.])' --flags cuda \
  --n_workers 2 --timing > "$OUT/nbdev_test.txt" 2>&1 || fail 2 "nbdev_test (see nbdev_test.txt)"
tail -15 "$OUT/nbdev_test.txt"

step "2. checks and timings, at most 330 s"
timeout -s INT 330 python3 benchmarks/gpu_checks.py --out "$OUT" --device "${DEVICE:-cuda}" || fail 3 "benchmarks/gpu_checks.py"

step "done, rc $rc"
exit $rc
