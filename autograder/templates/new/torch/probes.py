"""Probes for `$name`: call the student's code on one case and return plain arrays.

Runs only inside the sandboxed child, next to the student's module. `probe(m, c, p)` gets the
student's module `m`, the case's arrays `c` (numpy) and the case's parameters `p`, and returns
a dict of named outputs (tensors are fine); the grader compares them with the reference's on
the same case. A gradient probe backpropagates sum(out * dout), one scalar backward, and
returns the gradient of every input under that input's name.
"""

import torch


def layer_norm(m, c, p):
    out = m.layer_norm(torch.from_numpy(c["x"]), torch.from_numpy(c["gamma"]), torch.from_numpy(c["beta"]))
    return {"out": out}


def layer_norm_grads(m, c, p):
    leaves = {n: torch.from_numpy(c[n]).requires_grad_(True) for n in ("x", "gamma", "beta")}
    out = m.layer_norm(leaves["x"], leaves["gamma"], leaves["beta"])
    (out * torch.from_numpy(c["dout"])).sum().backward()
    return {n: t.grad if t.grad is not None else torch.zeros_like(t) for n, t in leaves.items()}
