"""Controller share: time spent sampling from and updating the controller over the whole search's wall time,
on the default demo (`nas_rl search` defaults: digits, REINFORCE, 64 children, 8 per step, 4 epochs each).
Target (issue 2): under 1%. Prints a table and writes JSON."""
import argparse, json, platform, tempfile, time, os
from pathlib import Path
import torch
from nas_rl.cli import get_parser, search_config, make_space, load_data, get_device, build_search
from nas_rl.store import RunStore

def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--children', type=int, default=64)
    p.add_argument('--json', default=str(Path(__file__).parent/'results'/'controller_share.json'))
    p.add_argument('--run-dir', default=None, help='keep the run here (default: a temporary folder)')
    a = p.parse_args()
    args = get_parser().parse_args(['search', '--children', str(a.children), '--quiet'])
    cfg = search_config(args)
    with tempfile.TemporaryDirectory() as d:
        space = make_space(cfg); data = load_data(cfg, get_device('cpu'))
        with RunStore.create(Path(a.run_dir or Path(d)/'run'), cfg, space.config()) as st:
            s = build_search(cfg, space, data, st, device=get_device('cpu'), quiet=True).run()
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
