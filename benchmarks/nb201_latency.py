"""The CPU latency of NAS-Bench-201's cells, measured with the library's `latency_ms`, as a committed table.

    python benchmarks/nb201_latency.py --table ../shared/data/nb201/nb201_cifar10.csv.xz \\
        [--bs 1 --sample-bs 64 --sample 100 --jobs 2 --repeats 15 --sample-repeats 5 --spread 20] \\
        --out benchmarks/results/nb201_latency.csv.xz --json benchmarks/results/nb201_latency.json

Every cell of the table is built as NAS-Bench-201 defines the network (`build_nb201`: 16 channels, 5 cells per
stage, 10 classes) and timed on a 32x32 input in eval mode without gradients, on one torch thread, by `latency_ms`
(the median of `--repeats` single calls after 3 warm-up calls): all cells at `--bs`, and a random `--sample` of them at
`--sample-bs` with `--sample-repeats` calls (timing all 15,625 at batch 64 would take about 6.5 hours of this machine with two processes: the
sample took 151 s per 100 cells).
`--jobs` processes share the cells, one thread each. The spread check times `--spread` random cells three times each
and reports max/min of the three medians per cell.
Output: a CSV (xz) with `arch_str`, `latency_bs{bs}_ms` and `latency_bs{sample-bs}_ms` (empty where not sampled), and
a JSON of the settings, the machine, the time taken and the spread.
"""
import argparse, json, os, platform, random, statistics, time
from pathlib import Path

def measure(args) -> list:
    "Time `cells` at batch `bs` on one thread; [(arch_str, ms)]."
    cells, bs, repeats, rank, stat = args
    os.environ['OMP_NUM_THREADS'] = '1'
    import torch
    torch.set_num_threads(1)
    from nas_rl.spaces.nb201 import NB201Arch
    from nas_rl.models.nb201 import build_nb201
    from nas_rl.costs import latency_ms
    x, out, t0 = torch.randn(bs, 3, 32, 32), [], time.perf_counter()
    for i, s in enumerate(cells):
        torch.manual_seed(0)
        out.append((s, latency_ms(build_nb201(NB201Arch.from_str(s)), x, threads=1, repeats=repeats, stat=stat)))
        if rank == 0 and (i+1) % 500 == 0: print(f"  {i+1}/{len(cells)} cells at batch {bs} in {time.perf_counter()-t0:.0f}s (this worker)", flush=True)
    return out

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument('--table', required=True)
    p.add_argument('--bs', type=int, default=1); p.add_argument('--sample-bs', type=int, default=64)
    p.add_argument('--sample', type=int, default=100, help='cells also timed at --sample-bs')
    p.add_argument('--jobs', type=int, default=2)
    p.add_argument('--repeats', type=int, default=15); p.add_argument('--sample-repeats', type=int, default=5)
    p.add_argument('--spread', type=int, default=20, help='cells timed three times for the repeat-to-repeat spread')
    p.add_argument('--limit', type=int, default=None, help='only the first N cells (a quick check)')
    p.add_argument('--stat', default='median', choices=['median', 'min'], help="latency_ms's statistic over the timed calls")
    p.add_argument('--spread-only', action='store_true', help='only the spread check (printed; --json gets it alone)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', required=True); p.add_argument('--json', default=None)
    a = p.parse_args()
    import pandas as pd
    cells = pd.read_csv(a.table)['arch_str'].tolist()[:a.limit]
    rng = random.Random(a.seed)
    sample, spread = rng.sample(cells, min(a.sample, len(cells))), rng.sample(cells, min(a.spread, len(cells)))
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing as mp
    def shard(xs, bs, reps): return [(xs[k::a.jobs], bs, reps, k, a.stat) for k in range(a.jobs)]
    t0, walls = time.perf_counter(), {}
    if a.spread_only:
        with ProcessPoolExecutor(a.jobs, mp_context=mp.get_context('spawn')) as ex:
            reps = [dict(x for part in ex.map(measure, shard(spread, a.bs, a.repeats)) for x in part) for _ in range(3)]
        ratios = [max(r[s] for r in reps) / min(r[s] for r in reps) for s in spread]
        out = {'spread': {'cells': len(spread), 'repeats': 3, 'jobs': a.jobs, 'stat': a.stat, 'median_max_over_min': statistics.median(ratios),
                          'worst_max_over_min': max(ratios), 'share_within_1.2': sum(r <= 1.2 for r in ratios) / len(ratios)}, 'wall_s': time.perf_counter() - t0}
        print(json.dumps(out))
        if a.json: Path(a.json).write_text(json.dumps(out, indent=1) + '\n')
        return
    with ProcessPoolExecutor(a.jobs, mp_context=mp.get_context('spawn')) as ex:
        main_ = dict(x for part in ex.map(measure, shard(cells, a.bs, a.repeats)) for x in part); walls['all'] = time.perf_counter() - t0
        print(f"{len(main_)} cells at batch {a.bs} in {walls['all']:.0f}s", flush=True)
        t1 = time.perf_counter()
        big = dict(x for part in ex.map(measure, shard(sample, a.sample_bs, a.sample_repeats)) for x in part); walls['sample'] = time.perf_counter() - t1
        print(f"{len(big)} sampled cells at batch {a.sample_bs} in {walls['sample']:.0f}s", flush=True)
        t1 = time.perf_counter()
        reps = [dict(x for part in ex.map(measure, shard(spread, a.bs, a.repeats)) for x in part) for _ in range(3)]; walls['spread'] = time.perf_counter() - t1
    ratios = [max(r[s] for r in reps) / min(r[s] for r in reps) for s in spread]
    c1, c2 = f'latency_bs{a.bs}_ms', f'latency_bs{a.sample_bs}_ms'
    df = pd.DataFrame({'arch_str': cells, c1: [round(main_[s], 4) for s in cells], c2: [round(big[s], 3) if s in big else None for s in cells]})
    df.to_csv(a.out, index=False)
    lat = sorted(main_.values())
    q = lambda f: lat[int(f * (len(lat) - 1))]
    import torch
    out = {'benchmark': 'nb201_latency', 'cells': len(cells), 'wall_s': walls,
           f'bs{a.bs}_ms': {'min': lat[0], 'p25': q(.25), 'median': q(.5), 'p75': q(.75), 'max': lat[-1]},
           'spread': {'cells': len(spread), 'repeats': 3, 'median_max_over_min': statistics.median(ratios), 'worst_max_over_min': max(ratios),
                      'share_within_1.2': sum(r <= 1.2 for r in ratios) / len(ratios)},
           'settings': vars(a),
           'machine': f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, CPU; {a.jobs} processes at once, one torch thread each",
           'processor': platform.processor() or platform.uname().machine}
    try: out['cpu_model'] = next(l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name'))
    except Exception: pass
    print(f"batch {a.bs}: median {q(.5):.2f} ms (25th {q(.25):.2f}, 75th {q(.75):.2f}); spread over 3 repeats of {len(spread)} cells: "
          f"median max/min {out['spread']['median_max_over_min']:.3f}, worst {out['spread']['worst_max_over_min']:.3f}")
    if a.json: Path(a.json).write_text(json.dumps(out, indent=1) + '\n'); print(f"wrote {a.out} and {a.json}")

if __name__ == '__main__': main()
