"""A forged probe earns nothing: an empty transformer stub that rewrites the probes of the property
and training tests at import scores 0 of 47.

The probes run in the child, next to the student's module, so a submission can replace them
(sys.modules["_autograder_probes"]). tests/fixtures/hostile/forge_transformer_probes.py replaces
five of them by functions that implement nothing and return what the judges of verify.py accept.
The judges do accept them (checked here, in this process, on the bundle's own cases): what stops
the forgery is that a test counts only outputs that match the reference's, which an empty stub
cannot produce. Remove that rule (points from the judge alone) and the forged tests pass.
"""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from autograder.grading.grade import grade_files

from conftest import ROOT
from hostile_submissions import TRANSFORMER_FORGERY, forging_transformer_probes

FIXTURE = TRANSFORMER_FORGERY
FORGED = ("sdpa", "mha_permuted", "lm_causal", "lm_length", "lm_train")

pytestmark = pytest.mark.slow  # builds the transformer bundle


@pytest.fixture(scope="module")
def transformer(bundles):
    return bundles("transformer")


@pytest.fixture(scope="module")
def forged_probes():
    """The fixture's forged probe functions, made here the way the child makes them."""
    fake = types.ModuleType("_autograder_probes")
    namespace = {}
    saved = sys.modules.get("_autograder_probes")
    sys.modules["_autograder_probes"] = fake
    try:
        exec(compile(FIXTURE.read_text(), str(FIXTURE), "exec"), namespace)
    finally:
        if saved is None:
            sys.modules.pop("_autograder_probes")
        else:
            sys.modules["_autograder_probes"] = saved
    assert set(FORGED) <= set(vars(fake))
    return fake


def test_the_forgeries_satisfy_every_judge_they_target(transformer, forged_probes):
    """Without the reference comparison these tests would pass: every forged output is what the
    judge of its property test accepts, on every case, and the forged training loss falls."""
    verify = transformer.verify_module()
    judged = [t for t in transformer.spec.tests if t.probe in FORGED and t.kind == "property"]
    assert {t.probe for t in judged} == {"sdpa", "mha_permuted", "lm_causal", "lm_length"}
    for test in judged:
        for case in transformer.spec.casesets[test.cases].cases:
            inputs = transformer.inputs(test.cases, case)
            got = getattr(forged_probes, test.probe)(None, inputs, dict(case.params))
            got = {k: np.asarray(v) for k, v in got.items()}
            assert getattr(verify, test.verify)(inputs, got, dict(case.params)) is None, (test.name, case.name)
    (training,) = [t for t in transformer.spec.tests if t.trajectory]
    case = transformer.spec.casesets[training.cases].cases[0]
    losses = forged_probes.lm_train(None, transformer.inputs(training.cases, case), dict(case.params))["losses"]
    assert (np.diff(losses) < 0).all()


def test_an_empty_stub_that_forges_five_probes_scores_zero(repo, transformer, tmp_path):
    """transformer_layers.py is the untouched stub plus the forging code: every test is reported,
    the total is 0, and each forged test says which output differs from the reference."""
    stub = (ROOT / "starter" / "transformer" / "transformer_layers.py").read_text()
    logs = []
    report = grade_files(transformer, forging_transformer_probes(tmp_path, stub), log=logs.append)
    assert logs == []
    assert [r.test.id for r in report.results] == [t.id for t in transformer.spec.tests]
    assert transformer.spec.max_score == 47
    assert report.score == 0, {r.test.name: r.output[:200] for r in report.results if r.score}
    said = {r.test.name: r.output for r in report.results if r.test.probe in FORGED}
    assert len(said) == 7  # sdpa feeds three tests (two outputs tests, one property), the other four one each
    for name, text in said.items():
        assert "differs from the reference" in text or "departs from the reference at step 1" in text, (name, text)
        assert "not implemented" not in text, name  # the forgery ran: it is the comparison that failed it
