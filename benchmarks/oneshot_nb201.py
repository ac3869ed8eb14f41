"""Weight sharing on NAS-Bench-201, against the table's ground truth.

    python benchmarks/oneshot_nb201.py --table ../shared/data/nb201/nb201_cifar10.csv.xz --data-dir /tmp/nas_rl_cifar10 \\
        [--channels 8 --cells 1 --n-train 5000 --n-valid 1000 --epochs 25 --seeds 3 --n-eval 200 --jobs 2] --json OUT.json

One NAS-Bench-201 shared network (`nas_rl.models.nb201.NB201SuperNet`, `--channels` C and `--cells` N per stage)
is trained per (strategy, seed) on a stratified CIFAR-10 subset (`--n-train` training images; `--n-valid` held-out
training images score the paths), through the library's own loop: `SharedWeightsTask`, `SharedTraining` and `Search`,
then `derive`. Strategies: REINFORCE (the controller samples the training paths and learns from validation
minibatches, ENAS-style) and RSPS (random search: uniform paths, the same code). It reports:
  (i)  Kendall tau and Spearman rho between the shared-weight validation accuracy of `--n-eval` random cells (scored
       on the first seed's RSPS network) and the table's `c10_valid_200`: with batch statistics of each validation
       batch, and with batch norm re-estimated per cell on `--recal` training batches (`score(arch, recal=k)`);
  (ii) each run's derived pick (best of `--derive` sampled cells by shared-weight validation accuracy) and its table
       `c10_test_200`;
  (iii) wall time and training images/s.
`--data-dir` is CIFAR-10 as folders (`python ../shared/data/cifar10/materialize.py --out DIR` writes them).
The REINFORCE settings are the ones tuned on the table for multi-trial search (lr 0.01, entropy 0.003, logits
2.5*tanh); nothing here was tuned on this benchmark's seeds or on test accuracy.
"""
import argparse, json, os, platform, random, time
from pathlib import Path

def run_one(a, strategy:str, seed:int, with_tau:bool) -> dict:
    "Train one shared network with `strategy`, derive its pick, and (if `with_tau`) score `a.n_eval` random cells."
    os.environ['OMP_NUM_THREADS'] = '1'
    import torch
    torch.set_num_threads(1)
    from nas_rl.data import cifar10_data
    from nas_rl.spaces.nb201 import NB201Space
    from nas_rl.models.nb201 import NB201SuperNet
    from nas_rl.tasks.nb201 import NB201Task
    from nas_rl.tasks.shared import SharedWeightsTask, SharedTraining, derive
    from nas_rl.strategies import Reinforce, RandomSearch
    from nas_rl.search import Search
    t0 = time.perf_counter()
    sp,table = NB201Space(),NB201Task(a.table)
    data = cifar10_data(a.data_dir, bs=a.bs, n_train=a.n_train, n_valid=a.n_valid, seed=seed, device='cpu')
    torch.manual_seed(seed)
    task = SharedWeightsTask(data, NB201SuperNet(C=a.channels, N=a.cells), epochs=a.epochs, lr=a.lr, device='cpu')
    strat = (Reinforce(sp, lr=0.01, entropy_weight=0.003, tanh_c=2.5, seed=seed) if strategy == 'reinforce'
             else RandomSearch(sp, seed=seed))
    cb = SharedTraining(every=a.every, warmup=a.warmup, seed=seed)
    n_children = (a.epochs - a.warmup) * a.every * a.per_step
    t_train = time.perf_counter()
    s = Search(sp, task, strat, n_children=n_children, per_step=a.per_step, seed=seed, cbs=cb).run()
    t_train = time.perf_counter() - t_train
    top = derive(task, strat, n=a.derive, k=5)
    pick,score = top[0]
    res = {'strategy': 'rsps' if strategy == 'random' else strategy, 'seed': seed, 'arch': str(pick), 'shared_valid_acc': score,
           'test_acc': table.test_acc(pick), 'table_valid_acc': table.rows[str(pick)][0],
           'top5': [{'arch': str(x), 'shared_valid_acc': v, 'test_acc': table.test_acc(x)} for x,v in top],
           'losses': cb.losses, 'children': s.n_done, 'search_wall_s': t_train,
           'train_images_per_s': a.epochs * a.n_train / max(t_train, 1e-9)}
    if with_tau:
        from scipy import stats
        rng = random.Random(12345)
        cells = list({str(c): c for c in (sp.decode(sp.random_tokens(rng)) for _ in range(a.n_eval))}.values())
        shared = [task.score(c) for c in cells]; truth = [table.rows[str(c)][0] for c in cells]
        recal = [task.score(c, recal=a.recal) for c in cells] if a.recal else None
        res['tau'] = {'kendall_tau': float(stats.kendalltau(shared, truth).statistic), 'spearman': float(stats.spearmanr(shared, truth).statistic),
                      'n_cells': len(cells), 'pairs': [[str(c), s_, t_] for c,s_,t_ in zip(cells, shared, truth)]}
        if recal: res['tau'] |= {'kendall_tau_recal': float(stats.kendalltau(recal, truth).statistic), 'spearman_recal': float(stats.spearmanr(recal, truth).statistic),
                                 'recal_scores': recal}
    res['wall_s'] = time.perf_counter() - t0
    return res

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument('--table', required=True); p.add_argument('--data-dir', required=True)
    p.add_argument('--channels', type=int, default=8); p.add_argument('--cells', type=int, default=1)
    p.add_argument('--n-train', type=int, default=5000); p.add_argument('--n-valid', type=int, default=1000)
    p.add_argument('--bs', type=int, default=128); p.add_argument('--lr', type=float, default=0.05)
    p.add_argument('--epochs', type=int, default=25, help='epochs of shared training per run (warm-up included)')
    p.add_argument('--warmup', type=int, default=5, help='epochs of uniformly random paths first (TuNAS)')
    p.add_argument('--every', type=int, default=5, help='controller steps per epoch of shared training')
    p.add_argument('--per-step', type=int, default=4, help='children (validation minibatches) per controller step')
    p.add_argument('--seeds', type=int, default=3); p.add_argument('--n-eval', type=int, default=200)
    p.add_argument('--derive', type=int, default=50, help='cells sampled from the final strategy to pick from')
    p.add_argument('--strategies', nargs='+', default=['reinforce', 'random'])
    p.add_argument('--recal', type=int, default=10, help='also rank the cells with batch norm re-estimated per cell on this many training batches (0: not)')
    p.add_argument('--jobs', type=int, default=2, help='runs at once (one torch thread each)')
    p.add_argument('--json', default=None)
    a = p.parse_args()
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing as mp
    t0 = time.perf_counter()
    jobs = [(s, seed, s == 'random' and seed == 0) for seed in range(a.seeds) for s in a.strategies]
    with ProcessPoolExecutor(a.jobs, mp_context=mp.get_context('spawn')) as ex:
        runs = list(ex.map(run_one, [a]*len(jobs), *zip(*jobs)))
    wall = time.perf_counter() - t0
    tau = next((r.pop('tau') for r in runs if 'tau' in r), None)
    picks = [{k: r[k] for k in ('strategy', 'seed', 'arch', 'test_acc', 'table_valid_acc', 'shared_valid_acc')} for r in runs]
    import statistics as st
    print(f"{'strategy':>10} {'seed':>4} {'test acc':>8} {'valid (table)':>13} {'shared valid':>12} {'wall s':>7}  pick")
    for r in runs: print(f"{r['strategy']:>10} {r['seed']:>4} {r['test_acc']:>8.2f} {r['table_valid_acc']:>13.2f} {r['shared_valid_acc']:>12.3f} {r['wall_s']:>7.0f}  {r['arch']}")
    summary = {s: {'mean_test_acc': st.mean(r['test_acc'] for r in runs if r['strategy'] == s),
                   'std_test_acc': st.pstdev([r['test_acc'] for r in runs if r['strategy'] == s])} for s in {r['strategy'] for r in runs}}
    for s,v in summary.items(): print(f"{s:>10}: mean test accuracy of the pick {v['mean_test_acc']:.2f} ± {v['std_test_acc']:.2f}")
    if tau: print(f"ranking of {tau['n_cells']} random cells (first RSPS network): Kendall tau {tau['kendall_tau']:.3f}, Spearman {tau['spearman']:.3f}"
                  + (f"; batch norm re-estimated per cell on {a.recal} training batches: tau {tau['kendall_tau_recal']:.3f}, Spearman {tau['spearman_recal']:.3f}" if 'kendall_tau_recal' in tau else ''))
    print(f"wall {wall:.0f}s with {a.jobs} runs at once; training {st.mean(r['train_images_per_s'] for r in runs):.0f} images/s per run")
    out = {'kendall_tau': tau and tau['kendall_tau'], 'spearman': tau and tau['spearman'], 'kendall_tau_recal': tau and tau.get('kendall_tau_recal'),
           'spearman_recal': tau and tau.get('spearman_recal'), 'tau_detail': tau, 'picks': picks,
           'summary': summary, 'runs': runs, 'wall_s': wall, 'settings': vars(a),
           'machine': f"{platform.machine()}, {os.cpu_count()} cores, {a.jobs} runs at once, 1 torch thread each"}
    if a.json: Path(a.json).write_text(json.dumps(out, indent=1) + '\n'); print(f"wrote {a.json}")
