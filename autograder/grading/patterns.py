"""Diagnoses from the shape of a mistake, for failures no catalogued mutant matches.

Each pattern is a simple transformation of the student's output that, applied or undone, gives
the reference within the test's tolerance; none knows any assignment:

- batch_axis: extra leading axes whose sum is the reference (a bias gradient of shape (N, H)
  where (H,) is expected: sum over the batch axis);
- reshape:    the right values in another shape (an axis of length 1 too many, say);
- transposed: the last two axes swapped;
- swapped:    an output equal to the reference of another output of the same shape (gradients
              returned in the wrong order);
- sign:       the reference with its sign flipped;
- factor:     the reference times or divided by an integer that is a dimension of the case
              (N, T, N*T, ...): a mean where a sum belongs, or the reverse.

`diagnose_patterns` returns the same records as mutant diagnoses, with ids `pattern:<kind>`.
"""

from __future__ import annotations

import numpy as np

from autograder.grading.compare import compare
from autograder.spec.kinds import check_kind

__all__ = ["diagnose_patterns", "PATTERNS"]

PATTERNS = ("batch_axis", "reshape", "transposed", "swapped", "sign", "factor")


def _label(test, name: str) -> str:
    """How the check's messages name an output."""
    return check_kind(test.kind).label + name


def _float(arr) -> np.ndarray | None:
    return arr.astype(np.float64) if isinstance(arr, np.ndarray) and arr.dtype.kind in "biuf" else None


def _matches(test, got: np.ndarray, exp: np.ndarray) -> bool:
    if got.shape != exp.shape or not np.isfinite(got).all():
        return False
    return compare("x", got, exp.astype(np.float64), test.rtol, test.atol) is None


def _not_trivial(exp: np.ndarray, test) -> bool:
    """Whether a transformation can be told apart from the identity on `exp` (not all near zero)."""
    return exp.size > 0 and float(np.max(np.abs(exp))) > 10 * test.atol


def _dimensions(case, inputs: dict) -> dict[int, str]:
    """Integer -> how to name it: the case's integer parameters, their pairwise products, and the
    axis lengths of its inputs."""
    named: dict[int, str] = {}
    params = {k: v for k, v in case.params.items() if isinstance(v, int) and not isinstance(v, bool) and v > 1}
    for k, v in params.items():
        named.setdefault(v, k)
    keys = list(params)
    for i, a in enumerate(keys):
        for b in keys[i:]:
            named.setdefault(params[a] * params[b], f"{a}*{b}")
    for name, arr in inputs.items():
        for axis, n in enumerate(getattr(arr, "shape", ())):
            if n > 1:
                named.setdefault(int(n), f"the length of axis {axis} of '{name}'")
    return named


def _batch_axis(test, label, got, exp):
    extra = got.ndim - exp.ndim
    if extra <= 0 or got.shape[extra:] != exp.shape:
        return None
    lead = got.shape[:extra]
    if int(np.prod(lead)) < 2 or not _matches(test, got.sum(axis=tuple(range(extra))), exp):
        return None
    axes = "its first axis" if extra == 1 else f"its first {extra} axes"
    return (f"'{label}' has shape {got.shape} where {exp.shape} is expected, and summing it over {axes} "
            f"(length {' x '.join(map(str, lead))}) gives the reference. Something used by every example "
            "of the batch (a bias, a weight) gets the sum of their gradients: sum over the batch axis.")


def _reshape(test, label, got, exp):
    if got.shape == exp.shape or got.size != exp.size or not _matches(test, got.reshape(exp.shape), exp):
        return None
    return (f"'{label}' has the right values in the wrong shape: {got.shape} where {exp.shape} is expected. "
            "Look for an axis of length 1 too many or too few (keepdims, [:, None]), or reshape the result.")


def _transposed(test, label, got, exp):
    if got.ndim < 2 or got.shape[:-2] + got.shape[-2:][::-1] != exp.shape:
        return None
    if got.shape == exp.shape and _matches(test, np.swapaxes(exp, -1, -2), exp):
        return None  # a symmetric reference cannot tell
    if not _matches(test, np.swapaxes(got, -1, -2), exp):
        return None
    return (f"'{label}' is the transpose of the reference (its last two axes swapped). Check the order of "
            "the factors of a matrix product, or a .T too many or too few.")


def _sign(test, label, got, exp):
    if got.shape != exp.shape or not _not_trivial(exp, test) or not _matches(test, -got, exp):
        return None
    return f"'{label}' is the reference with its sign flipped. Check a subtraction or a minus sign."


def _factor(test, label, got, exp, dims):
    if got.shape != exp.shape or not _not_trivial(exp, test):
        return None
    idx = np.unravel_index(int(np.argmax(np.abs(exp))), exp.shape)
    if got[idx] == 0:
        return None
    ratio = float(got[idx] / exp[idx])
    for k, times in ((ratio, True), (1 / ratio, False)):
        n = round(k)
        if n >= 2 and abs(k - n) < 1e-6 * n and n in dims:
            candidate = exp * n if times else exp / n
            if _matches(test, got, candidate):
                how = f"exactly {n} times the reference" if times else f"the reference divided by exactly {n}"
                return (f"'{label}' is {how} ({n} is {dims[n]}). Look for a mean where a sum belongs, or a sum "
                        "where a mean belongs, or something added once per example or step too often.")
    return None


def diagnose_patterns(test, got: dict, expected: dict, case, inputs: dict) -> list[dict]:
    """Pattern diagnoses of the outputs of `expected` (name -> reference) that `got` gets wrong."""
    wrong = {}
    for name, exp in expected.items():
        g, e = _float(got.get(name)), _float(exp)
        if g is None or e is None or not np.isfinite(e).all() or not np.isfinite(g).all() or _matches(test, g, e):
            continue
        wrong[name] = (g, e)
    found, explained = [], set()

    def add(kind, text):
        found.append({"id": f"pattern:{kind}", "function": test.graded, "hint": text})

    for name, (g, e) in wrong.items():  # swapped first: it explains two outputs at once
        if name in explained:
            continue
        for other, exp_other in expected.items():
            e2 = _float(exp_other)
            if other == name or e2 is None or e2.shape != g.shape or not _not_trivial(e2, test):
                continue
            if _matches(test, g, e2) and not _matches(test, e, e2):
                a, b = _label(test, name), _label(test, other)
                both = other in wrong and _matches(test, wrong[other][0], e)
                add("swapped", f"'{a}' and '{b}' are swapped: each holds what the other should. Check the order "
                               "of the values you return." if both else
                               f"'{a}' holds what the reference has for '{b}'. Check the order of the values you "
                               "return, and which input each gradient belongs to.")
                explained.update({name, other} if both else {name})
                break
    dims = _dimensions(case, inputs)
    shape_of = (("batch_axis", _batch_axis), ("reshape", _reshape), ("transposed", _transposed), ("sign", _sign),
                ("factor", lambda test, label, g, e: _factor(test, label, g, e, dims)))
    for name, (g, e) in wrong.items():
        if name in explained:
            continue
        for kind, pattern in shape_of:
            text = pattern(test, _label(test, name), g, e)
            if text is not None:
                add(kind, text)
                break
    return found
