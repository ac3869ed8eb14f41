"""Child-training overhead: images/s of `train_child` (a fastai Learner with nas_rl's callbacks) against a plain
PyTorch loop training the same network (same build, same seed, same optimiser settings) on the same batches from
the same loader, alternated in one run. Target (issue 2): fastai / plain >= 0.9. Prints a table and writes JSON.

Datasets: CIFAR-10 (a stratified subset of the real images in ../shared/data, 32x32 RGB: the realistic case) and
scikit-learn's digits (8x8 gray, tiny batches: the worst case for per-batch framework overhead)."""
import argparse, json, os, platform, statistics, subprocess, sys, tempfile, time, warnings
from pathlib import Path
warnings.filterwarnings('ignore', category=FutureWarning)
import torch, torch.nn.functional as F
from nas_rl.core import set_seed
from nas_rl.spaces.cnn import CNNSpace, CNNArch, ConvLayer
from nas_rl.models.cnn import build_cnn
from nas_rl.tasks import train_child
from nas_rl.data import digits_data, cifar10_data

ROOT = Path(__file__).resolve().parents[1]

def find_cifar(cache=Path(tempfile.gettempdir())/'nas_rl_cifar10'):
    "A materialised copy of the shared CIFAR-10 (fastai folder layout), made once."
    if (cache/'cifar10'/'train').exists(): return cache
    shared = ROOT.parent/'shared'/'data'/'cifar10'
    subprocess.run([sys.executable, str(shared/'materialize.py'), '--out', str(cache)], check=True)
    return cache

def plain_fit(arch, data, epochs, lr=0.1, mom=0.9, wd=1e-4, seed=0, device='cpu'):
    "The same network trained by a hand-written loop: SGD Nesterov, cross-entropy, then a validation pass."
    set_seed(seed)
    cuda = torch.device(device).type == 'cuda' # then mixed precision, as `train_child` uses there
    model = build_cnn(arch, data.n_in, data.n_out).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=mom, nesterov=True, weight_decay=wd)
    scaler = torch.amp.GradScaler('cuda', enabled=cuda)
    for _ in range(epochs):
        model.train()
        for xb,yb in data.dls.train:
            with torch.autocast('cuda', dtype=torch.float16, enabled=cuda): loss = F.cross_entropy(model(xb), yb)
            scaler.scale(loss).backward(); scaler.step(opt); scaler.update(); opt.zero_grad()
        model.eval(); correct = n = 0
        with torch.no_grad(), torch.autocast('cuda', dtype=torch.float16, enabled=cuda):
            for xb,yb in data.dls.valid: correct += (model(xb).argmax(1) == yb).sum().item(); n += len(yb)
    return correct/n

def timed(f):
    t = time.perf_counter(); out = f(); return time.perf_counter()-t, out

def bench(name, data, arch, epochs, reps, device='cpu'):
    n = len(data.dls.train.dataset)*epochs
    timed(lambda: train_child(arch, data, epochs=1, seed=0, device=device)); timed(lambda: plain_fit(arch, data, 1, device=device)) # warm up
    fa,pl = [],[]
    for _ in range(reps):  # alternate, so both see the same machine load
        t,r = timed(lambda: train_child(arch, data, epochs=epochs, seed=0, sched='constant', device=device)); fa.append(n/t)
        assert r.status == 'ok', r.reason
        t,_ = timed(lambda: plain_fit(arch, data, epochs, device=device)); pl.append(n/t)
    f,p = statistics.median(fa), statistics.median(pl)
    return {'dataset': name, 'arch': str(arch), 'train_images': len(data.dls.train.dataset), 'epochs': epochs, 'reps': reps,
            'fastai_img_s': f, 'plain_img_s': p, 'ratio': f/p, 'fastai_all': fa, 'plain_all': pl}

def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--reps', type=int, default=3)
    p.add_argument('--n-train', type=int, default=5000)
    p.add_argument('--json', default=str(Path(__file__).parent/'results'/'child_overhead.json'))
    p.add_argument('--device', default='cpu', help="'cpu' or 'cuda' (there both sides train in fp16 mixed precision)")
    p.add_argument('--cifar-dir', default=None, help='a CIFAR-10 folder (default: materialise ../shared/data/cifar10)')
    p.add_argument('--epochs', type=int, nargs=2, default=[3, 1], help='epochs per timed fit: digits, CIFAR-10')
    a = p.parse_args()
    dev = torch.device(a.device)
    arch = CNNSpace(depth=6).decode([1,1,1, 1,1,2,1, 2,2,0,0,1, 1,0,3,1,1,0, 0,2,1,0,1,1,0, 1,1,2,1,0,0,1,1])
    cifar = cifar10_data(a.cifar_dir or find_cifar(), n_train=a.n_train, n_valid=1000, bs=128, device=dev)
    rows = [bench('digits', digits_data(device=dev), arch, a.epochs[0], a.reps, dev), bench('cifar10', cifar, arch, a.epochs[1], a.reps, dev)]
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
               f"{torch.get_num_threads()} threads, device {dev}" + (f" ({torch.cuda.get_device_name()})" if dev.type == 'cuda' else ''))
    print(f"child-training overhead on {machine}\n{arch}")
    print(f"{'dataset':<10}{'train imgs':>11}{'epochs':>7}{'fastai img/s':>14}{'plain img/s':>13}{'ratio':>8}  target >= 0.9")
    for r in rows:
        print(f"{r['dataset']:<10}{r['train_images']:>11}{r['epochs']:>7}{r['fastai_img_s']:>14.0f}{r['plain_img_s']:>13.0f}{r['ratio']:>8.3f}  {'met' if r['ratio'] >= 0.9 else 'NOT met'}")
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps({'benchmark': 'child_overhead', 'machine': machine, 'target': '>= 0.9', 'rows': rows}, indent=2))
    print('wrote', a.json)

if __name__ == '__main__': main()
