"""Ablations of REINFORCE's sample-efficiency options on NAS-Bench-201 (CIFAR-10), on tuning seeds only.

Each setting is the benchmark's tuned REINFORCE (`nb201.py`'s defaults: lr 0.01, 2 children per step, entropy 0.003,
logits clipped at 2.5) plus `Reinforce` options (`unique`, `free`, `advantage`, `topk`, `topk_weight`, `replay`,
`updates`, or any other argument, `per_step` too). The search sees `c10_valid_200`; runs use seeds 1000+ (the report
uses 0..99), and a setting is scored only by the validation accuracy of its pick (never test accuracy) at 20, 50,
100, 200 and 500 queries, against TPE (Optuna's default `TPESampler`) on the same seeds. All settings share each
seed's controller initialisation and sampling stream, so their differences are measured on common random numbers.

JSON: {'rows': [{'settings', 'valid': {budget: mean}, 'minus_tpe': {budget: mean difference}, 'min_minus_tpe',
'distinct_<largest budget>', 's'}], 'tpe': {budget: mean}, '_meta': {...}}."""
import argparse, json, os, platform, statistics, time
from pathlib import Path
import torch
import nb201 as nb
from nas_rl.spaces.nb201 import NB201Space
from nas_rl.tasks.nb201 import NB201Task
from nas_rl.strategies import Reinforce, OptunaStrategy
from nas_rl.search import Search

BASE = dict(lr=0.01, per_step=2, baseline_decay=0.95, entropy_weight=0.003, temperature=1., tanh_c=2.5) # nb201.py's tuned REINFORCE

def curves(make, per_step, space, task, seeds, n):
    "Per seed: the pick's validation accuracy after 1..n queries, and the distinct cells among the n."
    vals,dist = [],[]
    for seed in seeds:
        s = Search(space, task, make(seed), n_children=n, per_step=per_step, seed=seed).run()
        _,v,o = nb.anytime(task, s, n)
        vals.append(v); dist.append(o[-1])
    return vals,dist

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--table', default=str(nb.HERE.parent.parent/'shared'/'data'/'nb201'/'nb201_cifar10.csv.xz'))
    p.add_argument('--grid', required=True, help='JSON list of settings, each on top of the tuned REINFORCE; {} is the tuned REINFORCE itself')
    p.add_argument('--seeds', type=int, default=100)
    p.add_argument('--seed-offset', type=int, default=1000)
    p.add_argument('--budgets', type=int, nargs='+', default=[20, 50, 100, 200, 500])
    p.add_argument('--json', required=True)
    p.add_argument('--tpe-cache', default=None, help="TPE's curves for these seeds: read from this file if it holds them, else run and written to it")
    a = p.parse_args(argv)
    if a.seed_offset < 100: raise SystemExit("--seed-offset: the report's seeds are 0..99; ablations must not use them")
    torch.set_num_threads(1)
    space,task = NB201Space(),NB201Task(a.table, column='c10_valid_200')
    seeds,n = range(a.seed_offset, a.seed_offset + a.seeds),max(a.budgets)
    t0 = time.perf_counter()
    key = [a.seed_offset, a.seed_offset + a.seeds, n]
    cache = json.loads(Path(a.tpe_cache).read_text()) if a.tpe_cache and Path(a.tpe_cache).exists() else {}
    if cache.get('key') == key: tv = cache['vals']
    else:
        tv,_ = curves(lambda s: OptunaStrategy(space, 'tpe', seed=s), 1, space, task, seeds, n)
        if a.tpe_cache: Path(a.tpe_cache).write_text(json.dumps({'key': key, 'vals': tv}))
    tpe = {b: statistics.mean(v[b-1] for v in tv) for b in a.budgets}
    print(f"tpe: " + '  '.join(f"{b}:{tpe[b]:.3f}" for b in a.budgets) + f"  ({time.perf_counter()-t0:.0f}s)", flush=True)
    rows = []
    for g in json.loads(a.grid):
        cfg = {**BASE, **g}; m = cfg.pop('per_step'); t0 = time.perf_counter()
        vs,dist = curves(lambda seed: Reinforce(space, seed=seed, **cfg), m, space, task, seeds, n)
        valid = {b: statistics.mean(v[b-1] for v in vs) for b in a.budgets}
        diff = {b: statistics.mean(v[b-1] - w[b-1] for v,w in zip(vs, tv)) for b in a.budgets}
        row = {'settings': g, 'valid': valid, 'minus_tpe': diff, 'min_minus_tpe': min(diff.values()),
               f'distinct_{n}': statistics.mean(dist), 's': time.perf_counter()-t0}
        rows.append(row)
        print(f"{json.dumps(g)}: " + '  '.join(f"{b}:{valid[b]:.3f} ({diff[b]:+.3f})" for b in a.budgets) + f"  distinct {row[f'distinct_{n}']:.0f}  ({row['s']:.0f}s)", flush=True)
    out = {'rows': rows, 'tpe': tpe, '_meta': {'table': a.table, 'column': 'c10_valid_200', 'seeds': [a.seed_offset, a.seed_offset + a.seeds],
           'budgets': a.budgets, 'base': BASE, 'scored_by': "validation accuracy (c10_valid_200) of the best-validation pick; test accuracy never read",
           'machine': f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, 1 thread"}}
    Path(a.json).parent.mkdir(parents=True, exist_ok=True); Path(a.json).write_text(json.dumps(out, indent=1))
    print('wrote', a.json)

if __name__ == '__main__': main()
