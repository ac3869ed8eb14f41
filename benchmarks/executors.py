"""Executors: the process pool's parallel speed-up and Ray's per-child overhead (issue 3). Prints a table and writes
benchmarks/results/executors.json.

1. Speed-up: the default demo search (`nas_rl search`'s defaults: CNN space depth 6, digits, 4 epochs per child,
   REINFORCE, 8 children per step), `--children` children, run serially (in this process, --serial-threads torch
   threads, default 1: the fastest for these small networks) and on
   a `PoolExecutor(workers)` (each worker cores//workers threads), in one run. Both searches must make the same
   decisions and get the same rewards. Target (issue 3): >= 1.7x with 2 workers on 2 cores. Reported with and
   without the one-off start of the pool's workers (importing torch and fastai and receiving the task).
2. Ray overhead: the same children, one at a time, each trained in this process and as a Ray task (1 CPU; Ray
   started and its worker warm), alternated; overhead = Ray time / in-process time - 1. Target: < 5% for children
   of a few seconds or longer.

The machine's load average is recorded before and after: other work on the machine depresses the speed-up."""
import argparse, json, os, platform, statistics, sys, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore', category=FutureWarning)
import torch
from nas_rl.spaces.cnn import CNNSpace
from nas_rl.data import digits_data
from nas_rl.tasks import ImageTask
from nas_rl.strategies import Reinforce
from nas_rl.search import Search, child_seed
from nas_rl.executors import SerialExecutor, PoolExecutor, evaluate_job, _cores

ROOT = Path(__file__).resolve().parents[1]

def load(): return dict(zip(('1min', '5min', '15min'), os.getloadavg()))

def demo_search(task, n, executor, seed=0):
    sp = CNNSpace(depth=6)
    s = Search(sp, task, Reinforce(sp, seed=seed), n_children=n, per_step=8, executor=executor, seed=seed)
    t0 = time.perf_counter(); s.run()
    return s, time.perf_counter() - t0

def speedup(task, n, workers, threads):
    cores = _cores()
    torch.set_num_threads(threads)
    ser, t_ser = demo_search(task, n, SerialExecutor())
    print(f"serial: {t_ser:.1f}s", flush=True)
    with PoolExecutor(workers) as ex:
        t0 = time.perf_counter(); ex.start(task) # workers start lazily: one trivial job each (no arch: fails at once)
        ids = [ex.submit(None, 0) for _ in range(workers)]
        for _ in ids: ex.next_done()
        t_start = time.perf_counter() - t0
        par, t_par = demo_search(task, n, ex)
    same = [(p.tokens, r.reward) for p,r in ser.history] == [(p.tokens, r.reward) for p,r in par.history]
    child_s = [r.wall for _,r in ser.history]
    print(f"pool: {t_par:.1f}s (+{t_start:.1f}s worker start)", flush=True)
    return {'children': n, 'workers': workers, 'cores': cores, 'serial_threads': threads, 'serial_s': t_ser, 'pool_start_s': t_start,
            'pool_s': t_par, 'speedup_warm': t_ser/t_par, 'speedup_with_start': t_ser/(t_par + t_start),
            'same_decisions_and_rewards': same, 'mean_child_s_serial': statistics.mean(child_s),
            'mean_child_s_pool': statistics.mean(r.wall for _,r in par.history)}

def ray_overhead(task, n):
    from nas_rl.executors import RayExecutor
    sp = CNNSpace(depth=6); strat = Reinforce(sp, seed=1)
    props = strat.ask(n + 1)
    torch.set_num_threads(1)
    rows = []
    with RayExecutor(workers=1, num_cpus_per_child=1) as ex:
        ex.run(task, [(props[0].arch, 0)]) # start Ray's worker and send it the task
        for i,p in enumerate(props[1:]):
            seed = child_seed(0, 0, i)
            t0 = time.perf_counter(); a = evaluate_job(task, p.arch, seed); t_in = time.perf_counter() - t0
            t0 = time.perf_counter(); b, = ex.run(task, [(p.arch, seed)]); t_ray = time.perf_counter() - t0
            rows.append({'child': i, 'in_process_s': t_in, 'ray_s': t_ray, 'overhead': t_ray/t_in - 1, 'same_reward': a.reward == b.reward})
    tot_in, tot_ray = sum(r['in_process_s'] for r in rows), sum(r['ray_s'] for r in rows)
    return {'children': rows, 'total_in_process_s': tot_in, 'total_ray_s': tot_ray, 'overhead': tot_ray/tot_in - 1,
            'median_overhead': statistics.median(r['overhead'] for r in rows)}

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--children', type=int, default=16)
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--epochs', type=int, default=4, help='epochs per child (the CLI default)')
    ap.add_argument('--ray-children', type=int, default=6)
    ap.add_argument('--serial-threads', type=int, default=1,
                    help='torch threads of the serial run: 1 is fastest for these small children (and on a loaded machine)')
    ap.add_argument('--no-ray', action='store_true')
    ap.add_argument('--out', default=str(ROOT/'benchmarks'/'results'/'executors.json'))
    a = ap.parse_args()
    task = ImageTask(digits_data(), epochs=a.epochs)
    res = {'machine': {'platform': platform.platform(), 'cores': _cores(), 'torch': torch.__version__},
           'load_before': load()}
    res['speedup'] = speedup(task, a.children, a.workers, a.serial_threads)
    res['load_after_speedup'] = load()
    if not a.no_ray:
        res['ray'] = ray_overhead(task, a.ray_children)
        res['load_after_ray'] = load()
    s = res['speedup']
    print(f"load average before: {res['load_before']}")
    print(f"{'engine':<24}{'children':>9}{'wall_s':>9}{'speed-up':>10}")
    print(f"{'serial':<24}{s['children']:>9}{s['serial_s']:>9.1f}{1:>10.2f}")
    print(f"{'pool x'+str(s['workers'])+' (warm workers)':<24}{s['children']:>9}{s['pool_s']:>9.1f}{s['speedup_warm']:>10.2f}")
    print(f"{'pool incl. worker start':<24}{s['children']:>9}{s['pool_s']+s['pool_start_s']:>9.1f}{s['speedup_with_start']:>10.2f}")
    print(f"same decisions and rewards: {s['same_decisions_and_rewards']}; mean child {s['mean_child_s_serial']:.1f}s serial, "
          f"{s['mean_child_s_pool']:.1f}s in a pool worker; target >= 1.7x")
    if 'ray' in res:
        r = res['ray']
        print(f"\n{'child':>5}{'in-process_s':>14}{'ray_s':>9}{'overhead':>10}")
        for c in r['children']: print(f"{c['child']:>5}{c['in_process_s']:>14.2f}{c['ray_s']:>9.2f}{c['overhead']:>10.1%}")
        print(f"{'all':>5}{r['total_in_process_s']:>14.2f}{r['total_ray_s']:>9.2f}{r['overhead']:>10.1%}  (median {r['median_overhead']:.1%}; target < 5%)")
    print(f"load average after: {res.get('load_after_ray', res['load_after_speedup'])}")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=2))
    print('wrote', a.out)

if __name__ == '__main__': main()
