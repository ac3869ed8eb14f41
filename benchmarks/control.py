"""The paper's control experiment (Zoph & Le 2017, section 4.3 and Figure 6) on real child training: REINFORCE
against random search on the CNN space, the same number of children, the same child seeds (nas_rl derives each
child's seed from the run seed, the step and the index, so child k of both runs starts from the same weights and
batch order), and the mean reward of the top 1, 5 and 15 children so far against the number of children trained.

The runs themselves are ordinary `nas_rl search` runs (see `--print-commands`); this script reads their run stores,
prints a table, and writes JSON and a plot:

    python benchmarks/control.py --runs runs/ctl-reinforce runs/ctl-random \
        --json benchmarks/results/control.json --plot benchmarks/results/control.png

JSON: {'runs': {name: {'config', 'rewards', 'statuses', 'archs', 'params', 'flops' (multiply-accumulates per image), 'walls' (s per child), 'topk': {k: curve}, 'wall_s'}}, 'table': [...], 'halves': {name:
{first_half, second_half, n, p_second_half_vs_random}}, 'machine'}."""
import argparse, json, math, statistics
from pathlib import Path
from nas_rl.store import RunStore
from nas_rl.viz import topk_curve, plot_topk

KS = (1, 5, 15)

def search_command(strategy, a):
    "The `nas_rl search` command line of one arm of the experiment."
    return (f"nas_rl search --dataset cifar10 --data-dir {a.data_dir} --n-train {a.n_train} --n-valid {a.n_valid} "
            f"--epochs {a.epochs} --children {a.children} --per-step {a.per_step} --lr {a.lr} --strategy {strategy} "
            f"--seed {a.seed} --run-dir {a.out}/ctl-{strategy} --quiet")

def read_run(d):
    "Config, rewards (in child order), statuses, sizes and training times of a run directory."
    with RunStore.open(d, readonly=True) as st:
        ch = st.children()
        return {'config': st.config, 'rewards': [c['reward'] for c in ch], 'statuses': [c['status'] for c in ch],
                'archs': [c['arch'] for c in ch], 'params': [c['params'] for c in ch], 'flops': [c['flops'] for c in ch], 'walls': [c['wall'] for c in ch],
                'wall_s': sum(c['wall'] for c in ch)}

def report(runs:dict, at=None) -> list:
    "Rows of mean top-k reward after every `at` children (default: quarters of the shortest run)."
    n = min(len(r['rewards']) for r in runs.values())
    at = at or sorted({max(1, n*q//4) for q in (1,2,3,4)})
    rows = []
    for name,r in runs.items():
        for k in KS:
            c = topk_curve(r['rewards'][:n], k)
            rows.append({'run': name, 'k': k, **{str(m): c[m-1] for m in at if m <= n}})
    return rows

def halves(runs:dict) -> dict:
    """Per run, mean validation accuracy of its children in the first and second half (of the shortest run's length),
    and, for every run against the first random-search run, a two-sided Mann-Whitney U test of their second-half
    children: does the policy propose better children than uniform sampling once it has learned for a while?"""
    n = min(len(r['rewards']) for r in runs.values())
    acc = {k: [x**(1/3) for x in r['rewards'][:n]] for k,r in runs.items()}
    out = {k: {'first_half': statistics.mean(a[:n//2]), 'second_half': statistics.mean(a[n//2:]), 'n': n} for k,a in acc.items()}
    ref = next((k for k,r in runs.items() if r['config']['strategy'] == 'random'), None)
    if ref is not None:
        from scipy.stats import mannwhitneyu
        for k in runs:
            if k != ref: out[k]['p_second_half_vs_random'] = float(mannwhitneyu(acc[k][n//2:], acc[ref][n//2:], alternative='two-sided').pvalue)
    return out

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--runs', nargs='+', help='run directories (e.g. a REINFORCE run and a random-search run)')
    p.add_argument('--json', default=None); p.add_argument('--plot', default=None)
    p.add_argument('--machine', default='', help='where the runs were trained, for the record')
    p.add_argument('--print-commands', action='store_true', help='print the two search commands and exit')
    for k,v in dict(data_dir='DATA', n_train=10000, n_valid=2000, epochs=4, children=128, per_step=4, lr=0.01, seed=0, out='runs').items():
        p.add_argument('--'+k.replace('_','-'), default=v, type=type(v))
    a = p.parse_args(argv)
    if a.print_commands:
        for s in ('reinforce', 'random'): print(search_command(s, a))
        return
    runs = {f"{read_run(d)['config']['strategy']} ({Path(d).name})": read_run(d) for d in a.runs}
    rows = report(runs)
    cols = [c for c in rows[0] if c not in ('run','k')]
    print(f"mean reward of the top k children after n children (reward = best valid acc of the last 5 epochs, cubed)")
    print(f"{'run':<34}{'k':>3}" + ''.join(f"{'n='+c:>10}" for c in cols))
    for r in rows: print(f"{r['run']:<34}{r['k']:>3}" + ''.join(f"{r[c]:>10.4f}" for c in cols))
    for name,r in runs.items():
        acc = [x**(1/3) for x in r['rewards'] if x > 0]
        print(f"{name}: {len(r['rewards'])} children, {sum(s != 'ok' for s in r['statuses'])} failed, "
              f"mean valid acc {statistics.mean(acc):.4f}, best {max(acc):.4f}, child training {r['wall_s']:.0f}s")
    hv = halves(runs)
    for name,h in hv.items():
        pv = h.get('p_second_half_vs_random')
        print(f"{name}: children's mean valid acc, first half {h['first_half']:.4f}, second half {h['second_half']:.4f}"
              + ('' if pv is None else f" (second half against random's, Mann-Whitney p = {pv:.2g})"))
    if a.json:
        out = {'runs': {n: {**r, 'topk': {k: topk_curve(r['rewards'], k) for k in KS}} for n,r in runs.items()},
               'table': rows, 'halves': hv, 'machine': a.machine}
        Path(a.json).write_text(json.dumps(out, indent=1, default=str)); print('wrote', a.json)
    if a.plot:
        import matplotlib; matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        fig,ax = plt.subplots(figsize=(7,4))
        plot_topk({n: r['rewards'] for n,r in runs.items()}, ks=KS, ax=ax)
        ax.set_title('control experiment: top-k children so far (CIFAR-10 subset)', fontsize=9)
        fig.tight_layout(); fig.savefig(a.plot, dpi=100); print('wrote', a.plot)

if __name__ == '__main__': main()
