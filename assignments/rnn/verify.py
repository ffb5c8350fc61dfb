"""Property judges for `rnn`, run in the grader on plain arrays the child returned.

`judge(inputs, outputs, params) -> None | str`: None passes; a string tells the student why not.
"""

import math


def learns(inputs, outputs, params):
    start = float(outputs["loss_start"])
    end = float(outputs["loss_end"])
    bound = params["threshold"]
    if not math.isfinite(end):
        return (f"training diverged: after {params['steps']} Adam steps the loss is {end} (it started at {start:.4g}); "
                "check the gradients of the loss and of your cell's backward pass first")
    if end >= bound:
        return (f"your model does not memorise a tiny training set: after {params['steps']} Adam steps "
                f"(learning rate {params['lr']}) the loss went from {start:.4g} to {end:.4g}, "
                f"but it must fall below {bound:g}. A correct model gets there easily; "
                "check that loss() returns the gradient of the loss it reports")
    return None
