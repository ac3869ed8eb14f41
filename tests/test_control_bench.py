"`benchmarks/control.py` on two tiny real searches (digits): the table, the halves test and the JSON the tutorial reads."
import json, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONWARNINGS': 'ignore'}

def run(*args):
    r = subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout

def test_control_report(tmp_path):
    cli = ['-c', 'import sys; from nas_rl.cli import main; sys.exit(main())']
    for s in ('reinforce', 'random'):
        run(*cli, 'search', '--dataset', 'digits', '--children', 6, '--per-step', 2, '--epochs', 1, '--depth', 2,
            '--strategy', s, '--seed', 0, '--lr', 0.01, '--quiet', '--run-dir', tmp_path/s)
    out = run(ROOT/'benchmarks'/'control.py', '--runs', tmp_path/'reinforce', tmp_path/'random',
              '--json', tmp_path/'c.json', '--plot', tmp_path/'c.png')
    assert 'Mann-Whitney p' in out and (tmp_path/'c.png').stat().st_size > 0
    res = json.loads((tmp_path/'c.json').read_text())
    rl,rnd = res['runs']['reinforce (reinforce)'],res['runs']['random (random)']
    for r in (rl, rnd):
        assert len(r['rewards']) == len(r['params']) == len(r['flops']) == len(r['walls']) == 6
        assert all(f > 0 for f in r['flops']) and r['wall_s'] == sum(r['walls'])
    acc = [x**(1/3) for x in rl['rewards']]
    h = res['halves']['reinforce (reinforce)']
    assert h['n'] == 6 and abs(h['first_half'] - sum(acc[:3])/3) < 1e-9 and abs(h['second_half'] - sum(acc[3:])/3) < 1e-9
    assert 0 < h['p_second_half_vs_random'] <= 1 and 'p_second_half_vs_random' not in res['halves']['random (random)']
    assert [t['k'] for t in res['table'] if t['run'].startswith('random')] == [1, 5, 15]
