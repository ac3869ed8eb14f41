"Property test: every token sequence a `CNNSpace` can emit decodes, round-trips, builds and runs."
import random
import torch
from hypothesis import given, settings, strategies as st, HealthCheck
from nas_rl.core import arch_from_json, space_from_config, dumps
from nas_rl.spaces.cnn import CNNSpace
from nas_rl.models.cnn import build_cnn, cnn_shapes, cnn_flops, count_params, loose_ends

_opts = lambda vals, mx: st.lists(st.sampled_from(vals), min_size=1, max_size=mx, unique=True)

@st.composite
def cases(draw):
    "A space (random options, strides, pooling, skips), a depth, tokens, and an input shape."
    depth = draw(st.integers(1, 20))
    sp = CNNSpace(filter_heights=draw(_opts([1,2,3,4,5,7], 4)), filter_widths=draw(_opts([1,2,3,4,5,7], 4)),
                  n_filters=draw(_opts([1,2,3,4,6,8], 3)),
                  strides=draw(st.none() | _opts([1,2,3], 3)),
                  pool_at=draw(st.lists(st.integers(0, depth-1), max_size=3, unique=True)),
                  skips=draw(st.booleans()), depth=depth)
    if draw(st.booleans()): toks = sp.random_tokens(random.Random(draw(st.integers(0, 2**32-1))), depth)
    else: toks = [draw(st.integers(0, len(d.options)-1 if hasattr(d, 'options') else 1)) for d in sp.decisions(depth) for _ in range(d.n_tokens)]
    n_in = draw(st.sampled_from([1, 3]))
    size = draw(st.sampled_from([(8,8), (32,32), (1,1), (5,7)]))
    return sp, depth, toks, n_in, size, draw(st.integers(1, 12))

@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_decode_build_forward(case):
    sp, depth, toks, n_in, size, n_out = case
    arch = sp.decode(toks, depth)
    assert sp.encode(arch) == toks
    assert arch_from_json(arch.to_json()) == arch
    assert space_from_config(sp.config()).decode(toks, depth) == arch
    assert sp.depth_of(arch) == depth
    assert all(l.pool == (i in sp.pool_at) for i,l in enumerate(arch.layers))
    model = build_cnn(arch, n_in, n_out).eval()
    with torch.no_grad(): out = model(torch.randn(2, n_in, *size))
    assert out.shape == (2, n_out) and torch.isfinite(out).all()
    assert model.head.in_features == sum(arch.layers[i].nf for i in loose_ends(arch))
    assert cnn_flops(arch, n_in, n_out, size) > 0 and count_params(model) > 0

def test_paper_space_depth_6_cifar():
    "The paper's full space (v2 strides, v3 pools) at depth 6 on a CIFAR-sized RGB batch."
    sp, rng = CNNSpace(strides=(1,2,3), pool_at=(1,3)), random.Random(0)
    for _ in range(3):
        arch = sp.decode(sp.random_tokens(rng))
        out = build_cnn(arch)(torch.randn(2, 3, 32, 32))
        assert out.shape == (2, 10)
        assert [s[1] for s in cnn_shapes(arch)][-1][0] == arch.layers[-1].nf
