"""Weight sharing in the paper's CNN space on a CIFAR-10 subset, against the control experiment's from-scratch
searches at equal wall time; the top 3 of each retrained with one recipe and compared on the CIFAR-10 test set.

    python benchmarks/oneshot_cnn.py --data-dir /tmp/nas_rl_cifar10 [--n-train 2000 --n-valid 1000 --epochs 6
        --warmup 1 --every 5 --per-step 4 --derive 30 --retrain-n-train 2000 --retrain-epochs 3 --jobs 2] --json OUT.json

1. Shared search: `SharedWeightsTask` over `CNNSuperNet(CNNSpace(), depth 6, bn=--bn)` (the control experiment's space and
   depth), REINFORCE with the control experiment's controller settings (lr 0.01, the rest the library's defaults),
   `--warmup` epochs of uniformly random paths first; each child scored on one validation minibatch; then `--derive`
   sampled networks scored on the whole held-out split, and the top 3 kept.
2. Equal wall time: the from-scratch arms of `benchmarks/results/control.json` (96 children each, trained 2 epochs on
   1,000 images on this machine) are cut at the shared search's wall time W: their children whose cumulative
   training time is at most W, and the top 3 of those by reward.
3. Retrain: all nine networks, each `retrain`ed by `ImageTask` (the paper's SGD recipe, the library's defaults) for
   `--retrain-epochs` on `--retrain-n-train` training images, and scored on the 10,000 CIFAR-10 test images.
`--data-dir` is CIFAR-10 as folders (`python ../shared/data/cifar10/materialize.py --out DIR` writes them).
Nothing here was tuned; the settings were chosen to fit about half an hour of this 2-core machine.
"""
import argparse, json, os, platform, statistics, time
from pathlib import Path
ROOT = Path(__file__).resolve().parents[1]

def retrain_one(a, name:str, arch_json:str) -> dict:
    "Retrain one architecture with `ImageTask` (one torch thread) and return its scores."
    os.environ['OMP_NUM_THREADS'] = '1'
    import torch
    torch.set_num_threads(1)
    from nas_rl.core import arch_from_json
    from nas_rl.data import cifar10_data
    from nas_rl.tasks import ImageTask
    data = cifar10_data(a.data_dir, n_train=a.retrain_n_train, n_valid=a.n_valid, seed=a.seed, device='cpu')
    arch = arch_from_json(arch_json)
    res = ImageTask(data, device='cpu').retrain(arch, epochs=a.retrain_epochs, seed=a.seed, show_bar=False)
    return {'source': name, 'arch': str(arch), **{k: res[k] for k in ('valid_acc', 'test_acc', 'params', 'wall')}}

def shared_search(a) -> dict:
    import torch
    torch.set_num_threads(a.threads)
    from nas_rl.data import cifar10_data
    from nas_rl.spaces.cnn import CNNSpace
    from nas_rl.models.cnn import CNNSuperNet
    from nas_rl.tasks.shared import SharedWeightsTask, SharedTraining, derive
    from nas_rl.strategies import Reinforce
    from nas_rl.search import Search
    sp = CNNSpace(depth=6)
    data = cifar10_data(a.data_dir, n_train=a.n_train, n_valid=a.n_valid, seed=a.seed, device='cpu')
    torch.manual_seed(a.seed)
    task = SharedWeightsTask(data, CNNSuperNet(sp, 6, data.n_in, data.n_out, bn=a.bn), epochs=a.epochs, device='cpu')
    strat, cb = Reinforce(sp, lr=0.01, seed=a.seed), SharedTraining(every=a.every, warmup=a.warmup, seed=a.seed)
    t0 = time.perf_counter()
    s = Search(sp, task, strat, n_children=(a.epochs - a.warmup) * a.every * a.per_step, per_step=a.per_step, seed=a.seed, cbs=cb).run()
    t_search = time.perf_counter() - t0
    top = derive(task, strat, n=a.derive, k=3)
    wall = time.perf_counter() - t0
    print(f"shared search: {s.n_done} children + {a.derive} derived in {wall:.0f}s ({a.epochs * a.n_train / t_search:.0f} training images/s, "
          f"{task.skipped} minibatches skipped); losses {[round(l, 3) for l in cb.losses]}", flush=True)
    return {'wall_s': wall, 'search_wall_s': t_search, 'children': s.n_done, 'losses': cb.losses,
            'top3': [{'arch': str(a_), 'shared_valid_acc': v} for a_, v in top],
            'archs': top}

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument('--data-dir', required=True)
    p.add_argument('--control', default=str(ROOT/'benchmarks'/'results'/'control.json'))
    p.add_argument('--n-train', type=int, default=2000); p.add_argument('--n-valid', type=int, default=1000)
    p.add_argument('--epochs', type=int, default=6); p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--every', type=int, default=5); p.add_argument('--per-step', type=int, default=4)
    p.add_argument('--derive', type=int, default=30)
    p.add_argument('--bn', default='batch', choices=['batch', 'choice'], help="the shared network's batch norm (the recorded run: batch; the library's default is now choice)")
    p.add_argument('--retrain-n-train', type=int, default=2000); p.add_argument('--retrain-epochs', type=int, default=3)
    p.add_argument('--seed', type=int, default=0); p.add_argument('--threads', type=int, default=1)
    p.add_argument('--jobs', type=int, default=2, help='retrainings at once (one torch thread each)')
    p.add_argument('--json', default=None)
    a = p.parse_args()
    os.environ['OMP_NUM_THREADS'] = str(a.threads)
    sh = shared_search(a)
    W = sh['wall_s']
    ctl = json.loads(Path(a.control).read_text())['runs']
    picks = [('shared', json.dumps(x.to_dict())) for x, _ in sh.pop('archs')]
    arms = {}
    for name, r in ctl.items():
        cum, seen = 0., []
        for i, w in enumerate(r['walls']):
            cum += w
            if cum > W: break
            seen.append(i)
        best = sorted(seen, key=lambda i: -r['rewards'][i])[:3]
        arms[name] = {'children_within_W': len(seen), 'wall_of_96': sum(r['walls']), 'top3': [{'arch': r['archs'][i], 'reward': r['rewards'][i]} for i in best]}
        print(f"{name}: {len(seen)} of 96 children trained within {W:.0f}s (all 96 took {sum(r['walls']):.0f}s)")
    for name, v in arms.items():
        for t in v['top3']: picks.append((name.split()[0], t['arch']))
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing as mp
    t0 = time.perf_counter()
    with ProcessPoolExecutor(a.jobs, mp_context=mp.get_context('spawn')) as ex:
        rows = list(ex.map(retrain_one, [a] * len(picks), *zip(*[(n, j if j.startswith('{') else _str_to_json(j)) for n, j in picks]))) # control.json holds archs as printed
    t_re = time.perf_counter() - t0
    print(f"\n{'source':>10} {'test acc':>8} {'valid acc':>9} {'params':>9} {'wall s':>7}  arch")
    for r in rows: print(f"{r['source']:>10} {r['test_acc']:>8.4f} {r['valid_acc']:>9.4f} {r['params']:>9,} {r['wall']:>7.0f}  {r['arch']}")
    summary = {s: {'mean_test_acc': statistics.mean(r['test_acc'] for r in rows if r['source'] == s),
                   'best_test_acc': max(r['test_acc'] for r in rows if r['source'] == s)} for s in dict.fromkeys(r['source'] for r in rows)}
    for s, v in summary.items(): print(f"{s:>10}: top-3 mean test accuracy {v['mean_test_acc']:.4f}, best {v['best_test_acc']:.4f}")
    print(f"retraining {len(rows)} networks took {t_re:.0f}s with {a.jobs} at once")
    import torch
    out = {'benchmark': 'oneshot_cnn', 'shared': sh, 'scratch_arms': arms, 'retrain': rows, 'summary': summary,
           'equal_wall_s': W, 'retrain_wall_s': t_re, 'settings': vars(a),
           'machine': f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, CPU; search {a.threads} thread(s), {a.jobs} retrainings at once"}
    if a.json: Path(a.json).write_text(json.dumps(out, indent=1, default=str) + '\n'); print(f"wrote {a.json}")

def _str_to_json(s:str) -> str:
    "An architecture as `CNNArch.__str__` prints it ('CNN[5x3/36 | 7x3/64 <0 | ...]') as the JSON `arch_from_json` reads."
    layers = []
    for i, part in enumerate(s[4:-1].split(' | ')):
        toks = part.split()
        fh, rest = toks[0].split('x'); fw, nf = rest.split('/')
        l = {'fh': int(fh), 'fw': int(fw), 'nf': int(nf), 'stride': 1, 'inputs': [], 'pool': False}
        for t in toks[1:]:
            if t.startswith('s'): l['stride'] = int(t[1:])
            elif t == 'pool': l['pool'] = True
            elif t.startswith('<') and t != '<img': l['inputs'] = [int(j) for j in t[1:].split(',')]
        layers.append(l)
    return json.dumps({'space': 'cnn', 'layers': layers})

if __name__ == '__main__': main()
