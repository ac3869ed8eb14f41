"""A budget on real training: the control experiment's CNN search with `--cost macs --target T` at random search's
median multiply-accumulates, against the control experiment's unconstrained REINFORCE and random arms.

    nas_rl search --dataset cifar10 --data-dir /tmp/nas_rl_cifar10 --n-train 1000 --n-valid 1000 --epochs 2 \\
        --children 24 --per-step 4 --lr 0.01 --strategy reinforce --seed 0 --quiet \\
        --cost macs --target 195926856 --run-dir runs/ctl-reinforce-macs
    python benchmarks/cost_cnn.py --run runs/ctl-reinforce-macs --json benchmarks/results/cost_cnn.json

The search is the control experiment's REINFORCE arm (`benchmarks/control.py`: the same settings, seed and child
seeds) with MnasNet's soft reward at T = the median multiply-accumulates of the random arm's 96 children. The script
compares its first N children (N = the budgeted run's length) with the first N of each control arm
(`benchmarks/results/control.json`): the share of children at or under T, the median of |log2(cost / T)| (how far
from the target, in doublings), the median cost / T, and the mean validation accuracy of the top 5 (the reward's cube
root). Nothing was tuned.
"""
import argparse, json, math, os, platform, statistics
from pathlib import Path
HERE = Path(__file__).parent

def summary(accs:list, macs:list, T:float) -> dict:
    ok = [(a, m) for a, m in zip(accs, macs) if a is not None and m]
    top = sorted((a for a, _ in ok), reverse=True)[:5]
    return {'n': len(ok), 'share_under_target': sum(m <= T for _, m in ok) / len(ok),
            'median_abs_log2_cost_over_target': statistics.median(abs(math.log2(m / T)) for _, m in ok),
            'median_cost_over_target': statistics.median(m / T for _, m in ok), 'top5_mean_valid_acc': statistics.mean(top),
            'best_valid_acc': top[0]}

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument('--run', required=True, help='the budgeted run directory')
    p.add_argument('--control', default=str(HERE/'results'/'control.json'))
    p.add_argument('--json', default=None)
    a = p.parse_args()
    from nas_rl.store import RunStore
    with RunStore.open(a.run, readonly=True) as st:
        cfg, ch = st.config, st.children()
    T, n = cfg['target'], len(ch)
    rows = {f"REINFORCE, {cfg['cost_reward']} budget": summary([max(c['metrics']['valid_acc']) if c['status'] == 'ok' else None for c in ch],
                                                               [(c['metrics'].get('cost') or {}).get('macs') for c in ch], T)}
    ctl = json.loads(Path(a.control).read_text())['runs']
    for name, r in ctl.items():
        rows[f"{name.split()[0].upper() if name.startswith('reinforce') else name.split()[0]}, no budget"] = summary(
            [x ** (1/3) if s == 'ok' else None for x, s in zip(r['rewards'][:n], r['statuses'][:n])], r['flops'][:n], T)
    print(f"first {n} children of each; target T = {T:.4g} multiply-accumulates per image (random arm's median)")
    print(f"{'search':>28} {'<= T':>6} {'|log2 c/T|':>10} {'c/T':>6} {'top-5 acc':>9} {'best':>6}")
    for k, v in rows.items():
        print(f"{k:>28} {v['share_under_target']:>6.2f} {v['median_abs_log2_cost_over_target']:>10.2f} {v['median_cost_over_target']:>6.2f} "
              f"{v['top5_mean_valid_acc']:>9.4f} {v['best_valid_acc']:>6.4f}")
    wall = sum(c['wall'] for c in ch)
    print(f"the budgeted run trained {n} children in {wall:.0f}s")
    out = {'target': T, 'children': n, 'rows': rows, 'wall_s': wall, 'config': cfg,
           'machine': f"{platform.machine()}, {os.cpu_count()} cores, CPU, one torch thread; another job shared the machine"}
    if a.json: Path(a.json).write_text(json.dumps(out, indent=1) + '\n'); print(f"wrote {a.json}")

if __name__ == '__main__': main()
