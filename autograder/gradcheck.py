"""Numerical gradients of the student's own forward pass, driven from the grader.

Fail cheaply, explain expensively: for each input, one random unit direction v compares the
directional derivative (L(x + h v) - L(x - h v)) / 2h with <grad, v> (two forward calls, in
float64). Only an input that fails this gets the element-wise pass, which names the entry whose
numerical and analytical derivatives disagree most. L = sum over outputs of <upstream, output>.
The child only evaluates the forward pass; every derivative is computed here.
"""

from __future__ import annotations

import numpy as np

from .compare import fmt_index, fmt_num

__all__ = ["GradChecker", "STEP", "RTOL", "ELEMENTWISE_CAP"]

STEP = 1e-6
RTOL = 1e-5
ELEMENTWISE_CAP = 400


class ForwardFailed(Exception):
    """The student's forward pass failed while being probed; carries the child's Reply."""

    def __init__(self, reply):
        super().__init__("forward failed")
        self.reply = reply


class GradChecker:
    """Checks analytical gradients against central differences of `forward(inputs) -> outputs`."""

    def __init__(self, forward, upstream: dict, seed: int, step: float = STEP, rtol: float = RTOL):
        self.forward = forward
        self.upstream = upstream  # output name -> array, or None for a scalar output weighed by 1
        self.rng = np.random.default_rng(seed)
        self.step = step
        self.rtol = rtol
        self.calls = 0

    def loss(self, inputs: dict) -> float:
        self.calls += 1
        outputs = self.forward(inputs)
        total = 0.0
        for name, up in self.upstream.items():
            if name not in outputs:
                raise KeyError(name)
            out = np.asarray(outputs[name], dtype=np.float64)
            total += float(out.sum()) if up is None else float(np.sum(out * up))
        return total

    def _derivative(self, inputs: dict, name: str, direction: np.ndarray) -> float:
        base = inputs[name]
        plus = dict(inputs, **{name: base + self.step * direction})
        minus = dict(inputs, **{name: base - self.step * direction})
        return (self.loss(plus) - self.loss(minus)) / (2 * self.step)

    def _close(self, numerical: float, analytical: float, scale: float) -> bool:
        atol = 1e-8 * max(1.0, scale)
        return abs(numerical - analytical) <= atol + self.rtol * max(abs(numerical), abs(analytical))

    def check(self, inputs: dict, grads: dict) -> str | None:
        """None when every gradient in `grads` agrees with the forward pass; else an explanation."""
        inputs = {k: (v.astype(np.float64) if v.dtype.kind == "f" else v) for k, v in inputs.items()}
        scale = abs(self.loss(inputs))
        for name in sorted(grads):
            grad = np.asarray(grads[name], dtype=np.float64)
            x = inputs.get(name)
            if x is None or x.dtype.kind != "f" or grad.shape != x.shape or x.size == 0:
                continue
            v = self.rng.standard_normal(x.shape)
            v /= np.linalg.norm(v) or 1.0
            numerical = self._derivative(inputs, name, v)
            analytical = float(np.sum(grad * v))
            if self._close(numerical, analytical, scale):
                continue
            return self.explain(inputs, name, grad, numerical, analytical, scale)
        return None

    def explain(self, inputs, name, grad, numerical, analytical, scale) -> str:
        x = inputs[name]
        head = (f"the gradient d{name} disagrees with a numerical derivative of your own forward pass: "
                f"along a random direction, your backward gives {fmt_num(analytical)}, "
                f"central differences give {fmt_num(numerical)}")
        flat = np.arange(x.size)
        if x.size > ELEMENTWISE_CAP:
            flat = np.sort(self.rng.choice(x.size, ELEMENTWISE_CAP, replace=False))
        worst, worst_gap = None, -1.0
        for i in flat:
            e = np.zeros(x.size)
            e[i] = 1.0
            num = self._derivative(inputs, name, e.reshape(x.shape))
            ana = float(grad.reshape(-1)[i])
            gap = abs(num - ana) / (1e-8 * max(1.0, scale) + self.rtol * max(abs(num), abs(ana)))
            if gap > worst_gap:
                worst, worst_gap = (i, num, ana), gap
        if worst is None or worst_gap <= 1:
            return head + "."
        i, num, ana = worst
        idx = np.unravel_index(int(i), x.shape)
        return (f"{head}. Entry by entry, the worst is d{name}{fmt_index(idx)}: your backward gives {fmt_num(ana)}, "
                f"the numerical derivative is {fmt_num(num)}")
