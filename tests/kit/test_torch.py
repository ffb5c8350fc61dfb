"""autograder.kit.torch and the kit's Adam: tensors, strict loading, scalar backward, pinned dropout."""

import numpy as np
import pytest
import torch
import torch.nn as nn

from autograder.kit import ContractError
from autograder.kit import optim
from autograder.kit import torch as kt


def test_tensor_copies_unless_shared():
    a = np.arange(3.0)
    t = kt.tensor(a)
    t += 1
    assert a.tolist() == [0.0, 1.0, 2.0] and t.dtype == torch.float64
    s = kt.tensor(a, share=True)
    s += 1
    assert a.tolist() == [1.0, 2.0, 3.0]
    assert kt.tensor(np.array([True])).dtype == torch.bool
    assert kt.leaf(a).requires_grad and kt.leaf(a).is_leaf


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 2)
        self.drop = nn.Dropout(0.5)


def _arrays(rng):
    return {"param.lin.weight": rng.standard_normal((2, 3)), "param.lin.bias": rng.standard_normal(2),
            "x": rng.standard_normal((4, 3))}


def test_load_strict_loads_by_name_in_float64_and_eval_mode():
    arrays = _arrays(np.random.default_rng(0))
    m = kt.load_strict(Tiny().train(), arrays)
    assert not m.training and m.lin.weight.dtype == torch.float64
    assert np.array_equal(m.lin.weight.detach().numpy(), arrays["param.lin.weight"])


def test_load_strict_names_missing_extra_and_wrong_shapes():
    arrays = _arrays(np.random.default_rng(0))
    wrong = {"param.linear.weight": arrays["param.lin.weight"], "param.lin.bias": arrays["param.lin.bias"]}
    with pytest.raises(ContractError, match=r"^Tiny lacks the contract's parameters linear.weight and has "
                                            r"lin.weight instead; the grader loads weights"):
        kt.load_strict(Tiny(), wrong)
    with pytest.raises(ContractError, match=r"^the layer: parameter lin.bias has shape \(2,\), the contract's is \(5,\)"):
        kt.load_strict(Tiny(), dict(arrays, **{"param.lin.bias": np.zeros(5)}), what="the layer")


def test_scalar_backward_and_grads_of():
    rng = np.random.default_rng(1)
    arrays = _arrays(rng)
    m = kt.load_strict(Tiny(), arrays)
    x = kt.leaf(arrays["x"])
    out = m.lin(x)
    dout = rng.standard_normal((4, 2))
    kt.scalar_backward(out, dout)
    g = kt.grads_of({"x": x, "unused": kt.leaf(np.ones(2))}, m)
    assert set(g) == {"x", "unused", "lin.weight", "lin.bias"}
    assert np.allclose(g["x"].numpy(), dout @ arrays["param.lin.weight"])
    assert np.allclose(g["lin.weight"].numpy(), dout.T @ arrays["x"])
    assert not g["unused"].any()
    a, b = kt.leaf(np.ones(2)), kt.leaf(np.ones(3))
    kt.scalar_backward([(a * 2, np.array([1.0, 3.0])), (b.sum(), None)])
    assert a.grad.tolist() == [2.0, 6.0] and b.grad.tolist() == [1.0, 1.0, 1.0]


def test_scalar_backward_refuses_wrong_outputs():
    with pytest.raises(TypeError, match="expected torch tensors as outputs, got list"):
        kt.scalar_backward([([1.0], np.ones(1))])
    with pytest.raises(ValueError, match=r"an output has shape \(2,\), expected \(3,\)"):
        kt.scalar_backward(kt.leaf(np.ones(2)) * 1, np.ones(3))


def test_fixed_dropout_is_pinned_and_scaled():
    m = kt.fix_dropout(Tiny(), seed=7, names=["drop"])
    assert isinstance(m.drop, kt.FixedDrop) and m.drop.p == 0.5
    x = torch.ones(3, 20, dtype=torch.float64)
    y1, y2 = m.drop(x), m.drop(x)
    assert torch.equal(y1, y2)  # the same mask every call, whatever torch's random state
    assert set(y1.unique().tolist()) <= {0.0, 2.0} and torch.equal(y1[0], y1[2])  # shared across rows
    other = kt.fix_dropout(Tiny(), seed=8, names=["drop"]).drop(x)
    assert not torch.equal(y1, other)
    two = kt.FixedDrop(0.5, 7, dims=2)(torch.ones(2, 4, 5))
    assert torch.equal(two[0], two[1]) and not torch.equal(two[0, 0], two[0, 1])
    with pytest.raises(ContractError, match="Tiny has no nn.Dropout submodule named 'dropout'"):
        kt.fix_dropout(Tiny(), seed=1, names=["dropout"])


def test_torch_adam_matches_torch_optim_adam():
    torch.manual_seed(0)
    w1 = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    w2 = w1.detach().clone().requires_grad_(True)
    ours, ref = optim.Adam([w1], lr=0.05), torch.optim.Adam([w2], lr=0.05)
    for step in range(5):
        for w, opt in ((w1, ours), (w2, ref)):
            opt.zero_grad()
            ((w - step) ** 2).sum().backward()
            opt.step()
    assert torch.equal(w1, w2)
    w3 = w1.detach().clone().requires_grad_(True)
    sched = optim.Adam([w3])
    (w3 ** 2).sum().backward()
    sched.step(0.1)
    assert not torch.equal(w3, w1)
    with pytest.raises(ValueError, match="needs a learning rate"):
        sched.step()


def test_numpy_adam_step():
    rng = np.random.default_rng(3)
    params = {"w": rng.standard_normal(4)}
    start = params["w"].copy()
    state = {}
    for step in range(1, 4):
        optim.adam_step(params, {"w": 2 * params["w"]}, state, step, lr=0.1)
    assert np.all(np.abs(params["w"]) < np.abs(start))  # Adam on w**2 shrinks every entry
    assert set(state) == {"w"} and len(state["w"]) == 2
    # the first step moves every entry by about lr (Adam's bias-corrected first step)
    p = {"w": np.array([3.0, -2.0])}
    optim.adam_step(p, {"w": np.array([0.5, -7.0])}, {}, 1, lr=0.1)
    assert np.allclose(p["w"], [2.9, -1.9], atol=1e-6)
