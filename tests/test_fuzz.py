"""Bad input gets a clear error and loses nothing: hypothesis fuzzes the decoders (random and truncated token sequences,
malformed JSON architectures), the command line's option checking, and corrupt run files."""
import contextlib, hashlib, io, json, os, random, shutil, sqlite3
from pathlib import Path
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck, Phase
from nas_rl.core import *
from nas_rl.spaces.cnn import CNNSpace, CNNArch
from nas_rl.cli import get_parser, search_config, make_space, main
from nas_rl.store import RunStore

SPACES = [CNNSpace(depth=4), CNNSpace(depth=3, strides=(1,2,3)), CNNSpace(depth=5, skips=False, pool_at=(1,))]
FAST = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))

@FAST
@given(st.sampled_from(SPACES), st.lists(st.integers(-3, 12), max_size=60), st.one_of(st.none(), st.integers(-2, 8)))
def test_decode_random_tokens(space, toks, depth):
    "Any token list decodes to an architecture that round-trips, or raises DecodeError / ConfigError: nothing else."
    try: arch = space.decode(toks, depth)
    except NASError: return
    assert isinstance(arch, CNNArch) and space.encode(arch) == list(toks)

@FAST
@given(st.sampled_from(SPACES), st.integers(0, 2**31), st.data())
def test_decode_truncated_and_extended(space, seed, data):
    toks = space.random_tokens(random.Random(seed))
    assert space.encode(space.decode(toks)) == toks
    cut = data.draw(st.integers(0, len(toks) - 1))
    with pytest.raises(DecodeError): space.decode(toks[:cut])
    with pytest.raises(DecodeError): space.decode(toks + data.draw(st.lists(st.integers(0, 3), min_size=1, max_size=3)))

def _json_values():
    leaf = st.one_of(st.none(), st.booleans(), st.integers(-5, 100), st.floats(allow_nan=True), st.text(max_size=8))
    return st.recursive(leaf, lambda c: st.one_of(st.lists(c, max_size=4), st.dictionaries(st.text(max_size=8), c, max_size=4)), max_leaves=12)

VALID = CNNSpace(depth=3).decode(CNNSpace(depth=3).random_tokens(random.Random(0))).to_json()

@FAST
@given(st.one_of(st.text(max_size=200), _json_values().map(json.dumps),
                 st.integers(0, len(VALID)).map(lambda i: VALID[:i]),
                 st.tuples(st.integers(0, len(VALID)-1), st.characters()).map(lambda t: VALID[:t[0]] + t[1] + VALID[t[0]+1:])))
def test_arch_from_malformed_json(text):
    "Malformed JSON architectures give DecodeError, never another exception (and are parsed, never evaluated)."
    try: arch = arch_from_json(text)
    except DecodeError: return
    assert isinstance(arch, Arch) and arch_from_json(arch.to_json()) == arch

def _mutated(d):
    "A serialised architecture with one field replaced by junk."
    return st.tuples(st.sampled_from(['layers', 'space', 'fh', 'inputs', 'nf', 'stride', 'pool']), _json_values())

@FAST
@given(_mutated(None), st.integers(0, 2))
def test_arch_from_dict_mutated(mut, where):
    d = json.loads(VALID)
    key, junk = mut
    if key in ('layers', 'space'): d[key] = junk
    else: d['layers'][where][key] = junk
    try: arch = arch_from_dict(d)
    except DecodeError: return
    assert isinstance(arch, CNNArch)

OPTS = {'--space': st.sampled_from(['cnn', 'rnn', '']), '--dataset': st.sampled_from(['digits', 'cifar10', 'folder', 'x']),
        '--strategy': st.sampled_from(['reinforce', 'random', 'evolve']), '--children': st.sampled_from(['0', '-1', '3', 'x', '1e3']),
        '--per-step': st.sampled_from(['0', '2', 'nan']), '--epochs': st.sampled_from(['0', '1', '-3']),
        '--seed': st.sampled_from(['-1', '0', '7', 'x']), '--depth': st.sampled_from(['0', '3', '-2']),
        '--depth-add': st.sampled_from(['-1', '0', '2']), '--max-depth': st.sampled_from(['1', '0', '8']),
        '--pool-at': st.sampled_from(['9', '-1', '0']), '--lr': st.sampled_from(['0', '-1', 'nan', '1e-3']),
        '--entropy-weight': st.sampled_from(['-1', 'nan', '0.1']), '--baseline-decay': st.sampled_from(['1', '-0.1', 'nan', '0.9']),
        '--time-budget': st.sampled_from(['0', '-5', '10']), '--data-dir': st.sampled_from(['/nonexistent', '/tmp']),
        '--executor': st.sampled_from(['serial', 'pool', 'ray', 'dask']), '--workers': st.sampled_from(['0', '2']),
        '--ray-address': st.sampled_from(['auto']), '--bogus': st.just('1'), '--child-lr': st.sampled_from(['0', 'inf'])}
FLAGS = ['--resume', '--strides', '--no-skips', '--quiet', '--async']

@FAST
@given(st.lists(st.sampled_from(sorted(OPTS)), max_size=5, unique=True).flatmap(
           lambda ks: st.tuples(*[OPTS[k].map(lambda v, k=k: [k, v]) for k in ks])),
       st.lists(st.sampled_from(FLAGS), max_size=2, unique=True))
def test_cli_options_fuzz(pairs, flags):
    "Any mix of options is either a complete config or one NASError (the CLI prints it on one line, exit 2)."
    argv = ['search'] + [x for p in pairs for x in p] + flags
    try:
        args = get_parser().parse_args(argv)
        cfg = search_config(args)
        make_space(cfg)
    except NASError as e:
        assert str(e)
        return
    assert cfg['children'] >= 1 and cfg['seed'] >= 0 and cfg['depth'] >= 1

@pytest.fixture(scope='module')
def good_run(tmp_path_factory):
    d = tmp_path_factory.mktemp('runs')/'good'
    sp = CNNSpace(depth=3); rng = random.Random(0)
    cfg = search_config(get_parser().parse_args(['search', '--depth', '3', '--children', '40', '--epochs', '1']))
    with RunStore.create(d, cfg, sp.config()) as s:
        for i in range(30):
            t = sp.random_tokens(rng)
            s.add_child(i//4, i%4, ChildResult(sp.decode(t), i/30, metrics={'valid_acc': [i/30]}, params=i), tokens=t, depth=3)
        s.add_step(0, {'mean_reward': 0.1})
    # fold the WAL into the main file, so that the database is one file to corrupt
    with sqlite3.connect(d/'run.db') as c: c.execute('PRAGMA wal_checkpoint(TRUNCATE)'); c.execute('PRAGMA journal_mode=DELETE')
    for p in d.glob('run.db-*'): p.unlink()
    return d

def _sha(d): return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(d).iterdir()) if p.name.startswith('run.db')}

def _run_main(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): rc = main(argv)
    return rc, err.getvalue()

@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(st.data())
def test_corrupt_run_files(good_run, tmp_path_factory, data):
    "A truncated or bit-flipped run.db: `show` and `search --resume` end with 0 or a one-line error (2), never a traceback, and never change the file."
    d = tmp_path_factory.mktemp('bad')/'run'
    shutil.copytree(good_run, d)
    db = d/'run.db'; b = bytearray(db.read_bytes())
    how = data.draw(st.sampled_from(['truncate', 'flip', 'zero']))
    if how == 'truncate': b = b[:data.draw(st.integers(0, len(b)-1))]
    else:
        for _ in range(data.draw(st.integers(1, 20))):
            i = data.draw(st.integers(0, len(b)-1)); b[i] = (b[i] ^ data.draw(st.integers(1, 255))) if how == 'flip' else 0
    db.write_bytes(bytes(b))
    before = _sha(d)
    rc, err = _run_main(['show', str(d)])
    assert rc in (0, 2), err
    if rc == 2: assert len(err.strip().splitlines()) == 1, err
    assert _sha(d) == before
    (d/'checkpoint.pt').write_bytes(bytes(b[:data.draw(st.integers(0, 64))]) if data.draw(st.booleans()) else b'junk')
    rc, err = _run_main(['search', '--resume', '--run-dir', str(d), '--quiet'])
    assert rc == 2, err  # a corrupt checkpoint (or store) is refused before any work
    assert len(err.strip().splitlines()) == 1, err
