"""Batch norm in the paper's CNN space under weight sharing: one per choice, or recalibrated per child? Measured by how
well each ranks children that were trained from scratch.

    python benchmarks/oneshot_cnn_bn.py --data-dir /tmp/nas_rl_cifar10 [--n-train 2000 --n-valid 500 --epochs 6
        --every 5 --per-step 4 --recal 4] --json OUT.json

Ground truth: the 96 children of the random arm of `benchmarks/results/control.json` (the paper's CNN space, depth 6,
each trained from scratch for 2 epochs on 1,000 CIFAR-10 images on this machine); a child's accuracy is its reward's
cube root (the paper's reward is the validation accuracy cubed). Random children, so the truth is not biased toward
what one controller liked.

Two `CNNSuperNet`s of the same space and depth are trained on the same `--n-train` images by the library's loop
(`SharedWeightsTask`, `SharedTraining`, `Search`) with uniformly random paths (RSPS, so that no controller's taste
enters), one with each batch-norm kind:
  batch   one `BatchNorm2d(64)` per layer, the first nf features a child's; the statistics of the batch being scored;
  choice  one `BatchNorm2d(nf)` per layer and filter count, with running statistics gathered during training.
Each of the 96 children is then scored on the same `--n-valid` held-out images four ways: each network as it is, and
each with its batch norm re-estimated for that child on `--recal` training batches (`score(arch, recal=k)`).
Reported: Kendall tau and Spearman rho of each against the from-scratch accuracy, the mean shared-weight accuracy,
and wall times. The two networks train at once, one torch thread each. Nothing was tuned: the training budget is the
weight-sharing CNN benchmark's (`oneshot_cnn.py`), `--recal 4` a cheap count (512 images).
`--data-dir` is CIFAR-10 as folders (`python ../shared/data/cifar10/materialize.py --out DIR` writes them).
"""
import argparse, json, os, platform, sys, time
from pathlib import Path
ROOT = Path(__file__).resolve().parents[1]

def run_one(a, bn:str, archs:list) -> dict:
    "Train a `CNNSuperNet(bn=bn)` with random paths, then score every arch in `archs` as it is and recalibrated."
    os.environ['OMP_NUM_THREADS'] = '1'
    import torch
    torch.set_num_threads(1)
    from nas_rl.core import arch_from_json
    from nas_rl.data import cifar10_data
    from nas_rl.spaces.cnn import CNNSpace
    from nas_rl.models.cnn import CNNSuperNet
    from nas_rl.tasks.shared import SharedWeightsTask, SharedTraining
    from nas_rl.strategies import RandomSearch
    from nas_rl.search import Search
    sp = CNNSpace(depth=6)
    data = cifar10_data(a.data_dir, n_train=a.n_train, n_valid=a.n_valid, seed=a.seed, device='cpu')
    torch.manual_seed(a.seed)
    task = SharedWeightsTask(data, CNNSuperNet(sp, 6, data.n_in, data.n_out, bn=bn), epochs=a.epochs, device='cpu')
    cb = SharedTraining(every=a.every, warmup=0, seed=a.seed)
    t0 = time.perf_counter()
    Search(sp, task, RandomSearch(sp, seed=a.seed), n_children=a.epochs * a.every * a.per_step, per_step=a.per_step, seed=a.seed, cbs=cb).run()
    t_train = time.perf_counter() - t0
    archs = [arch_from_json(j) for j in archs]
    t1 = time.perf_counter(); plain = [task.score(x) for x in archs]; t_plain = time.perf_counter() - t1
    t1 = time.perf_counter(); recal = [task.score(x, recal=a.recal) for x in archs]; t_recal = time.perf_counter() - t1
    print(f"bn={bn}: trained {t_train:.0f}s (losses {[round(l, 3) for l in cb.losses]}), scored {len(archs)} children in "
          f"{t_plain:.0f}s as is and {t_recal:.0f}s recalibrated", flush=True)
    return {'bn': bn, 'losses': cb.losses, 'skipped': task.skipped, 'train_s': t_train, 'score_s': t_plain, 'score_recal_s': t_recal,
            'train_images_per_s': a.epochs * a.n_train / t_train, 'scores': plain, 'scores_recal': recal}

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument('--data-dir', required=True)
    p.add_argument('--control', default=str(ROOT/'benchmarks'/'results'/'control.json'))
    p.add_argument('--arm', default='random (ctl-random)', help="the control experiment's run whose children are the truth")
    p.add_argument('--n-train', type=int, default=2000); p.add_argument('--n-valid', type=int, default=500)
    p.add_argument('--epochs', type=int, default=6)
    p.add_argument('--every', type=int, default=5); p.add_argument('--per-step', type=int, default=4)
    p.add_argument('--recal', type=int, default=4, help='training batches to re-estimate batch norm on, per child')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--json', default=None)
    a = p.parse_args()
    sys.path.insert(0, str(ROOT/'benchmarks'))
    from oneshot_cnn import _str_to_json
    run = json.loads(Path(a.control).read_text())['runs'][a.arm]
    ok = [i for i, s in enumerate(run['statuses']) if s == 'ok']
    archs = [_str_to_json(run['archs'][i]) for i in ok]
    truth = [run['rewards'][i] ** (1/3) for i in ok]
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing as mp
    t0 = time.perf_counter()
    with ProcessPoolExecutor(2, mp_context=mp.get_context('spawn')) as ex:
        runs = list(ex.map(run_one, [a]*2, ['batch', 'choice'], [archs]*2))
    wall = time.perf_counter() - t0
    from scipy import stats
    import statistics as st
    rows = []
    for r in runs:
        for how, key in (('as is', 'scores'), (f'recalibrated on {a.recal}', 'scores_recal')):
            s = r[key]
            rows.append({'bn': r['bn'], 'scored': how, 'kendall_tau': float(stats.kendalltau(s, truth).statistic),
                         'spearman': float(stats.spearmanr(s, truth).statistic), 'mean_shared_acc': st.mean(s)})
    print(f"\n{len(truth)} from-scratch children (mean accuracy {st.mean(truth):.3f}, range {min(truth):.3f}-{max(truth):.3f})")
    print(f"{'bn':>7} {'scored':>18} {'tau':>7} {'rho':>7} {'mean shared acc':>15}")
    for r in rows: print(f"{r['bn']:>7} {r['scored']:>18} {r['kendall_tau']:>7.3f} {r['spearman']:>7.3f} {r['mean_shared_acc']:>15.3f}")
    print(f"wall {wall:.0f}s, the two networks at once")
    import torch
    out = {'benchmark': 'oneshot_cnn_bn', 'rows': rows, 'runs': runs, 'truth': truth, 'archs': [run['archs'][i] for i in ok],
           'wall_s': wall, 'settings': vars(a),
           'machine': f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, CPU; the two networks at once, one torch thread each"}
    if a.json: Path(a.json).write_text(json.dumps(out, indent=1) + '\n'); print(f"wrote {a.json}")

if __name__ == '__main__': main()
