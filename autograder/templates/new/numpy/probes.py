"""Probes for `$name`: call the student's code on one case and return plain arrays.

Runs only inside the sandboxed child, next to the student's module. `probe(m, c, p)` gets the
student's module `m`, the case's arrays `c` and the case's parameters `p`, and returns a dict
of named outputs; the grader compares them with the reference's outputs on the same case.
A gradient probe returns each gradient under the name of the input it belongs to.
"""


def softmax_loss(m, c, p):
    loss, dx = m.softmax_loss(c["x"], c["y"])
    return {"loss": loss, "dx": dx}


def softmax_loss_value(m, c, p):
    """The forward pass alone, which the numerical gradient check perturbs."""
    loss, _ = m.softmax_loss(c["x"], c["y"])
    return {"loss": loss}


def softmax_loss_grad(m, c, p):
    _, dx = m.softmax_loss(c["x"], c["y"])
    return {"x": dx}
