"""Weight sharing on Penn Treebank: a recurrent-cell search through one shared language model, its derived cell
retrained from scratch beside the paper's cell and an LSTM at equal parameters, and its cost per evaluated cell.

    python benchmarks/oneshot_cell.py [--n-train 200000 --n-valid 20000 --hidden 64 --epochs 8 --every 10 --per-step 5
        --derive 50 --retrain-params 1200000 --retrain-epochs 2 --retrain-n-train 300000] --json OUT.json

1. Search: `SharedLMTask` over `CellSuperLM(CellSpace(), hidden=--hidden)` on the first `--n-train` PTB training words,
   REINFORCE with ENAS's recurrent-controller settings (Adam 1e-3, temperature 5, logits 2.5*tanh, entropy 1e-3;
   the issue's anchors, not tuned here); `--warmup` epochs of uniformly random cells first; each child is scored on
   one validation minibatch of the first `--n-valid` validation words; then `--derive` cells sampled from the final
   controller are scored on all of them and the best is kept.
2. Retrain: the derived cell, `PAPER_CELL` and `nn.LSTM`, each the largest two-layer LM within `--retrain-params`
   parameters, trained by `train_lm_child` for `--retrain-epochs` on the first `--retrain-n-train` words: the
   budget of `benchmarks/cell.py`'s quality table, where the best cell of a 24-child from-scratch search reached 389.6.
3. Cost: wall seconds of the whole search (shared training, children, derive) per evaluated cell, against the
   24-child from-scratch search's 6.6 minutes (16.5 s per cell) on this machine.
"""
import argparse, json, math, os, platform, time
from pathlib import Path
ROOT = Path(__file__).resolve().parents[1]

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument('--data-dir', default=str(ROOT.parent/'shared'/'data'/'ptb'))
    p.add_argument('--n-train', type=int, default=200_000); p.add_argument('--n-valid', type=int, default=20_000)
    p.add_argument('--hidden', type=int, default=64); p.add_argument('--epochs', type=int, default=8)
    p.add_argument('--warmup', type=int, default=1); p.add_argument('--every', type=int, default=10)
    p.add_argument('--per-step', type=int, default=5); p.add_argument('--derive', type=int, default=50)
    p.add_argument('--retrain-params', type=int, default=1_200_000); p.add_argument('--retrain-epochs', type=int, default=2)
    p.add_argument('--retrain-n-train', type=int, default=300_000); p.add_argument('--seed', type=int, default=0)
    p.add_argument('--scratch-s-per-cell', type=float, default=6.6*60/24, help='the 24-child from-scratch search: seconds per cell')
    p.add_argument('--scratch-json', default=str(ROOT/'benchmarks'/'results'/'cell.json'), help="benchmarks/cell.py's results: its best searched cell ('found') retrained at this budget")
    p.add_argument('--threads', type=int, default=1); p.add_argument('--json', default=None)
    a = p.parse_args()
    found = next(r for r in json.loads(Path(a.scratch_json).read_text())['quality']['rows'] if r['model'] == 'found')
    os.environ['OMP_NUM_THREADS'] = str(a.threads)
    import torch
    torch.set_num_threads(a.threads)
    from nas_rl.data import ptb_data
    from nas_rl.spaces.cell import CellSpace, PAPER_CELL
    from nas_rl.models.cell import CellSuperLM
    from nas_rl.tasks.shared import SharedLMTask, SharedTraining, derive
    from nas_rl.tasks.lm import train_lm_child
    from nas_rl.strategies import Reinforce
    from nas_rl.search import Search
    sp = CellSpace()
    data = ptb_data(a.data_dir, n_train=a.n_train, n_valid=a.n_valid, device='cpu', seed=a.seed)
    torch.manual_seed(a.seed)
    task = SharedLMTask(data, CellSuperLM(sp, data.vocab_sz, a.hidden), epochs=a.epochs, device='cpu')
    strat = Reinforce(sp, lr=1e-3, temperature=5., tanh_c=2.5, entropy_weight=1e-3, seed=a.seed)
    cb = SharedTraining(every=a.every, warmup=a.warmup, seed=a.seed)
    n_children = (a.epochs - a.warmup) * a.every * a.per_step
    t0 = time.perf_counter()
    s = Search(sp, task, strat, n_children=n_children, per_step=a.per_step, seed=a.seed, cbs=cb).run()
    t_search = time.perf_counter() - t0
    top = derive(task, strat, n=a.derive, k=5)
    t_all = time.perf_counter() - t0
    pick, pick_ppl = top[0]
    n_eval = s.n_done + a.derive
    tok_s = a.epochs * a.n_train / t_search
    print(f"search: {s.n_done} children + {a.derive} derived in {t_all:.0f}s ({t_all/n_eval:.2f}s per evaluated cell; "
          f"from scratch {a.scratch_s_per_cell:.1f}s: {a.scratch_s_per_cell/(t_all/n_eval):.1f}x cheaper); {tok_s:.0f} training words/s; "
          f"{task.skipped} minibatches skipped")
    print(f"derived pick (shared-weight valid ppl {pick_ppl:.1f}): {pick}")
    rdata = ptb_data(a.data_dir, n_train=a.retrain_n_train, device='cpu', seed=a.seed)
    rows = []
    for name, arch in (('derived', pick), ('paper', PAPER_CELL), ('lstm', 'lstm')):
        r = train_lm_child(arch, rdata, epochs=a.retrain_epochs, n_params=a.retrain_params, seed=a.seed, device='cpu')
        ppl = r.metrics.get('valid_ppl') or [math.nan]
        rows.append({'model': name, 'arch': str(arch), 'status': r.status, 'reason': r.reason, 'params': r.params,
                     'valid_ppl': ppl, 'best_valid_ppl': min(ppl), 'wall_s': r.wall})
        print(f"  {name:<8} params {r.params:>9,} valid ppl {' '.join(f'{v:.1f}' for v in ppl)} ({r.wall:.0f}s) {r.status} {r.reason}", flush=True)
    out = {'benchmark': 'oneshot_cell', 'pick': str(pick), 'pick_shared_ppl': pick_ppl,
           'top5': [{'arch': str(x), 'shared_valid_ppl': v} for x, v in top], 'children': s.n_done, 'derived': a.derive,
           'search_wall_s': t_search, 'wall_s': t_all, 's_per_cell': t_all / n_eval, 'train_words_per_s': tok_s,
           'skipped_minibatches': task.skipped, 'losses': cb.losses,
           'scratch': {'s_per_cell': a.scratch_s_per_cell, 'best_retrained_ppl': found['best_valid_ppl'], 'from': a.scratch_json},
           'cost_ratio': a.scratch_s_per_cell / (t_all / n_eval), 'retrain': rows, 'settings': vars(a),
           'machine': f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, {a.threads} thread(s), CPU"}
    if a.json: Path(a.json).write_text(json.dumps(out, indent=1) + '\n'); print(f"wrote {a.json}")

if __name__ == '__main__': main()
