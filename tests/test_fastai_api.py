"""`nas_learner` on DataLoaders built by fastai's own factories: real CIFAR-10 images from a folder, a non-default loss and
metric, and a search killed with SIGKILL and called again, which must give the children of an uninterrupted run."""
import os, signal, subprocess, sys, time
from pathlib import Path
import numpy as np
import pytest
from test_kill_resume import ROOT, ENV, children

NPZ = ROOT.parent/'shared'/'data'/'cifar10'/'cifar10_jpeg.npz'
CLASSES = ['airplane', 'automobile', 'bird']

@pytest.fixture(scope='module')
def cifar_folder(tmp_path_factory):
    "train/ and valid/ folders of real CIFAR-10 JPEGs: 3 classes, 60 and 20 images each."
    if not NPZ.exists(): pytest.skip(f'CIFAR-10 not at {NPZ}')
    d = np.load(NPZ)
    root = tmp_path_factory.mktemp('cifar')
    b, off, names, ys = d['train_bytes'], d['train_offsets'], d['train_names'], d['train_y']
    count = {}
    for i in range(len(names)):
        if ys[i] >= len(CLASSES): continue
        k = count.get(int(ys[i]), 0)
        if k >= 80: continue
        count[int(ys[i])] = k + 1
        p = root/('train' if k < 60 else 'valid')/CLASSES[ys[i]]/Path(str(names[i])).name
        p.parent.mkdir(parents=True, exist_ok=True); p.write_bytes(b[off[i]:off[i+1]].tobytes())
        if len(count) == len(CLASSES) and all(v >= 80 for v in count.values()): break
    return root

SCRIPT = r"""
import sys
from fastai.vision.all import ImageDataLoaders, LabelSmoothingCrossEntropyFlat, F1Score, accuracy
from nas_rl.fastai import nas_learner
from nas_rl.spaces.cnn import CNNSpace
dls = ImageDataLoaders.from_folder(sys.argv[1], valid='valid', bs=32, num_workers=0, device='cpu')
learn = nas_learner(dls, CNNSpace(depth=2, skips=False, n_filters=(8, 16)), strategy='reinforce', n_children=int(sys.argv[3]),
                    per_step=2, epochs=1, lr=0.05, metrics=[accuracy, F1Score(average='macro')], reward_metric='f1_score',
                    loss_func=LabelSmoothingCrossEntropyFlat(), run_dir=sys.argv[2], device='cpu', show_bar=False)
loss, acc, f1 = learn.validate()
print('VALID', loss, acc, f1, learn.loss_func.__class__.__name__, learn.nas.arch)
"""

def run(folder, run_dir, n=10):
    return subprocess.run([sys.executable, '-c', SCRIPT, str(folder), str(run_dir), str(n)], cwd=ROOT, env=ENV,
                          capture_output=True, text=True, timeout=600)

def test_fastai_factory_loss_metric_and_kill_resume(cifar_folder, tmp_path):
    a, b = tmp_path/'a', tmp_path/'b'
    r = run(cifar_folder, a)
    assert r.returncode == 0, r.stderr[-3000:]
    line = next(l for l in r.stdout.splitlines() if l.startswith('VALID'))
    _, loss, acc, f1, lossname, _ = line.split(' ', 5)
    assert lossname == 'LabelSmoothingCrossEntropyFlat' and 0 <= float(f1) <= 1 and float(acc) > 0
    ca = children(a)
    assert len(ca) == 10 and all(c[5] == 'ok' for c in ca), ca
    # the same search, killed with SIGKILL once some children are stored, then called again
    p = subprocess.Popen([sys.executable, '-c', SCRIPT, str(cifar_folder), str(b), '10'], cwd=ROOT, env=ENV,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while time.time() - t0 < 300:
        if (b/'run.db').exists():
            try:
                if len(children(b)) >= 3: break
            except Exception: pass
        if p.poll() is not None: break
        time.sleep(0.2)
    assert p.poll() is None, f'the search ended before it could be killed: {p.stderr.read()[-2000:]}'
    os.kill(p.pid, signal.SIGKILL); p.wait()
    k = len(children(b))
    assert 3 <= k < 10, k
    r = run(cifar_folder, b)
    assert r.returncode == 0, r.stderr[-3000:]
    cb = children(b)
    assert [c[:6] for c in cb] == [c[:6] for c in ca] # step, idx, tokens, depth, reward, status: as if never killed
