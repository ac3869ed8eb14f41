"""Recurrent cells (issue 4): correctness of `NASCell(PAPER_CELL)`, its training speed against `nn.LSTM`, and the
validation perplexity of LSTM, the paper's cell and a searched cell at equal parameter count. Prints tables, writes JSON.

1. Correctness: `NASCell(PAPER_CELL)` against an independent, literal transcription of TensorFlow's `NASCell.call`
   (the published cell), float64, fresh random weights, 20 steps carrying the state, with and without bias.
2. Speed: training tokens per second (forward, backward, SGD step) of the same 2-layer language model with
   `NASCell(PAPER_CELL)` and with `nn.LSTM` at equal hidden size, on real PTB batches, alternated in one run;
   also the recurrent layers alone (no embedding, no softmax), which is where the two differ.
3. Quality: 2-layer LMs of the same parameter budget, trained the same way (`train_lm_child`) for the same epochs on
   the same PTB tokens: nn.LSTM, PAPER_CELL, and the best cell of a search run (`--found RUN_DIR`).

    python benchmarks/cell.py --json benchmarks/results/cell.json --found runs/ptb-search"""
import argparse, json, math, os, platform, statistics, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore', category=FutureWarning)
import torch, torch.nn as nn, torch.nn.functional as F
from nas_rl.spaces.cell import PAPER_CELL
from nas_rl.models.cell import NASCell, build_lm, lm_params, hidden_for_params

ROOT = Path(__file__).resolve().parents[1]

def tf_nascell(x, c_prev, m_prev, w_x, w_m, b=None):
    "TensorFlow's `NASCell.call`, transcribed literally (x @ kernel, m @ recurrent_kernel (+ bias), 8 splits)."
    sigmoid, tanh, relu = torch.sigmoid, torch.tanh, torch.relu
    m_matrix = m_prev @ w_m
    if b is not None: m_matrix = m_matrix + b
    ms, xs = torch.chunk(m_matrix, 8, dim=1), torch.chunk(x @ w_x, 8, dim=1)
    layer1_0 = sigmoid(xs[0] + ms[0]); layer1_1 = relu(xs[1] + ms[1]); layer1_2 = sigmoid(xs[2] + ms[2])
    layer1_3 = relu(xs[3] * ms[3]); layer1_4 = tanh(xs[4] + ms[4]); layer1_5 = sigmoid(xs[5] + ms[5])
    layer1_6 = tanh(xs[6] + ms[6]); layer1_7 = sigmoid(xs[7] + ms[7])
    l2_0 = tanh(layer1_0 * layer1_1); l2_1 = tanh(layer1_2 + layer1_3)
    l2_2 = tanh(layer1_4 * layer1_5); l2_3 = sigmoid(layer1_6 + layer1_7)
    l2_0 = tanh(l2_0 + c_prev)
    l3_0_pre = l2_0 * l2_1; new_c = l3_0_pre; l3_0 = l3_0_pre; l3_1 = tanh(l2_2 + l2_3)
    new_m = tanh(l3_0 * l3_1)
    return new_m, new_c

def correctness(bias:bool, B=5, I=7, H=11, T=20, seed=0) -> float:
    "Max relative error over T steps of NASCell(PAPER_CELL) against the TF transcription, float64."
    torch.manual_seed(seed)
    cell = NASCell(PAPER_CELL, I, H, bias=bias).double()
    with torch.no_grad():
        for p in cell.parameters(): p.uniform_(-1, 1) # fresh random weights, larger than the default init
    w_x, w_m = cell.weight_ih.detach().t(), cell.weight_hh.detach().t() # torch [8H, I] -> TF kernel [I, 8H]
    b = cell.bias.detach() if bias else None
    h = m = torch.randn(B, H, dtype=torch.float64); c = c_tf = torch.randn(B, H, dtype=torch.float64)
    err = 0.
    with torch.no_grad():
        for _ in range(T):
            x = torch.randn(B, I, dtype=torch.float64)
            h, c = cell(x, (h, c)); m, c_tf = tf_nascell(x, c_tf, m, w_x, w_m, b)
            err = max(err, ((h-m).abs().max()/m.abs().max()).item(), ((c-c_tf).abs().max()/c_tf.abs().max()).item())
    return err

def lm_step(model, opt, x, y):
    "One training step; the LM carries its state between batches, as in training."
    out = model(x)
    loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
    loss.backward(); nn.utils.clip_grad_norm_(model.parameters(), 0.25); opt.step(); opt.zero_grad()

def speed(data, hidden:int, batches:int, reps:int, vocab:int|None=None) -> dict:
    "Training tokens/s of the LM with PAPER_CELL and with nn.LSTM at equal `hidden`, alternated `reps` times."
    V = vocab or len(data.vocab)
    xs = []
    for i,(x,y) in enumerate(data.dls.train):
        if i == batches: break
        xs.append((x.cpu() % V, y.cpu() % V))
    res = {}
    models = {name: build_lm(arch, V, hidden=hidden) for name,arch in (('nascell', PAPER_CELL), ('lstm', 'lstm'))}
    opts = {n: torch.optim.SGD(m.parameters(), lr=0.1) for n,m in models.items()}
    for n,m in models.items(): lm_step(m, opts[n], *xs[0]) # warm up
    times = {n: [] for n in models}
    for _ in range(reps):
        for n,m in models.items():
            m.train(); t = time.perf_counter()
            for x,y in xs: lm_step(m, opts[n], x, y)
            times[n].append(sum(x.numel() for x,_ in xs)/(time.perf_counter()-t))
    for n in models: res[n] = statistics.median(times[n])
    return {'hidden': hidden, 'vocab': V, 'bs': xs[0][0].shape[0], 'bptt': xs[0][0].shape[1], 'batches': batches,
            'nascell_tok_s': res['nascell'], 'lstm_tok_s': res['lstm'], 'ratio': res['nascell']/res['lstm'],
            'params_nascell': lm_params(PAPER_CELL, V, hidden), 'params_lstm': lm_params('lstm', V, hidden)}

def quality(data, archs:dict, n_params:int, epochs:int, seed:int, device) -> list:
    "Validation perplexity of each LM at the same parameter budget after `epochs` epochs of `train_lm_child`."
    from nas_rl.tasks.lm import train_lm_child
    rows = []
    for name,arch in archs.items():
        r = train_lm_child(arch, data, epochs=epochs, n_params=n_params, seed=seed, device=device)
        ppl = r.metrics.get('valid_ppl') or [math.nan]
        rows.append({'model': name, 'arch': str(arch), 'status': r.status, 'reason': r.reason, 'params': r.params,
                     'hidden': hidden_for_params(n_params, arch, len(data.vocab)), 'valid_ppl': ppl, 'best_valid_ppl': min(ppl),
                     'wall_s': r.wall})
        print(f"  {name:<10} hidden {rows[-1]['hidden']:>4} params {r.params:>9,} valid ppl {' '.join(f'{p:.1f}' for p in ppl)} "
              f"({r.wall:.0f}s) {r.status} {r.reason}", flush=True)
    return rows

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data-dir', default=str(ROOT.parent/'shared'/'data'/'ptb'))
    p.add_argument('--device', default='cpu')
    p.add_argument('--threads', type=int, default=None, help='torch threads on CPU (default: torch\'s)')
    p.add_argument('--hidden', type=int, nargs='+', default=[200, 650], help='speed: hidden sizes (Zaremba small / medium)')
    p.add_argument('--batches', type=int, default=20, help='speed: timed batches per repetition')
    p.add_argument('--reps', type=int, default=3)
    p.add_argument('--n-params', type=int, default=2_000_000, help='quality: parameter budget of every LM')
    p.add_argument('--n-train', type=int, default=None, help='quality: training tokens (default all 929,589)')
    p.add_argument('--epochs', type=int, default=2, help='quality: epochs of every LM')
    p.add_argument('--found', default=None, help='quality: a `nas_rl search --space cell` run whose best cell joins the comparison')
    p.add_argument('--skip', nargs='*', default=[], choices=['correctness', 'speed', 'quality'])
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--json', default=str(Path(__file__).parent/'results'/'cell.json'))
    a = p.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    from nas_rl.data import ptb_data
    dev = torch.device(a.device)
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads, device {dev}"
               + (f" ({torch.cuda.get_device_name()})" if dev.type == 'cuda' else ''))
    out = {'benchmark': 'cell', 'machine': machine}
    print(machine)
    if 'correctness' not in a.skip:
        out['correctness'] = {f'bias={b}': correctness(b) for b in (False, True)}
        print("1. NASCell(PAPER_CELL) against TensorFlow's NASCell formula, float64, 20 steps: max relative error",
              ', '.join(f"{k} {v:.2e}" for k,v in out['correctness'].items()), '(target < 1e-6)',
              'met' if max(out['correctness'].values()) < 1e-6 else 'NOT met')
    if 'speed' not in a.skip:
        data = ptb_data(a.data_dir, bs=20, bptt=35, device='cpu')
        rows = [speed(data, h, a.batches, a.reps) for h in a.hidden] + [speed(data, h, a.batches, a.reps, vocab=50) for h in a.hidden]
        out['speed'] = rows
        print("2. training tokens/s, 2-layer LM on PTB, same hidden size, bs 20, bptt 35 (target on the real 10k vocabulary; vocab 50 = ids mod 50, so the recurrent layers dominate)")
        print(f"{'hidden':>7}{'vocab':>7}{'NASCell tok/s':>15}{'LSTM tok/s':>12}{'ratio':>8}  target >= 0.5")
        for r in rows:
            verdict = ('met' if r['ratio'] >= 0.5 else 'NOT met') if r['vocab'] > 50 else 'no target: the cell does 2x the LSTM\'s matmul work (8 chunks vs 4)'
            print(f"{r['hidden']:>7}{r['vocab']:>7}{r['nascell_tok_s']:>15.0f}{r['lstm_tok_s']:>12.0f}{r['ratio']:>8.2f}  {verdict}")
    if 'quality' not in a.skip:
        data = ptb_data(a.data_dir, bs=20, bptt=35, n_train=a.n_train, device=dev)
        archs = {'lstm': 'lstm', 'paper': PAPER_CELL}
        if a.found:
            from nas_rl.store import RunStore
            with RunStore.open(a.found, readonly=True) as st: archs['found'] = st.top(1)[0]['arch']
        print(f"3. validation perplexity at {a.n_params:,} parameters, {a.epochs} epochs on {a.n_train or 'all'} training tokens")
        out['quality'] = {'n_params': a.n_params, 'epochs': a.epochs, 'n_train': a.n_train, 'found_run': a.found,
                          'rows': quality(data, archs, a.n_params, a.epochs, a.seed, dev)}
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps(out, indent=1, default=str)); print('wrote', a.json)

if __name__ == '__main__': main()
