"`OptunaStrategy` on every real space: its parameters cover each decision (skip bits and strides too), a depth change adds parameters, and a checkpoint round trip asks the same."
import io
import pytest, torch
optuna = pytest.importorskip('optuna', reason="Optuna is the optional extra [optuna] (in [dev])")
from nas_rl.core import ChildResult, n_tokens
from nas_rl.strategies import OptunaStrategy
from nas_rl.spaces.cnn import CNNSpace
from nas_rl.spaces.cell import CellSpace
from nas_rl.spaces.nb201 import NB201Space

def roundtrip(sd):
    buf = io.BytesIO(); torch.save(sd, buf); buf.seek(0)
    return torch.load(buf, weights_only=True)

@pytest.mark.parametrize('space,depths', [(CNNSpace(strides=(1, 2, 3)), (None, 8)), (CellSpace(), (None,)), (NB201Space(), (None,))])
def test_optuna_on_space(space, depths):
    st = OptunaStrategy(space, seed=0)
    for depth in depths:
        ps = st.ask(3, depth)
        assert all(p.arch == space.decode(p.tokens, depth) for p in ps)
        assert len(st.study.trials[-1].params) == n_tokens(space.decisions(depth)) # one parameter per token
        st.tell(ps, [ChildResult(p.arch, 0.1*i) for i, p in enumerate(ps)])
    other = OptunaStrategy(space, seed=5); other.load_state_dict(roundtrip(st.state_dict()))
    assert [p.tokens for p in other.ask(4, depths[-1])] == [p.tokens for p in st.ask(4, depths[-1])]
