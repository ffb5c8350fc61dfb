"""autograder/gradcheck.py: gradients checked against central differences of the student's forward."""

import numpy as np
import pytest

from autograder.grading.gradcheck import ELEMENTWISE_CAP, GradChecker


class Counted:
    """A python forward pass out = tanh(x @ W), counting its calls."""

    def __init__(self):
        self.calls = 0
        self.dtypes = set()

    def __call__(self, inputs):
        self.calls += 1
        self.dtypes.update(v.dtype for v in inputs.values())
        return {"out": np.tanh(inputs["x"] @ inputs["W"]), "aux": np.zeros(1)}


def problem(seed=0):
    rng = np.random.default_rng(seed)
    x, W = rng.standard_normal((4, 3)), rng.standard_normal((3, 5)) * 0.5
    dout = rng.standard_normal((4, 5))
    out = np.tanh(x @ W)
    da = dout * (1 - out**2)  # (N, M)
    grads = {"x": da @ W.T, "W": x.T @ da}
    return {"x": x, "W": W, "dout": dout}, grads


def test_correct_gradients_pass_with_few_forward_calls():
    inputs, grads = problem()
    forward = Counted()
    checker = GradChecker(forward, {"out": inputs["dout"]}, seed=1)
    assert checker.check(inputs, grads) is None
    # One evaluation for the scale, then two per checked input: the cheap path, in one batch.
    assert forward.calls == checker.calls == 1 + 2 * len(grads)
    assert checker.batches == 1


def test_float32_inputs_are_checked_in_float64():
    inputs, grads = problem()
    inputs32 = {k: v.astype(np.float32) for k, v in inputs.items()}
    forward = Counted()
    assert GradChecker(forward, {"out": inputs["dout"]}, seed=1).check(inputs32, grads) is None
    assert forward.dtypes == {np.dtype(np.float64)}


def test_wrong_entry_of_W_is_named():
    inputs, grads = problem()
    grads["W"] = grads["W"].copy()
    grads["W"][1, 2] += 0.3
    forward = Counted()
    checker = GradChecker(forward, {"out": inputs["dout"]}, seed=1)
    msg = checker.check(inputs, grads)
    assert msg is not None
    assert msg.startswith("the gradient dW disagrees with a numerical derivative of your own forward pass")
    assert "Entry by entry, the worst is dW[1, 2]: your backward gives " in msg
    want = fmt(grads["W"][1, 2])
    assert f"dW[1, 2]: your backward gives {want}, the numerical derivative is {fmt(grads['W'][1, 2] - 0.3)}" in msg
    # Both inputs are projected in the first batch; W fails first (sorted names), and the explain
    # pass probes each of its entries with two evaluations, in a second batch.
    assert forward.calls == 1 + 2 * 2 + 2 * inputs["W"].size
    assert checker.batches == 2


def fmt(x):
    return f"{float(x):.6g}"


def test_wrong_dx_is_named_and_dW_still_fine():
    inputs, grads = problem()
    grads["x"] = grads["x"] * 1.5
    msg = GradChecker(Counted(), {"out": inputs["dout"]}, seed=3).check(inputs, grads)
    assert msg.startswith("the gradient dx disagrees")
    assert "the worst is dx[" in msg


def test_scalar_output_with_upstream_none():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 2))

    def forward(inputs):
        return {"loss": np.array(np.sum(inputs["x"] ** 3))}

    checker = GradChecker(forward, {"loss": None}, seed=5)
    assert checker.check({"x": x}, {"x": 3 * x**2}) is None
    assert checker.calls == 3
    wrong = 3 * x**2
    wrong[2, 0] = 0.0
    msg = GradChecker(forward, {"loss": None}, seed=5).check({"x": x}, {"x": wrong})
    assert "the worst is dx[2, 0]" in msg


def test_loss_weighs_outputs_by_upstream():
    def forward(inputs):
        return {"a": inputs["x"] * 2, "b": np.array(inputs["x"].sum())}

    checker = GradChecker(forward, {"a": np.array([1.0, -1.0]), "b": None}, seed=0)
    assert checker.loss({"x": np.array([3.0, 5.0])}) == pytest.approx((6 - 10) + 8)


def test_missing_output_raises_key_error():
    checker = GradChecker(lambda inputs: {"out": inputs["x"]}, {"h": None}, seed=0)
    with pytest.raises(KeyError, match="h"):
        checker.check({"x": np.ones(2)}, {"x": np.ones(2)})


def test_integer_inputs_and_mismatched_shapes_are_skipped():
    x = np.array([1.0, 2.0])
    idx = np.array([0, 1])
    forward_calls = []

    def forward(inputs):
        forward_calls.append(1)
        return {"out": inputs["x"] * 2}

    checker = GradChecker(forward, {"out": None}, seed=0)
    assert checker.check({"x": x, "idx": idx}, {"x": np.full(2, 2.0), "idx": np.zeros(2)}) is None
    assert len(forward_calls) == 1 + 2  # only x was probed


def test_forward_many_gets_whole_batches():
    inputs, grads = problem()
    grads["x"] = grads["x"] * 1.5
    single, sizes = Counted(), []

    def forward_many(batch):
        sizes.append(len(batch))
        return [single(b) for b in batch]

    checker = GradChecker(None, {"out": inputs["dout"]}, seed=3, forward_many=forward_many)
    assert checker.check(inputs, grads).startswith("the gradient dx disagrees")
    assert sizes == [1 + 2 * 2, 2 * inputs["x"].size]


def test_same_seed_same_message():
    inputs, grads = problem()
    grads["W"] = grads["W"] + 0.01
    a = GradChecker(Counted(), {"out": inputs["dout"]}, seed=7).check(inputs, grads)
    b = GradChecker(Counted(), {"out": inputs["dout"]}, seed=7).check(inputs, grads)
    assert a is not None and a == b


def test_large_input_explain_pass_is_capped():
    rng = np.random.default_rng(8)
    x = rng.standard_normal(ELEMENTWISE_CAP * 3)

    def forward(inputs):
        return {"out": np.sin(inputs["x"])}

    checker = GradChecker(forward, {"out": None}, seed=9)
    msg = checker.check({"x": x}, {"x": np.cos(x) * 1.1})
    assert msg.startswith("the gradient dx disagrees")
    assert checker.calls == 1 + 2 + 2 * ELEMENTWISE_CAP
