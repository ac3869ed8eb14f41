"""Search under a budget on NAS-Bench-201, where the constrained optimum is known: regret and feasibility per strategy.

    python benchmarks/nb201_cost.py [--table ../shared/data/nb201/nb201_cifar10.csv.xz
        --latency benchmarks/results/nb201_latency.csv.xz --seeds 50 --budgets 50 100 200 500 --jobs 2] --json OUT.json

Costs: multiply-accumulates (the table's FLOPs column) and CPU latency at batch 1 (`nb201_latency.py`'s committed
table, measured on this machine). Targets: the 25th, 50th and 75th percentile of each cost over all 15,625 cells.
For each target the constrained optimum is the feasible cell (cost <= target) with the best validation accuracy
(`c10_valid_200`, the column the search sees); a run's pick at budget B is the best-validation *feasible* cell among
its first B queries, and its regret is the optimum's validation accuracy minus the pick's (points). A run with no
feasible cell in its first B queries has no pick: it counts against `feasible_share` and is left out of the regret.
The test accuracy (`c10_test_200`) of the picks and of the optimum is reported beside, for information.
Strategies, each through the library's `Search` with `CostTask(NB201Task(...), cost, target, reward)`:
  reinforce_mnas, reinforce_tunas, reinforce_hard  REINFORCE (the table-tuned settings of benchmarks/nb201.py: lr 0.01,
      2 children per step, entropy 0.003, logits 2.5*tanh) with each cost reward at the papers' weights;
  random  random search, keeping only the cells under the target (the cost-aware reward does not change its proposals);
  tpe_constrained  Optuna's TPE (defaults) maximising validation accuracy with the constraint cost/target - 1 <= 0
      (`OptunaStrategy(constraint=...)`, Optuna 5's constrained TPE): the budget as a constraint, not a reward penalty.
Seeds 0..N-1; nothing here was tuned, on these seeds or any other.
JSON: {strategy: {cost: {target_name: {budget: {mean_regret, std_regret, feasible_share, mean_test_acc, n}}}}, '_meta': {...}}
"""
import argparse, json, math, os, platform, statistics, time
from pathlib import Path
HERE = Path(__file__).parent
STRATS = ('reinforce_mnas', 'reinforce_tunas', 'reinforce_hard', 'random', 'tpe_constrained')

def run_one(job) -> dict:
    "One (strategy, cost, target, seed) run of the largest budget: each query's (valid, test, cost)."
    a, strat, cost, target, seed = job
    os.environ['OMP_NUM_THREADS'] = '1'
    import torch
    torch.set_num_threads(1)
    from nas_rl.spaces.nb201 import NB201Space
    from nas_rl.tasks.nb201 import NB201Task
    from nas_rl.costs import CostTask
    from nas_rl.strategies import get_strategy
    from nas_rl.search import Search
    global _TASK
    if '_TASK' not in globals(): _TASK = NB201Task(a.table, latency=a.latency)
    sp, n = NB201Space(), max(a.budgets)
    kind = strat.split('_')[1] if strat.startswith('reinforce_') else 'mnas'
    task = CostTask(_TASK, cost, target, kind, weight=0. if strat == 'tpe_constrained' else None, measure=(cost,)) # weight 0: the reward is the accuracy
    if strat == 'random': st, m = get_strategy('random', sp, seed=seed), 1
    elif strat == 'tpe_constrained':
        from nas_rl.strategies import OptunaStrategy
        st, m = OptunaStrategy(sp, 'tpe', seed=seed, constraint=lambda r: r.metrics['cost'][cost] / target - 1), 1
    else: st, m = get_strategy('reinforce', sp, seed=seed, lr=0.01, entropy_weight=0.003, tanh_c=2.5, baseline_decay=0.95), 2
    s = Search(sp, task, st, n_children=n, per_step=m, seed=seed).run()
    return [(r.metrics['valid_acc'][0] * 100, _TASK.test_acc(p.arch), r.metrics['cost'][cost]) for p, r in s.history]

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument('--table', default=str(HERE.parent.parent/'shared'/'data'/'nb201'/'nb201_cifar10.csv.xz'))
    p.add_argument('--latency', default=str(HERE/'results'/'nb201_latency.csv.xz'))
    p.add_argument('--costs', nargs='+', default=['macs', 'latency'], choices=['macs', 'latency'])
    p.add_argument('--budgets', type=int, nargs='+', default=[50, 100, 200, 500])
    p.add_argument('--seeds', type=int, default=50)
    p.add_argument('--strategies', nargs='+', default=list(STRATS), choices=list(STRATS))
    p.add_argument('--jobs', type=int, default=2)
    p.add_argument('--json', default=str(HERE/'results'/'nb201_cost.json'))
    p.add_argument('--merge', action='store_true', help="add these strategies to --json's existing results instead of replacing them")
    a = p.parse_args()
    from nas_rl.tasks.nb201 import NB201Task
    t = NB201Task(a.table, latency=a.latency)
    cells = list(t.rows)
    costs = {'macs': {c: t.rows[c][3] * 1e6 for c in cells}, 'latency': dict(t.latencies.get(1, {}))}
    targets, optimum = {}, {}
    for c in a.costs:
        vals = sorted(costs[c].values())
        for q in (25, 50, 75):
            T = vals[round(q / 100 * (len(vals) - 1))]
            feas = [x for x in cells if costs[c].get(x, math.inf) <= T]
            best = max(feas, key=lambda x: t.rows[x][0])
            targets[c, f'p{q}'] = T
            optimum[c, f'p{q}'] = {'target': T, 'feasible_cells': len(feas), 'arch': best, 'valid_acc': t.rows[best][0], 'test_acc': t.rows[best][1]}
    jobs = [(a, s, c, T, seed) for s in a.strategies for (c, q), T in targets.items() for seed in range(a.seeds)]
    print(f"{len(jobs)} runs of {max(a.budgets)} queries on {a.jobs} processes", flush=True)
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing as mp
    t0 = time.perf_counter()
    with ProcessPoolExecutor(a.jobs, mp_context=mp.get_context('spawn')) as ex:
        runs = list(ex.map(run_one, jobs, chunksize=8))
    wall = time.perf_counter() - t0
    out = {}
    for (_, s, c, T, seed), hist in zip(jobs, runs):
        q = next(k for (cc, k), v in targets.items() if cc == c and v == T)
        for B in a.budgets:
            feas = [(v, te) for v, te, x in hist[:B] if x <= T]
            cell = out.setdefault(s, {}).setdefault(c, {}).setdefault(q, {}).setdefault(str(B), {'regrets': [], 'tests': [], 'runs': 0})
            cell['runs'] += 1
            if feas:
                v, te = max(feas)
                cell['regrets'].append(optimum[c, q]['valid_acc'] - v); cell['tests'].append(te)
    for s, bc in out.items():
        for c, bq in bc.items():
            for q, bb in bq.items():
                for B, d in bb.items():
                    r = d.pop('regrets'); te = d.pop('tests'); n = d.pop('runs')
                    d.update(mean_regret=statistics.mean(r) if r else None, std_regret=statistics.pstdev(r) if r else None,
                             feasible_share=len(r) / n, mean_test_acc=statistics.mean(te) if te else None, n=n)
    print(f"\nregret (validation points to the constrained optimum) / feasible share, mean over {a.seeds} seeds; wall {wall:.0f}s")
    for c in a.costs:
        for q in ('p25', 'p50', 'p75'):
            o = optimum[c, q]
            print(f"\n{c} <= {o['target']:.4g} ({q}; {o['feasible_cells']} feasible cells; optimum valid {o['valid_acc']:.2f}, test {o['test_acc']:.2f})")
            print(f"{'strategy':>16} " + ' '.join(f"{'B=' + str(B):>14}" for B in a.budgets))
            for s in a.strategies:
                row = out[s][c][q]
                print(f"{s:>16} " + ' '.join(f"{(row[str(B)]['mean_regret'] or float('nan')):>7.3f} / {row[str(B)]['feasible_share']:>4.2f}" for B in a.budgets))
    import torch
    out['_meta'] = {'optimum': {f'{c}_{q}': v for (c, q), v in optimum.items()}, 'wall_s': wall, 'settings': vars(a),
                    'machine': f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, CPU; {a.jobs} processes"}
    if a.merge and a.json and Path(a.json).exists():
        old = json.loads(Path(a.json).read_text())
        meta = old.pop('_meta'); meta.setdefault('added', []).append({'strategies': a.strategies, **out.pop('_meta')})
        out = {**old, **out, '_meta': meta}
    if a.json: Path(a.json).write_text(json.dumps(out, indent=1) + '\n'); print(f"wrote {a.json}")

if __name__ == '__main__': main()
