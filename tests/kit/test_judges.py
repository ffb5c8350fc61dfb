"""The kit's standard judges: each passes a right case and fails a wrong one with its message."""

import numpy as np
import pytest

from autograder.core.errors import SpecError
from autograder.kit import judges as J
from autograder.spec.model import spec_from_dict


def softmax(x, axis=-1):
    z = np.exp(x - x.max(axis=axis, keepdims=True))
    return z / z.sum(axis=axis, keepdims=True)


RNG = np.random.default_rng(0)


def test_helpers():
    assert J.index_text((1, np.int64(2))) == "[1, 2]"
    assert J.first_mismatch(np.ones(3), np.ones(3)) is None
    assert J.first_mismatch(np.array([1.0, 2.0, 3.5]), np.array([1.0, 2.0, 3.0])) == ((2,), 3.5, 3.0)
    assert J.first_mismatch(np.array([np.nan]), np.array([1.0]))[0] == (0,)
    assert J.first_mismatch(np.ones(2), np.ones(3)) == ("shape", (2,), (3,))
    assert J.first_nonfinite({"a": np.ones(2), "b": np.array([0.0, np.inf])}, ["a", "b"])[:2] == ("b", (1,))
    assert J.first_nonfinite({"a": np.ones(2)}, ["a"]) is None


def test_finite():
    assert J.finite({}, {"x": np.ones(3)}, {}) is None
    msg = J.finite({}, {"x": np.array([1.0, np.nan])}, {}, names=["x"], hint="look at the softmax")
    assert msg == "'x' contains nan at [1]; look at the softmax"


def test_distribution_passes_softmax_rows_and_grids():
    w = softmax(RNG.standard_normal((3, 4, 4)).reshape(3, 16)).reshape(3, 4, 4)
    assert J.distribution({}, {"w": w}, {}, weights="w") is None
    rows = softmax(RNG.standard_normal((2, 3, 5)))
    assert J.distribution({}, {"w": rows}, {}, weights="w", axes=1, row="query") is None


def test_distribution_failures():
    w = softmax(RNG.standard_normal((3, 4)))
    w[1] *= 1.5
    msg = J.distribution({}, {"weights": w}, {})
    assert msg.startswith("the attention weights of sample 1 sum to 1.5, expected 1 (1 of 3 samples are off); ")
    grid = softmax(RNG.standard_normal((2, 3, 4)))  # each row of the grid sums to 1: a sample sums to 3
    assert "sample 0 sum to 3" in J.distribution({}, {"weights": grid}, {})
    assert J.distribution({}, {"weights": grid}, {}, axes=1) is None
    by_query = softmax(RNG.standard_normal((2, 3, 4)))
    by_query[1, 2] *= 2
    assert "of query [1, 2] sum to 2" in J.distribution({}, {"weights": by_query}, {}, axes=1, row="query")
    neg = softmax(RNG.standard_normal((2, 3)))
    neg[0, 1] = -0.25
    assert J.distribution({}, {"weights": neg}, {}).startswith("attention weight -0.25 at [0, 1] is negative")
    assert J.distribution({}, {"weights": np.array([[np.inf, 0.0]])}, {}).startswith("'weights' contains inf at [0, 0]")


def test_masked_zero():
    mask = np.array([[True, False, True], [False, True, True]])
    w = softmax(np.where(mask, RNG.standard_normal(mask.shape), -np.inf))
    assert J.masked_zero({"mask": mask}, {"weights": w}, {}) is None
    assert J.masked_zero({}, {"weights": softmax(RNG.standard_normal((2, 3)))}, {}) is None  # no mask: all open
    leaky = w.copy()
    leaky[1, 0] = 1e-12
    msg = J.masked_zero({"mask": mask}, {"weights": leaky}, {})
    assert msg.startswith("position [1, 0] is masked out (mask False) but weighs 1e-12, expected exactly 0 "
                          "(1 masked positions have weight)")
    assert J.masked_zero({"mask": mask}, {"weights": leaky}, {}, tol=1e-9) is None
    flipped = softmax(np.where(~mask, RNG.standard_normal(mask.shape), -np.inf))
    msg = J.masked_zero({"mask": mask}, {"weights": flipped}, {})
    assert msg.startswith("position [0, 1] is masked out (mask False) but weighs 1,")
    starved = w.copy()
    starved[0, 2] = 0.0
    assert J.masked_zero({"mask": mask}, {"weights": starved}, {}).startswith(
        "position [0, 2] may be attended to (mask True) but weighs 0")
    assert J.masked_zero({"mask": mask}, {"weights": starved}, {}, open_positive=False) is None
    causal = np.tril(np.ones((3, 3)))  # a (T, T) 0/1 mask against (N, H, T, T) weights
    w4 = softmax(np.where(causal > 0, RNG.standard_normal((2, 2, 3, 3)), -np.inf))
    assert J.masked_zero({"m": causal}, {"weights": w4}, {}, mask="m") is None
    assert J.masked_zero({"mask": mask}, {"weights": np.ones((2, 4)) / 4}, {}) == \
        "'weights' has shape (2, 4), expected (2, 3) like the mask"


def _attend(keys, query, mask=None):
    scores = (keys @ query[:, :, None])[..., 0]
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    w = softmax(scores)
    return (w[:, :, None] * keys).sum(1), w


def test_permutation():
    keys, query = RNG.standard_normal((2, 5, 3)), RNG.standard_normal((2, 3))
    perm = np.array([3, 0, 4, 1, 2])
    ctx, w = _attend(keys, query)
    ctx_p, w_p = _attend(keys[:, perm], query)
    inputs, outputs = {"perm": perm}, {"context": ctx, "weights": w, "context_perm": ctx_p, "weights_perm": w_p}
    assert J.permutation(inputs, outputs, {}) is None
    # weights that depend on where a key stands
    bias = np.arange(5) * 0.1
    bad = dict(outputs, weights_perm=softmax(np.log(w_p) + bias))
    msg = J.permutation(inputs, bad, {})
    assert msg.startswith("after permuting the attended positions (and the mask) by the case's permutation, "
                          "the weights are not permuted the same way: at [0, 0] expected ")
    assert "(original weight of position 3)" in msg
    # right weights, but a result that moved
    moved = dict(outputs, context_perm=ctx_p + 1e-3)
    assert J.permutation(inputs, moved, {}).startswith("permuting the attended positions changed 'context' at [0, 0]")
    custom = J.permutation(inputs, moved, {}, invariant_message="{name} moved at {index}")
    assert custom == "context moved at [0, 0]"
    # a (N, P, P) grid of weights is P*P positions
    grid = w.reshape(2, 5, 1) * np.ones((1, 1, 2)) / 2
    gp = grid.reshape(2, 10)[:, np.r_[perm, perm + 5]].reshape(2, 5, 2)
    g_in = {"perm": np.r_[perm, perm + 5]}
    assert J.permutation(g_in, {"w": grid, "w_perm": gp}, {}, permuted=["w"], invariant=[]) is None


def test_permutation_of_a_sequence_of_features_and_the_template_fields():
    """Self-attention without positions: f(x[:, perm]) == f(x)[:, perm] on (N, S, E) outputs."""
    x = RNG.standard_normal((2, 4, 3))
    perm = np.array([2, 0, 3, 1])

    def self_attend(x):
        w = softmax(x @ x.transpose(0, 2, 1))
        return w @ x
    out, out_p = self_attend(x), self_attend(x[:, perm])
    args = dict(permuted=["out"], invariant=[], suffix="_permuted", flatten=False, atol=1e-9)
    assert J.permutation({"perm": perm}, {"out": out, "out_permuted": out_p}, {}, **args) is None
    shifted = out_p + np.arange(4)[None, :, None] * 1e-3  # depends on where a position stands
    msg = J.permutation({"perm": perm}, {"out": out, "out_permuted": shifted}, {}, **args,
                        permuted_message="with {perm}, position {position} (batch {batch}, at {index}) is {got:.3f}, "
                                         "not {expected:.3f} from position {source}")
    assert msg.startswith("with [2, 0, 3, 1], position 1 (batch 0, at [0, 1, 0]) is ")
    assert msg.endswith("from position 0")


def test_distribution_and_masked_zero_wording_settings():
    w = softmax(RNG.standard_normal((2, 3, 4)))
    w[0, 1] *= 2
    msg = J.distribution({}, {"weights": w}, {}, axes=1, row="query", rows="queries")
    assert "(1 of 6 queries are off)" in msg
    causal = np.tril(np.ones((3, 3)))
    leak = softmax(RNG.standard_normal((2, 2, 3, 3)))
    msg = J.masked_zero({"mask": causal}, {"weights": leak}, {}, tol=1e-9, open_positive=False,
                        leak_message="key {key} is blocked for query {query}, yet weighs {weight:.2f} ({count} such)")
    assert msg.startswith("key 1 is blocked for query [0, 0, 0], yet weighs ")


def test_causal():
    x = RNG.standard_normal((2, 6))
    y = x.copy()
    y[:, 4:] = RNG.standard_normal((2, 2))
    cumsum = lambda a: np.cumsum(a, axis=1)[..., None]  # noqa: E731 - position i sees 0..i
    ok = {"logits": cumsum(x), "logits_changed": cumsum(y)}
    assert J.causal({"t": np.array(3)}, ok, {}) is None
    leaky = {"logits": cumsum(x) + x.sum(1)[:, None, None], "logits_changed": cumsum(y) + y.sum(1)[:, None, None]}
    msg = J.causal({"t": np.array(3)}, leaky, {})
    assert msg.startswith("changing only the inputs after position 3 changed 'logits' at position ")
    assert msg.endswith("position i may depend only on positions j <= i (a causal mask)")
    blind = {"logits": np.zeros((2, 6, 1)), "logits_changed": np.zeros((2, 6, 1))}
    assert J.causal({"t": np.array(3)}, blind, {}).startswith("changing the inputs after position 3 did not change")
    assert J.causal({"t": np.array(3)}, blind, {}, unused_message="") is None


def test_loss_below():
    assert J.loss_below({}, {"losses": np.array([2.0, 1.0, 0.3])}, {}, bound=0.5) is None
    assert J.loss_below({}, {"losses": np.array([2.0, 1.0, 0.3])}, {"goal": 0.2}, param="goal") == \
        "the loss at the last step is 0.3 (it started at 2), expected below 0.2"
    assert "became nan at step 2" in J.loss_below({}, {"losses": np.array([2.0, np.nan])}, {}, bound=1.0)
    with pytest.raises(ValueError, match="needs bound"):
        J.loss_below({}, {"losses": np.ones(2)}, {})


def test_frequencies_passes_a_fair_sampler_and_fails_a_biased_one():
    rng = np.random.default_rng(1)
    probs = softmax(rng.standard_normal((4, 6)))
    draws = np.stack([rng.choice(6, size=2000, p=p) for p in probs])
    assert J.frequencies({}, {"samples": draws, "probs": probs}, {}) is None
    assert J.frequencies({"probs": probs}, {"samples": draws}, {}) is None  # probabilities given as an input
    argmax = np.repeat(probs.argmax(1)[:, None], 2000, axis=1)
    msg = J.frequencies({}, {"samples": argmax, "probs": probs}, {})
    assert msg.startswith("the draws of row 0 do not follow the given probabilities")
    assert "outside [0, 6)" in J.frequencies({}, {"samples": draws + 1, "probs": probs}, {})
    assert "must hold integer" in J.frequencies({}, {"samples": draws * 1.0, "probs": probs}, {})
    zero = probs.copy()
    zero[0, draws[0, 0]] = 0.0
    assert "but its probability is 0" in J.frequencies({}, {"samples": draws, "probs": zero}, {})


def test_false_alarm_rate_is_small():
    """A correct sampler fails at most a handful of 200 seeded trials at alpha = 0.01."""
    rng = np.random.default_rng(2)
    p = softmax(rng.standard_normal(8))
    fails = sum(J.frequencies({}, {"samples": rng.choice(8, size=500, p=p), "probs": p}, {}, alpha=0.01) is not None
                for _ in range(200))
    assert fails <= 8


def test_resolve_and_check_args():
    assert J.resolve("distribution") is J.distribution
    with pytest.raises(LookupError, match="no kit judge named 'nope'"):
        J.resolve("nope")
    assert J.check_args("distribution", {"weights": "attn_weights"}) is None
    assert "takes no setting colour" in J.check_args("distribution", {"colour": 1})
    assert "no kit judge named" in J.check_args("nope", {})


def _spec_with_judge(verify):
    data = {"name": "demo", "title": "Demo", "files": ["layers.py"],
            "cases": {"small": {"builder": "b", "public": [{"name": "c"}], "hidden": [{"name": "h"}]}},
            "tests": [{"target": "layers.attend", "title": "sums", "kind": "property", "probe": "p",
                       "cases": "small", "outputs": ["out"], "verify": verify}]}
    return spec_from_dict(data, "assignments/demo/assignment.yaml")


def test_a_property_test_names_a_kit_judge_with_settings():
    spec = _spec_with_judge({"kit": "distribution", "weights": "w", "axes": 1})
    assert spec.tests[0].verify == {"kit": "distribution", "weights": "w", "axes": 1}
    assert _spec_with_judge("my_judge").tests[0].verify == "my_judge"


@pytest.mark.parametrize("verify, problem", [
    ({"kit": "distribution", "colour": "red"}, "tests[0].verify: kit judge 'distribution' takes no setting colour"),
    ({"kit": "nope"}, "tests[0].verify: no kit judge named 'nope' (the kit has: causal, distribution"),
    ({"weights": "w"}, "tests[0].verify: a standard judge is written {kit: NAME, setting: value}"),
])
def test_a_wrong_kit_judge_is_refused_by_name(verify, problem):
    with pytest.raises(SpecError) as info:
        _spec_with_judge(verify)
    assert problem in str(info.value)


@pytest.mark.slow
def test_a_kit_judge_named_in_assignment_yaml_fails_a_real_grade_with_its_message(repo, bundles, tmp_path):
    """attention's `masked positions weigh exactly 0` is verify: {kit: masked_zero}. Masking with -80
    instead of -inf leaves weights the reference comparison accepts (about 1e-35 off), and the
    judge still fails the case, naming the position; the reference passes the same test."""
    import shutil

    from autograder.grading.grade import grade_files

    bundle = bundles("attention")
    (test,) = [t for t in bundle.spec.tests if t.name == "additive_attention: masked positions weigh exactly 0"]
    assert test.verify == {"kit": "masked_zero"}
    shutil.copyfile(repo.solution_dir("attention") / "attention.py", tmp_path / "attention.py")
    report = grade_files(bundle, {"attention.py": tmp_path / "attention.py"}, tests={test.id}, log=lambda m: None)
    assert report.results[0].score == report.results[0].max_score > 0
    text = (tmp_path / "attention.py").read_text()
    old = 'scores = scores.masked_fill(~mask, float("-inf"))'
    assert text.index(old) < text.index("def masked_dot_attention")  # the first is additive_attention's
    (tmp_path / "attention.py").write_text(text.replace(old, "scores = scores.masked_fill(~mask, -80.0)", 1))
    (result,) = grade_files(bundle, {"attention.py": tmp_path / "attention.py"}, tests={test.id},
                            log=lambda m: None).results
    assert result.score == 0
    assert "is masked out (mask False) but weighs " in result.output and "expected exactly 0" in result.output, \
        result.output
