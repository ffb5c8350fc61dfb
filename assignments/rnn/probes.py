"""Probes for `rnn`: call the student's code on one case and return plain arrays.

Runs only inside the sandboxed child, next to the student's module. `probe(m, c, p)` gets the
student's module `m`, the case's arrays `c` and the case's parameters `p`. Gradient probes return
gradients keyed by the input they belong to. `X.before` / `X.after` pairs let the grader see
whether a call wrote into arrays it was given; the same probe returns that call's results, which
must match the reference (the test names them under `outputs:`) for the check to count.
"""

import numpy as np

PARAM_NAMES = ("W_embed", "W_proj", "b_proj", "Wx", "Wh", "b", "W_vocab", "b_vocab")


def _leaves(obj, path="cache"):
    """Every numpy array inside a (nested) tuple, list or dict, with a path name."""
    if isinstance(obj, np.ndarray):
        yield path, obj
    elif isinstance(obj, (tuple, list)):
        for i, item in enumerate(obj):
            yield from _leaves(item, f"{path}[{i}]")
    elif isinstance(obj, dict):
        for key in list(obj)[:64]:
            yield from _leaves(obj[key], f"{path}[{key!r}]")


def _watch(cache, call, names):
    """Run `call()`; return its results (by `names`) and before/after copies of every array in `cache`."""
    before = [(name, arr.copy()) for name, arr in _leaves(cache)]
    results = call()
    after = dict(_leaves(cache))
    out = dict(zip(names, results))
    for name, arr in before:
        out[name + ".before"] = arr
        out[name + ".after"] = after.get(name, np.full(1, np.nan))
    return out


# --- vanilla RNN -----------------------------------------------------------------------------

_STEP_GRADS = ("dx", "dprev_h", "dWx", "dWh", "db")  # what a step's backward returns, in order
_SEQ_GRADS = ("dx", "dh0", "dWx", "dWh", "db")  # what a sequence's backward returns, in order


def _rnn_step_args(c):
    return c["x"], c["prev_h"], c["Wx"], c["Wh"], c["b"]


def rnn_step_forward(m, c, p):
    next_h, _ = m.rnn_step_forward(*_rnn_step_args(c))
    return {"next_h": next_h}


def rnn_step_backward(m, c, p):
    _, cache = m.rnn_step_forward(*_rnn_step_args(c))
    dx, dprev_h, dWx, dWh, db = m.rnn_step_backward(c["dnext_h"], cache)
    return {"x": dx, "prev_h": dprev_h, "Wx": dWx, "Wh": dWh, "b": db}


def rnn_step_backward_unchanged(m, c, p):
    _, cache = m.rnn_step_forward(*_rnn_step_args(c))
    return _watch(cache, lambda: m.rnn_step_backward(c["dnext_h"], cache), _STEP_GRADS)


def _seq_args(c):
    return c["x"], c["h0"], c["Wx"], c["Wh"], c["b"]


def rnn_forward(m, c, p):
    h, _ = m.rnn_forward(*_seq_args(c))
    return {"h": h}


def rnn_backward(m, c, p):
    _, cache = m.rnn_forward(*_seq_args(c))
    dx, dh0, dWx, dWh, db = m.rnn_backward(c["dh"], cache)
    return {"x": dx, "h0": dh0, "Wx": dWx, "Wh": dWh, "b": db}


def rnn_backward_unchanged(m, c, p):
    _, cache = m.rnn_forward(*_seq_args(c))
    return _watch(cache, lambda: m.rnn_backward(c["dh"], cache), _SEQ_GRADS)


# --- word embedding --------------------------------------------------------------------------

def word_embedding_forward(m, c, p):
    out, _ = m.word_embedding_forward(c["x"], c["W"])
    return {"out": out}


def word_embedding_backward(m, c, p):
    _, cache = m.word_embedding_forward(c["x"], c["W"])
    return {"W": m.word_embedding_backward(c["dout"], cache)}


# --- sigmoid ---------------------------------------------------------------------------------

def sigmoid(m, c, p):
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        return {"y": m.sigmoid(c["x"])}


# --- LSTM ------------------------------------------------------------------------------------

def _lstm_step_args(c):
    return c["x"], c["prev_h"], c["prev_c"], c["Wx"], c["Wh"], c["b"]


def lstm_step_forward(m, c, p):
    next_h, next_c, _ = m.lstm_step_forward(*_lstm_step_args(c))
    return {"next_h": next_h, "next_c": next_c}


def lstm_step_backward(m, c, p):
    _, _, cache = m.lstm_step_forward(*_lstm_step_args(c))
    dx, dprev_h, dprev_c, dWx, dWh, db = m.lstm_step_backward(c["dnext_h"], c["dnext_c"], cache)
    return {"x": dx, "prev_h": dprev_h, "prev_c": dprev_c, "Wx": dWx, "Wh": dWh, "b": db}


def lstm_step_backward_unchanged(m, c, p):
    _, _, cache = m.lstm_step_forward(*_lstm_step_args(c))
    return _watch(cache, lambda: m.lstm_step_backward(c["dnext_h"], c["dnext_c"], cache),
                  ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db"))


def lstm_forward(m, c, p):
    h, _ = m.lstm_forward(*_seq_args(c))
    return {"h": h}


def lstm_backward(m, c, p):
    _, cache = m.lstm_forward(*_seq_args(c))
    dx, dh0, dWx, dWh, db = m.lstm_backward(c["dh"], cache)
    return {"x": dx, "h0": dh0, "Wx": dWx, "Wh": dWh, "b": db}


def lstm_backward_unchanged(m, c, p):
    _, cache = m.lstm_forward(*_seq_args(c))
    return _watch(cache, lambda: m.lstm_backward(c["dh"], cache), _SEQ_GRADS)


# --- GRU -------------------------------------------------------------------------------------

def gru_step_forward(m, c, p):
    next_h, _ = m.gru_step_forward(*_rnn_step_args(c))
    return {"next_h": next_h}


def gru_step_backward(m, c, p):
    _, cache = m.gru_step_forward(*_rnn_step_args(c))
    dx, dprev_h, dWx, dWh, db = m.gru_step_backward(c["dnext_h"], cache)
    return {"x": dx, "prev_h": dprev_h, "Wx": dWx, "Wh": dWh, "b": db}


def gru_step_backward_unchanged(m, c, p):
    _, cache = m.gru_step_forward(*_rnn_step_args(c))
    return _watch(cache, lambda: m.gru_step_backward(c["dnext_h"], cache), _STEP_GRADS)


def gru_forward(m, c, p):
    h, _ = m.gru_forward(*_seq_args(c))
    return {"h": h}


def gru_backward(m, c, p):
    _, cache = m.gru_forward(*_seq_args(c))
    dx, dh0, dWx, dWh, db = m.gru_backward(c["dh"], cache)
    return {"x": dx, "h0": dh0, "Wx": dWx, "Wh": dWh, "b": db}


def gru_backward_unchanged(m, c, p):
    _, cache = m.gru_forward(*_seq_args(c))
    return _watch(cache, lambda: m.gru_backward(c["dh"], cache), _SEQ_GRADS)


# --- temporal affine and loss ----------------------------------------------------------------

def temporal_affine_forward(m, c, p):
    out, _ = m.temporal_affine_forward(c["x"], c["w"], c["b"])
    return {"out": out}


def temporal_affine_backward(m, c, p):
    _, cache = m.temporal_affine_forward(c["x"], c["w"], c["b"])
    dx, dw, db = m.temporal_affine_backward(c["dout"], cache)
    return {"x": dx, "w": dw, "b": db}


def temporal_softmax_loss(m, c, p):
    loss, dx = m.temporal_softmax_loss(c["x"], c["y"], c["mask"])
    return {"loss": loss, "dx": dx}


def temporal_softmax_loss_value(m, c, p):
    loss, _ = m.temporal_softmax_loss(c["x"], c["y"], c["mask"])
    return {"loss": loss}


def temporal_softmax_loss_grad(m, c, p):
    _, dx = m.temporal_softmax_loss(c["x"], c["y"], c["mask"])
    return {"x": dx}


# --- gradient clipping -----------------------------------------------------------------------

def _grads(c):
    return {k[2:]: c[k] for k in sorted(c) if k.startswith("g_")}


def clip_grad_norm(m, c, p):
    clipped, total = m.clip_grad_norm(_grads(c), float(c["max_norm"]))
    out = {"total_norm": total}
    for name in _grads(c):
        out[f"clipped_{name}"] = clipped[name]
    return out


def clip_grad_norm_unchanged(m, c, p):
    grads = _grads(c)
    before = {name: arr.copy() for name, arr in grads.items()}
    clipped, total = m.clip_grad_norm(grads, float(c["max_norm"]))
    out = {"total_norm": total}
    out.update({f"clipped_{name}": clipped[name] for name in before})
    for name, arr in before.items():
        out[f"grads[{name!r}].before"] = arr
        out[f"grads[{name!r}].after"] = grads.get(name, np.full(1, np.nan))
    return out


# --- CaptioningRNN ---------------------------------------------------------------------------

def _model(m, c, p, dtype=np.float64):
    V = p["V"]
    word_to_idx = {"<NULL>": 0, "<START>": 1, "<END>": 2}
    word_to_idx.update({f"w{i}": i for i in range(3, V)})
    model = m.CaptioningRNN(word_to_idx, input_dim=p["D"], wordvec_dim=p["W"], hidden_dim=p["H"],
                            cell_type=p["cell"], dtype=dtype)
    for name in PARAM_NAMES:
        model.params[name] = c[name].astype(dtype)
    return model


def caption_loss_value(m, c, p):
    loss, _ = _model(m, c, p).loss(c["features"], c["captions"])
    return {"loss": loss}


def caption_grads(m, c, p):
    _, grads = _model(m, c, p).loss(c["features"], c["captions"])
    return {name: grads[name] for name in PARAM_NAMES}


def caption_sample(m, c, p):
    model = _model(m, c, p)
    return {"captions": model.sample(c["features"], max_length=p["max_length"])}


def caption_overfit(m, c, p):
    """Adam on the student's loss and gradients, from the case's weights, on the same tiny set at
    every step: the loss before each of the `steps` updates and after the last (steps + 1 values),
    compared step by step with the reference's."""
    model = _model(m, c, p)
    state = {name: (np.zeros_like(w), np.zeros_like(w)) for name, w in model.params.items()}
    beta1, beta2, eps, lr = 0.9, 0.999, 1e-8, p["lr"]
    losses = []
    for step in range(1, p["steps"] + 1):
        loss, grads = model.loss(c["features"], c["captions"])
        losses.append(float(loss))
        for name, w in model.params.items():
            g = np.asarray(grads[name], dtype=w.dtype)
            m1, m2 = state[name]
            m1 = beta1 * m1 + (1 - beta1) * g
            m2 = beta2 * m2 + (1 - beta2) * g * g
            state[name] = (m1, m2)
            step_size = lr * np.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
            model.params[name] = w - step_size * m1 / (np.sqrt(m2) + eps)
    final, _ = model.loss(c["features"], c["captions"])
    losses.append(float(final))
    return {"losses": np.asarray(losses, dtype=np.float64)}
