"""Controller share: time spent sampling from and updating the controller over the whole search's wall time,
on the default demo (what `nas_rl search` runs by default: digits, REINFORCE, 64 children, 8 per step, 4 epochs each,
the paper's depth schedule, a checkpoint after every step). Built from the library, with its defaults.
Target (issue 2): under 1%. Prints a table and writes JSON."""
import argparse, json, platform, tempfile, os
from pathlib import Path
import torch
from nas_rl.data import digits_data
from nas_rl.spaces.cnn import CNNSpace
from nas_rl.tasks import ImageTask
from nas_rl.strategies import Reinforce
from nas_rl.search import Search, DepthSchedule, Checkpoint
from nas_rl.store import RunStore

def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--children', type=int, default=64)
    p.add_argument('--per-step', type=int, default=8)
    p.add_argument('--epochs', type=int, default=4, help='epochs per child')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--json', default=str(Path(__file__).parent/'results'/'controller_share.json'))
    p.add_argument('--run-dir', default=None, help='keep the run here (default: a temporary folder)')
    a = p.parse_args()
    device = torch.device('cpu')
    space, data = CNNSpace(), digits_data(seed=a.seed, device=device)
    task, strategy = ImageTask(data, epochs=a.epochs, device=device), Reinforce(space, seed=a.seed)
    cfg = {'space': space.config(), 'task': task.config(), 'strategy': {'name': strategy.name, 'lr': strategy.lr,
           'baseline_decay': strategy.baseline_decay, 'entropy_weight': strategy.entropy_weight},
           'children': a.children, 'per_step': a.per_step, 'seed': a.seed}
    with tempfile.TemporaryDirectory() as d:
        with RunStore.create(Path(a.run_dir or Path(d)/'run'), cfg, space) as st:
            s = Search(space, task, strategy, n_children=a.children, per_step=a.per_step, cbs=[DepthSchedule(), Checkpoint()],
                       store=st, seed=a.seed).run()
    t = s.timings
    ctrl = t['ask'] + t['tell']
    res = {'benchmark': 'controller_share', 'children': s.n_done, 'steps': s.step, 'config': cfg,
           'ask_s': t['ask'], 'tell_s': t['tell'], 'children_s': t['children'], 'total_s': t['total'],
           'controller_share': ctrl/t['total'], 'target': '< 0.01', 'met': ctrl/t['total'] < 0.01,
           'machine': f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
                      f"{torch.get_num_threads()} threads, cuda={torch.cuda.is_available()}"}
    print(f"{'what':<28}{'seconds':>10}")
    for k in ('ask_s','tell_s','children_s','total_s'): print(f"{k:<28}{res[k]:>10.3f}")
    print(f"{'controller share':<28}{res['controller_share']:>10.4%}  (target < 1%: {'met' if res['met'] else 'NOT met'})")
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps(res, indent=2, default=str))
    print('wrote', a.json)

if __name__ == '__main__': main()
