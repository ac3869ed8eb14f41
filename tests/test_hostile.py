"""Hostile input, driven like a user: every refusal is one line on stderr with exit code 2 and no traceback, no existing
run file changes (sha256 before and after), and a failed start leaves nothing behind that blocks the retry."""
import hashlib, lzma, shutil
from pathlib import Path
import pytest
from test_kill_resume import ROOT, nas_rl

TABLE = ROOT.parent/'shared'/'data'/'nb201'/'nb201_cifar10.csv.xz'
needs_table = pytest.mark.skipif(not TABLE.exists(), reason=f'NAS-Bench-201 table not at {TABLE}')
S = ('--dataset', 'digits', '--children', 4, '--per-step', 2, '--epochs', 1, '--device', 'cpu', '--quiet') # the S

def files(d) -> dict:
    "sha256 of every file under `d` (run.db, its WAL, checkpoint.pt, ...) but run.lock, which holds the pid of whoever opens the run to write."
    return {p.relative_to(d).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(d).rglob('*')) if p.is_file() and p.name != 'run.lock'}

def refused(r, *msgs):
    "One line on stderr, exit 2, no traceback, and each of `msgs` in it."
    assert r.returncode == 2, (r.returncode, r.stdout[-500:], r.stderr[-2000:])
    assert 'Traceback' not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    for m in msgs: assert m in r.stderr, r.stderr
    return r.stderr

# --- numbers: every flag of every subcommand ------------------------------------------------------------------------------
def numeric_actions():
    "(subcommand, flag, bounds) of every option that takes a number, from the parser itself (a new flag is swept too)."
    from nas_rl.cli import get_parser
    sub = get_parser()._subparsers._group_actions[0].choices
    out = []
    for cmd, p in sub.items():
        for a in p._actions:
            if a.type is None or a.choices is not None or not a.option_strings: continue
            out.append((cmd, a.option_strings[0], getattr(a.type, 'bounds', None)))
    return out

def test_every_numeric_flag_is_bounded():
    acts = numeric_actions()
    assert len(acts) > 40 and {c for c, _, _ in acts} >= {'search', 'show', 'retrain', 'export', 'report'}
    unbounded = [(c, f) for c, f, b in acts if b is None]
    assert unbounded == [], f'flags whose numbers are not checked: {unbounded}'

HOSTILE = ['0', '-1', '-0.5', '0.5', '1e30', '1e400', 'inf', '-inf', 'nan', 'abc', '', '1e23', '9' * 40, '0x10', '1_0']

def test_sweep_of_hostile_numbers():
    "Each hostile value is either refused (one `ConfigError` naming the flag, before anything is made) or within the flag's bounds."
    import math
    from nas_rl.cli import get_parser
    from nas_rl.core import ConfigError
    tried = handled = 0
    for cmd, flag, (kind, lo, hi, open_lo, open_hi) in numeric_actions():
        pos = [] if cmd == 'search' else ['some/run']
        for v in HOSTILE:
            tried += 1
            argv = [cmd, *pos, f'{flag}={v}'] + (['--out', 'x'] if cmd == 'export' else [])
            try: args = get_parser(argv).parse_args(argv)
            except ConfigError as e:
                assert flag in str(e) and '\n' not in str(e), (flag, v, str(e)); handled += 1; continue
            x = getattr(args, flag[2:].replace('-', '_'))
            x = x[0] if isinstance(x, list) else x
            assert isinstance(x, kind) and math.isfinite(x) and x >= lo and (hi is None or x <= hi), (flag, v, x)
            assert not (open_lo and x == lo) and not (open_hi and x == hi), (flag, v, x)
            handled += 1
    assert tried == handled and tried > 600, (tried, handled)

@pytest.mark.parametrize('args,msg', [
    (('--lr', 'inf'), 'argument --lr: expected a positive number up to 10'),
    (('--lr', '1e30'), 'argument --lr'),
    (('--entropy-weight', 'inf'), 'argument --entropy-weight'),
    (('--tanh-c', 'inf'), 'argument --tanh-c'),
    (('--seed', '1e23'), 'argument --seed'),
    (('--seed', '100000000000000000000000'), 'up to 4,294,967,295'),
    (('--depth-every', '1', '--depth-add', '1000000000'), 'argument --depth-add'),
    (('--depth-every', '1', '--depth-add', '100', '--children', '100'), 'grows the networks to 9,906 layers'),
    (('--warmup', '-1'), 'argument --warmup'),
    (('--cost', 'macs', '--target', 'nan'), 'argument --target'),
    (('--free', '2'), 'it needs unique=True'),
])
def test_absurd_settings_refused_before_anything_is_written(tmp_path, args, msg):
    d = tmp_path/'run'
    refused(nas_rl('search', *S, *args, '--run-dir', d), msg)
    assert not d.exists() # nothing was created, so the retry is free

# --- a failed start leaves nothing that blocks the retry -------------------------------------------------------------------
@needs_table
def test_failed_start_leaves_no_run_behind(tmp_path):
    bad = tmp_path/'garbage.csv.xz'; bad.write_bytes(lzma.compress(b'not,a,table\n1,2,3\n'))
    d = tmp_path/'N'
    refused(nas_rl('search', '--space', 'nb201', '--table', bad, '--run-dir', d, '--quiet'), 'lacks column(s)')
    assert not d.exists()
    d.mkdir(); (d/'notes.txt').write_text('mine') # a folder the user made stays, with what was in it
    refused(nas_rl('search', '--space', 'nb201', '--table', bad, '--run-dir', d, '--quiet'), 'lacks column(s)')
    assert sorted(p.name for p in d.iterdir()) == ['notes.txt']
    r = nas_rl('search', '--space', 'nb201', '--table', TABLE, '--children', 8, '--per-step', 4, '--run-dir', d, '--quiet')
    assert r.returncode == 0, r.stderr # the retry with the right table just works

# --- resuming: a foreign checkpoint, changed flags ------------------------------------------------------------------------
@pytest.fixture
def nb201_run(tmp_path):
    if not TABLE.exists(): pytest.skip(f'NAS-Bench-201 table not at {TABLE}')
    d = tmp_path/'R'
    r = nas_rl('search', '--space', 'nb201', '--table', TABLE, '--children', 8, '--per-step', 4, '--run-dir', d, '--quiet')
    assert r.returncode == 0, r.stderr
    return d

MISMATCHED = {
    'foreign dict': "import torch; torch.save({{'foo': 1}}, {p!r})",
    'empty file': "open({p!r}, 'wb').close()",
    'a list': "import torch; torch.save([1, 2], {p!r})",
    'code-running pickle': "import os, torch\nclass E:\n    def __reduce__(self): return (os.system, ('touch {p}.PWNED',))\ntorch.save({{'strategy': E()}}, {p!r})",
    'claims more children': "import torch; st = torch.load({p!r}, weights_only=True); st['n_done'] = 99; torch.save(st, {p!r})",
    'another strategy': "import torch; st = torch.load({p!r}, weights_only=True); st['strategy'] = {{'trials': []}}; torch.save(st, {p!r})",
}

@pytest.mark.parametrize('kind', list(MISMATCHED))
def test_mismatched_checkpoint_refused_and_nothing_changes(nb201_run, kind):
    import subprocess, sys
    d = nb201_run; ck = d/'checkpoint.pt'
    subprocess.run([sys.executable, '-c', MISMATCHED[kind].format(p=str(ck))], check=True)
    before = files(d)
    err = refused(nas_rl('search', '--resume', '--run-dir', d, '--space', 'nb201', '--table', TABLE, '--children', 12), 'checkpoint.pt')
    assert 'IndexError' not in err and 'weights_only' not in err
    assert files(d) == before
    assert not Path(f'{ck}.PWNED').exists()

def test_resume_refuses_flags_that_change_the_run(nb201_run, tmp_path):
    d = nb201_run; before = files(d)
    refused(nas_rl('search', '--resume', '--run-dir', d, '--lr', '0.1'), '--lr 0.1 (the run has 0.0006)', 'only --children may change')
    refused(nas_rl('search', '--resume', '--run-dir', d, '--strategy', 'random', '--per-step', '2'), '--strategy random', '--per-step 2')
    assert files(d) == before
    r = nas_rl('search', '--resume', '--run-dir', d, '--space', 'nb201', '--table', TABLE, '--children', 12, '--quiet') # the run's own flags are fine
    assert r.returncode == 0, r.stderr
