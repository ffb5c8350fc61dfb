"""Torch helpers for probes: case arrays as tensors, strict weight loading, one scalar backward,
gradients by name, and dropout with pinned masks.

Probes run in the sandboxed child, next to the student's module; everything here is called from
them. Import it as `from autograder.kit import torch as kt` (this module imports torch; the rest
of the kit does not). Errors that are the student's (a parameter the contract names is missing,
a dropout submodule is absent) are raised as `ContractError`, whose message the student sees as
it is.
"""

from __future__ import annotations

import zlib

import numpy as np
import torch
import torch.nn as nn

from autograder.core.errors import ContractError
from autograder.kit.arrays import prefixed

__all__ = ["tensor", "leaf", "load_strict", "scalar_backward", "grads_of", "FixedDrop", "fix_dropout",
           "PARAM_PREFIX"]

PARAM_PREFIX = "param."


def tensor(a, share: bool = False) -> torch.Tensor:
    """A case array as a tensor of the same dtype (float64, int64 or bool as stored).

    By default a copy, so that nothing the student's code does reaches the case's array. With
    share=True the tensor shares the array's memory (torch.from_numpy): a write into the tensor is
    then visible in the array, which is what an `unchanged` test looks at."""
    return torch.from_numpy(a if share else np.array(a, copy=True))


def leaf(a, share: bool = False) -> torch.Tensor:
    """tensor(a, share) as a leaf that requires grad (a float case array)."""
    return tensor(a, share).requires_grad_(True)


def load_strict(module: nn.Module, arrays: dict, prefix: str = PARAM_PREFIX, what: str | None = None,
                dtype=torch.float64) -> nn.Module:
    """Convert `module` to `dtype`, load its parameters by name from `arrays`, put it in eval mode.

    Every key of `arrays` that starts with `prefix` names one parameter (`param.attn.W_q` ->
    `attn.W_q`); the module must have exactly those parameters, each of the given shape. Anything
    else is a ContractError naming up to four missing and four extra names, or the parameter whose
    shape differs. `what` names the module in the message (default: its class name). Returns the
    module (converted in place, as nn.Module.to does)."""
    what = what or type(module).__name__
    module = module.to(dtype)
    want = prefixed(arrays, prefix)
    have = dict(module.named_parameters())
    missing, extra = sorted(set(want) - set(have)), sorted(set(have) - set(want))
    if missing or extra:
        text = f"{what} lacks the contract's parameters {', '.join(missing[:4]) or '(none)'}"
        if extra:
            text += f" and has {', '.join(extra[:4])} instead"
        raise ContractError(text + "; the grader loads weights by the contract's submodule names")
    with torch.no_grad():
        for name, value in want.items():
            if tuple(have[name].shape) != value.shape:
                raise ContractError(f"{what}: parameter {name} has shape {tuple(have[name].shape)}, "
                                    f"the contract's is {value.shape}")
            have[name].copy_(torch.from_numpy(np.asarray(value)))
    return module.eval()


def scalar_backward(out, dout=None) -> None:
    """Backpropagate sum(out * dout): the gradient of `out` with upstream gradient `dout`.

    `out` is a tensor and `dout` an array or tensor of its shape (None: `out` is a scalar, its
    own backward), or `out` is a list of (out, dout) pairs whose terms are summed into one scalar.
    One scalar backward, not out.backward(dout): the latter makes torch import modules lazily,
    which a child running as the sandbox user may be unable to read. An output that is not a
    tensor is a TypeError, one of the wrong shape a ValueError (both name what was expected)."""
    pairs = out if isinstance(out, (list, tuple)) and dout is None else [(out, dout)]
    if not pairs or not torch.is_tensor(pairs[0][0]):
        got = type(pairs[0][0]).__name__ if pairs else "nothing"
        raise TypeError(f"expected torch tensors as outputs, got {got}")
    total = 0
    for o, d in pairs:
        if not torch.is_tensor(o):
            raise TypeError(f"expected torch tensors as outputs, got {type(o).__name__}")
        if d is None:
            total = total + o.sum()
            continue
        if tuple(o.shape) != tuple(d.shape):
            raise ValueError(f"an output has shape {tuple(o.shape)}, expected {tuple(d.shape)}")
        total = total + (o * (d if torch.is_tensor(d) else torch.from_numpy(np.asarray(d)))).sum()
    total.backward()


def grads_of(inputs: dict | None = None, module: nn.Module | None = None) -> dict:
    """The gradient of every leaf in `inputs` (name -> tensor) under its name, then of every
    parameter of `module` under its parameter name; zeros where no gradient reached it."""
    out = {}
    for name, x in (inputs or {}).items():
        out[name] = x.grad if x.grad is not None else torch.zeros_like(x)
    if module is not None:
        for name, w in module.named_parameters():
            out[name] = w.grad if w.grad is not None else torch.zeros_like(w)
    return out


class FixedDrop(nn.Module):
    """Dropout with a pinned mask: multiplies by 0 or 1/(1-p), the same for the student and the
    reference, drawn without touching torch's global random stream.

    The mask depends on the last `dims` sizes of the input only (2 for attention weights, whose
    layout may be (N, H, S, T) or (N*H, S, T); 1 for features) and on `seed`; it is shared across
    the leading dimensions, and drawn on the CPU in float64 so that it is the same on any device."""

    def __init__(self, p: float, seed: int, dims: int = 1):
        super().__init__()
        self.p, self.seed, self.dims = float(p), int(seed), int(dims)

    def forward(self, x):
        """x times the pinned mask of its last `dims` sizes, scaled by 1/(1-p)."""
        shape = tuple(x.shape[-self.dims:])
        gen = torch.Generator().manual_seed((self.seed + zlib.crc32(repr(shape).encode())) % 2**63)
        keep = torch.rand(shape, generator=gen, dtype=torch.float64, device="cpu") >= self.p
        return x * (keep.to(device=x.device, dtype=x.dtype) / (1.0 - self.p))


def fix_dropout(module: nn.Module, seed: int, names, dims: dict | None = None) -> nn.Module:
    """Replace the module's own nn.Dropout submodules `names` by FixedDrops with the same p.

    Submodule `name` gets the seed `seed + crc32(name)` and `dims.get(name, 1)` trailing
    dimensions. Dropouts inside submodules stay nn.Dropout (off in eval mode), so a test checks
    the placement of one module's dropouts only. A name that is not an nn.Dropout attribute of the
    module is a ContractError. Returns the module."""
    dims = dims or {}
    for name in names:
        sub = getattr(module, name, None)
        if not isinstance(sub, nn.Dropout):
            raise ContractError(f"{type(module).__name__} has no nn.Dropout submodule named '{name}'; "
                                "the contract names it, and the grader replaces it to check where dropout goes")
        setattr(module, name, FixedDrop(sub.p, int(seed) + zlib.crc32(name.encode()), dims.get(name, 1)))
    return module
