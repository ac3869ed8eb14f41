"End-to-end checks of the `nas_rl` command line: one-line errors with exit code 2, and kill-then-resume."
import hashlib, os, signal, sqlite3, subprocess, sys, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONWARNINGS': 'ignore'}

def nas_rl(*args, **kw):
    return subprocess.run([sys.executable, '-c', 'import sys; from nas_rl.cli import main; sys.exit(main())', *map(str, args)],
                          cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600, **kw)

def sha(p): return hashlib.sha256(Path(p).read_bytes()).hexdigest()

def rows(run_dir):
    with sqlite3.connect(f"file:{Path(run_dir)/'run.db'}?mode=ro", uri=True) as c:
        return c.execute('select step, idx, tokens, reward, wall, created from children order by step, idx').fetchall()

@pytest.fixture(scope='module')
def small_run(tmp_path_factory):
    d = tmp_path_factory.mktemp('runs')/'small'
    r = nas_rl('search', '--children', 4, '--per-step', 2, '--epochs', 1, '--depth', 3, '--run-dir', d, '--quiet')
    assert r.returncode == 0, r.stderr
    return d

def test_search_show_plot_retrain(small_run, tmp_path):
    assert len(rows(small_run)) == 4
    r = nas_rl('show', small_run, '--top', 2)
    assert r.returncode == 0 and 'CNN[' in r.stdout and len(r.stdout.strip().splitlines()) == 4
    r = nas_rl('plot', small_run, '--out', tmp_path/'r.png')
    assert r.returncode == 0 and (tmp_path/'r.png').stat().st_size > 1000
    r = nas_rl('retrain', small_run, '--epochs', 1)
    assert r.returncode == 0 and 'test accuracy' in r.stdout

@pytest.mark.parametrize('args,msg', [
    (('search', '--children', '0'), 'expected a positive integer'),
    (('search', '--strategy', 'evolve'), "invalid choice: 'evolve'"),
    (('search', '--dataset', 'cifar10', '--data-dir', '/nonexistent/cifar'), 'does not exist'),
    (('search', '--dataset', 'folder'), 'needs --data-dir'),
    (('search', '--resume'), 'needs --run-dir'),
    (('show', '/nonexistent/run'), 'does not exist'),
    (('frobnicate',), 'invalid choice'),
])
def test_bad_input_one_line_exit_2(args, msg):
    r = nas_rl(*args)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert 'Traceback' not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert msg in r.stderr

def test_existing_run_untouched(small_run, tmp_path):
    before = sha(small_run/'run.db')
    r = nas_rl('search', '--run-dir', small_run, '--children', 2)
    assert r.returncode == 2 and 'already holds a run' in r.stderr
    (tmp_path/'junk').mkdir(); (tmp_path/'junk'/'run.db').write_bytes(b'not a database')
    r = nas_rl('show', tmp_path/'junk')
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert (tmp_path/'junk'/'run.db').read_bytes() == b'not a database'
    assert sha(small_run/'run.db') == before

def test_kill_and_resume(tmp_path):
    "SIGKILL a search mid-way, resume it: no finished child is lost, retrained or counted twice."
    d = tmp_path/'run'
    args = ['search', '--children', 8, '--per-step', 2, '--epochs', 1, '--depth', 3, '--run-dir', d, '--quiet', '--seed', 3]
    p = subprocess.Popen([sys.executable, '-c', 'import sys; from nas_rl.cli import main; sys.exit(main())', *map(str, args)],
                         cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while time.time() - t0 < 300:
        if (d/'run.db').exists() and len(rows(d)) >= 3: break
        time.sleep(0.2)
    p.send_signal(signal.SIGKILL); p.wait()
    before = rows(d)
    assert 3 <= len(before) < 8
    r = nas_rl('search', '--resume', '--run-dir', d, '--quiet')
    assert r.returncode == 0, r.stderr
    after = rows(d)
    assert len(after) == 8 and len({(s, i) for s, i, *_ in after}) == 8
    assert after[:len(before)] == before  # finished children kept as they were, not retrained
    # the resumed run makes the same decisions as an uninterrupted one with the same seed
    full = tmp_path/'full'
    r = nas_rl(*[a if a != d else full for a in args])
    assert r.returncode == 0, r.stderr
    assert [t for _, _, t, *_ in rows(full)] == [t for _, _, t, *_ in after]
