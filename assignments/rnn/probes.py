"""Python probes for `rnn`: the few that a declaration in assignment.yaml (`probes:`) cannot say.

Runs only inside the sandboxed child, next to the student's module. `probe(m, c, p)` gets the
student's module `m`, the case's arrays `c` and the case's parameters `p`, and returns plain
arrays by name. The other probes (call, name the outputs, backward) are declared in assignment.yaml.
"""

import numpy as np

from autograder.kit import adam_step, prefixed, watch

PARAM_NAMES = ("W_embed", "W_proj", "b_proj", "Wx", "Wh", "b", "W_vocab", "b_vocab")


# --- gradient clipping: the gradients come as a dict built from the case's g_* arrays ----------

def _clip(m, grads, c):
    clipped, total = m.clip_grad_norm(grads, float(c["max_norm"]))
    return {"total_norm": total, **{f"clipped_{name}": clipped[name] for name in grads}}


def clip_grad_norm(m, c, p):
    return _clip(m, prefixed(c, "g_"), c)


def clip_grad_norm_unchanged(m, c, p):
    grads = prefixed(c, "g_")
    names = list(grads)
    out, seen = watch(lambda: m.clip_grad_norm(grads, float(c["max_norm"])), grads=grads)
    clipped, total = out
    return {"total_norm": total, **{f"clipped_{name}": clipped[name] for name in names}, **seen}


# --- CaptioningRNN: built from the case's parameters ------------------------------------------

def _model(m, c, p):
    word_to_idx = {"<NULL>": 0, "<START>": 1, "<END>": 2, **{f"w{i}": i for i in range(3, p["V"])}}
    model = m.CaptioningRNN(word_to_idx, input_dim=p["D"], wordvec_dim=p["W"], hidden_dim=p["H"],
                            cell_type=p["cell"], dtype=np.float64)
    for name in PARAM_NAMES:
        model.params[name] = c[name].astype(np.float64)
    return model


def caption_loss_value(m, c, p):
    loss, _ = _model(m, c, p).loss(c["features"], c["captions"])
    return {"loss": loss}


def caption_grads(m, c, p):
    _, grads = _model(m, c, p).loss(c["features"], c["captions"])
    return {name: grads[name] for name in PARAM_NAMES}


def caption_sample(m, c, p):
    return {"captions": _model(m, c, p).sample(c["features"], max_length=p["max_length"])}


def caption_overfit(m, c, p):
    """Adam on the student's loss and gradients, from the case's weights, on the same tiny set at
    every step: the loss before each of the `steps` updates and after the last (steps + 1 values),
    compared step by step with the reference's."""
    model, state, losses = _model(m, c, p), {}, []
    for step in range(1, p["steps"] + 1):
        loss, grads = model.loss(c["features"], c["captions"])
        losses.append(float(loss))
        adam_step(model.params, grads, state, step, p["lr"])
    final, _ = model.loss(c["features"], c["captions"])
    losses.append(float(final))
    return {"losses": np.asarray(losses, dtype=np.float64)}
