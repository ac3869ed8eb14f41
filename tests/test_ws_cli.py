"""Weight-sharing searches from the command line: a run SIGKILLed at random moments (in shared training, between
children of a step) resumes to exactly the run an uninterrupted search makes, derived picks included; and
`show` and `retrain` read a shared run."""
import json, random, sqlite3
from pathlib import Path
import pytest
from test_kill_resume import nas_rl, children, steps, kill_and_resume

TABLE = Path(__file__).resolve().parents[2]/'shared/data/nb201/nb201_cifar10.csv.xz'
# 8 epochs of shared training, a controller step every half epoch: kills land in training and between children
ARGS = ['--space', 'nb201', '--weight-sharing', '--channels', 4, '--cells', 1, '--epochs', 8, '--warmup', 1, '--every', 2,
        '--per-step', 3, '--derive', 12, '--seed', 5, '--quiet', '--strategy', 'reinforce', '--lr', 0.01]

def meta(d, key):
    with sqlite3.connect(f"file:{Path(d)/'run.db'}?mode=ro", uri=True) as c:
        row = c.execute('select value from meta where key = ?', (key,)).fetchone()
    return row and json.loads(row[0])

def test_shared_run_killed_then_resumed_is_exact(tmp_path):
    d, full = tmp_path/'run', tmp_path/'full'
    r = nas_rl('search', *ARGS, '--run-dir', full)
    assert r.returncode == 0, r.stderr
    ref = children(full)
    assert len(ref) == 7 * 2 * 3 and meta(full, 'derived')['top']
    seed = random.randrange(2**32)
    snaps, kills = kill_and_resume(d, ARGS, seed, tries=8, pause=1.5)
    assert kills >= 2, f"seed {seed}: killed only {kills} times"
    after = children(d)
    for snap in snaps: assert after[:len(snap)] == snap, f"seed {seed}: a finished child was changed"
    assert [r[:6] for r in after] == [r[:6] for r in ref], f"seed {seed}: the resumed run scored other children"
    key = lambda st: [(s, {k: v for k, v in x.items() if k in ('mean_reward', 'baseline', 'loss')}) for s, x in st]
    assert key(steps(d)) == key(steps(full)), f"seed {seed}: the controller diverged"
    assert meta(d, 'derived') == meta(full, 'derived'), f"seed {seed}: another pick"

@pytest.mark.skipif(not TABLE.is_file(), reason='needs ../shared/data/nb201')
def test_show_and_retrain_a_shared_run(tmp_path):
    d = tmp_path/'run'
    r = nas_rl('search', *ARGS[:ARGS.index('--epochs')], '--epochs', 3, '--warmup', 1, '--derive', 6, '--quiet', '--table', TABLE, '--run-dir', d)
    assert r.returncode == 0 and 'derived pick (valid_acc' in r.stdout, r.stderr
    r = nas_rl('show', d)
    assert r.returncode == 0 and 'derived: the best of 6 sampled architectures by valid_acc' in r.stdout, r.stderr
    pick = meta(d, 'derived')['top'][0]
    r = nas_rl('retrain', d, '--epochs', 1)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert 'NAS-Bench-201 table: test accuracy' in r.stdout and lines[-2].startswith('test accuracy') and lines[-1].startswith('kept it in'), r.stdout
    assert meta(d, 'retrain')['derived_rank'] == 1 and meta(d, 'retrain')['epochs'] == 1
    r = nas_rl('export', d, '--out', tmp_path/'pick') # the shared run's pick, retrained from scratch, taken home
    assert r.returncode == 0 and 'exported derived pick 1' in r.stdout, r.stderr
    assert json.loads((tmp_path/'pick'/'arch.json').read_text()) == pick['arch']

@pytest.mark.parametrize('args,msg', [
    (('--warmup', '4', '--epochs', '4'), 'leaves none of --epochs 4'),
    (('--executor', 'pool'), 'use the serial executor'),
    (('--space', 'cell', '--params', '10000'), "give the shared language model's --hidden"),
    (('--space', 'nb201', '--dataset', 'ptb'), '--dataset digits, cifar10 or folder'),
])
def test_shared_options_checked_first(tmp_path, args, msg):
    d = tmp_path/'run'
    r = nas_rl('search', '--weight-sharing', '--run-dir', d, *args)
    assert r.returncode == 2 and msg in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not d.exists()
