"""Tune REINFORCE (and PPO) for `benchmarks/nb201.py` on data the report does not use: the search sees the 12-epoch
validation accuracy (`c10_valid_12`), runs use seeds 1000+ (the report uses `c10_valid_200` and seeds 0..99), and
each setting is scored by the mean test accuracy of the pick over the budgets 50, 100, 200, 500. A small grid, in two
stages: learning rate x children per step, then baseline decay, entropy weight, temperature and logit clipping
around the best. Writes `results/nb201_tune.json`.

`--grid` instead evaluates a given list of settings (each on top of `--fixed`), e.g. a third stage of exploration
settings; `--count distinct` scores the settings with the budget counted in distinct cells trained (see
`nb201.py --count`). Every row also records how much of the other unit each budget took.

`--column c10_valid_200 --score valid` tunes on the report's own search column but never looks at test accuracy: a
setting is scored by the validation accuracy of its picks (what the search itself sees), still on seeds 1000+. That
is how the fourth stage was run (`results/nb201_tune_stage4.json`): the first three stages tuned on `c10_valid_12`,
where the controller kept exploring, and their settings collapsed on `c10_valid_200` to about 100 distinct cells in
500 queries, so exploration had to be tuned where the collapse happens."""
import argparse, itertools, json, statistics
from pathlib import Path
import nb201 as nb

def _key(by): return 'mean' if by == 'test' else 'valid_mean' # the pick's test accuracy, or its search-column accuracy

def score(res, strat, budgets, by='test'):
    "Mean over budgets of the pick's mean test accuracy, or (`by='valid'`) of its accuracy on the search column."
    return statistics.mean(res[strat][b][_key(by)] for b in budgets)

def run(table, strat, seeds, budgets, count='queries', column='c10_valid_12', by='test', **kw):
    argv = ['--table', table, '--column', column, '--seeds', str(seeds), '--seed-offset', '1000',
            '--strategies', strat, '--budgets', *map(str, budgets), '--json', '', '--plot', '', '--count', count]
    for k,v in {'rl_entropy': 0., 'rl_tanh_c': 0., **kw}.items(): argv += [f"--{k.replace('_', '-')}", str(v)] # the base: no exploration aids
    import contextlib, io
    with contextlib.redirect_stdout(io.StringIO()): res = nb.main(argv)
    s = score(res, strat, budgets, by)
    other = 'queries_mean' if count == 'distinct' else 'distinct_mean'
    k = _key(by)
    print(f"{strat} {kw}: " + '  '.join(f"{b}:{res[strat][b][k]:.2f}" for b in budgets) + f"  score {s:.3f}"
          f"  ({other.split('_')[0]} at {budgets[-1]}: {res[strat][budgets[-1]][other]:.0f})", flush=True)
    return {'settings': kw, 'score': s, 'by_budget': {b: res[strat][b][k] for b in budgets},
            other: {b: res[strat][b][other] for b in budgets}}

def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--table', required=True)
    p.add_argument('--seeds', type=int, default=20)
    p.add_argument('--strategy', default='reinforce', choices=['reinforce', 'ppo', 'random', 'evolution'])
    p.add_argument('--count', default='queries', choices=['queries', 'distinct'], help='unit of the budget (see nb201.py)')
    p.add_argument('--column', default='c10_valid_12', choices=['c10_valid_12', 'c10_valid_200'], help='what the searches see')
    p.add_argument('--score', default='test', choices=['test', 'valid'],
                   help="test: the pick's c10_test_200 (on a column the report does not search); valid: the pick's accuracy on --column, so no test accuracy is seen")
    p.add_argument('--grid', default=None, help='JSON list of settings to evaluate (each on top of --fixed) instead of the two stages')
    p.add_argument('--lrs', type=float, nargs='+', default=[0.01, 0.03, 0.1, 0.3])
    p.add_argument('--per-steps', type=int, nargs='+', default=[2, 4, 8])
    p.add_argument('--fixed', default='{}', help='JSON of settings held fixed, e.g. the tuned REINFORCE ones for PPO')
    p.add_argument('--stage2', type=int, default=1, help='0: learning rate x per step only')
    p.add_argument('--json', default=str(Path(__file__).parent/'results'/'nb201_tune.json'))
    a = p.parse_args()
    budgets,lr_key = [50, 100, 200, 500],('rl_lr' if a.strategy == 'reinforce' else 'ppo_lr')
    fixed = json.loads(a.fixed)
    if a.grid is None and a.strategy in ('random', 'evolution'): raise SystemExit(f'{a.strategy}: only --grid')
    if a.grid is not None and a.json == p.get_default('json'): raise SystemExit("--grid: name its output with --json (the default is the two-stage tuning's)")
    if a.grid is not None: rows = [run(a.table, a.strategy, a.seeds, budgets, a.count, a.column, a.score, **{**fixed, **g}) for g in json.loads(a.grid)]
    else: rows = [run(a.table, a.strategy, a.seeds, budgets, a.count, a.column, a.score, **{**fixed, lr_key: lr, 'rl_per_step': m})
                  for lr,m in itertools.product(a.lrs, a.per_steps)]
    best = max(rows, key=lambda r: r['score'])['settings']
    for k,vs in () if not a.stage2 or a.grid is not None else (('rl_baseline_decay', [0.5, 0.8, 0.95]), ('rl_entropy', [1e-3, 1e-2]), ('rl_temperature', [2., 5.]), ('rl_tanh_c', [2.5])):
        rs = [run(a.table, a.strategy, a.seeds, budgets, a.count, a.column, a.score, **{**best, k: v}) for v in vs]
        rows += rs
        top = max(rs, key=lambda r: r['score'])
        if top['score'] > max(r['score'] for r in rows if r['settings'] == best): best = top['settings']
    out = {'strategy': a.strategy, 'tuned_on': f'column {a.column}, seeds 1000..{999+a.seeds}', 'budgets': budgets, 'count': a.count,
           'score': 'mean over budgets of the mean ' + ('c10_test_200' if a.score == 'test' else a.column) + ' of the pick', 'best': best, 'rows': rows}
    path = Path(a.json) if a.strategy == 'reinforce' or a.grid is not None else Path(a.json).with_name(Path(a.json).stem + '_ppo.json')
    path.write_text(json.dumps(out, indent=1))
    print('best', best, '\nwrote', path)

if __name__ == '__main__': main()
