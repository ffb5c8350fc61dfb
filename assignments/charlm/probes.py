"""Python probes for `charlm`: the calls that need a parameter dict, a loop or a counting
Generator. Run in the sandboxed child; each returns plain arrays by name."""

import numpy as np

from autograder.kit import prefixed, watch


def _keys(c):
    return [k for k in c if k in ("W_embed", "W_out", "b_out") or k[:2] in ("Wx", "Wh") or
            (k[0] == "b" and k[1:].isdigit())]


def _params(c):
    return {k: c[k] for k in _keys(c)}


def rnn_forward(m, c, p):
    h, hT, _ = m.stacked_rnn_forward(c["x"], c["h0"], _params(c))
    return {"h": h, "hT": hT}


def rnn_backward(m, c, p):
    params = _params(c)
    _, _, cache = m.stacked_rnn_forward(c["x"], c["h0"], params)
    dx, dh0, grads = m.stacked_rnn_backward(c["dh"], c["dhT"], cache)
    return {"x": dx, "h0": dh0, **{k: grads[k] for k in params}}


def rnn_unchanged(m, c, p):
    params = _params(c)
    (h, hT, cache), seen = watch(lambda: m.stacked_rnn_forward(c["x"], c["h0"], params),
                                 x=c["x"], h0=c["h0"], params=params)
    (dx, dh0, _), seen2 = watch(lambda: m.stacked_rnn_backward(c["dh"], c["dhT"], cache),
                                dh=c["dh"], dhT=c["dhT"], cache=cache)
    return {"h": h, "dx": dx, **seen, **seen2}


def lm_loss(m, c, p):
    params = _params(c)
    (loss, grads, hT), seen = watch(lambda: m.lm_loss(params, c["inputs"], c["targets"], c["h0"]),
                                    params=params, h0=c["h0"])
    return {"loss": loss, "hT": hT, **{k: grads[k] for k in params}, **seen}


def lm_loss_value(m, c, p):
    return {"loss": m.lm_loss(_params(c), c["inputs"], c["targets"], c["h0"])[0]}


def lm_loss_grads(m, c, p):
    _, grads, _ = m.lm_loss(_params(c), c["inputs"], c["targets"], c["h0"])
    return {k: grads[k] for k in _keys(c)}


def clip(m, c, p):
    grads = prefixed(c, "g_")
    (clipped, total), seen = watch(lambda: m.clip_by_global_norm(grads, float(c["max_norm"])), grads=grads)
    return {"total_norm": total, **{f"clipped_{k}": clipped[k] for k in grads}, **seen}


def epoch(m, c, p):
    params = _params(c)
    losses, hT = m.train_epoch(params, c["streams"], p["T"], p["lr"], p["max_norm"])
    return {"losses": losses, "hT": hT, **{f"final_{k}": v for k, v in params.items()}}


def draw_many(m, c, p):
    probs, u = c["probs"], c["u_many"]
    return {"samples": np.stack([m.draw(np.repeat(probs[r:r + 1], u.shape[1], axis=0), u[r])
                                 for r in range(len(probs))])}


class _Counting:
    """A Generator that counts its calls (only rng.random(N) is part of the contract)."""

    def __init__(self, seed):
        self._rng, self.calls = np.random.default_rng(seed), 0

    def random(self, *args, **kwargs):
        self.calls += 1
        return self._rng.random(*args, **kwargs)

    def __getattr__(self, name):
        self.calls += 1000
        return getattr(self._rng, name)


def sample(m, c, p):
    rng = _Counting(p.get("seed", 0))
    out = m.sample(_params(c), c["h0"], c["first"], p["n"], rng, p.get("strategy", "greedy"),
                   p.get("temperature", 1.0), p.get("k"))
    return {"chars": out, "calls": np.int64(rng.calls)}


def sonnets(m, c, p):
    import train_lm

    settings = {k: p[k] for k in ("epochs", "N", "T", "E", "H", "L", "lr", "max_norm", "seed")}
    history, params, _ = train_lm.train(m, train_lm.load_text(), **settings)
    return {"losses": history, **{f"final_{k}": v for k, v in params.items()}}


_INVALID = {  # function -> (argument the message must name, call with that argument invalid)
    "batchify": [("N", lambda m, c: m.batchify(c["data"], 0)), ("N", lambda m, c: m.batchify(c["data"][:3], 2))],
    "get_chunk": [("k", lambda m, c: m.get_chunk(c["streams"], -1, 2)), ("T", lambda m, c: m.get_chunk(c["streams"], 0, 0)),
                  ("k", lambda m, c: m.get_chunk(c["streams"], 3, 2))],
    "num_chunks": [("M", lambda m, c: m.num_chunks(1, 2)), ("T", lambda m, c: m.num_chunks(5, 0))],
    "temperature_probs": [("temperature", lambda m, c: m.temperature_probs(c["logits"], 0.0)),
                          ("temperature", lambda m, c: m.temperature_probs(c["logits"], -1.0))],
    "top_k_probs": [("k", lambda m, c, k=k: m.top_k_probs(c["logits"], c["logits"].shape[-1] + 1 if k == "V+1" else k)) for k in (0, "V+1", None, 1.5)],
    "sample": [("strategy", lambda m, c: m.sample(_params(c), c["h0"], c["first"], 3, np.random.default_rng(0), "beam")),
               ("n", lambda m, c: m.sample(_params(c), c["h0"], c["first"], 0, np.random.default_rng(0))),
               ("k", lambda m, c: m.sample(_params(c), c["h0"], c["first"], 3, np.random.default_rng(0), "top_k"))],
}


def invalid(m, c, p):
    """For each invalid call: 1 when it raised ValueError, and 1 when its message names the argument."""
    raised, named = [], []
    for name, call in _INVALID[p["fn"]]:
        try:
            call(m, c)
            raised.append(0), named.append(0)
        except ValueError as error:
            raised.append(1), named.append(int(name in str(error)))
    return {"raised": np.array(raised), "named": np.array(named)}


def rnn_float32(m, c, p):
    """1 for each of h, hT (and dx of the backward) that stays float32 on float32 inputs."""
    c32 = {k: v.astype(np.float32) for k, v in c.items()}
    h, hT, cache = m.stacked_rnn_forward(c32["x"], c32["h0"], _params(c32))
    dx, dh0, _ = m.stacked_rnn_backward(c32["dh"], c32["dhT"], cache)
    return {"float32": np.array([np.asarray(a).dtype == np.float32 for a in (h, hT, dx, dh0)], dtype=np.int64)}
