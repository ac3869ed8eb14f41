"""Hostile input, driven like a user: every refusal is one line on stderr with exit code 2 and no traceback, no existing
run file changes (sha256 before and after), and a failed start leaves nothing behind that blocks the retry."""
import hashlib, lzma, shutil
from pathlib import Path
import pytest
from test_kill_resume import ROOT, nas_rl
from nas_rl.store import RunStore

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

# --- run locations: a file, inside a file, nowhere writable, read-only storage, a full disk -------------------------------
def test_unusable_run_dirs(tmp_path):
    (tmp_path/'afile').write_text('mine')
    refused(nas_rl('search', *S, '--run-dir', tmp_path/'afile'), 'is a file, not a folder')
    refused(nas_rl('search', *S, '--run-dir', tmp_path/'afile'/'sub'), 'which is a file')
    refused(nas_rl('search', *S, '--run-dir', '/proc/nas_rl_run'), 'is not writable')
    assert (tmp_path/'afile').read_text() == 'mine'

def mount(*args):
    import subprocess
    return subprocess.run(['mount', *map(str, args)], capture_output=True, text=True).returncode == 0

@pytest.fixture
def read_only_run(nb201_run, tmp_path):
    "The NAS-Bench-201 run, bind-mounted read-only (needs root and mount; skipped otherwise)."
    ro = tmp_path/'ro'; ro.mkdir()
    if not (mount('--bind', nb201_run, ro) and mount('-o', 'remount,ro,bind', ro)):
        mount('-l', ro) if False else None
        import subprocess; subprocess.run(['umount', ro], capture_output=True)
        pytest.skip('cannot bind-mount read-only here (needs root)')
    yield ro
    import subprocess; subprocess.run(['umount', ro], capture_output=True)

def test_a_run_on_read_only_storage_can_be_read(read_only_run, tmp_path):
    d = read_only_run; before = files(d)
    for args in (('show', d), ('show', d, '--pareto'), ('plot', d, '--out', tmp_path/'r.png'), ('report', d, '--out', tmp_path/'r.html'), ('retrain', d)):
        r = nas_rl(*args)
        assert r.returncode == 0, (args, r.stderr)
    refused(nas_rl('search', '--resume', '--run-dir', d, '--children', 12), 'cannot write to', 'not continued')
    refused(nas_rl('plot', d), 'Read-only file system')
    assert files(d) == before

def test_full_disk_is_said_so_and_the_run_survives(tmp_path):
    full = tmp_path/'full'; full.mkdir()
    if not mount('-t', 'tmpfs', '-o', 'size=96k', 'tmpfs', full): pytest.skip('cannot mount a small tmpfs here (needs root)')
    try:
        d = full/'run'
        refused(nas_rl('search', *S, '--run-dir', d), 'the disk is full', 'continue with --resume')
        r = nas_rl('show', d)
        assert r.returncode == 0 and ' 2 children' in r.stdout, r.stderr # what finished before the disk filled is there
    finally:
        import subprocess; subprocess.run(['umount', full], capture_output=True)

# --- plot, show and report of odd requests and damaged runs ---------------------------------------------------------------
@needs_table
def test_plot_out_and_compare(nb201_run, tmp_path):
    d = nb201_run
    refused(nas_rl('plot', d, '--out', tmp_path), 'is a folder; give a file name')
    refused(nas_rl('plot', d, '--out', tmp_path/'x.txt'), 'must end in a picture type')
    refused(nas_rl('plot', d, '--out', tmp_path/'nowhere'/'x.png'), 'there is no folder')
    twin = tmp_path/'other'/d.name; shutil.copytree(d, twin)
    r = nas_rl('report', d, '--compare', twin, '--out', tmp_path/'r.html')
    assert r.returncode == 0, r.stderr
    assert (tmp_path/'r.html').read_text().count('<td>R</td>') == 2 # both runs in the comparison table, though their folders share a name

@pytest.mark.parametrize('value,msg', [('[1, 2]', 'its config is a list'), ('"x"', 'its config is a str'), ('null', 'its config is a NoneType'),
                                       ('{"strategy": "reinforce", "children": "many"}', "'children' = 'many'")])
def test_damaged_meta_in_show(nb201_run, value, msg):
    import sqlite3
    c = sqlite3.connect(nb201_run/'run.db'); c.execute("update meta set value=? where key='config'", (value,)); c.commit(); c.close()
    before = files(nb201_run)
    for cmd in ('show', 'plot', 'report'): refused(nas_rl(cmd, nb201_run), 'is damaged', msg)
    refused(nas_rl('search', '--resume', '--run-dir', nb201_run), 'is damaged')
    assert files(nb201_run) == before

# --- hostile and degenerate image folders --------------------------------------------------------------------------------
def image_folder(root, classes=('a', 'b'), n=6, size=8, splits=('train',)):
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(0)
    for s in splits:
        for c in classes:
            (root/s/c).mkdir(parents=True, exist_ok=True)
            for i in range(n): Image.fromarray(rng.integers(0, 256, (size, size), dtype=np.uint8)).save(root/s/c/f'{i}.png')
    return root

F = ('--dataset', 'folder', '--children', 2, '--per-step', 2, '--epochs', 1, '--depth', 2, '--quiet')

@pytest.mark.parametrize('what', ['folder named like an image', 'pipe', 'link loop', 'dangling link', 'one class', 'a class missing from valid/'])
def test_hostile_image_folders(tmp_path, what):
    import os
    root = image_folder(tmp_path/'imgs', splits=('train', 'valid'))
    f = root/'train'/'a'/'x.png'
    msg = 'is named like an image but is not a file'
    if what == 'folder named like an image': f.mkdir()
    elif what == 'pipe': os.mkfifo(f) # reading it would block forever
    elif what == 'link loop': os.symlink(f, f)
    elif what == 'dangling link': os.symlink(root/'nothing', f)
    elif what == 'one class': shutil.rmtree(root/'train'/'b'); shutil.rmtree(root/'valid'/'b'); msg = 'has 1 class; a classifier needs at least 2'
    else: shutil.rmtree(root/'valid'/'b'); (root/'valid'/'b').mkdir(); (root/'valid'/'b'/'notes.txt').write_text(''); msg = 'holds no images'
    d = tmp_path/'run'
    refused(nas_rl('search', *F, '--data-dir', root, '--run-dir', d), msg)
    assert not d.exists()

def test_retrain_refuses_other_data(tmp_path):
    a = image_folder(tmp_path/'a', splits=('train', 'valid', 'test'))
    b = image_folder(tmp_path/'b', classes=('a', 'b', 'c'), splits=('train', 'valid', 'test'))
    d = tmp_path/'run'
    r = nas_rl('search', *F, '--data-dir', a, '--run-dir', d)
    assert r.returncode == 0, r.stderr
    before = files(d)
    refused(nas_rl('retrain', d, '--epochs', 1, '--data-dir', b), "classes ['a', 'b', 'c'] (the run: ['a', 'b'])")
    assert files(d) == before and not (d/'models').exists()

# --- image size: --size, and images too large for memory or for the time budget --------------------------------------
def test_size_flag(tmp_path):
    from PIL import Image
    root = image_folder(tmp_path/'imgs', splits=('train', 'valid'))
    Image.new('L', (12, 10)).save(root/'train'/'a'/'odd.png') # one image of another size
    d = tmp_path/'run'
    refused(nas_rl('search', *F, '--data-dir', root, '--run-dir', d), 'resize them to one size first', '--size')
    refused(nas_rl('search', *S, '--size', 16, '--run-dir', d), '--size resizes the images of --dataset folder')
    refused(nas_rl('search', *F, '--data-dir', root, '--size', '0x8', '--run-dir', d), '--size')
    assert not d.exists()
    r = nas_rl('search', *F, '--data-dir', root, '--size', '6x7', '--run-dir', d)
    assert r.returncode == 0, r.stderr
    with RunStore.open(d, readonly=True) as st: assert st.get_meta('data')['size'] == [6, 7] and st.config['size'] == [6, 7]
    before = files(d)
    refused(nas_rl('search', '--resume', '--run-dir', d, '--size', 8, '--children', 4), '--size [8, 8] (the run has [6, 7])')
    assert files(d) == before

def big_folder(root, n=6, size=2000):
    "Two classes of `n` RGB images of `size`x`size` (gradients: large when decoded, small as PNG)."
    import numpy as np
    from PIL import Image
    yy, xx = np.mgrid[0:size, 0:size]
    for c, k in (('a', 3), ('b', 7)):
        (root/'train'/c).mkdir(parents=True)
        for i in range(n):
            a = ((xx * (i + 1) + yy * k) % 256).astype(np.uint8)
            Image.fromarray(np.stack([a, a.T, 255 - a], -1)).save(root/'train'/c/f'{i}.png')
    return root

def measured(*args):
    "Run `nas_rl *args` in a fresh process: (the completed process, its wall seconds, its peak resident memory in bytes)."
    import subprocess, sys, time
    from test_kill_resume import MAIN, ENV
    peak = "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(r.returncode)"
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, '-c', peak, *MAIN, *map(str, args)], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)
    return r, time.perf_counter() - t0, int(r.stderr.strip().splitlines()[-1]) * 1024

def test_huge_images_respect_memory_and_time_budget(tmp_path):
    "The issue's 2000x2000 images with --time-budget 5 ran past 20 s at 10 GB: now each child is refused before its first batch."
    root = big_folder(tmp_path/'big')
    for extra, status, msg in [((), 'oom', 'smaller images (--size)'), (('--size', 256), 'timeout', 'would take about')]:
        d = tmp_path/f'run{len(extra)}'
        r, wall, peak = measured('search', *F, '--depth', 6, '--data-dir', root, '--time-budget', 5, '--device', 'cpu', '--run-dir', d, *extra)
        assert r.returncode == 0, r.stderr
        with RunStore.open(d, readonly=True) as st: ch = st.children()
        assert len(ch) == 2 and all(c['wall'] < 5 for c in ch), [(c['status'], c['wall']) for c in ch]
        assert all(c['status'] == status and msg in c['reason'] for c in ch), [(c['status'], c['reason']) for c in ch]
        assert wall < 90 and peak < 3 * 2**30, (wall, peak / 2**30) # start-up and decoding included

def test_unusual_image_modes_mixed_with_ordinary_ones(tmp_path):
    "Palettes, 16-bit, 1-bit, alpha and CMYK beside 8-bit grey: all decoded (as RGB); a truncated file is named in one line."
    import numpy as np
    from PIL import Image
    root = image_folder(tmp_path/'imgs', splits=('train', 'valid'))
    a = np.random.default_rng(1).integers(0, 256, (8, 8), dtype=np.uint8)
    odd = {'p.png': Image.fromarray(a).convert('P'), 'i16.png': Image.fromarray(a.astype(np.uint16) * 257),
           'bw.png': Image.fromarray(a > 127), 'rgba.png': Image.fromarray(np.stack([a] * 4, -1), 'RGBA'),
           'la.png': Image.fromarray(np.stack([a, a], -1), 'LA'), 'cmyk.jpg': Image.fromarray(np.stack([a] * 4, -1), 'CMYK')}
    for name, im in odd.items(): im.save(root/'train'/'a'/name)
    d = tmp_path/'run'
    r = nas_rl('search', *F, '--data-dir', root, '--run-dir', d)
    assert r.returncode == 0, r.stderr
    with RunStore.open(d, readonly=True) as st: assert st.get_meta('data')['n_in'] == 3 and len(st.children()) == 2
    bad = root/'train'/'b'/'cut.png'; bad.write_bytes((root/'train'/'b'/'0.png').read_bytes()[:40]) # a PNG cut short
    refused(nas_rl('search', *F, '--data-dir', root, '--run-dir', tmp_path/'run2'), 'cut.png')
    assert not (tmp_path/'run2').exists()
