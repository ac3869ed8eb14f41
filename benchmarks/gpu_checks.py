"""The checks and timings only a GPU can give, in one short run (called by `benchmarks/gpu_checks.sh OUT`).

Each check is independent: a failure is recorded with its reason and the rest still run. The results go to
`OUT/gpu_checks.json` as `{check: {ok, ..figures.., error}}`; the log to stdout.

- env: GPU name, capability, memory, torch, bf16 support.
- cell_precision: the fused recurrent cell gradchecked in fp64 on the device; its loss and gradients under fp16 and
  bf16 autocast against fp32 (the recurrence stays fp32, so they must agree closely), with backward inside the region.
- amp_after_failure: autocast off and the default dtype back after a child that fails mid-batch under mixed precision.
- syncs: host-device synchronisations per batch (torch.cuda.set_sync_debug_mode('warn') counts them) of the image
  loader alone and of one child's training epoch.
- cnn_speed: images/s of one child's training step on CIFAR-sized batches: fp32, channels_last, bf16 autocast.
- cell_speed: tokens/s of a two-layer cell language model's training step, eager and with CUDA graphs.
- searches: a tiny digits search with the serial and pool executors (2 workers on one GPU, each worker's GPU memory
  from nvidia-smi), with --deterministic twice (must be equal), children per minute; a tiny PTB cell search.

With `--device cpu` it runs the same code without the CUDA-only parts (a smoke test of the script itself).
"""
import argparse, json, math, os, subprocess, sys, threading, time, traceback, warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
NAS = [sys.executable, '-c', 'import sys; from nas_rl.cli import main; sys.exit(main())']

def check(fn):
    "Run one check, recording its figures or why it failed; it never stops the others."
    def run(res, a):
        t0 = time.perf_counter()
        try: out = fn(a) or {}; out.setdefault('ok', True)
        except Exception as e: out = {'ok': False, 'error': f"{type(e).__name__}: {e}"[:800], 'trace': traceback.format_exc()[-1500:]}
        out['seconds'] = round(time.perf_counter() - t0, 1)
        res[fn.__name__] = out
        print(f"== {fn.__name__}: {json.dumps(out)[:1500]}", flush=True)
    run.__name__ = fn.__name__
    return run

def sync(dev):
    import torch
    if dev.type == 'cuda': torch.cuda.synchronize()

@check
def env(a):
    import torch
    d = {'torch': torch.__version__, 'cuda': torch.cuda.is_available(), 'device': str(a.dev)}
    if a.dev.type == 'cuda':
        p = torch.cuda.get_device_properties(a.dev)
        d |= {'gpu': p.name, 'capability': f'{p.major}.{p.minor}', 'memory_gib': round(p.total_memory / 2**30, 1),
              'bf16': torch.cuda.is_bf16_supported(), 'cudnn': torch.backends.cudnn.version()}
    return d

@check
def cell_precision(a):
    import torch
    from nas_rl.models.cell import NASCell, CellLayer
    from nas_rl.spaces.cell import PAPER_CELL
    torch.manual_seed(0)
    cell = NASCell(PAPER_CELL, 3, 4).double().to(a.dev); layer = CellLayer(cell)
    x = torch.randn(2, 5, 3, dtype=torch.float64, device=a.dev, requires_grad=True)
    ok64 = torch.autograd.gradcheck(lambda x, *w: layer(x)[0], (x, *cell.parameters()))
    cell = NASCell(PAPER_CELL, 32, 64).to(a.dev); layer = CellLayer(cell)
    x = torch.randn(16, 35, 32, device=a.dev)
    def loss_grads(dtype):
        for p in cell.parameters(): p.grad = None
        with torch.autocast(a.dev.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            out, _ = layer(x); l = (out.float() ** 2).mean(); l.backward()
        return l.item(), torch.cat([p.grad.flatten() for p in cell.parameters()])
    l32, g32 = loss_grads(None)
    out = {'gradcheck_fp64': bool(ok64), 'loss_fp32': l32}
    for name, dt in (('fp16', torch.float16), ('bf16', torch.bfloat16)):
        if a.dev.type == 'cpu' and name == 'fp16': continue
        l, g = loss_grads(dt)
        out[f'rel_loss_diff_{name}'] = abs(l - l32) / abs(l32)
        out[f'rel_grad_diff_{name}'] = ((g - g32).norm() / g32.norm()).item()
    out['ok'] = bool(ok64) and all(v < 1e-3 for k, v in out.items() if k.startswith('rel_')) # the recurrence is fp32 under autocast
    return out

@check
def amp_after_failure(a):
    import torch
    from torch import nn
    from nas_rl.data import digits_data
    from nas_rl.tasks import ImageTask
    from nas_rl.spaces.cnn import CNNSpace
    class Boom(nn.Module):
        def __init__(self): super().__init__(); self.n = 0
        def forward(self, x):
            self.n += 1
            if self.n == 3: raise RuntimeError('a child fails mid-batch')
            return x
    sp = CNNSpace(depth=2, skips=False); arch = sp.decode([1] * len(sp.decisions()))
    from nas_rl.models.cnn import build_cnn
    prec = 'auto' if a.dev.type == 'cuda' else 'bf16'
    task = ImageTask(digits_data(device=a.dev), epochs=1, device=a.dev, precision=prec,
                     build=lambda arch, i, o: nn.Sequential(build_cnn(arch, i, o), Boom()))
    r = task.evaluate(arch)
    state = {'status': r.status, 'reason': r.reason, 'autocast_on': torch.is_autocast_enabled(a.dev.type),
             'default_dtype': str(torch.get_default_dtype()), 'precision': prec}
    state['ok'] = r.status == 'failed' and not state['autocast_on'] and state['default_dtype'] == 'torch.float32'
    ok = task.new(build=build_cnn).evaluate(arch) # the next child trains normally
    state['next_child'] = ok.status
    state['ok'] &= ok.status == 'ok'
    return state

@check
def syncs(a):
    import torch
    if a.dev.type != 'cuda': return {'ok': True, 'skipped': 'CUDA only'}
    from nas_rl.data import digits_data
    from nas_rl.tasks import ImageTask
    from nas_rl.spaces.cnn import CNNSpace
    data = digits_data(device=a.dev)
    def count(fn):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always'); torch.cuda.set_sync_debug_mode('warn')
            try: fn()
            finally: torch.cuda.set_sync_debug_mode(0)
        return sum('synchroniz' in str(x.message) for x in w)
    dl = data.dls.train
    n = len(dl); list(dl) # warm
    loader = count(lambda: [b for b in dl])
    sp = CNNSpace(depth=3, skips=False); arch = sp.decode([1] * len(sp.decisions()))
    task = ImageTask(data, epochs=1, device=a.dev)
    task.evaluate(arch) # warm
    child = count(lambda: task.evaluate(arch))
    return {'batches': n, 'loader_syncs_per_batch': loader / n, 'child_syncs_per_batch': child / (n + len(data.dls.valid)),
            'ok': loader / n < 0.5}

def _cnn_child():
    from nas_rl.spaces.cnn import CNNSpace
    sp = CNNSpace(depth=6) # a random child of the paper's space, 6 layers (the same one on every machine)
    return sp.decode(sp.random_tokens(__import__('random').Random(0)))

@check
def cnn_speed(a):
    import torch
    from torch import nn
    from nas_rl.models.cnn import build_cnn
    arch = _cnn_child(); bs, steps = (256, 30) if a.dev.type == 'cuda' else (32, 3)
    x = torch.randn(bs, 3, 32, 32, device=a.dev); y = torch.randint(0, 10, (bs,), device=a.dev)
    out = {'arch': str(arch), 'bs': bs}
    for name in ('fp32', 'channels_last') + (('bf16', 'bf16_channels_last') if a.dev.type == 'cuda' else ()): # CPU bf16 is emulated: slow, not informative
        torch.manual_seed(0)
        m = build_cnn(arch, 3, 10).to(a.dev); opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
        xi = x
        if 'channels_last' in name: m = m.to(memory_format=torch.channels_last); xi = x.contiguous(memory_format=torch.channels_last)
        amp = 'bf16' in name
        def step():
            with torch.autocast(a.dev.type, dtype=torch.bfloat16, enabled=amp):
                l = nn.functional.cross_entropy(m(xi), y)
            opt.zero_grad(set_to_none=True); l.backward(); opt.step()
        for _ in range(3): step()
        sync(a.dev); t0 = time.perf_counter()
        for _ in range(steps): step()
        sync(a.dev); out[f'images_per_s_{name}'] = round(bs * steps / (time.perf_counter() - t0))
    return out

@check
def cell_speed(a):
    import torch
    from nas_rl.models.cell import CellLM
    from nas_rl.spaces.cell import PAPER_CELL
    V, H, bs, T = 10_000, 200, 64, 35
    steps = 20 if a.dev.type == 'cuda' else 2
    torch.manual_seed(0)
    lm = CellLM(PAPER_CELL, V, H).to(a.dev); opt = torch.optim.SGD(lm.parameters(), lr=1.)
    x = torch.randint(0, V, (bs, T), device=a.dev); y = torch.randint(0, V, (bs, T), device=a.dev)
    def step():
        l = torch.nn.functional.cross_entropy(lm(x).flatten(0, 1), y.flatten())
        opt.zero_grad(set_to_none=False); l.backward(); opt.step()
    def rate():
        for _ in range(3): step()
        sync(a.dev); t0 = time.perf_counter()
        for _ in range(steps): step()
        sync(a.dev); return round(bs * T * steps / (time.perf_counter() - t0))
    out = {'hidden': H, 'bs': bs, 'bptt': T, 'tokens_per_s_eager': rate()}
    if a.dev.type == 'cuda':
        try: # the whole training step captured once and replayed: the cell's ~thousands of small kernels in one launch
            lm.reset(); s = torch.cuda.Stream(); s.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(s):
                for _ in range(3): lm.reset(); step()
            torch.cuda.current_stream().wait_stream(s)
            g = torch.cuda.CUDAGraph(); lm.reset()
            with torch.cuda.graph(g):
                l = torch.nn.functional.cross_entropy(lm.decoder(lm.out_dp(_stack(lm, x))).flatten(0, 1), y.flatten()); l.backward()
            def gstep(): g.replay(); opt.step()
            for _ in range(3): gstep()
            sync(a.dev); t0 = time.perf_counter()
            for _ in range(steps): gstep()
            sync(a.dev); out['tokens_per_s_graphed'] = round(bs * T * steps / (time.perf_counter() - t0))
        except Exception as e: out['graphed_error'] = f"{type(e).__name__}: {e}"[:300]
    return out

def _stack(lm, x):
    "The LM's layers from a zero state (a graph cannot carry the state across replays)."
    out = lm.emb_dp(lm.encoder(x))
    for i, rnn in enumerate(lm.rnns):
        out, _ = rnn(out)
        if i < lm.n_layers - 1: out = lm.hidden_dps[i](out)
    return out

def _gpu_memory(stop, seen):
    "Poll nvidia-smi: the most GPU memory (MiB) each process used."
    while not stop.is_set():
        try:
            r = subprocess.run(['nvidia-smi', '--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits'],
                               capture_output=True, text=True, timeout=10)
            for line in r.stdout.strip().splitlines():
                pid, mem = (s.strip() for s in line.split(','))
                seen[pid] = max(seen.get(pid, 0), int(mem))
        except Exception: pass
        stop.wait(1)

def _search(a, d, *args, timeout=150):
    t0 = time.perf_counter()
    r = subprocess.run(NAS + ['search', '--run-dir', str(d), '--device', a.dev.type, '--quiet', *map(str, args)], cwd=ROOT,
                       capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - t0
    if r.returncode: raise RuntimeError(f"search {' '.join(map(str, args))} exited {r.returncode}: {r.stderr.strip()[-600:]}")
    import sqlite3
    with sqlite3.connect(f"file:{Path(d)/'run.db'}?mode=ro", uri=True) as c:
        rows = c.execute('select reward, status from children order by step, idx').fetchall()
    return {'wall_s': round(wall, 1), 'children': len(rows), 'children_per_min': round(60 * len(rows) / wall, 1),
            'ok_children': sum(s == 'ok' for _, s in rows), 'rewards': [round(r, 6) for r, _ in rows]}

@check
def searches(a):
    import shutil, tempfile
    tmp = Path(tempfile.mkdtemp(prefix='gpu-checks-'))
    S = ['--dataset', 'digits', '--children', a.children, '--per-step', 4, '--epochs', 2, '--seed', 0]
    out = {'serial': _search(a, tmp/'serial', *S)}
    stop, seen = threading.Event(), {}
    th = threading.Thread(target=_gpu_memory, args=(stop, seen), daemon=True); th.start()
    try: out['pool2'] = _search(a, tmp/'pool', *S, '--executor', 'pool', '--workers', 2)
    finally: stop.set(); th.join()
    out['pool2']['gpu_mib_per_process'] = seen
    out['det1'] = _search(a, tmp/'det1', *S, '--deterministic')
    out['det2'] = _search(a, tmp/'det2', *S, '--deterministic')
    out['deterministic_equal'] = out['det1']['rewards'] == out['det2']['rewards']
    out['plain_equal_to_det'] = out['serial']['rewards'] == out['det1']['rewards']
    ptb = ROOT/'.gpu'/'ptb' if (ROOT/'.gpu'/'ptb').exists() else ROOT.parent/'shared'/'data'/'ptb'
    if ptb.exists():
        out['ptb_cell'] = _search(a, tmp/'ptb', '--space', 'cell', '--dataset', 'ptb', '--data-dir', ptb, '--children', 4, '--per-step', 2,
                                  '--epochs', 1, '--hidden', 64, '--n-train', 200_000, '--n-valid', 20_000, timeout=240)
    else: out['ptb_cell'] = {'skipped': f'no PTB at {ptb}'}
    out['ok'] = out['deterministic_equal'] and all(v.get('ok_children', 1) > 0 for v in out.values() if isinstance(v, dict))
    shutil.rmtree(tmp, ignore_errors=True)
    return out

CHECKS = [env, cell_precision, amp_after_failure, syncs, cnn_speed, cell_speed, searches]

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', required=True, help='folder for gpu_checks.json')
    p.add_argument('--device', default='cuda')
    p.add_argument('--children', type=int, default=8, help='children of each tiny digits search')
    p.add_argument('--only', nargs='*', default=None, choices=[c.__name__ for c in CHECKS])
    a = p.parse_args(argv)
    import torch
    a.dev = torch.device(a.device)
    if a.dev.type == 'cuda' and not torch.cuda.is_available(): sys.exit('no CUDA device: run with --device cpu for a smoke test')
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    res = {}
    for c in CHECKS:
        if a.only is None or c.__name__ in a.only: c(res, a)
        (out/'gpu_checks.json').write_text(json.dumps(res, indent=1)) # after each check: a run cut short keeps what it had
    bad = [k for k, v in res.items() if not v.get('ok')]
    print(f"{len(res) - len(bad)} of {len(res)} checks passed" + (f"; failed: {', '.join(bad)}" if bad else ''))
    return 1 if bad else 0

if __name__ == '__main__': sys.exit(main())
