"""Optimiser steps a probe runs itself, so that a training check depends only on the student's
loss and gradients (numpy; the torch helpers are in kit.torch)."""

from __future__ import annotations

import numpy as np

__all__ = ["adam_step"]


def adam_step(params: dict, grads: dict, state: dict, step: int, lr: float,
              beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
    """One Adam update of every array in `params` (name -> numpy array), in place in the dict.

    `grads[name]` is converted to the parameter's dtype; `state` (a dict the caller keeps across
    steps, empty at first) holds each parameter's first and second moments; `step` counts from 1.
    The bias correction is folded into the step size: lr * sqrt(1 - beta2**t) / (1 - beta1**t).
    Each parameter keeps its dtype.
    """
    for name, w in params.items():
        g = np.asarray(grads[name], dtype=w.dtype)
        m1, m2 = state.get(name) or (np.zeros_like(w), np.zeros_like(w))
        m1 = beta1 * m1 + (1 - beta1) * g
        m2 = beta2 * m2 + (1 - beta2) * g * g
        state[name] = (m1, m2)
        step_size = lr * np.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
        params[name] = (w - step_size * m1 / (np.sqrt(m2) + eps)).astype(w.dtype, copy=False)
