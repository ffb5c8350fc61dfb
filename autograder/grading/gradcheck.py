"""Numerical gradients of the student's own forward pass, driven from the grader.

Fail cheaply, explain expensively: for each input, one random unit direction v compares the
directional derivative (L(x + h v) - L(x - h v)) / 2h with <grad, v> (two forward evaluations,
in float64). Only an input that fails this gets the element-wise pass, which names the entry whose
numerical and analytical derivatives disagree most. L = sum over outputs of <upstream, output>.
The child only evaluates the forward pass; every derivative is computed here.

Evaluations are asked for in batches (`forward_many`): the base point and every projection of a
case go to the child in one round trip, and the element-wise pass in one more.
"""

from __future__ import annotations

import numpy as np

from autograder.grading.compare import fmt_index, fmt_num

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
    """Checks analytical gradients against central differences of `forward(inputs) -> outputs`.

    `forward_many(list of inputs) -> list of outputs`, when given, evaluates a batch at once;
    `calls` counts forward evaluations and `batches` the batches asked for."""

    def __init__(self, forward, upstream: dict, seed: int, step: float = STEP, rtol: float = RTOL,
                 forward_many=None):
        self.forward_many = forward_many or (lambda batch: [forward(inputs) for inputs in batch])
        self.upstream = upstream  # output name -> array, or None for a scalar output weighed by 1
        self.rng = np.random.default_rng(seed)
        self.step = step
        self.rtol = rtol
        self.calls = 0
        self.batches = 0

    def losses(self, batch: list) -> list[float]:
        self.calls += len(batch)
        self.batches += 1
        return [self._weigh(outputs) for outputs in self.forward_many(batch)]

    def loss(self, inputs: dict) -> float:
        return self.losses([inputs])[0]

    def _weigh(self, outputs: dict) -> float:
        total = 0.0
        for name, up in self.upstream.items():
            if name not in outputs:
                raise KeyError(name)
            out = np.asarray(outputs[name], dtype=np.float64)
            total += float(out.sum()) if up is None else float(np.sum(out * up))
        return total

    def _pair(self, inputs: dict, name: str, direction: np.ndarray) -> list[dict]:
        base = inputs[name]
        return [dict(inputs, **{name: base + self.step * direction}),
                dict(inputs, **{name: base - self.step * direction})]

    def _derivatives(self, losses: list[float]) -> list[float]:
        return [(losses[i] - losses[i + 1]) / (2 * self.step) for i in range(0, len(losses), 2)]

    def _close(self, numerical: float, analytical: float, scale: float) -> bool:
        atol = 1e-8 * max(1.0, scale)
        return abs(numerical - analytical) <= atol + self.rtol * max(abs(numerical), abs(analytical))

    def check(self, inputs: dict, grads: dict) -> str | None:
        """None when every gradient in `grads` agrees with the forward pass; else an explanation."""
        inputs = {k: (v.astype(np.float64) if v.dtype.kind == "f" else v) for k, v in inputs.items()}
        probed, batch = [], [inputs]
        for name in sorted(grads):
            grad = np.asarray(grads[name], dtype=np.float64)
            x = inputs.get(name)
            if x is None or x.dtype.kind != "f" or grad.shape != x.shape or x.size == 0:
                continue
            v = self.rng.standard_normal(x.shape)
            v /= np.linalg.norm(v) or 1.0
            probed.append((name, grad, float(np.sum(grad * v))))
            batch += self._pair(inputs, name, v)
        losses = self.losses(batch)
        scale = abs(losses[0])
        for (name, grad, analytical), numerical in zip(probed, self._derivatives(losses[1:])):
            if not self._close(numerical, analytical, scale):
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
        batch = []
        for i in flat:
            e = np.zeros(x.size)
            e[i] = 1.0
            batch += self._pair(inputs, name, e.reshape(x.shape))
        worst, worst_gap = None, -1.0
        for i, num in zip(flat, self._derivatives(self.losses(batch))):
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
