"""Plain arrays out of whatever a student's code returns, and the arrays inside nested values.

`to_array` is what every probe output goes through before it leaves the sandboxed child: numpy
arrays, numpy and Python scalars and torch tensors become plain numpy arrays of numbers; anything
else is refused with a message naming the output. `leaves` lists the arrays inside a nested
tuple/list/dict (a layer's cache), each with a path such as `cache[1]['W']`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["to_array", "NotArray", "leaves", "is_tensor", "prefixed"]


class NotArray(TypeError):
    """A value that is not a plain numeric array (or scalar, or tensor); the message names it."""


def is_tensor(value) -> bool:
    """Whether `value` is a torch tensor (or parameter), decided without importing torch."""
    cls = type(value)
    return cls.__module__.startswith("torch") and cls.__name__ in ("Tensor", "Parameter")


def to_array(value, name: str = "value") -> np.ndarray:
    """`value` as a plain numpy array of bool, int or float.

    Accepts numpy arrays (returned as they are, not copied), numpy and Python scalars (0-d arrays)
    and torch tensors (detached, moved to the CPU, conjugation and negation views resolved).
    Raises NotArray, naming `name`, for anything else: a subclass of numpy.ndarray, a list, None,
    an array of objects, strings or complex numbers.
    """
    if type(value) is np.ndarray:
        arr = value
    elif isinstance(value, (bool, int, float, np.generic)) and not isinstance(value, (str, bytes)):
        arr = np.asarray(value)
    elif is_tensor(value):
        arr = value.detach().cpu().resolve_conj().resolve_neg().numpy()
    elif isinstance(value, np.ndarray):
        raise NotArray(f"'{name}' is a {type(value).__name__} (a subclass of numpy.ndarray); return a plain numpy array")
    else:
        raise NotArray(f"'{name}' is a {type(value).__name__}, expected an array")
    if arr.dtype.hasobject or arr.dtype.kind not in "biuf":
        raise NotArray(f"'{name}' has dtype {arr.dtype}; expected numbers (bool, int or float)")
    return arr


def leaves(obj, path: str = "cache", limit: int = 64):
    """Yield `(path, array)` for every numpy array or torch tensor inside `obj`.

    `obj` may be an array, or a tuple, list or dict nesting them (other values are skipped). Paths
    extend `path` the way Python indexes: `cache[0]`, `cache[2]['W']`. At most `limit` keys of each
    dict are looked at, so a hostile mapping cannot make the walk endless.
    """
    if isinstance(obj, np.ndarray) or is_tensor(obj):
        yield path, obj
    elif isinstance(obj, (tuple, list)):
        for i, item in enumerate(obj):
            yield from leaves(item, f"{path}[{i}]", limit)
    elif isinstance(obj, dict):
        for key in list(obj)[:limit]:
            yield from leaves(obj[key], f"{path}[{key!r}]", limit)


def prefixed(arrays: dict, prefix: str) -> dict:
    """The arrays whose names start with `prefix`, under their names without it, in the order
    given: a case's `g_a`, `g_b` as a dict of gradients {a, b}, or its `param.attn.W_q` as a
    module's parameter `attn.W_q`."""
    return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
