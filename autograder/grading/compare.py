"""Compare a student's array with the reference and say what differs, where, and by how much."""

from __future__ import annotations

import numpy as np

__all__ = ["compare", "compare_trajectory", "fmt_index", "fmt_num", "same_bits"]

_FAMILY = {"f": "floating-point", "i": "integer", "u": "integer", "b": "boolean"}


def fmt_index(idx) -> str:
    return "[" + ", ".join(str(int(i)) for i in idx) + "]"


def fmt_num(x) -> str:
    x = float(x) if not isinstance(x, (bool, np.bool_)) else bool(x)
    if isinstance(x, bool):
        return str(x)
    return f"{x:.6g}"


def _family(dtype) -> str:
    return _FAMILY.get(dtype.kind, str(dtype))


def _block(idx, shape, blocks) -> str:
    """' (block f of i, f, o, g)' when the last axis is made of equal named blocks."""
    if not blocks or not shape or shape[-1] % len(blocks):
        return ""
    name = blocks[int(idx[-1]) // (shape[-1] // len(blocks))]
    return f" (in block '{name}' of {', '.join(blocks)})"


def compare(name: str, got: np.ndarray, exp: np.ndarray, rtol: float, atol: float, blocks=None) -> str | None:
    """None when `got` matches `exp`; else one message naming the output, the index and the values.

    Floats pass when |got - exp| <= atol + rtol * |exp| everywhere; integers and booleans must be
    equal. NaN and inf in `got` fail unless the reference has the same value there. `blocks` names
    equal blocks of the last axis (say the gates i, f, o, g of an LSTM weight) for the message.
    """
    label = f"'{name}'"
    if got.shape != exp.shape:
        return f"{label} has shape {got.shape}, expected {exp.shape}"
    scalar = exp.ndim == 0
    got, exp = np.atleast_1d(got), np.atleast_1d(exp)

    def at(idx) -> str:
        return "" if scalar else f" at {fmt_index(idx)}"

    if _family(got.dtype) != _family(exp.dtype) and not (exp.dtype.kind in "iu" and got.dtype.kind in "iu"):
        family = _family(exp.dtype)
        article = "an" if family[0] in "aeiou" else "a"
        return f"{label} has dtype {got.dtype}, expected {article} {family} array (like {exp.dtype})"
    if exp.dtype.kind != "f":
        diff = got != exp
        if not diff.any():
            return None
        idx = np.unravel_index(int(np.argmax(diff)), diff.shape)
        return (f"{label} differs{at(idx)}{_block(idx, exp.shape, blocks)}: expected {fmt_num(exp[idx])}, got {fmt_num(got[idx])} "
                f"({int(diff.sum())} of {diff.size} entries differ)")
    g, e = got.astype(np.float64), exp.astype(np.float64)
    bad_nonfinite = ~np.isfinite(g) & ~((g == e) | (np.isnan(g) & np.isnan(e)))
    if bad_nonfinite.any():
        idx = np.unravel_index(int(np.argmax(bad_nonfinite)), g.shape)
        what = "NaN" if np.isnan(g[idx]) else "inf"
        return (f"{label} contains {what}{at(idx)}{_block(idx, exp.shape, blocks)} (expected {fmt_num(e[idx])}); "
                f"{int(bad_nonfinite.sum())} of {g.size} entries are not finite. Look for overflow "
                "(exp of a large number), log of 0, or division by 0")
    missing = ~np.isfinite(e) & np.isfinite(g)
    if missing.any():
        idx = np.unravel_index(int(np.argmax(missing)), g.shape)
        return (f"{label} is {fmt_num(g[idx])}{at(idx)} where the reference is {fmt_num(e[idx])}; "
                f"{int(missing.sum())} of {g.size} entries differ that way")
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(g - e)
        err[~np.isfinite(g)] = 0.0
        allowed = atol + rtol * np.abs(e)
        ratio = np.where(np.isfinite(e), err / np.maximum(allowed, np.finfo(np.float64).tiny), 0.0)
    if not (ratio > 1).any():
        return None
    flat = int(np.argmax(ratio))
    idx = np.unravel_index(flat, ratio.shape)
    count = int((ratio > 1).sum())
    if abs(float(e[idx])) > atol:
        size = f"relative error {float(err[idx]) / abs(float(e[idx])):.2e}"
    else:  # next to zero a relative error means nothing
        size = f"absolute error {float(err[idx]):.2e}"
    return (f"{label} differs from the reference:{at(idx)}{_block(idx, exp.shape, blocks)} expected {fmt_num(e[idx])}, got {fmt_num(g[idx])} "
            f"({size}; tolerance rtol={rtol:g}, atol={atol:g}); "
            f"{count} of {g.size} entries are outside the tolerance")


def compare_trajectory(name: str, got: np.ndarray, exp: np.ndarray, rtol: float, atol: float) -> str | None:
    """None when `got` follows the reference trajectory `exp` (one value per step, a 1-d float array)
    within |got - exp| <= atol + rtol * |exp| at every step; else one message naming the first step
    where it departs (steps count from 1), both values there, and how many steps matched before."""
    label = f"'{name}'"
    steps = exp.shape[0]
    if got.ndim != 1:
        return f"{label} has shape {got.shape}, expected one value per step, shape ({steps},)"
    if got.dtype.kind not in "fiu":
        return f"{label} has dtype {got.dtype}, expected a floating-point array (like {exp.dtype})"
    g, e = got.astype(np.float64), exp.astype(np.float64)
    n = min(g.shape[0], steps)
    with np.errstate(invalid="ignore", over="ignore"):
        ok = np.abs(g[:n] - e[:n]) <= atol + rtol * np.abs(e[:n])
    bad = np.flatnonzero(~ok)

    def before(k: int) -> str:
        return f"steps 1 to {k} match" if k > 1 else ("step 1 matches" if k == 1 else "no step matches")

    if bad.size == 0:
        if g.shape[0] == steps:
            return None
        return f"{label} has {g.shape[0]} steps, the reference {steps} ({before(n)})"
    k = int(bad[0])
    if not np.isfinite(g[k]):
        what = "NaN" if np.isnan(g[k]) else "inf" if g[k] > 0 else "-inf"
        return (f"{label} is {what} at step {k + 1} of {steps} where the reference is {fmt_num(e[k])} "
                f"({before(k)}); look for overflow, log of 0 or division by 0, or a diverging update")
    err = abs(g[k] - e[k])
    size = f"relative error {err / abs(e[k]):.2e}" if abs(e[k]) > atol else f"absolute error {err:.2e}"
    return (f"{label} departs from the reference at step {k + 1} of {steps}: got {fmt_num(g[k])}, expected "
            f"{fmt_num(e[k])} ({size}; tolerance rtol={rtol:g}, atol={atol:g}); {before(k)}")


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """Exact equality, NaN equal to NaN: for 'was this input modified?'."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind == "f":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))
