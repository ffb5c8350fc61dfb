"""Bans by operation: every public route to a banned torch operation is refused and named.

A child is made with a spec's banned names; the student's module reaches the banned operation by
one route (an alias, a Tensor method, torch.ops, a module, a caught exception) and the reply must
fail as banned, with a record naming the banned name, the student's line and, where the route went
around the name, the route and the operation. Honest code built from torch's building blocks, and
the reference solutions run through their real probes with their real banned lists, report nothing.
"""

import textwrap
import time

import numpy as np
import pytest
import torch  # noqa: F401 - loaded in the grader's process before forking, as for a torch assignment

from autograder.sandbox.bans import BanPlan
from tests.helpers.workdirs import prepare_workdir
from autograder.sandbox.parent import Child, ChildJob, warm
from autograder.spec.model import Limits

from tests.helpers.paths import ROOT

PROBES = textwrap.dedent('''
    import torch

    def call(m, c, p):
        return {"y": m.f(torch.from_numpy(c["x"]))}
''')
LAYER_NORM = ("torch.nn.functional.layer_norm",)
SDPA = ("torch.nn.functional.scaled_dot_product_attention",)


def run(tmp_path, body: str, banned, x=None):
    """Call `f` of a module whose imports and body are `body`; the reply of that one call."""
    source = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n" + textwrap.dedent(body)
    sub = tmp_path / "sub"
    sub.mkdir(exist_ok=True)
    (sub / "mod.py").write_text(source)
    (tmp_path / "probes.py").write_text(PROBES)
    workdir = prepare_workdir({"mod.py": sub / "mod.py"}, tmp_path / "no-support")
    warm(("torch",))  # as a torch grade does: the template that forks the child then holds torch
    child = Child(ChildJob(workdir, str(tmp_path / "probes.py"), ("mod",), Limits(), 20.0, tuple(banned)))
    x = np.linspace(-1.0, 1.0, 24).reshape(2, 3, 4) if x is None else x
    try:
        return child.call("mod", "call", {"x": x}, time.monotonic() + 20.0)
    finally:
        child.close()


def assert_banned(reply, *fragments):
    """The reply carries a ban record (the grader fails such a reply, checks._settle) naming each fragment."""
    assert reply.banned, (reply.failure, reply.error)
    assert reply.failure is None or reply.error.get("type") == "BannedCall", reply.error
    record = " | ".join(reply.banned)
    for fragment in fragments:
        assert fragment in record, record


LAYER_NORM_ROUTES = {
    "torch.layer_norm": ("def f(x):\n    return torch.layer_norm(x, (4,))\n",
                         ["reached through torch.layer_norm at mod.py line 6", "operation aten::layer_norm"]),
    "F.layer_norm": ("def f(x):\n    return F.layer_norm(x, (4,))\n",
                     ["called at mod.py line 6: `return F.layer_norm(x, (4,))`"]),
    "an alias imported by name": ("from torch.nn.functional import layer_norm as ln\n\ndef f(x):\n    return ln(x, (4,))\n",
                                  ["called at mod.py line 8: `return ln(x, (4,))`"]),
    "torch._VF": ("def f(x):\n    return torch._VF.layer_norm(x, (4,))\n",
                  ["reached through torch._VF.layer_norm at mod.py line 6", "operation aten::layer_norm"]),
    "torch.native_layer_norm": ("def f(x):\n    return torch.native_layer_norm(x, (4,), None, None, 1e-5)[0]\n",
                                ["reached through torch.native_layer_norm", "operation aten::native_layer_norm"]),
    "torch.ops.aten.layer_norm": ("def f(x):\n    return torch.ops.aten.layer_norm(x, [4])\n",
                                  ["reached through torch.ops.aten.layer_norm at", "operation aten::layer_norm"]),
    "torch.ops.aten.native_layer_norm.default": (
        "def f(x):\n    return torch.ops.aten.native_layer_norm.default(x, [4], None, None, 1e-5)[0]\n",
        ["reached through torch.ops.aten.native_layer_norm.default at", "operation aten::native_layer_norm"]),
    "a name the line does not show": ("def f(x):\n    return getattr(torch, 'layer' + '_norm')(x, (4,))\n",
                                      ["at mod.py line 6", "operation aten::layer_norm"]),
    "nn.LayerNorm": ("def f(x):\n    return nn.LayerNorm(4, dtype=x.dtype)(x)\n", ["at mod.py line 6"]),
    "under inference_mode": ("def f(x):\n    with torch.inference_mode():\n"
                             "        return torch.native_layer_norm(x, (4,), None, None, 1e-5)[0].clone()\n",
                             ["operation aten::native_layer_norm"]),
    "on the meta device": ("def f(x):\n    torch.layer_norm(x.to('meta'), (4,))\n    return x\n",
                           ["operation aten::layer_norm"]),
}


@pytest.mark.parametrize("route", sorted(LAYER_NORM_ROUTES))
def test_every_route_to_a_banned_layer_norm_is_refused_and_named(tmp_path, route):
    body, fragments = LAYER_NORM_ROUTES[route]
    assert_banned(run(tmp_path, body, LAYER_NORM), "torch.nn.functional.layer_norm", *fragments)


def test_a_refusal_the_student_catches_is_still_reported(tmp_path):
    body = """
        def f(x):
            try:
                return torch.layer_norm(x, (4,))
            except Exception:
                mean = x.mean(-1, keepdim=True)
                return (x - mean) / torch.sqrt(x.var(-1, unbiased=False, keepdim=True) + 1e-5)
    """
    assert_banned(run(tmp_path, body, LAYER_NORM), "reached through torch.layer_norm at mod.py line 8")


@pytest.mark.parametrize("body, fragments", [
    ("def f(x):\n    return nn.LayerNorm(4, dtype=x.dtype)(x)\n",
     ["torch.nn.LayerNorm (constructed at mod.py line 6"]),
    ("class Mine(nn.LayerNorm):\n    pass\n\ndef f(x):\n    return Mine(4, dtype=x.dtype)(x)\n",
     ["torch.nn.LayerNorm (constructed at mod.py line 9"]),
    ("from torch.nn.modules.normalization import LayerNorm\n\ndef f(x):\n    return LayerNorm(4)(x.float())\n",
     ["torch.nn.LayerNorm (constructed at mod.py line 8"]),
    ("def f(x):\n    m = nn.LayerNorm.__new__(nn.LayerNorm)\n    nn.Module.__init__(m)\n    return m(x)\n",
     ["torch.nn.LayerNorm (called at mod.py line 8"]),
    ("def f(x):\n    return F.layer_norm(x, (4,))\n",
     ["torch.nn.functional.layer_norm, part of torch.nn.LayerNorm (called at mod.py line 6"]),
    ("def f(x):\n    return torch.layer_norm(x, (4,))\n", ["reached through torch.layer_norm", "aten::layer_norm"]),
])
def test_a_banned_module_is_refused_at_construction_and_by_its_forwards_operation(tmp_path, body, fragments):
    assert_banned(run(tmp_path, body, ("torch.nn.LayerNorm",)), *fragments)


@pytest.mark.parametrize("call, fragments", [
    ("F.scaled_dot_product_attention(x, x, x)", ["called at mod.py line 6"]),
    ("torch._C._nn.scaled_dot_product_attention(x, x, x)", ["called at mod.py line 6"]),
    ("torch.ops.aten.scaled_dot_product_attention(x, x, x)",
     ["reached through torch.ops.aten.scaled_dot_product_attention", "aten::scaled_dot_product_attention"]),
    ("torch._scaled_dot_product_attention_math(x, x, x)[0]",
     ["reached through torch._scaled_dot_product_attention_math", "aten::_scaled_dot_product_attention_math"]),
    ("nn.MultiheadAttention(4, 2, batch_first=True, dtype=x.dtype)(x, x, x, need_weights=False)[0]",
     ["torch.nn.functional.scaled_dot_product_attention"]),
])
def test_scaled_dot_product_attention_is_refused_by_every_route(tmp_path, call, fragments):
    assert_banned(run(tmp_path, f"def f(x):\n    return {call}\n", SDPA),
                  "torch.nn.functional.scaled_dot_product_attention", *fragments)


@pytest.mark.parametrize("call, fragments", [
    ("nn.MultiheadAttention(4, 2, batch_first=True, dtype=x.dtype)(x, x, x)[0]",
     ["torch.nn.MultiheadAttention (constructed at mod.py line 6"]),
    ("F.multi_head_attention_forward(x, x, x, 4, 2, None, None, None, None, False, 0.0, None, None)[0]",
     ["torch.nn.functional.multi_head_attention_forward, part of torch.nn.MultiheadAttention (called at"]),
    ("torch._native_multi_head_attention(x, x, x, 4, 2, torch.eye(12, 4, dtype=x.dtype), torch.zeros(12, dtype=x.dtype),"
     " torch.eye(4, dtype=x.dtype), torch.zeros(4, dtype=x.dtype))[0]",
     ["torch._native_multi_head_attention, part of torch.nn.MultiheadAttention (called at"]),
    ("torch.ops.aten._native_multi_head_attention(x, x, x, 4, 2, torch.eye(12, 4, dtype=x.dtype),"
     " torch.zeros(12, dtype=x.dtype), torch.eye(4, dtype=x.dtype), torch.zeros(4, dtype=x.dtype))[0]",
     ["operation aten::_native_multi_head_attention"]),
])
def test_multihead_attention_is_refused_as_a_module_and_by_its_functions(tmp_path, call, fragments):
    assert_banned(run(tmp_path, f"def f(x):\n    return {call}\n", ("torch.nn.MultiheadAttention",)), *fragments)


@pytest.mark.parametrize("call, fragments", [
    ("nn.LSTM(4, 3, batch_first=True, dtype=x.dtype)(x)[0]", ["torch.nn.LSTM (constructed at"]),
    ("torch._VF.lstm(x, (h, h), (w, u, b, b), True, 1, 0.0, False, False, True)[0]",
     ["torch.lstm, part of torch.nn.LSTM (reached through torch._VF.lstm", "operation aten::lstm.input"]),
    ("torch.lstm_cell(x[0], (h[0], h[0]), w, u, b, b)[0]",
     ["torch.lstm_cell, part of torch.nn.LSTMCell (called at mod.py line 10"]),
])
def test_lstm_modules_are_refused_by_their_operations(tmp_path, call, fragments):
    body = ("def f(x):\n    h = torch.zeros(1, 2, 3, dtype=x.dtype)\n    w = torch.zeros(12, 4, dtype=x.dtype)\n"
            "    u = torch.zeros(12, 3, dtype=x.dtype)\n    b = torch.zeros(12, dtype=x.dtype)\n"
            f"    return {call}\n")
    assert_banned(run(tmp_path, body, ("torch.nn.LSTM", "torch.nn.LSTMCell")), *fragments)


@pytest.mark.parametrize("call, fragments", [
    ("x.cumsum(0)", ["reached through x.cumsum at mod.py line 6", "operation aten::cumsum"]),
    ("x.clone().cumsum_(0)", ["at mod.py line 6", "operation aten::cumsum_"]),
    ("torch.Tensor.cumsum(x, 0)", ["reached through torch.Tensor.cumsum", "operation aten::cumsum"]),
])
def test_a_banned_function_is_refused_as_a_tensor_method(tmp_path, call, fragments):
    assert_banned(run(tmp_path, f"def f(x):\n    return {call}\n", ("torch.cumsum",)), "torch.cumsum", *fragments)


def test_a_numpy_function_is_still_banned_by_name(tmp_path):
    body = "import numpy as np\n\ndef f(x):\n    return torch.from_numpy(np.einsum('ijk->ij', x.numpy()))\n"
    assert_banned(run(tmp_path, body, ("numpy.einsum",)), "numpy.einsum (called at mod.py line 8")


ALL_BANNED = ("torch.nn.LSTM", "torch.nn.LSTMCell", "torch.nn.MultiheadAttention", "torch.nn.LayerNorm",
              "torch.nn.functional.layer_norm", "torch.nn.functional.scaled_dot_product_attention",
              "torch.nn.Transformer", "torch.nn.TransformerEncoder", "torch.nn.TransformerDecoder",
              "torch.nn.TransformerEncoderLayer", "torch.nn.TransformerDecoderLayer")


def test_building_blocks_of_banned_operations_stay_allowed(tmp_path):
    body = """
        def f(x):
            x = x.float()
            norm = (x - x.mean(-1, keepdim=True)) / torch.sqrt(x.var(-1, unbiased=False, keepdim=True) + 1e-5)
            scores = torch.bmm(norm, norm.transpose(1, 2)) / 2.0
            out = torch.softmax(scores, dim=-1) @ norm + F.softmax(scores, -1).matmul(norm)
            gates = F.linear(out, torch.ones(16, 4)).chunk(4, dim=-1)
            c = torch.sigmoid(gates[0]) * torch.tanh(gates[1])
            h = torch.sigmoid(gates[2]) * torch.tanh(c) + nn.Linear(4, 4)(c) + nn.Dropout(0.0)(c)
            h.sum().backward() if h.requires_grad else None
            return torch.cat([h, F.gelu(h), torch.relu(h)], dim=-1).cumsum(0)
    """
    reply = run(tmp_path, body, ALL_BANNED)
    assert reply.failure is None and reply.banned == [], (reply.error, reply.banned)


def test_the_plan_bans_the_operations_of_a_banned_function_not_its_building_blocks():
    plan = BanPlan(LAYER_NORM + SDPA)
    ops = {op for op, _key, _name in plan.ops}
    assert {"aten::layer_norm", "aten::native_layer_norm", "aten::scaled_dot_product_attention"} <= ops
    assert not ops & {"aten::bmm", "aten::mm", "aten::matmul", "aten::softmax", "aten::_safe_softmax", "aten::mul"}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["attention", "transformer"])
def test_the_references_reach_no_banned_operation_through_their_real_probes(repo, bundles, name):
    """Grade a few tests of each torch reference: full marks and no ban reported."""
    from autograder.grading.grade import grade_files

    bundle = bundles(name)
    spec = bundle.spec
    assert any(t.banned for t in spec.tests)
    files = {f: repo.solution_dir(name) / f for f in spec.files}
    ids = {t.id for t in spec.tests if t.banned and "learns" not in t.name}
    report = grade_files(bundle, files, tests=ids, log=lambda msg: None)
    run_ = [r for r in report.results if r.test.id in ids]
    assert run_ and all(r.score == r.max_score for r in run_), {r.test.name: r.output[:300] for r in run_}
    assert not any("does not allow" in r.output for r in report.results)


HOSTILE = ROOT / "tests" / "fixtures" / "hostile"


@pytest.mark.slow
def test_a_transformer_whose_layer_norm_uses_torch_layer_norm_fails_the_ban_with_the_name(repo, bundles, tmp_path):
    """The attack of issue 12: a LayerNorm written with torch.layer_norm once scored 47/47."""
    from autograder.grading.grade import grade_files

    bundle = bundles("transformer")
    spec = bundle.spec
    sub = tmp_path / "submission"
    sub.mkdir()
    for f in spec.files:
        text = (repo.solution_dir("transformer") / f).read_text()
        if f == "transformer_layers.py":
            text += "\n" + (HOSTILE / "layer_norm_alias.py").read_text()
        (sub / f).write_text(text)
    ids = {t.id for t in spec.tests if t.graded == "LayerNorm"}
    assert ids
    report = grade_files(bundle, {f: sub / f for f in spec.files}, tests=ids, log=lambda msg: None)
    for r in report.results:
        if r.test.id in ids:
            assert r.score == 0, r.output
            assert "torch.nn.functional.layer_norm" in r.output and "torch.layer_norm" in r.output, r.output
            assert "does not allow" in r.output, r.output
