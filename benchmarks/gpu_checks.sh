#!/bin/bash
# GPU checks and timings, run as one script on a lent GPU machine (torch preinstalled, no network).
# It expects, in the repo root, an untracked folder .gpu/ holding: whl/ (py3.12 wheels of fastai 2.8.7, fastcore,
# nbdev 2.4.14, execnb, ipython and their pure-Python needs), cifar/ (a 25,000/3,000-image subset of
# ../shared/data/cifar10/cifar10_jpeg.npz in the same format, with materialize.py), nb201_cifar10.csv.xz and ptb/.
# Results go to $OUT (default ./gpu_out). Usage: bash benchmarks/gpu_checks.sh [control|ptb|all]
export PYTHONUNBUFFERED=1 OUT=${OUT:-$PWD/gpu_out}; mkdir -p $OUT
what=${1:-all}
log() { echo "== $(date +%T) $*" | tee -a $OUT/log.txt; }
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PATH=/tmp/site/bin:$PATH
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee -a $OUT/log.txt
python3 -c "import torch, fastai; print('torch', torch.__version__, 'fastai', fastai.__version__, 'cuda', torch.cuda.is_available())" 2>&1 | tee -a $OUT/log.txt
GPU="$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1), torch $(python3 -c 'import torch; print(torch.__version__)')"
mkdir -p ../shared/data/nb201 2>/dev/null && cp .gpu/nb201_cifar10.csv.xz ../shared/data/nb201/ 2>/dev/null
mkdir -p ../shared/data/ptb 2>/dev/null && cp .gpu/ptb/*.txt ../shared/data/ptb/ 2>/dev/null
nas() { python3 -c "import sys; from nas_rl.cli import main; sys.exit(main())" "$@"; }

if [ $what = control ] || [ $what = all ]; then
  python3 .gpu/cifar/materialize.py --out /tmp/cifar >/dev/null || exit 1
  log "control experiment: REINFORCE and random search side by side on one GPU, stopped at ${CTL_S:=230}s"
  for s in reinforce random; do
    timeout $CTL_S python3 -c "import sys; from nas_rl.cli import main; sys.exit(main())" search --dataset cifar10 \
      --data-dir /tmp/cifar --n-train 10000 --n-valid 2000 --epochs 4 --children 400 --per-step 4 --lr 0.01 \
      --strategy $s --seed 0 --run-dir /tmp/ctl/$s --device cuda --quiet > /tmp/ctl-$s.log 2>&1 &
  done
  log "notebook tests with CUDA as the default device (and the cuda-flagged cells)"
  timeout 200 nbdev_test --path nbs --file_re '^(0[0-35-9]|12).*' --skip_folder_re '^(tutorials|[_.])' --flags cuda \
    --n_workers 4 --timing >> $OUT/log.txt 2>&1; log "nbdev_test rc $?"
  wait
  tail -3 /tmp/ctl-*.log >> $OUT/log.txt
  for s in reinforce random; do mkdir -p $OUT/ctl_$s; cp /tmp/ctl/$s/run.db $OUT/ctl_$s/; done
  python3 benchmarks/control.py --runs $OUT/ctl_reinforce $OUT/ctl_random --json $OUT/control.json --plot $OUT/control.png \
    --machine "$GPU, both arms at once on one GPU" 2>&1 | tee -a $OUT/log.txt
  log "child overhead on the GPU (fp16 on both sides)"
  timeout 90 python3 benchmarks/child_overhead.py --device cuda --cifar-dir /tmp/cifar --n-train 20000 --reps 3 --epochs 3 2 \
    --json $OUT/child_overhead_cuda.json 2>&1 | tail -6 | tee -a $OUT/log.txt
fi

if [ $what = ptb ] || [ $what = all ]; then
  log "PTB cell benchmarks on the GPU"
  timeout ${PTB_S:-300} python3 benchmarks/cell.py --device cuda --data-dir .gpu/ptb --json $OUT/cell_cuda.json 2>&1 | tee -a $OUT/log.txt
fi
log done
