"""The GPU paths that can be checked on a CPU: Ray's GPU requests (with GPUs Ray is told exist), and --deterministic kept
by the run. What needs a real GPU (equal results twice on CUDA, memory per worker) is in benchmarks/gpu_checks.sh."""
import json, subprocess, sys
import pytest
from test_kill_resume import ROOT, ENV, nas_rl, children
from test_hostile import S, files, refused

RAY_FAKE_GPUS = r"""
import json, os, ray
from nas_rl.core import ChildResult
from nas_rl.tasks import Task
from nas_rl.executors import RayExecutor
from nas_rl.spaces.cnn import CNNSpace
class Where(Task):
    "Reward: the GPU Ray gave this child; its worker's pid in the reason."
    def evaluate(self, arch, seed=None): return ChildResult(arch, float(os.environ.get('CUDA_VISIBLE_DEVICES') or -1), reason=str(os.getpid()))
ray.init(num_cpus=2, num_gpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
sp = CNNSpace(depth=1, skips=False); arch = sp.decode([0] * len(sp.decisions()))
out = {}
for g in (1, 0.5):
    with RayExecutor(num_gpus_per_child=g) as ex:
        rs = ex.run(Where(), [(arch, i) for i in range(8)])
        out[str(g)] = dict(n_workers=ex.n_workers, gpus=[r.reward for r in rs], pids=[r.reason for r in rs])
print(json.dumps(out))
"""

def test_ray_children_get_gpus():
    pytest.importorskip('ray')
    r = subprocess.run([sys.executable, '-c', RAY_FAKE_GPUS], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    one, half = out['1'], out['0.5']
    assert one['n_workers'] == 2 and set(one['gpus']) <= {0., 1.}, one # one GPU each: Ray pins each child to one
    assert half['n_workers'] == 2 and set(half['gpus']) <= {0., 1.}, half # two per GPU, but the 2 CPUs allow two at once
    for o in (one, half): # a worker process keeps the GPU it started on, so its cached task and CUDA context stay valid
        seen = {}
        for g, pid in zip(o['gpus'], o['pids']): assert seen.setdefault(pid, g) == g, o

def test_deterministic_is_kept_by_the_run(tmp_path):
    a, b = tmp_path/'a', tmp_path/'b'
    for d in (a, b):
        r = nas_rl('search', *S, '--deterministic', '--executor', 'pool', '--workers', 2, '--run-dir', d)
        assert r.returncode == 0, r.stderr
    assert children(a) and [c[:6] for c in children(a)] == [c[:6] for c in children(b)] # same tokens, rewards, statuses
    import sqlite3
    with sqlite3.connect(f"file:{a/'run.db'}?mode=ro", uri=True) as c:
        assert json.loads(c.execute("select value from meta where key='config'").fetchone()[0])['deterministic'] is True
    plain = tmp_path/'plain'
    assert nas_rl('search', *S, '--run-dir', plain).returncode == 0
    before = files(plain)
    refused(nas_rl('search', '--resume', '--run-dir', plain, '--deterministic', '--children', 6), '--deterministic True (the run has None)')
    assert files(plain) == before
