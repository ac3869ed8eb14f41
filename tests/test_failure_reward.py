"A task's declared failure reward reaches the search whichever executor ran the child and however it failed."
import os, signal
import pytest
import torch
from torch import nn
from nas_rl.core import *
from nas_rl.spaces.cnn import CNNArch, ConvLayer
from nas_rl.models.cnn import build_cnn
from nas_rl.tasks import ImageTask, LMTask
from nas_rl.executors import SerialExecutor, PoolExecutor, evaluate_job

torch.set_num_threads(1)
ARCH = CNNArch((ConvLayer(3, 3, 8),))
FAIL = -0.375

def kill_worker(arch, n_in, n_out):
    "A build that kills the process it runs in, as an out-of-memory killer or a segfault would."
    os.kill(os.getpid(), signal.SIGKILL)

class EscapingTask(ImageTask):
    "An image task whose own code (outside the child's training) raises: the exception escapes `evaluate`."
    def reward_cb(self): raise KeyError('the task itself broke')

def data():
    from nas_rl.data import digits_data
    return digits_data(bs=512)

def test_declared_attribute():
    d = data()
    assert ImageTask(d, failure_reward=FAIL).failure_reward == FAIL
    assert ImageTask(d).failure_reward == 0.

def test_serial_escaping_exception():
    r = evaluate_job(EscapingTask(data(), epochs=1, failure_reward=FAIL), ARCH, seed=0)
    assert (r.status, r.reward) == ('failed', FAIL) and 'the task itself broke' in r.reason
    r, = SerialExecutor().run(EscapingTask(data(), epochs=1, failure_reward=FAIL), [(ARCH, 0)])
    assert (r.status, r.reward) == ('failed', FAIL)

def test_pool_escaping_exception_and_killed_worker():
    with PoolExecutor(1, threads=1, max_retries=0) as ex:
        r, = ex.run(EscapingTask(data(), epochs=1, failure_reward=FAIL), [(ARCH, 0)])
        assert (r.status, r.reward) == ('failed', FAIL)
        r, = ex.run(ImageTask(data(), epochs=1, build=kill_worker, failure_reward=FAIL, device='cpu'), [(ARCH, 0)])
        assert (r.status, r.reward, r.reason) == ('failed', FAIL, 'its worker process died (1 attempt)')

def test_ray_killed_worker():
    pytest.importorskip('ray')
    from nas_rl.executors import RayExecutor
    with RayExecutor(workers=1, max_retries=0) as ex:
        r, = ex.run(ImageTask(data(), epochs=1, build=kill_worker, failure_reward=FAIL, device='cpu'), [(ARCH, 0)])
        assert (r.status, r.reward) == ('failed', FAIL), r
        r, = ex.run(EscapingTask(data(), epochs=1, failure_reward=FAIL), [(ARCH, 0)])
        assert (r.status, r.reward) == ('failed', FAIL), r

def test_lm_task_declares_it(tmp_path):
    from types import SimpleNamespace
    t = LMTask(SimpleNamespace(vocab_sz=10, name='toy'), failure_reward=FAIL, device='cpu')
    assert t.failure_reward == FAIL and t.config()['failure_reward'] == FAIL
