"""Take the found network home: `nas_rl retrain` keeps it, `nas_rl export` hands it over, and a new Python process
loading the export gets exactly the test accuracy `retrain` printed; a tampered weights file is refused and runs
nothing; `nas_rl report` renders in headless Chromium with every picture, and `--watch` follows a running search."""
import json, re, shutil, subprocess, sys, time
from pathlib import Path
import pytest
from test_kill_resume import ROOT, ENV, nas_rl, start

CHROMIUM = next((c for c in ('chromium', 'chromium-browser', 'google-chrome') if shutil.which(c)), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason='Chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)')

def python(code:str):
    "Run `code` in a new Python process (nothing of this one's state carries over)."
    return subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)

@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    "The digits demo, small: a search, then the best child retrained and kept."
    d = tmp_path_factory.mktemp('export')/'demo'
    r = nas_rl('search', '--children', 4, '--per-step', 2, '--epochs', 1, '--depth', 3, '--run-dir', d, '--quiet')
    assert r.returncode == 0, r.stderr
    r = nas_rl('retrain', d, '--epochs', 2)
    assert r.returncode == 0, r.stderr
    acc = float(re.search(r'test accuracy (\d\.\d{4})', r.stdout).group(1))
    return d, acc

LOAD = """import json, sys
from nas_rl.export import inference_learner, read_info
from nas_rl.data.vision import digits_data
learn, t = inference_learner(sys.argv[1]), digits_data().test.dataset
with learn.no_bar(): loss, acc = learn.validate(dl=learn.dls.test_dl(t.x, t.y))
print(json.dumps({'acc': acc, 'saved': read_info(sys.argv[1])['metrics']['test_acc']}))"""

@pytest.mark.parametrize('out', ['found', 'found.zip'])
def test_export_then_load_in_a_new_process_gives_retrains_accuracy(demo, tmp_path, out):
    d, printed = demo
    r = nas_rl('export', d, '--out', tmp_path/out)
    assert r.returncode == 0, r.stderr
    assert f'test accuracy {printed:.4f}' in r.stdout
    if not out.endswith('.zip'): assert 'load_model' in (tmp_path/out/'README.md').read_text()
    r = subprocess.run([sys.executable, '-c', LOAD.replace('sys.argv[1]', repr(str(tmp_path/out)))], cwd=tmp_path, env=ENV,
                       capture_output=True, text=True, timeout=300) # elsewhere: not the repository's folder
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res['acc'] == res['saved'] # exactly what retrain measured, to the last bit
    assert f"{res['acc']:.4f}" == f'{printed:.4f}' # and what it printed

def test_retrain_and_export_never_overwrite_silently(demo, tmp_path):
    d, _ = demo
    kept = next((d/'models').iterdir())/'weights.pt'
    before = kept.read_bytes()
    r = nas_rl('retrain', d, '--epochs', 1)
    assert r.returncode == 2 and 'already holds a saved model' in r.stderr and '--force' in r.stderr
    assert 'retraining' not in r.stdout # refused before any training
    assert kept.read_bytes() == before
    (tmp_path/'taken').mkdir()
    r = nas_rl('export', d, '--out', tmp_path/'taken')
    assert r.returncode == 2 and 'already exists' in r.stderr and list((tmp_path/'taken').iterdir()) == []
    r = nas_rl('export', d, '--rank', 3, '--out', tmp_path/'x')
    assert r.returncode == 2 and 'was not retrained' in r.stderr and f'nas_rl retrain {d} --rank 3' in r.stderr
    assert not (tmp_path/'x').exists()

EVIL = """import os, torch
class Evil:
    def __reduce__(self): return (os.system, ('touch {marker}',))
torch.save({{'weight': Evil()}}, {path!r})"""

def test_tampered_weights_refused_and_nothing_runs(demo, tmp_path):
    d, _ = demo
    r = nas_rl('export', d, '--out', tmp_path/'found')
    assert r.returncode == 0, r.stderr
    marker = tmp_path/'PWNED'
    r = python(EVIL.format(marker=marker, path=str(tmp_path/'found'/'weights.pt')))
    assert r.returncode == 0, r.stderr
    r = python(f"from nas_rl.export import load_model; load_model({str(tmp_path/'found')!r})")
    assert r.returncode == 1 and 'ModelFileError' in r.stderr
    assert 'not a plain tensor file, so it was not loaded and nothing in it ran' in r.stderr
    assert 'weights_only=False' not in r.stderr # torch's advice to load it unsafely is not passed on
    assert not marker.exists()
    # the same file inside a run: `nas_rl export` refuses it in one line, exit 2, and writes nothing
    run = tmp_path/'run'; shutil.copytree(d, run)
    shutil.copy(tmp_path/'found'/'weights.pt', next((run/'models').iterdir())/'weights.pt')
    r = nas_rl('export', run, '--out', tmp_path/'again')
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and 'not a plain tensor file' in r.stderr
    assert not (tmp_path/'again').exists() and not marker.exists()

def chromium(*args, timeout=120):
    return subprocess.run([CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--enable-logging=stderr',
                           '--v=0', *map(str, args)], capture_output=True, text=True, timeout=timeout)

def page_problems(page:Path) -> tuple:
    "`(images 'loaded/total' as the page marks them, console errors)` of `page` in headless Chromium."
    r = chromium('--virtual-time-budget=5000', '--dump-dom', page.as_uri())
    m = re.search(r'data-images="(\d+)/(\d+)"', r.stdout)
    errors = [l for l in r.stderr.splitlines() if 'CONSOLE' in l or 'Uncaught' in l]
    return (m.groups() if m else None), errors

@needs_chromium
def test_console_error_check_can_fail(tmp_path):
    "The browser check sees a broken picture and a script error (so its passing below means something)."
    p = tmp_path/'broken.html'
    p.write_text('<!doctype html><html><body><img alt="x" src="data:image/png;base64,AAAA"><script>console.error("boom"); undefinedFn()</script>'
                 '<script>window.addEventListener("load", () => { const i = [...document.images]; '
                 'document.body.dataset.images = i.filter(x => x.naturalWidth > 0).length + "/" + i.length; });</script></body></html>')
    images, errors = page_problems(p)
    assert images == ('0', '1')
    assert any('boom' in l for l in errors) and any('undefinedFn' in l for l in errors)

@needs_chromium
def test_report_renders_in_chromium(demo, tmp_path):
    d, _ = demo
    other = tmp_path/'random'
    r = nas_rl('search', '--strategy', 'random', '--children', 4, '--per-step', 2, '--epochs', 1, '--depth', 3, '--run-dir', other, '--quiet')
    assert r.returncode == 0, r.stderr
    out = tmp_path/'report.html'
    r = nas_rl('report', d, '--out', out, '--compare', other)
    assert r.returncode == 0, r.stderr
    html = out.read_text()
    n = html.count('<img ')
    assert n >= 5 # search curves, up to 3 drawings, Pareto front
    assert not re.findall(r'(?:src|href)="(?!data:)', html) and 'http://' not in html and 'https://' not in html # nothing from elsewhere
    for h in ('Best children', 'Against the compared runs', 'Retrained and exported', 'Configuration'): assert h in html
    images, errors = page_problems(out)
    assert images == (str(n), str(n)), images # every picture decoded and shown
    assert errors == [], errors
    shot = tmp_path/'shot.png'
    r = chromium('--window-size=1200,2400', f'--screenshot={shot}', out.as_uri())
    assert shot.exists(), r.stderr
    from PIL import Image
    import numpy as np
    im = np.asarray(Image.open(shot).convert('L'))
    assert im.shape == (2400, 1200)
    assert (im < 250).mean() > 0.03 # not a blank page: text, tables and plots
    assert len(np.unique(im)) > 50 # anti-aliased plots and text, not one flat colour

def test_report_watch_follows_a_running_search(tmp_path):
    d, out = tmp_path/'run', tmp_path/'live.html'
    search = start('search', '--children', 8, '--per-step', 2, '--epochs', 1, '--depth', 3, '--run-dir', d, '--quiet')
    deadline = time.time() + 120
    while not (d/'run.db').exists() and time.time() < deadline: time.sleep(0.1)
    watch = subprocess.Popen([sys.executable, '-c', 'import sys; from nas_rl.cli import main; sys.exit(main())', 'report', str(d), '--out', str(out),
                              '--watch', '--every', '0.2'], cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    refreshing = False
    while watch.poll() is None and time.time() < deadline + 300:
        if out.exists() and 'http-equiv="refresh"' in out.read_text(): refreshing = True
        time.sleep(0.1)
    assert search.wait(timeout=60) == 0, search.stderr.read()
    so, se = watch.communicate(timeout=60)
    assert watch.returncode == 0, se
    wrote = [l for l in so.splitlines() if l.startswith('wrote ')]
    assert len(wrote) >= 3, so # a page per controller step or so, not one at the end
    assert wrote[-1].endswith('(final)') and ': 8 children' in wrote[-1]
    assert refreshing # while the search ran, the page reloaded itself
    assert 'http-equiv="refresh"' not in out.read_text() # the final page does not
