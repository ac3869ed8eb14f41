"`nas_rl search --cost`: a budgeted search end to end, its costs in the run store, `show --pareto`, `plot --pareto`, resume, and its one-line errors."
import json, sqlite3
from pathlib import Path
import pytest
from test_kill_resume import ROOT, nas_rl

TABLE = ROOT.parent/'shared'/'data'/'nb201'/'nb201_cifar10.csv.xz'
needs_table = pytest.mark.skipif(not TABLE.exists(), reason=f'NAS-Bench-201 table not at {TABLE}')

def children(d):
    "(metrics, reward, status) of each child of run `d`, in order."
    with sqlite3.connect(Path(d)/'run.db') as db:
        return [(json.loads(m), r, s) for m, r, s in db.execute('select metrics, reward, status from children order by id')]

@needs_table
def test_budgeted_nb201_search_show_plot_resume(tmp_path):
    d = tmp_path/'run'
    T = 50e6 # multiply-accumulates: below the median cell's (about 80M), so the budget binds
    r = nas_rl('search', '--space', 'nb201', '--table', TABLE, '--children', 24, '--per-step', 4, '--quiet', '--run-dir', d,
               '--cost', 'macs', '--target', T, '--cost-reward', 'hard')
    assert r.returncode == 0, r.stderr
    ch = children(d)
    assert len(ch) == 24
    for m, reward, status in ch:
        c, base = m['cost']['macs'], m['task_reward']
        assert reward == pytest.approx(base if c <= T else base * T / c) # the hard constraint, from the stored cost
    assert any(m['cost']['macs'] > T for m, _, _ in ch) and any(m['cost']['macs'] <= T for m, _, _ in ch)
    r = nas_rl('show', d, '--pareto')
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert 'Pareto front of 24 costed children, validation accuracy against macs' in lines[0] and 'target 5e+07 (hard reward)' in lines[0]
    rows = [l.split() for l in lines[2:]]
    accs, costs = [float(x[1]) for x in rows], [float(x[2]) for x in rows]
    assert len(rows) >= 1 and costs == sorted(costs) and accs == sorted(accs) # cheapest first, each better than the last
    assert all(x[4] == ('yes' if float(x[2]) <= T else 'no') for x in rows)
    best = max(m['valid_acc'][0] for m, _, _ in ch)
    assert accs[-1] == pytest.approx(best, abs=1e-4) # the best child is on the front
    r = nas_rl('plot', d, '--pareto')
    assert r.returncode == 0 and (d/'pareto.png').stat().st_size > 10_000, r.stderr
    r = nas_rl('search', '--resume', '--run-dir', d, '--children', 32, '--quiet')
    assert r.returncode == 0 and '32 children' in r.stdout, r.stderr
    assert all('task_reward' in m for m, _, _ in children(d)) # the resumed run kept its budget

def test_trained_children_record_every_cost(tmp_path):
    d = tmp_path/'run'
    r = nas_rl('search', '--children', 2, '--per-step', 2, '--epochs', 1, '--depth', 2, '--quiet', '--run-dir', d,
               '--cost', 'latency', '--target', 0.5, '--cost-reward', 'tunas', '--cost-weight', -0.01)
    assert r.returncode == 0, r.stderr
    for m, reward, status in children(d):
        assert status == 'ok' and set(m['cost']) == {'params', 'macs', 'memory', 'latency'}
        assert m['cost']['latency'] > 0 and m['cost']['memory'] > 0 and m['cost']['macs'] > 0
        assert reward == pytest.approx(m['task_reward'] - 0.01 * abs(m['cost']['latency'] / 0.5 - 1))
    r = nas_rl('show', d, '--pareto')
    assert r.returncode == 0 and 'against latency (milliseconds per batch of --latency-bs)' in r.stdout, r.stderr

@pytest.mark.parametrize('args,msg', [
    (('--target', 5), '--target needs --cost params|macs|memory|latency'),
    (('--cost', 'macs'), '--cost macs needs --target T, the budget in multiply-accumulates per input'),
    (('--cost', 'flops', '--target', 5), "invalid choice: 'flops'"),
    (('--cost', 'macs', '--target', -5), "expected a positive number"),
    (('--cost', 'latency', '--target', 5, '--latency-table', 'x.csv'), '--latency-table holds NAS-Bench-201'),
])
def test_bad_budget_one_line_exit_2(tmp_path, args, msg):
    r = nas_rl('search', '--children', 2, '--quiet', '--run-dir', tmp_path/'run', *args)
    assert r.returncode == 2 and msg in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path/'run').exists()

def test_budget_with_pool_executor_and_weight_sharing(tmp_path):
    "A budget works the same when children train in worker processes, and on weight-sharing paths (whose derived pick it ranks)."
    d = tmp_path/'pool'
    r = nas_rl('search', '--children', 2, '--per-step', 2, '--epochs', 1, '--depth', 2, '--quiet', '--run-dir', d,
               '--executor', 'pool', '--workers', 2, '--cost', 'macs', '--target', 1e5, '--cost-reward', 'hard')
    assert r.returncode == 0, r.stderr
    for m, reward, status in children(d):
        assert status == 'ok' and set(m['cost']) == {'params', 'macs', 'memory', 'latency'} # measured in the workers
        assert reward == pytest.approx(m['task_reward'] * min(1, 1e5 / m['cost']['macs']))
    d = tmp_path/'ws'
    r = nas_rl('search', '--space', 'nb201', '--weight-sharing', '--channels', 4, '--cells', 1, '--epochs', 2, '--warmup', 1,
               '--every', 2, '--per-step', 2, '--derive', 10, '--quiet', '--run-dir', d, '--cost', 'macs', '--target', 2e4, '--cost-reward', 'hard')
    assert r.returncode == 0, r.stderr
    ch = children(d)
    assert len(ch) == 4 and all(set(m['cost']) == {'params', 'macs'} for m, _, _ in ch)
    assert all(reward == pytest.approx(m['task_reward'] * min(1, 2e4 / m['cost']['macs'])) for m, reward, _ in ch)
    with sqlite3.connect(d/'run.db') as db: derived = json.loads(db.execute("select value from meta where key = 'derived'").fetchone()[0])
    rewards = [t['reward'] for t in derived['top']]
    assert rewards == sorted(rewards, reverse=True) and any(t['reward'] < t['score'] for t in derived['top']) # ranked by the cost-aware reward
