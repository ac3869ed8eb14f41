"`nas_rl search --space nb201` end to end: a tabular search, `show` and `retrain` on it, and its one-line errors."
import os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT.parent/'shared'/'data'/'nb201'/'nb201_cifar10.csv.xz'
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONWARNINGS': 'ignore'}
pytestmark = pytest.mark.skipif(not TABLE.exists(), reason=f'NAS-Bench-201 table not at {TABLE}')

def nas_rl(*args):
    return subprocess.run([sys.executable, '-c', 'import sys; from nas_rl.cli import main; sys.exit(main())', *map(str, args)],
                          cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)

def test_search_show_retrain(tmp_path, strategy='reinforce'):
    d = tmp_path/'run'
    r = nas_rl('search', '--space', 'nb201', '--table', TABLE, '--children', 20, '--quiet', '--run-dir', d)
    assert r.returncode == 0, r.stderr
    assert '20 children' in r.stdout and '|' in r.stdout
    r = nas_rl('show', d, '--top', 3)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 5 and '20 children' in lines[0] and f'strategy {strategy}' in lines[0]
    assert all('~0|+|' in l for l in lines[2:])  # cells print as NAS-Bench-201 arch_str
    r = nas_rl('retrain', d)
    assert r.returncode == 0 and 'test accuracy' in r.stdout and 'c10_test_200' in r.stdout, r.stderr

@pytest.mark.parametrize('strategy', ['evolution', 'ppo', 'tpe'])
def test_other_strategies(tmp_path, strategy):
    if strategy == 'tpe': pytest.importorskip('optuna', reason="Optuna is the optional extra [optuna] (in [dev])")
    r = nas_rl('search', '--space', 'nb201', '--table', TABLE, '--children', 20, '--quiet', '--run-dir', tmp_path/'run',
               '--strategy', strategy, '--population', 8, '--sample-size', 3)
    assert r.returncode == 0 and '20 children' in r.stdout, r.stderr

def test_resume_longer(tmp_path):
    d = tmp_path/'run'
    assert nas_rl('search', '--space', 'nb201', '--table', TABLE, '--children', 8, '--per-step', 4, '--quiet', '--run-dir', d).returncode == 0
    r = nas_rl('search', '--resume', '--run-dir', d, '--children', 16, '--quiet')
    assert r.returncode == 0 and '16 children' in r.stdout, r.stderr

def children(d):
    import sqlite3
    with sqlite3.connect(f"file:{d/'run.db'}?mode=ro", uri=True) as c: return c.execute('select step, idx, tokens, reward from children order by step, idx').fetchall()

@pytest.mark.parametrize('strategy,opts', [('reinforce', ['--unique', '--free', 1, '--advantage', 'rank', '--topk', 5, '--replay', 6, '--updates', 2, '--lr', 0.03]),
                                           ('tpe', [])])
def test_options_stored_and_resumed_exactly(tmp_path, strategy, opts):
    "A search stopped and resumed proposes what the uninterrupted one did: every option is in the run config, every part of the strategy in its checkpoint."
    if strategy == 'tpe': pytest.importorskip('optuna', reason="Optuna is the optional extra [optuna] (in [dev])")
    base = ['--space', 'nb201', '--table', TABLE, '--strategy', strategy, *opts, '--per-step', 2, '--seed', 3, '--quiet']
    full, part = tmp_path/'full', tmp_path/'part'
    assert nas_rl('search', *base, '--children', 30, '--run-dir', full).returncode == 0
    assert nas_rl('search', *base, '--children', 14, '--run-dir', part).returncode == 0
    r = nas_rl('search', '--resume', '--run-dir', part, '--children', 30, '--quiet')
    assert r.returncode == 0, r.stderr
    assert children(part) == children(full)
    if strategy == 'reinforce': assert len({t for _,_,t,_ in children(full)}) == 30 # --unique: thirty cells, no repeat

@pytest.mark.parametrize('args,msg', [
    (('search', '--space', 'nb201'), '--space nb201 needs --table PATH'),
    (('search', '--space', 'nb201', '--table', '/nonexistent/nb201.csv.xz'), 'does not exist'),
    (('search', '--space', 'nb201', '--table', TABLE, '--column', 'c10_test_200'), "invalid choice: 'c10_test_200'"),
])
def test_bad_input_one_line_exit_2(tmp_path, args, msg):
    r = nas_rl(*args, '--run-dir', tmp_path/'run')
    assert r.returncode == 2 and msg in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path/'run').exists()
