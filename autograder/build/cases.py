"""Build the inputs of every case from its named seed, with the assignment's case builders.

A builder is a function of the assignment's cases.py: `builder(rng, **params) -> {name: array}`.
`rng` is a private `numpy.random.Generator` seeded from the case's name, so nothing depends on
global random state, and two builds give the same bytes.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

from autograder.spec.bundle import input_key
from autograder.core.errors import SpecError

__all__ = ["load_module_from", "build_inputs"]


def load_module_from(path: Path, name: str):
    """Import a trusted assignment file (cases.py, verify.py) under a private name."""
    if not path.is_file():
        raise SpecError(f"{path}: missing")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _raised(e: Exception, source: str) -> str:
    """`TypeError: ...`, with the line of `source` (cases.py) it was raised at when there is one."""
    import traceback

    lines = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == source]
    at = f" (at line {lines[-1].lineno}: {lines[-1].line})" if lines else ""
    return f"{type(e).__name__}: {e}{at}"


def build_inputs(spec, cases_module, source: str, visibilities=("public", "hidden")) -> dict:
    """Every input array of every case of the chosen visibilities, keyed as in a bundle."""
    arrays = {}
    for cs in spec.casesets.values():
        builder = getattr(cases_module, cs.builder, None)
        if not callable(builder):
            raise SpecError(f"{spec.source}: cases.{cs.name}.builder: {source} has no function '{cs.builder}'")
        for case in cs.select(visibilities):
            where = f"{source}: {cs.builder}(...) for {case.describe()} of case set '{cs.name}'"
            try:
                built = builder(np.random.default_rng(case.seed), **case.params)
            except Exception as e:  # the author's code: say where, not "internal error"
                raise SpecError(f"{where}: {_raised(e, source)}") from None
            if not isinstance(built, dict) or not built:
                raise SpecError(f"{where}: must return a non-empty dict of arrays")
            for name, value in built.items():
                arr = np.asarray(value)
                if not isinstance(name, str) or "/" in name or arr.dtype.kind not in "biuf":
                    raise SpecError(f"{where}: input {name!r} must be a plain numeric array under a name without '/'")
                arrays[input_key(cs.name, case.name, name)] = arr
    return arrays
