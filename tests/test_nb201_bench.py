"`benchmarks/nb201.py`, `nb201_tune.py` and `nb201_ablation.py` at a tiny size: the JSON they write and the tuning that never reads test accuracy."
import json, os, statistics, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT.parent/'shared'/'data'/'nb201'/'nb201_cifar10.csv.xz'
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONWARNINGS': 'ignore'}
pytestmark = pytest.mark.skipif(not TABLE.exists(), reason=f'NAS-Bench-201 table not at {TABLE}')

def bench(script, *args):
    r = subprocess.run([sys.executable, str(ROOT/'benchmarks'/script), '--table', str(TABLE), *map(str, args)],
                       cwd=ROOT/'benchmarks', env=ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return r.stdout

def test_report_json(tmp_path):
    out = tmp_path/'nb201.json'
    pytest.importorskip('optuna', reason="Optuna is the optional extra [optuna] (in [dev])")
    bench('nb201.py', '--seeds', 3, '--budgets', 5, 20, '--strategies', 'random', 'reinforce', 'evolution', 'tpe', 'reinforce-se',
          '--json', out, '--plot', tmp_path/'nb201.png')
    res = json.loads(out.read_text())
    assert (tmp_path/'nb201.png').stat().st_size > 0
    for name in ('random', 'reinforce', 'evolution'):
        for b in ('5', '20'):
            e = res[name][b]
            assert e['n'] == 3 and 0 < e['valid_mean'] <= 91.61 and 0 < e['mean'] <= 94.38
        assert res[name]['20']['valid_mean'] >= res[name]['5']['valid_mean'] # the pick only improves with budget
    assert 'p_welch' in res['reinforce']['20'] and 'p_welch_vs_evolution' in res['reinforce']['20']
    assert 'p_welch_vs_evolution' not in res['evolution']['20'] and 'p_welch' not in res['random']['20']
    assert all('p_welch_vs_tpe' in res[k]['20'] for k in ('random', 'reinforce', 'reinforce-se')) and 'p_welch_vs_tpe' not in res['tpe']['20']
    assert res['reinforce-se']['20']['distinct_mean'] == 20 # --unique: twenty queries, twenty cells
    st = res['_meta']['settings']['reinforce']
    assert (st['rl_entropy'], st['rl_tanh_c'], st['evo_population'], st['evo_sample']) == (0.003, 2.5, 20, 10) # the stage-4 defaults

def test_tune_by_validation(tmp_path):
    out = tmp_path/'tune.json'
    bench('nb201_tune.py', '--column', 'c10_valid_200', '--score', 'valid', '--seeds', 2, '--grid', '[{}, {"rl_tanh_c": 2.5}]',
          '--fixed', '{"rl_lr": 0.01}', '--json', out)
    t = json.loads(out.read_text())
    assert t['tuned_on'] == 'column c10_valid_200, seeds 1000..1001' and t['score'].endswith('c10_valid_200 of the pick')
    assert [r['settings'] for r in t['rows']] == [{'rl_lr': 0.01}, {'rl_lr': 0.01, 'rl_tanh_c': 2.5}]
    for r in t['rows']:
        assert all(v <= 91.61 for v in r['by_budget'].values()) # validation accuracies: the best cell's is 91.61, its test 94.37
        assert r['score'] == pytest.approx(statistics.mean(r['by_budget'].values()))

def test_ablation_json_and_seed_guard(tmp_path):
    pytest.importorskip('optuna', reason="Optuna is the optional extra [optuna] (in [dev])")
    out = tmp_path/'abl.json'
    bench('nb201_ablation.py', '--seeds', 2, '--budgets', 5, 10, '--grid', '[{}, {"unique": true, "topk": 2}]', '--json', out,
          '--tpe-cache', tmp_path/'tpe.json')
    a = json.loads(out.read_text())
    assert a['_meta']['seeds'] == [1000, 1002] and 'never read' in a['_meta']['scored_by']
    assert [r['settings'] for r in a['rows']] == [{}, {'unique': True, 'topk': 2}]
    for r in a['rows']:
        assert r['minus_tpe']['10'] == pytest.approx(r['valid']['10'] - a['tpe']['10']) # the mean paired difference is the difference of the means
        assert r['min_minus_tpe'] == min(r['minus_tpe'].values())
    assert a['rows'][1]['distinct_10'] == 10 # --unique: ten queries, ten cells
    r = subprocess.run([sys.executable, str(ROOT/'benchmarks'/'nb201_ablation.py'), '--table', str(TABLE), '--seed-offset', '0', '--grid', '[]', '--json', str(tmp_path/'x.json')],
                       cwd=ROOT/'benchmarks', env=ENV, capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "report's seeds" in r.stderr
