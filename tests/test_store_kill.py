"A search killed at any moment leaves a run store that opens, with whole rows and no duplicates; a live writer's lock blocks others."
import json, os, random, signal, sqlite3, subprocess, sys, time
from pathlib import Path
import pytest
import nas_rl
from nas_rl.core import StoreError
from nas_rl.store import RunStore

ROOT = Path(nas_rl.__file__).parents[1]
BS = 4 # children per step in the writer below

# Appends children (and a step row after every BS, a checkpoint after every 10) until killed, resuming where the
# store says it stopped.
WRITER = f"""
import sys, torch
from nas_rl.core import ChildResult
from nas_rl.store import RunStore
st = RunStore.open(sys.argv[1])
i = st.n_children
print('ready', flush=True)
while True:
    step, idx = divmod(i, {BS})
    r = ChildResult(None, i/1000, metrics={{'valid_acc': [i/7]*50, 'note': 'x'*200}}, params=i, flops=2*i, wall=0.1)
    st.add_child(step, idx, r, tokens=list(range(40)), depth=3)
    if idx == {BS}-1: st.add_step(step, {{'mean_reward': i/1000, 'loss': -1., 'tokens': list(range(100))}})
    if i % 10 == 0: st.save_checkpoint({{'i': i, 'w': torch.randn(20000)}})
    i += 1
"""

HOLDER = """
import sys, time
from nas_rl.store import RunStore
st = RunStore.open(sys.argv[1])
print('ready', flush=True)
time.sleep(60)
"""

def _start(code, run_dir):
    p = subprocess.Popen([sys.executable, '-c', code, str(run_dir)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    assert line.strip() == 'ready', f"subprocess did not start (rc {p.poll()})"
    return p

def _kill(p):
    os.kill(p.pid, signal.SIGKILL); p.wait(); p.stdout.close()

def _check_whole(run_dir):
    "Every row of the store parses; (step, idx) pairs are unique and gap-free; return the number of children."
    con = sqlite3.connect(f"file:{run_dir/'run.db'}?mode=ro", uri=True)
    try:
        assert con.execute('PRAGMA integrity_check').fetchone()[0] == 'ok'
        rows = con.execute('SELECT step, idx, arch, tokens, metrics, reward, params FROM children ORDER BY id').fetchall()
        for step, idx, arch, tokens, metrics, reward, params in rows:
            assert arch is None
            assert json.loads(tokens) == list(range(40))
            m = json.loads(metrics)
            assert len(m['valid_acc']) == 50 and m['note'] == 'x'*200
            i = step*BS + idx
            assert (reward, params) == (i/1000, i)
        pairs = [(s, i) for s,i,*_ in rows]
        assert len(pairs) == len(set(pairs))
        assert pairs == [divmod(i, BS) for i in range(len(pairs))], 'children are not the committed prefix'
        for step, stats in con.execute('SELECT step, stats FROM steps'):
            assert json.loads(stats)['tokens'] == list(range(100))
    finally: con.close()
    return len(rows)

def test_kill_leaves_whole_store(tmp_path):
    run_dir = tmp_path/'run'
    RunStore.create(run_dir, {'seed': 0}, {'name': '_kill'}).close()
    seed = random.randrange(2**32); rng = random.Random(seed)
    n_prev = 0
    for k in range(5):
        p = _start(WRITER, run_dir)
        time.sleep(rng.uniform(0.05, 0.6))
        _kill(p)
        with RunStore.open(run_dir) as st: # the lock died with the writer
            n = _check_whole(run_dir)
            assert n == st.n_children >= n_prev, f"seed {seed}, kill {k}: {n} children after {n_prev}"
            assert [r.params for r in st.results()] == list(range(n))
            ck = st.load_checkpoint()
            if ck is not None: assert ck['i'] < n and ck['w'].shape == (20000,), f"seed {seed}"
            assert not list(run_dir.glob('*.tmp')), 'stale checkpoint temp file not swept'
        n_prev = n
    assert n_prev > 0, f"seed {seed}: no child was written in 5 runs"

def test_live_lock_blocks_second_writer(tmp_path):
    run_dir = tmp_path/'run'
    RunStore.create(run_dir, {}, {}).close()
    p = _start(HOLDER, run_dir)
    try:
        with pytest.raises(StoreError, match=f'another search is writing to .*run \\(pid {p.pid}\\)'): RunStore.open(run_dir)
        with RunStore.open(run_dir, readonly=True) as ro: assert ro.n_children == 0
    finally: _kill(p)
    RunStore.open(run_dir).close()
