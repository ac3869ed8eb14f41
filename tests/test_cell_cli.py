"`nas_rl search --space cell` end to end on real Penn Treebank: search, show, resume, plot, retrain, and one-line errors."
import os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
PTB = ROOT.parent/'shared'/'data'/'ptb'
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONWARNINGS': 'ignore'}
pytestmark = pytest.mark.skipif(not (PTB/'ptb.train.txt').exists(), reason=f'Penn Treebank not at {PTB}')
SMALL = ('--data-dir', PTB, '--n-train', 8000, '--n-valid', 2000, '--epochs', 1, '--hidden', 16, '--quiet')

def nas_rl(*args):
    return subprocess.run([sys.executable, '-c', 'import sys; from nas_rl.cli import main; sys.exit(main())', *map(str, args)],
                          cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)

def test_search_show_resume_plot_retrain(tmp_path):
    d = tmp_path/'run'
    r = nas_rl('search', '--space', 'cell', '--base', 2, '--children', 4, '--per-step', 2, '--run-dir', d, *SMALL)
    assert r.returncode == 0, r.stderr
    assert '4 children' in r.stdout and 'Cell[base 2' in r.stdout
    r = nas_rl('search', '--resume', '--run-dir', d, '--children', 6, '--quiet')
    assert r.returncode == 0 and '6 children' in r.stdout, r.stderr
    r = nas_rl('show', d, '--top', 3)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert '6 children' in lines[0] and 'dataset ptb' in lines[0] and 'val_ppl' in lines[1] and len(lines) == 5
    ppls = [float(l.split()[3]) for l in lines[2:]]
    assert all(1 < p < 10_000 for p in ppls), ppls # a perplexity below the vocabulary size: the children learned
    r = nas_rl('plot', d, '--out', tmp_path/'r.png')
    assert r.returncode == 0 and (tmp_path/'r.png').stat().st_size > 1000, r.stderr
    r = nas_rl('retrain', d, '--epochs', 1)
    assert r.returncode == 0 and 'test perplexity' in r.stdout, r.stderr

def test_char_level_random(tmp_path):
    r = nas_rl('search', '--space', 'cell', '--dataset', 'ptb_char', '--base', 2, '--strategy', 'random', '--children', 2,
               '--per-step', 2, '--run-dir', tmp_path/'run', *SMALL)
    assert r.returncode == 0 and '2 children' in r.stdout, r.stderr
    r = nas_rl('retrain', tmp_path/'run', '--epochs', 1)
    assert r.returncode == 0 and 'bits per character' in r.stdout, r.stderr

@pytest.mark.parametrize('args,msg', [
    (('search', '--space', 'cell', '--dataset', 'cifar10'), 'use --dataset ptb or ptb_char'),
    (('search', '--dataset', 'ptb'), 'search recurrent cells with --space cell'),
    (('search', '--space', 'cell', '--hidden', 8, '--params', 10000), 'not both'),
    (('search', '--space', 'cell', '--data-dir', '/nonexistent/ptb'), '/nonexistent/ptb'),
])
def test_bad_input_one_line_exit_2(tmp_path, args, msg):
    r = nas_rl(*args, '--run-dir', tmp_path/'run')
    assert r.returncode == 2 and msg in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path/'run').exists()
