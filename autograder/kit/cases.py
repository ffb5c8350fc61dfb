"""Helpers for case builders (an assignment's cases.py), and edge-case shapes declared once.

A builder is `builder(rng, **params) -> {name: array}` with `rng` a `numpy.random.Generator`
seeded from the case's name. The helpers draw from `rng` only, in a fixed order, so a case's
arrays are the same bytes on every build.

Edge cases (N = 1, T = 1, ...) can be declared once per case set in assignment.yaml instead of
being retyped:

    cases:
      rnn_seq:
        builder: rnn_seq
        public: [{name: small, N: 2, T: 3, D: 4, H: 5}]
        hidden: [{name: long, N: 4, T: 9, D: 5, H: 3}]
        edges: {N: 1, T: 1}

adds the hidden cases `n1` ({N: 1, T: 3, D: 4, H: 5}) and `t1` ({N: 2, T: 1, ...}): the first
public case (else the first hidden one) with that one parameter changed. A hidden case already
named `n1` or `t1` is kept as written, so case sets that spell their edge cases out keep their
names, parameters and arrays.
"""

from __future__ import annotations

import numpy as np

__all__ = ["normal", "ints", "mask", "permutation", "one_hot", "edge_cases", "MASK_KINDS"]

MASK_KINDS = ("random", "single", "prefix", "leading")


def normal(rng, *shape, scale: float = 1.0) -> np.ndarray:
    """float64 array of `shape` with entries drawn from N(0, scale**2)."""
    return scale * rng.standard_normal(shape)


def ints(rng, high: int, *shape, low: int = 0, repeat: bool = True) -> np.ndarray:
    """int64 array of `shape` with entries in [low, high). With `repeat` (and at least two
    entries) the first entry is set to the last one, so some value always occurs twice: the case
    catches code that loses repeated indices (`dW[x] += dout`)."""
    x = rng.integers(low, high, size=shape)
    if repeat:
        x.flat[0] = x.flat[-1]
    return x.astype(np.int64)


def mask(rng, N: int, L: int, kind: str = "random", p: float = 0.5) -> np.ndarray:
    """(N, L) bool mask (True: open, may be attended or counted) with at least one True per row.

    kind:
      random   each entry open with probability 1 - p, one random entry per row forced open and,
               when L >= 2, one entry per row blocked if the row came out all open;
      single   exactly one open entry per row;
      prefix   right padding: row i open on its first length_i entries, length_i in 1..L, row 0
               of full length L;
      leading  each entry blocked with probability p, the first column always open (sequence
               targets whose first step always counts).
    """
    if kind == "single":
        out = np.zeros((N, L), dtype=bool)
        out[np.arange(N), rng.integers(0, L, size=N)] = True
        return out
    if kind == "prefix":
        lengths = rng.integers(1, L + 1, size=N)
        lengths[0] = L
        return np.arange(L)[None, :] < lengths[:, None]
    if kind == "leading":
        out = rng.random((N, L)) > p
        out[:, 0] = True
        return out
    if kind != "random":
        raise ValueError(f"unknown mask kind {kind!r}; use one of: {', '.join(MASK_KINDS)}")
    out = rng.random((N, L)) < 1 - p
    out[np.arange(N), rng.integers(0, L, size=N)] = True
    if L >= 2:
        for i in range(N):
            open_ = np.flatnonzero(out[i])
            if len(open_) == L:
                out[i, rng.choice(open_)] = False
    return out


def permutation(rng, n: int) -> np.ndarray:
    """int64 permutation of range(n), never the identity when n >= 2 (a test of permutation
    equivariance must move something)."""
    perm = rng.permutation(n)
    while n >= 2 and np.all(perm == np.arange(n)):
        perm = rng.permutation(n)
    return perm.astype(np.int64)


def one_hot(indices, n: int, dtype=np.float64) -> np.ndarray:
    """`indices` (any shape of ints in [0, n)) as one-hot vectors along a new last axis."""
    indices = np.asarray(indices)
    if indices.size and (indices.min() < 0 or indices.max() >= n):
        raise ValueError(f"one_hot: indices must lie in [0, {n}), got {indices.min()}..{indices.max()}")
    return (indices[..., None] == np.arange(n)).astype(dtype)


def edge_cases(public: list, hidden: list, edges: dict) -> list:
    """The hidden case mappings `edges` adds to a case set (see the module docstring).

    `public` and `hidden` are the case mappings as written (each with a `name`); `edges` maps a
    builder argument to its edge value. Returns new mappings only, named `<argument in lower
    case><value>` (`N: 1` -> `n1`), none of which a hidden case already uses. Raises ValueError
    when the base case has no such argument (the message names it).
    """
    if not edges:
        return []
    base = next(iter(public or hidden), None)
    if base is None:
        raise ValueError("edges need a public or hidden case to start from")
    taken = {c.get("name") for c in hidden}
    out = []
    for key, value in edges.items():
        if key not in base or key == "name":
            raise ValueError(f"edge '{key}': the case '{base.get('name')}' it starts from has no argument '{key}' "
                             f"(it has: {', '.join(k for k in base if k != 'name')})")
        name = f"{str(key).lower()}{value}".replace(".", "_").replace("-", "m")
        if name not in taken:
            out.append(dict(base, name=name, **{key: value}))
            taken.add(name)
    return out
