"""A search (REINFORCE, or TPE through Optuna) SIGKILLed at random moments, several times, then resumed: no finished child is lost or counted twice, and
it ends exactly where an uninterrupted run with the same seed ends. Two searches on one run directory: the second refuses."""
import json, os, random, signal, sqlite3, subprocess, sys, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONWARNINGS': 'ignore'}
MAIN = [sys.executable, '-c', 'import sys; from nas_rl.cli import main; sys.exit(main())']

def nas_rl(*args):
    return subprocess.run(MAIN + [str(a) for a in args], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)

def start(*args):
    return subprocess.Popen(MAIN + [str(a) for a in args], cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)

def children(d):
    with sqlite3.connect(f"file:{Path(d)/'run.db'}?mode=ro", uri=True) as c:
        return c.execute('select step, idx, tokens, depth, reward, status, wall, created from children order by step, idx').fetchall()

def steps(d):
    with sqlite3.connect(f"file:{Path(d)/'run.db'}?mode=ro", uri=True) as c:
        return [(s, json.loads(st)) for s, st in c.execute('select step, stats from steps order by step')]

def wait_for(cond, timeout=120):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if cond(): return True
        time.sleep(0.05)
    return False

def has_store(d):
    try: return len(steps(d)) >= 0
    except sqlite3.Error: return False

def kill_and_resume(d, args, seed, tries=6, pause=2.):
    "Run `nas_rl search args` in `d`, SIGKILL it at random moments (each after it stored a child of its own) and resume it until it finishes: (snapshots of the children after each try, kills)."
    rng, snaps, kills = random.Random(seed), [], 0
    for k in range(tries):
        p = start('search', *args, '--run-dir', d) if not (d/'run.db').exists() else start('search', '--resume', '--run-dir', d, '--quiet')
        n0 = len(snaps[-1]) if snaps else 0
        assert wait_for(lambda: (has_store(d) and len(children(d)) > n0) or p.poll() is not None), f"seed {seed}: stuck"
        time.sleep(rng.uniform(0, pause))
        if p.poll() is None: os.kill(p.pid, signal.SIGKILL); kills += 1
        rc = p.wait(); err = p.stderr.read(); p.stderr.close()
        assert rc in (0, -signal.SIGKILL), f"seed {seed}: rc {rc}: {err}"
        snaps.append(children(d))
        if rc == 0: break
    if rc != 0:
        r = nas_rl('search', '--resume', '--run-dir', d, '--quiet')
        assert r.returncode == 0, r.stderr
    return snaps, kills

# depth schedule moves during the run (2 -> 3 -> 4), so it must be restored too
ARGS = ['--children', 12, '--per-step', 2, '--epochs', 1, '--depth', 2, '--depth-add', 1, '--depth-every', 4,
        '--max-depth', 4, '--quiet', '--seed', 7]

@pytest.mark.parametrize('strategy', ['reinforce', 'tpe']) # tpe: an Optuna study restored from the checkpoint's trials
@pytest.mark.parametrize('mode', ['sync', 'async'])
def test_random_kills_then_resume(tmp_path, mode, strategy):
    if strategy == 'tpe': pytest.importorskip('optuna', reason="Optuna is the optional extra [optuna] (in [dev])")
    extra = (['--async'] if mode == 'async' else []) + ['--strategy', strategy]
    d, full = tmp_path/'run', tmp_path/'full'
    r = nas_rl('search', *ARGS, *extra, '--run-dir', full)
    assert r.returncode == 0, r.stderr
    seed = random.randrange(2**32)
    snaps, kills = kill_and_resume(d, [*ARGS, *extra], seed)
    after = children(d)
    assert kills >= 2, f"seed {seed}: the search was killed only {kills} times"
    assert len(after) == 12 and len({(s, i) for s, i, *_ in after}) == 12, f"seed {seed}"
    for snap in snaps: assert after[:len(snap)] == snap, f"seed {seed}: a finished child was changed or retrained"
    ref = children(full)
    # same decisions (tokens, depths) and same children (rewards, statuses) as the uninterrupted run
    assert [r[:6] for r in after] == [r[:6] for r in ref], f"seed {seed}"
    key = lambda st: [(s, {k: v for k, v in x.items() if k in ('mean_reward', 'baseline', 'loss', 'depth')}) for s, x in st]
    assert key(steps(d)) == key(steps(full)), f"seed {seed}: controller, baseline or depth schedule diverged"

def test_second_search_on_same_run_refuses(tmp_path):
    d = tmp_path/'run'
    p = start('search', '--children', 200, '--per-step', 2, '--epochs', 1, '--depth', 2, '--run-dir', d, '--quiet')
    try:
        assert wait_for(lambda: has_store(d) and len(children(d)) >= 1)
        before = children(d)
        r = nas_rl('search', '--resume', '--run-dir', d, '--quiet')
        assert r.returncode == 2 and 'another search is writing' in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and 'Traceback' not in r.stderr
        r = nas_rl('search', '--run-dir', d, '--quiet')
        assert r.returncode == 2 and 'already holds a run' in r.stderr, r.stderr
        assert children(d)[:len(before)] == before
        assert p.poll() is None, 'the first search was disturbed'
    finally:
        os.kill(p.pid, signal.SIGKILL); p.wait(); p.stderr.close()

@pytest.mark.parametrize('args,msg', [
    (('--workers', '2'), '--workers needs --executor pool or ray'),
    (('--ray-address', 'auto'), '--ray-address needs --executor ray'),
    (('--executor', 'dask'), "invalid choice: 'dask'"),
    (('--executor', 'pool', '--workers', '0'), 'expected a positive integer'),
])
def test_executor_options_checked_first(tmp_path, args, msg):
    d = tmp_path/'run'
    r = nas_rl('search', '--run-dir', d, *args)
    assert r.returncode == 2 and msg in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not d.exists()

def test_resume_refuses_other_space_or_newer_version(tmp_path):
    "A run file written for another space, or by a newer nas_rl, is refused in one line and left as it was."
    from nas_rl.store import RunStore
    from nas_rl.cli import get_parser, search_config
    cfg = search_config(get_parser().parse_args(['search', '--depth', '3', '--children', '4', '--epochs', '1']))
    for name, space, version in (('space', {'name': 'cnn', 'depth': 9}, None), ('version', None, 999)):
        d = tmp_path/name
        with RunStore.create(d, cfg, space or {'name': 'cnn'}) as st:
            if version: st.set_meta('version', version)
        before = {p.name: p.read_bytes() for p in d.iterdir() if p.name.startswith('run.db')}
        r = nas_rl('search', '--resume', '--run-dir', d, '--quiet')
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert ('another search space' if name == 'space' else 'upgrade nas_rl') in r.stderr, r.stderr
        assert {p.name: p.read_bytes() for p in d.iterdir() if p.name.startswith('run.db')}['run.db'] == before['run.db']
