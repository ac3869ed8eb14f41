"""Search strategies side by side on NAS-Bench-201 (CIFAR-10), the benchmark's protocol.

Each run queries architectures through `nas_rl.search.Search` with an `NB201Task` (a table lookup). The search sees
validation accuracy only (`--column`); the pick at budget B is the best-validation cell among the first B
architectures, and what is reported is the pick's test accuracy (`c10_test_200`). One run of the largest budget per
seed serves every smaller budget, because the pick at B only looks at the first B. Strategies: nas_rl's REINFORCE (the
paper's update, tuned by nb201_tune.py), `reinforce-se` (the same plus the sample-efficiency options `--se`, kept by
nb201_ablation.py), random search, regularized evolution, PPO, Optuna's TPE with its defaults (`tpe`, untuned: the
optimizer a user would pick instead) and Optuna's random sampler (`optuna-random`, a check of our own random search),
all on the same seeds. Published means (Dong & Yang 2020,
Table 5, a time budget of about 12,000 simulated seconds): random 93.70 +- 0.36, REINFORCE 93.85 +- 0.37, regularized
evolution 93.92 +- 0.30; the best cell is 94.37.

Two units of cost (`--count`):
- `queries` (the default, the published protocol): every architecture a strategy proposes counts, duplicates too.
- `distinct`: architectures *trained*. The task keeps a cache of the cells already trained (`CachedTask`); a cell
  proposed again is answered from the cache at no cost, the strategy still sees (and learns from) its result, and the
  budget counts distinct cells. That is what a real search pays for. A run stops once it has trained the largest
  budget's number of cells, or after `--query-cap` x that many proposals (a strategy that keeps proposing the same
  few cells); then its pick stays what it was for the larger budgets.
Each budget's entry also says how much of the other unit it took: mean distinct cells (`queries`) or mean proposals
(`distinct`).

JSON: {strategy: {budget: {mean, std, n, p_welch, p_mannwhitney, distinct_mean|queries_mean, valid_mean}}, '_meta': {...}}
(REINFORCE and PPO also get `p_welch_vs_evolution`, every strategy but TPE `p_welch_vs_tpe` and `p_mannwhitney_vs_tpe`);
`valid_mean` is the mean `--column` accuracy of the pick, the only score a tuning that must not see test accuracy may use;
p-values are two-sided, each strategy against random search at the same budget.
"""
import argparse, json, math, os, platform, statistics, time
from pathlib import Path
import torch
from nas_rl.spaces.nb201 import NB201Space
from nas_rl.tasks.nb201 import NB201Task
from nas_rl.strategies import get_strategy, OptunaStrategy
from nas_rl.search import Search, SearchCallback, CancelSearchException

HERE = Path(__file__).parent
SE = '{"unique": true, "advantage": "rank", "topk": 5, "lr": 0.03}' # reinforce-se's options (see --se): kept by nb201_ablation.py (results/nb201_ablation.json)

def make_strategy(name, space, seed, a):
    "A strategy with this benchmark's settings (see `--help`); returns it and its per-step batch size."
    rl = dict(baseline_decay=a.rl_baseline_decay, entropy_weight=a.rl_entropy, temperature=a.rl_temperature,
              tanh_c=a.rl_tanh_c or None) # REINFORCE's and PPO's shared controller settings
    if name == 'reinforce': return get_strategy(name, space, seed=seed, lr=a.rl_lr, **rl), a.rl_per_step
    if name == 'reinforce-se': # the tuned REINFORCE plus the sample-efficiency options kept by nb201_ablation.py
        se = {'lr': a.rl_lr, 'per_step': a.rl_per_step, **rl, **json.loads(a.se)}
        m = se.pop('per_step'); return get_strategy('reinforce', space, seed=seed, **se), m
    if name == 'ppo': return get_strategy(name, space, seed=seed, lr=a.ppo_lr, clip=a.ppo_clip, epochs=a.ppo_epochs, **rl), a.rl_per_step
    if name == 'evolution':
        return get_strategy(name, space, seed=seed, population=a.evo_population, sample_size=a.evo_sample), 1
    if name == 'optuna-random': return OptunaStrategy(space, 'random', seed=seed), 1 # a check of our own random search
    return get_strategy(name, space, seed=seed), 1

class CachedTask:
    "`task`, training each distinct architecture once: a cell asked for again gets its first result back, free."
    def __init__(self, task): self.task,self.cache = task,{}
    def evaluate(self, arch, seed=None):
        k = str(arch)
        if k not in self.cache: self.cache[k] = self.task.evaluate(arch, seed)
        return self.cache[k]
    def __getattr__(self, k): return getattr(self.task, k)

class StopAtDistinct(SearchCallback):
    "Cancel the search after the controller step in which the `CachedTask` has trained `n` distinct cells."
    def __init__(self, n): self.n = n
    def after_step(self):
        if len(self.search.task.cache) >= self.n: raise CancelSearchException

def anytime(task, search, n=None, distinct=False):
    """Test accuracy of the best-validation cell after t = 1..n architectures (queried, or `distinct` ones trained), its
    validation accuracy (the search column, in %), and the other unit at each t (distinct cells after t queries, or queries made when the t-th distinct cell was trained).
    A run that ended before n distinct cells keeps its last pick (the other unit: the queries it made in all)."""
    best,pick,acc,val,other,seen = -math.inf,None,[],[],[],set()
    for q,(p,r) in enumerate(search.history, 1):
        if r.reward > best: best,pick = r.reward,p.arch # ties keep the earlier pick
        new = str(p.arch) not in seen; seen.add(str(p.arch))
        if not distinct or new: acc.append(task.test_acc(pick)); val.append(100*best); other.append(len(seen) if not distinct else q)
    n = n or len(acc)
    if len(acc) < n: acc,val,other = acc + [acc[-1]]*(n-len(acc)),val + [val[-1]]*(n-len(val)),other + [len(search.history)]*(n-len(other))
    return acc[:n],val[:n],other[:n]

def welch(x, y):
    "Two-sided p-values of Welch's t-test and the Mann-Whitney U test (scipy), x against y."
    try:
        from scipy import stats
        return float(stats.ttest_ind(x, y, equal_var=False).pvalue), float(stats.mannwhitneyu(x, y, alternative='two-sided').pvalue)
    except ImportError: # Welch with a normal approximation
        mx,my,vx,vy = statistics.mean(x),statistics.mean(y),statistics.variance(x),statistics.variance(y)
        z = (mx-my)/math.sqrt(vx/len(x) + vy/len(y))
        return math.erfc(abs(z)/math.sqrt(2)), None

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--table', default=str(HERE.parent.parent/'shared'/'data'/'nb201'/'nb201_cifar10.csv.xz'))
    p.add_argument('--column', default='c10_valid_200', choices=['c10_valid_200', 'c10_valid_12'])
    p.add_argument('--budgets', type=int, nargs='+', default=[20, 50, 100, 200, 500])
    p.add_argument('--count', default='queries', choices=['queries', 'distinct'],
                   help='unit of the budget: architectures queried (duplicates count; the published protocol) or distinct ones trained')
    p.add_argument('--query-cap', type=int, default=4, help='--count distinct: a run stops after this many times the largest budget in queries')
    p.add_argument('--seeds', type=int, default=100, help='runs per strategy')
    p.add_argument('--seed-offset', type=int, default=0, help='first seed (tuning used other seeds than the report)')
    p.add_argument('--strategies', nargs='+', default=['reinforce', 'reinforce-se', 'random', 'evolution', 'ppo', 'tpe', 'optuna-random'],
                   help="reinforce-se: REINFORCE with the sample-efficiency options of --se; tpe: Optuna's TPESampler with its defaults (untuned); optuna-random: Optuna's RandomSampler")
    p.add_argument('--rl-lr', type=float, default=0.01, help='tuned by nb201_tune.py')
    p.add_argument('--rl-per-step', type=int, default=2, help='children per controller step (REINFORCE and PPO; tuned)')
    p.add_argument('--rl-baseline-decay', type=float, default=0.95)
    p.add_argument('--rl-entropy', type=float, default=0.003, help='entropy bonus (REINFORCE and PPO; tuned in stage 4, nb201_tune_stage4.json)')
    p.add_argument('--rl-temperature', type=float, default=1.)
    p.add_argument('--rl-tanh-c', type=float, default=2.5, help='logit clipping (REINFORCE and PPO; tuned in stage 4); 0: none')
    p.add_argument('--se', default=SE, help="reinforce-se: JSON of Reinforce options on top of the tuned REINFORCE's (chosen by nb201_ablation.py on seeds 1000-1099)")
    p.add_argument('--ppo-lr', type=float, default=0.003, help='tuned by nb201_tune.py --strategy ppo')
    p.add_argument('--ppo-clip', type=float, default=0.2)
    p.add_argument('--ppo-epochs', type=int, default=4)
    p.add_argument('--evo-population', type=int, default=20, help="tuned in stage 4, nb201_tune_stage4_evolution.json (NAS-Bench-201's R-EA: 10)")
    p.add_argument('--evo-sample', type=int, default=10, help="tuned in stage 4 (NAS-Bench-201's R-EA: 3)")
    p.add_argument('--save-curves', default=None, help='also write the per-seed anytime curves (JSON) here')
    p.add_argument('--from-curves', nargs='+', default=None, help='skip the runs: merge curve files written by --save-curves')
    p.add_argument('--json', default=None, help="default: results/nb201.json, or nb201_distinct.json with --count distinct; '': none")
    p.add_argument('--plot', default=None, help="default: results/nb201.png, or nb201_distinct.png with --count distinct; '': none")
    a = p.parse_args(argv)
    stem = 'nb201_distinct' if a.count == 'distinct' else 'nb201'
    if a.json is None: a.json = str(HERE/'results'/f'{stem}.json')
    if a.plot is None: a.plot = str(HERE/'results'/f'{stem}.png')
    torch.set_num_threads(1)
    space,task = NB201Space(),NB201Task(a.table, column=a.column)
    n,distinct = max(a.budgets),a.count == 'distinct'
    other_unit = 'queries' if distinct else 'distinct'
    curves,vals,others,trained,timing,seeds,sett = {},{},{},{},{},{},{}
    for f in a.from_curves or []:
        d = json.loads(Path(f).read_text())
        curves.update(d['curves']); vals.update(d.get('vals', {})); others.update(d['others']); trained.update(d['trained']); timing.update(d['timing']); seeds.update(d['seeds'])
        sett.update({k: d['settings'] for k in d['curves']})
        if d['settings']['column'] != a.column: raise SystemExit(f"{f} searched on {d['settings']['column']}, not --column {a.column}")
        if d['settings'].get('count', 'queries') != a.count: raise SystemExit(f"{f} counted {d['settings'].get('count', 'queries')}, not --count {a.count}")
    for name in ([] if a.from_curves else a.strategies):
        seeds[name],sett[name] = [a.seed_offset, a.seed_offset + a.seeds],vars(a)
        t0,ctrl,nq = time.perf_counter(),0.,0
        curves[name],vals[name],others[name],trained[name] = [],[],[],[]
        for seed in range(a.seed_offset, a.seed_offset + a.seeds):
            strat,m = make_strategy(name, space, seed, a)
            if distinct: s = Search(space, CachedTask(task), strat, n_children=a.query_cap*n, per_step=m, seed=seed, cbs=StopAtDistinct(n)).run()
            else: s = Search(space, task, strat, n_children=n, per_step=m, seed=seed).run()
            c,v,o = anytime(task, s, n, distinct)
            curves[name].append(c); vals[name].append(v); others[name].append(o); trained[name].append(len({str(p.arch) for p,_ in s.history}))
            ctrl += s.timings['ask'] + s.timings['tell']; nq += len(s.history)
        dt = time.perf_counter() - t0
        timing[name] = {'s_per_query': dt/nq, 'strategy_s_per_query': ctrl/nq, 'total_s': dt, 'queries': nq}
        print(f"{name:>10}: {dt:6.1f}s, {dt/nq*1e3:.3f} ms per query ({ctrl/nq*1e3:.3f} ms in ask+tell), {nq/a.seeds:.0f} queries per run", flush=True)
    if a.save_curves: Path(a.save_curves).write_text(json.dumps({'curves': curves, 'vals': vals, 'others': others, 'trained': trained, 'timing': timing, 'seeds': seeds, 'settings': vars(a)}))
    if 'random' in curves: curves = {'random': curves.pop('random'), **curves} # random first: the others are tested against it
    res = {}
    for name,cs in curves.items():
        res[name] = {}
        for b in a.budgets:
            x = [c[b-1] for c in cs]
            e = {'mean': statistics.mean(x), 'std': statistics.stdev(x) if len(x) > 1 else 0., 'n': len(x),
                 f'{other_unit}_mean': statistics.mean(o[b-1] for o in others[name])}
            if vals.get(name): e['valid_mean'] = statistics.mean(v[b-1] for v in vals[name]) # what the search saw of its pick
            if distinct: e['reached'] = statistics.mean(float(k >= b) for k in trained[name]) # share of runs that trained b cells
            if name != 'random' and 'random' in curves and len(x) > 1:
                e['p_welch'],e['p_mannwhitney'] = welch(x, [c[b-1] for c in curves['random']])
            if name in ('reinforce', 'reinforce-se', 'ppo') and 'evolution' in curves and len(x) > 1: # the controllers against the best other
                e['p_welch_vs_evolution'] = welch(x, [c[b-1] for c in curves['evolution']])[0]
            if name != 'tpe' and 'tpe' in curves and len(x) > 1: # every strategy against the optimizer users would pick instead
                e['p_welch_vs_tpe'],e['p_mannwhitney_vs_tpe'] = welch(x, [c[b-1] for c in curves['tpe']])
            res[name][b] = e
    res['_meta'] = {'table': a.table, 'column': a.column, 'budgets': a.budgets, 'seeds': seeds,
                    'count': a.count, 'budget_unit': ('distinct architectures trained (re-proposed ones answered from a cache)' if distinct
                                                      else 'architectures queried (duplicates count)'),
                    **({'query_cap': a.query_cap*n, 'trained_per_run': {k: {'mean': statistics.mean(v), 'median': statistics.median(v), 'min': min(v), 'max': max(v)}
                                                                        for k,v in trained.items()}} if distinct else {}), 'reported': 'c10_test_200 of the best-valid pick',
                    'settings': {n: {k: v for k,v in st.items() if k.split('_')[0] in ('rl', 'ppo', 'evo', 'se')} for n,st in sett.items()},
                    'timing': timing, 'best_test_in_table': max(r[1] for r in task.rows.values()),
                    'machine': f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, 1 thread"}
    print(f"\n{'strategy':>10} {a.count:>8} {'mean':>7} {'std':>5} {'n':>4} {'p vs random':>11} {other_unit:>8}{' reached' if distinct else ''}")
    for name in curves:
        for b in a.budgets:
            e = res[name][b]; pv = e.get('p_welch'); rc = f" {e['reached']:>7.0%}" if distinct else ''
            print(f"{name:>10} {b:>8} {e['mean']:>7.2f} {e['std']:>5.2f} {e['n']:>4} {'' if pv is None else f'{pv:.2g}':>11} {e[other_unit+'_mean']:>8.0f}{rc}")
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(res, indent=1))
        print('wrote', a.json)
    if a.plot: plot(curves, res['_meta'], a.plot)
    return res

def plot(curves, meta, out):
    "Anytime curves: mean test accuracy of the current pick against queries, with a band of one standard error."
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt, numpy as np
    fig,ax = plt.subplots(figsize=(7, 4.5))
    for name,cs in curves.items():
        c = np.array(cs); m,se = c.mean(0),c.std(0, ddof=1)/np.sqrt(len(c)) if len(c) > 1 else 0*c[0]
        x = np.arange(1, c.shape[1]+1)
        tr = meta.get('trained_per_run', {}).get(name)
        ax.plot(x, m, label=f'{name} ({m[-1]:.2f}' + (f"; {tr['mean']:.0f} cells trained per run)" if tr else ')')); ax.fill_between(x, m-se, m+se, alpha=0.25)
    ax.axhline(meta['best_test_in_table'], ls=':', c='gray', label=f"best cell ({meta['best_test_in_table']:.2f})")
    ax.set_xscale('log'); ax.set_ylim(92, 94.6)
    ax.set_xlabel('distinct architectures trained' if meta.get('count') == 'distinct' else 'architectures queried (duplicates count)'); ax.set_ylabel('test accuracy of the pick (%)')
    ax.set_title(f"NAS-Bench-201 CIFAR-10, search on {meta['column']}; mean of {len(next(iter(curves.values())))} seeds, band = 1 s.e."
                 + (f"\na run stops after {meta['query_cap']} queries; its pick then stays" if 'query_cap' in meta else ''), fontsize=9)
    ax.legend(fontsize=8); fig.tight_layout(); fig.savefig(out, dpi=110)
    print('wrote', out)

if __name__ == '__main__': main()
