"Executors through the search: every kind of child failure is data on every engine, engines agree, Ray retries dead workers."
import math, os, signal, sys, time
from pathlib import Path
import pytest
import torch
from torch import nn
from nas_rl.core import *
from nas_rl.spaces.cnn import CNNSpace, CNNArch, ConvLayer
from nas_rl.strategies import Strategy, Proposal, Reinforce
from nas_rl.search import Search, Checkpoint
from nas_rl.tasks import Task, FunctionTask
from nas_rl.executors import SerialExecutor, PoolExecutor, evaluate_job, get_executor
from nas_rl.store import RunStore

torch.set_num_threads(1)
SPACE = CNNSpace(depth=2, skips=False)

class ListStrategy(Strategy):
    "Proposes the given architectures in order (cycling), and learns nothing."
    def __init__(self, space, archs): super().__init__(space); self.archs,self.i = archs,0
    def ask(self, n, depth=None):
        out = []
        for _ in range(n):
            a = self.archs[self.i % len(self.archs)]; self.i += 1
            out.append(Proposal(a, self.space.encode(a), a.depth, 0., self.version))
        return out

class _Mul(nn.Module):
    def __init__(self, c): super().__init__(); self.c = c
    def forward(self, x): return x*self.c

class _Raise(nn.Module):
    def __init__(self, e): super().__init__(); self.e = e
    def forward(self, x): raise self.e

class _Slow(nn.Module):
    def forward(self, x): time.sleep(0.4); return x

def fault_build(arch, n_in, n_out):
    "A real CNN, except the first layer's filter height picks a way to fail."
    from nas_rl.models.cnn import build_cnn
    fh,fw = arch.layers[0].fh,arch.layers[0].fw
    net = build_cnn(arch, n_in, n_out)
    if fh == 1 and fw == 1: raise ValueError('a 1x1 first layer does not build here')       # invalid
    if fh == 5: return nn.Sequential(net, _Mul(math.nan))                                   # nan
    if fh == 7 and fw == 7: return nn.Sequential(net, _Raise(torch.cuda.OutOfMemoryError('CUDA out of memory. Tried to allocate 9.00 GiB')))  # oom
    if fh == 7 and fw == 5: return nn.Sequential(net, _Raise(MemoryError()))                 # oom (host)
    if fh == 7 and fw == 1: return nn.Sequential(net, _Raise(RuntimeError('cuDNN error: CUDNN_STATUS_INTERNAL_ERROR')))  # failed
    if fh == 1 and fw == 7: return nn.Sequential(_Slow(), net)                                # timeout
    return net

class FaultTask(Task):
    "Digits children built by `fault_build`; a 1x3 first layer makes the task itself raise."
    failure_reward = -0.25
    def __init__(self):
        from nas_rl.data import digits_data
        self.data = digits_data(bs=256)
    def evaluate(self, arch, seed=None):
        from nas_rl.tasks import train_child
        if (arch.layers[0].fh, arch.layers[0].fw) == (1, 3): raise KeyError('the task itself broke')
        budget = 0.6 if (arch.layers[0].fh, arch.layers[0].fw) == (1, 7) else None
        return train_child(arch, self.data, epochs=1, build=fault_build, time_budget=budget, seed=seed,
                           failure_reward=self.failure_reward, device='cpu')

def A(fh, fw): return CNNArch((ConvLayer(fh, fw, 24), ConvLayer(3, 3, 24, inputs=(0,))))

CASES = [(A(3,3), 'ok', None), (A(1,1), 'invalid', 'ValueError: a 1x1 first layer does not build here'),
         (A(5,3), 'nan', 'loss is nan'), (A(7,7), 'oom', 'OutOfMemoryError: CUDA out of memory'),
         (A(7,5), 'oom', 'MemoryError'), (A(7,1), 'failed', 'RuntimeError: cuDNN error'),
         (A(1,7), 'timeout', 'time budget of 0.6s'), (A(1,3), 'failed', "KeyError: 'the task itself broke'")]

def fault_search(executor, store=None):
    s = Search(SPACE, FaultTask(), ListStrategy(SPACE, [a for a,_,_ in CASES]), n_children=len(CASES), per_step=4,
               executor=executor, store=store, cbs=[Checkpoint()] if store is not None else None, depth=2)
    return s.run()

def check_faults(s):
    assert s.n_done == len(CASES) and s.step == 2
    for (p,r),(a,status,reason) in zip(s.history, CASES):
        assert r.arch == a and r.status == status, (a, r)
        if reason: assert reason in r.reason, (a, r.reason)
        if status == 'ok': assert 0 < r.reward <= 1
        elif status != 'timeout': assert r.reward == -0.25, r

@pytest.fixture(scope='module')
def serial_faults(): return fault_search(SerialExecutor())

def test_faults_serial(serial_faults): check_faults(serial_faults)

def test_faults_pool_same_as_serial(serial_faults, tmp_path):
    with PoolExecutor(2) as ex, RunStore.create(tmp_path/'run', {}, SPACE.config()) as st:
        s = fault_search(ex, st)
        check_faults(s)
        rows = st.children()
        assert [(c['step'], c['idx'], c['status']) for c in rows] == [(i//4, i%4, st_) for i,(_,st_,_) in enumerate(CASES)]
        assert all(c['reason'] for c in rows if c['status'] != 'ok')
    ser = [(r.status, r.reward) for _,r in serial_faults.history]
    par = [(r.status, r.reward) for _,r in s.history]
    assert [x for x in par if x[0] != 'timeout'] == [x for x in ser if x[0] != 'timeout']  # same seeds, same children

def widest(arch): return sum(l.nf == 64 for l in arch.layers)/arch.depth

class DieOnceTask:
    "The first evaluation of each seed kills its worker process (a marker file remembers); later ones succeed."
    failure_reward = 0.
    def __init__(self, d): self.d = str(d)
    def evaluate(self, arch, seed=None):
        m = Path(self.d)/f'{seed}'
        if not m.exists(): m.touch(); os.kill(os.getpid(), signal.SIGKILL)
        return ChildResult(arch, widest(arch))

def test_pool_worker_killed_retried_once_recorded(tmp_path):
    sp = CNNSpace(depth=3)
    with PoolExecutor(2, max_retries=2) as ex, RunStore.create(tmp_path/'run', {}, sp.config()) as st:
        s = Search(sp, DieOnceTask(tmp_path), Reinforce(sp, seed=0), n_children=4, per_step=2, executor=ex, store=st,
                   cbs=Checkpoint()).run()
        assert [c['status'] for c in st.children()] == ["ok"]*4 and st.n_children == 4
        assert len({(c["step"], c["idx"]) for c in st.children()}) == 4
    assert len(list(tmp_path.glob("[0-9]*"))) == 4  # every child's worker died once

def test_get_executor_errors():
    with pytest.raises(ConfigError, match='A cluster address is for the ray executor, not serial'): get_executor('serial', address='auto')
    with pytest.raises(ConfigError, match="Unknown executor 'spark'"): get_executor('spark')

# Ray: one local Ray for all Ray tests (starting it takes seconds)
@pytest.fixture(scope='module')
def ray_ex():
    pytest.importorskip('ray')
    import cloudpickle
    cloudpickle.register_pickle_by_value(sys.modules[__name__]) # Ray workers need not import this test file
    from nas_rl.executors import RayExecutor
    ex = RayExecutor(workers=2, max_retries=2)
    yield ex
    ex.close()

def test_ray_same_as_serial_and_async(ray_ex):
    sp = CNNSpace(depth=3)
    def run(ex, async_=False):
        return Search(sp, FunctionTask(widest), Reinforce(sp, lr=0.05, seed=0), n_children=12, per_step=4,
                      executor=ex, async_=async_).run()
    hist = lambda s: [(p.tokens, r.reward, r.status) for p,r in s.history]
    assert hist(run(ray_ex)) == hist(run(SerialExecutor()))
    a = run(ray_ex, async_=True)
    assert a.n_done == 12 and a.step == 3 and 'staleness_max' in a.stats

def test_ray_faults(ray_ex): check_faults(fault_search(ray_ex))

def test_ray_worker_killed_retried_once_recorded(ray_ex, tmp_path):
    sp = CNNSpace(depth=3)
    with RunStore.create(tmp_path/'run', {}, sp.config()) as st:
        Search(sp, DieOnceTask(tmp_path), Reinforce(sp, seed=0), n_children=4, per_step=2, executor=ray_ex, store=st).run()
        assert [c['status'] for c in st.children()] == ['ok']*4
        assert [(c['step'], c['idx']) for c in st.children()] == [(0,0), (0,1), (1,0), (1,1)]
    assert len(list(tmp_path.glob('[0-9]*'))) == 4

def test_cancelled_search_leaves_executor_reusable():
    "A callback cancelling mid-step leaves no stray job behind: the executor's next run gets its own results."
    from nas_rl.search import SearchCallback, CancelSearchException
    class StopAt(SearchCallback):
        def after_child(self):
            if self.n_done >= 3: raise CancelSearchException()
    sp = CNNSpace(depth=3)
    run = lambda ex, cbs=None, async_=False: Search(sp, FunctionTask(widest), Reinforce(sp, seed=3), n_children=8, per_step=4,
                                                    executor=ex, cbs=cbs, async_=async_).run()
    ref = [(p.tokens, r.reward) for p,r in run(SerialExecutor()).history]
    with PoolExecutor(2) as ex:
        for async_ in (False, True):
            s = run(ex, [StopAt()], async_)
            assert s.n_done == 3 and ex.n_running == 0
        assert [(p.tokens, r.reward) for p,r in run(ex).history] == ref
