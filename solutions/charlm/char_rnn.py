"""Assignment `charlm` (numpy): a character-level language model with a stacked vanilla RNN,
truncated backpropagation through time (TBPTT), gradient clipping and sampling.

Shapes: N streams (batch rows), T steps per chunk, V vocabulary size, E embedding size,
H hidden size, L layers. Integer arrays are int64. Every backward pass is written by hand;
numpy only. No function modifies its inputs, except `train_epoch`, which updates `params` in
place. Invalid arguments raise ValueError with a message naming the argument and its value.
The complete contract is CONTRACT.md.
"""

import numpy as np

__all__ = ["build_vocab", "encode", "decode", "init_params", "batchify", "get_chunk", "num_chunks",
           "stacked_rnn_forward", "stacked_rnn_backward", "softmax_cross_entropy", "lm_loss",
           "clip_by_global_norm", "train_epoch", "temperature_probs", "top_k_probs", "draw", "sample"]


# --- given: vocabulary, encoding and initialisation (not graded) ------------------------------

def build_vocab(text):
    """The sorted distinct characters of `text`, as one str (index i is character chars[i])."""
    return "".join(sorted(set(text)))


def encode(text, chars):
    """`text` as an int64 array of indices into `chars`."""
    index = {ch: i for i, ch in enumerate(chars)}
    return np.array([index[ch] for ch in text], dtype=np.int64)


def decode(indices, chars):
    """The characters of `indices` (any shape, read in order) as one str."""
    return "".join(chars[int(i)] for i in np.asarray(indices).ravel())


def init_params(V, E, H, L, seed=0):
    """A parameter dict for a vocabulary of V characters, embeddings of size E and L layers of
    H units: W_embed ~ N(0, 0.1^2), Wx{l} and Wh{l} ~ N(0, 1/fan_in), biases zero."""
    rng = np.random.default_rng(seed)
    params = {"W_embed": 0.1 * rng.standard_normal((V, E))}
    for l in range(L):
        D = E if l == 0 else H
        params[f"Wx{l}"] = rng.standard_normal((D, H)) / np.sqrt(D)
        params[f"Wh{l}"] = rng.standard_normal((H, H)) / np.sqrt(H)
        params[f"b{l}"] = np.zeros(H)
    params["W_out"] = rng.standard_normal((H, V)) / np.sqrt(H)
    params["b_out"] = np.zeros(V)
    return params


def _check_int(name, value, low):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


# --- data: contiguous streams and chunks ------------------------------------------------------

def batchify(data, N):
    """Cut a 1-D sequence of character indices into N contiguous streams.

    Args:
        data: int array (M_total,).
        N: number of streams, an integer >= 1.

    Returns:
        streams: int64 array (N, M) with M = M_total // N; row n is data[n*M:(n+1)*M], a
        contiguous piece of the text; the last M_total - N*M entries are dropped.

    Raises ValueError when N < 1 or when M < 2 (a stream needs an input and a target).

    Pitfall: `data[:N*M].reshape(M, N).T` interleaves the streams (row 0 would read every N-th
    character); each row must be a contiguous run of the text.
    """
    # BEGIN SOLUTION
    N = _check_int("N", N, 1)
    data = np.asarray(data)
    M = data.shape[0] // N
    if M < 2:
        raise ValueError(f"batchify: data of length {data.shape[0]} gives M = {M} characters per stream "
                         f"with N = {N}; M must be at least 2: use fewer streams or more data")
    return data[:N * M].reshape(N, M).astype(np.int64)
    # END SOLUTION


def get_chunk(streams, k, T):
    """Chunk k of the streams: inputs and the characters that follow them.

    Args:
        streams: int array (N, M).
        k: chunk index, an integer >= 0 with k*T < M - 1.
        T: chunk length, an integer >= 1.

    Returns:
        (inputs, targets), each int64 (N, T') with T' = min(T, M - 1 - k*T):
        inputs = streams[:, k*T : k*T+T'], targets = streams[:, k*T+1 : k*T+1+T'].
        The last chunk may be shorter than T. Both are new arrays.

    Raises ValueError when k < 0, T < 1 or k*T >= M - 1 (no such chunk).

    Pitfall: the targets are the inputs shifted by one position, not the inputs themselves.
    """
    # BEGIN SOLUTION
    k = _check_int("k", k, 0)
    T = _check_int("T", T, 1)
    M = streams.shape[1]
    start = k * T
    if start >= M - 1:
        raise ValueError(f"k = {k} is past the last chunk: k*T = {start} >= M - 1 = {M - 1}")
    width = min(T, M - 1 - start)
    inputs = streams[:, start:start + width].astype(np.int64)
    targets = streams[:, start + 1:start + 1 + width].astype(np.int64)
    return inputs, targets
    # END SOLUTION


def num_chunks(M, T):
    """The number of chunks of streams of length M, ceil((M - 1) / T) (an int).

    Raises ValueError when M < 2 or T < 1.
    """
    # BEGIN SOLUTION
    M = _check_int("M", M, 2)
    T = _check_int("T", T, 1)
    return -(-(M - 1) // T)
    # END SOLUTION


# --- the stacked RNN ------------------------------------------------------------------------

def stacked_rnn_forward(x, h0, params):
    """Run L vanilla RNN layers over a sequence.

    Args:
        x: (N, T, E) inputs of layer 0.
        h0: (L, N, H) initial state of each layer; L is read from h0.shape[0].
        params: dict with Wx{l} ((E if l == 0 else H), H), Wh{l} (H, H), b{l} (H,).

    Returns:
        h: (N, T, H) the outputs of the top layer at every step.
        hT: (L, N, H) each layer's state after the last step (a new array).
        cache: whatever your backward needs (not graded; it must not be modified by backward).

    Layer l at step t: h_t = tanh(in_t @ Wx{l} + h_{t-1} @ Wh{l} + b{l}), with in_t = x[:, t]
    for layer 0 and the output of layer l - 1 at step t for the others.

    Pitfall: only layer 0 reads x; every other layer reads the sequence below it.
    """
    # BEGIN SOLUTION
    L = h0.shape[0]
    inp, caches = x, []
    hT = np.empty_like(h0)
    for l in range(L):
        Wx, Wh, b = params[f"Wx{l}"], params[f"Wh{l}"], params[f"b{l}"]
        N, T, _ = inp.shape
        hs = np.empty((N, T, Wh.shape[0]), dtype=np.result_type(inp, h0, Wx))
        prev = h0[l]
        for t in range(T):
            prev = np.tanh(inp[:, t] @ Wx + prev @ Wh + b)
            hs[:, t] = prev
        caches.append((inp, h0[l].copy(), hs, Wx, Wh))
        hT[l] = prev
        inp = hs
    return inp, hT, caches
    # END SOLUTION


def stacked_rnn_backward(dh, dhT, cache):
    """Backward pass of stacked_rnn_forward.

    Args:
        dh: (N, T, H) gradient of the loss with respect to the top layer's outputs h.
        dhT: (L, N, H) gradient with respect to hT (each layer's last state).
        cache: from stacked_rnn_forward.

    Returns:
        dx: (N, T, E), dh0: (L, N, H), grads: dict with Wx{l}, Wh{l}, b{l} for every layer.

    Pitfalls: dhT[l] enters layer l at its last step, on top of what comes from above; the
    gradient reaching layer l's outputs is the dx of layer l + 1 (plus dh for the top layer).
    """
    # BEGIN SOLUTION
    L = len(cache)
    grads, dout = {}, dh
    dh0 = np.empty_like(dhT)
    for l in reversed(range(L)):
        inp, h_first, hs, Wx, Wh = cache[l]
        T = hs.shape[1]
        dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[0], dtype=Wh.dtype)
        din = np.empty_like(inp)
        dnext = dhT[l].copy()
        for t in reversed(range(T)):
            da = (dout[:, t] + dnext) * (1.0 - hs[:, t] ** 2)
            prev = hs[:, t - 1] if t > 0 else h_first
            dWx += inp[:, t].T @ da
            dWh += prev.T @ da
            db += da.sum(axis=0)
            din[:, t] = da @ Wx.T
            dnext = da @ Wh.T
        dh0[l] = dnext
        grads[f"Wx{l}"], grads[f"Wh{l}"], grads[f"b{l}"] = dWx, dWh, db
        dout = din
    return dout, dh0, grads
    # END SOLUTION


# --- loss -------------------------------------------------------------------------------------

def softmax_cross_entropy(logits, targets):
    """Mean cross-entropy over all N*T positions and its gradient.

    Args:
        logits: (N, T, V) scores.
        targets: int (N, T) the right character at each position.

    Returns:
        loss: a Python float, the mean over the N*T positions of -log softmax(logits)[target].
        dlogits: (N, T, V) the gradient of loss.

    Pitfall: logits of magnitude 1e4 overflow exp; subtract each row's maximum first (the
    softmax does not change). The mean is over N*T positions, not a sum, not over N only.
    """
    # BEGIN SOLUTION
    N, T, V = logits.shape
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    count = N * T
    idx = targets[..., None]
    loss = float(-np.take_along_axis(log_probs, idx, axis=-1).sum() / count)
    dlogits = np.exp(log_probs)
    np.put_along_axis(dlogits, idx, np.take_along_axis(dlogits, idx, axis=-1) - 1.0, axis=-1)
    dlogits /= count
    return loss, dlogits
    # END SOLUTION


def lm_loss(params, inputs, targets, h0):
    """Loss and gradients of the whole model on one chunk.

    Args:
        params: the parameter dict (W_embed, Wx{l}, Wh{l}, b{l}, W_out, b_out).
        inputs, targets: int (N, T).
        h0: (L, N, H) the state carried in from the previous chunk.

    Returns:
        loss: a float, softmax_cross_entropy of scores = h @ W_out + b_out where h is the top
        layer's output of stacked_rnn_forward(W_embed[inputs], h0, params).
        grads: a dict with the same keys and shapes as params.
        hT: (L, N, H) the last states (a new array), to carry into the next chunk.

    The backward runs with dhT = 0: truncated BPTT lets no gradient into the previous chunk.
    Pitfall: a character that occurs several times in inputs adds its gradient to the same
    row of W_embed each time (np.add.at), never overwrites it.
    """
    # BEGIN SOLUTION
    x = params["W_embed"][inputs]
    h, hT, cache = stacked_rnn_forward(x, h0, params)
    scores = h @ params["W_out"] + params["b_out"]
    loss, dscores = softmax_cross_entropy(scores, targets)
    grads = {"W_out": np.einsum("nth,ntv->hv", h, dscores), "b_out": dscores.sum(axis=(0, 1))}
    dh = dscores @ params["W_out"].T
    dx, _, rnn_grads = stacked_rnn_backward(dh, np.zeros_like(hT), cache)
    grads.update(rnn_grads)
    dW_embed = np.zeros_like(params["W_embed"])
    np.add.at(dW_embed, inputs, dx)
    grads["W_embed"] = dW_embed
    return loss, grads, hT
    # END SOLUTION


def clip_by_global_norm(grads, max_norm):
    """Scale every gradient by max_norm / total_norm when the global norm exceeds max_norm.

    Args:
        grads: dict of arrays.
        max_norm: a positive number.

    Returns:
        (clipped, total_norm): clipped is a dict of new arrays (copies even when nothing is
        clipped); total_norm is the float sqrt of the sum of squares of every entry of every
        array, before clipping. The scale is max_norm / (total_norm + 1e-6), applied only when
        total_norm > max_norm.

    Pitfall: one norm over all arrays together, not one norm per array.
    """
    # BEGIN SOLUTION
    total = float(np.sqrt(sum(float(np.sum(g * g)) for g in grads.values())))
    scale = max_norm / (total + 1e-6) if total > max_norm else 1.0
    return {key: g * scale for key, g in grads.items()}, total
    # END SOLUTION


def train_epoch(params, streams, T, lr, max_norm):
    """One epoch of truncated BPTT with plain gradient descent.

    Args:
        params: the parameter dict, updated in place (params[key] -= lr * clipped[key]).
        streams: int (N, M) from batchify.
        T: chunk length; lr: learning rate; max_norm: the clipping threshold.

    Returns:
        losses: float64 (num_chunks(M, T),) the loss of each chunk, before its update.
        hT: (L, N, H) the state after the last chunk.

    h starts at zeros (L, N, H), with L and H read from the Wh{l} keys; each chunk k in order:
    loss, grads, h = lm_loss(params, inputs_k, targets_k, h); clip; update every key.

    Pitfall: carry h from one chunk to the next (never reset it to zeros between chunks) and
    update the caller's arrays in place (params[key] -= ..., not params[key] = ...).
    """
    # BEGIN SOLUTION
    L = sum(1 for key in params if key.startswith("Wh"))
    H = params["Wh0"].shape[0]
    N, M = streams.shape
    h = np.zeros((L, N, H), dtype=params["Wh0"].dtype)
    losses = []
    for k in range(num_chunks(M, T)):
        inputs, targets = get_chunk(streams, k, T)
        loss, grads, h = lm_loss(params, inputs, targets, h)
        clipped, _ = clip_by_global_norm(grads, max_norm)
        for key in params:
            params[key] -= lr * clipped[key]
        losses.append(loss)
    return np.asarray(losses, dtype=np.float64), h
    # END SOLUTION


# --- sampling ---------------------------------------------------------------------------------

def temperature_probs(logits, temperature):
    """softmax(logits / temperature) over the last axis.

    Args:
        logits: (..., V); temperature: a number > 0 (ValueError otherwise).

    Returns:
        probs (..., V), each row summing to 1; finite for large logits and small temperatures.

    Pitfall: divide the logits by the temperature before the softmax (and shift by the max),
    not the probabilities after it.
    """
    # BEGIN SOLUTION
    if not isinstance(temperature, (int, float, np.floating, np.integer)) or not temperature > 0:
        raise ValueError(f"temperature must be a number > 0, got {temperature!r}")
    scaled = logits / temperature
    scaled = scaled - scaled.max(axis=-1, keepdims=True)
    e = np.exp(scaled)
    return e / e.sum(axis=-1, keepdims=True)
    # END SOLUTION


def top_k_probs(logits, k, temperature=1.0):
    """Keep the k largest logits of each row; the rest get probability exactly 0.

    Args:
        logits: (..., V); k: an integer, 1 <= k <= V (ValueError otherwise, also for None);
        temperature: as in temperature_probs.

    Returns:
        probs (..., V): the temperature softmax restricted to the k largest logits of the row,
        renormalised to sum to 1.

    Pitfall: k entries, not k + 1 (mind an off-by-one in the threshold index).
    """
    # BEGIN SOLUTION
    V = logits.shape[-1]
    if k is None or isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or not 1 <= k <= V:
        raise ValueError(f"k must be an integer with 1 <= k <= V = {V}, got {k!r}")
    kth = np.sort(logits, axis=-1)[..., V - k][..., None]
    masked = np.where(logits >= kth, logits, -np.inf)
    return temperature_probs(masked, temperature)
    # END SOLUTION


def draw(probs, u):
    """Inverse-CDF sampling: one index per row.

    Args:
        probs: (N, V) rows summing to 1; u: (N,) numbers in [0, 1).

    Returns:
        int64 (N,): for each row, the smallest i with cumsum(probs)[i] > u; when rounding leaves
        no such i, the last index with a nonzero probability.

    Pitfall: strictly greater: with u exactly on a cumulative boundary, `>=` picks the index
    before it, which may even have probability 0.
    """
    # BEGIN SOLUTION
    cdf = np.cumsum(probs, axis=-1)
    above = cdf > u[:, None]
    last = probs.shape[-1] - 1 - np.argmax(probs[:, ::-1] > 0, axis=-1)
    return np.where(above.any(axis=-1), np.argmax(above, axis=-1), last).astype(np.int64)
    # END SOLUTION


def sample(params, h0, first, n, rng, strategy="greedy", temperature=1.0, k=None):
    """Generate n characters per stream, feeding each choice back in.

    Args:
        params: the parameter dict; h0: (L, N, H) initial states; first: int (N,) the first
        character of each stream; n: an integer >= 1; rng: a numpy Generator;
        strategy: "greedy", "temperature" or "top_k" (ValueError otherwise);
        temperature, k: for temperature_probs / top_k_probs.

    Returns:
        int64 (N, n): out[:, 0] is the character chosen after reading `first` (first itself is
        not in the output); out[:, i] is chosen after reading out[:, i - 1].

    Greedy takes the argmax of the scores and never touches rng. The other strategies make
    exactly one call u = rng.random(N) per step and take draw(probs, u); nothing else draws
    from rng (a different number of calls gives different characters).
    """
    # BEGIN SOLUTION
    if strategy not in ("greedy", "temperature", "top_k"):
        raise ValueError(f"strategy must be 'greedy', 'temperature' or 'top_k', got {strategy!r}")
    n = _check_int("n", n, 1)
    if strategy == "top_k":
        top_k_probs(np.zeros(params["b_out"].shape), k)
    h = h0
    current = np.asarray(first, dtype=np.int64)
    out = np.empty((current.shape[0], n), dtype=np.int64)
    for i in range(n):
        top, h, _ = stacked_rnn_forward(params["W_embed"][current][:, None], h, params)
        scores = top[:, 0] @ params["W_out"] + params["b_out"]
        if strategy == "greedy":
            current = np.argmax(scores, axis=-1)
        else:
            if strategy == "temperature":
                probs = temperature_probs(scores, temperature)
            else:
                probs = top_k_probs(scores, k, temperature)
            current = draw(probs, rng.random(current.shape[0]))
        out[:, i] = current
    return out
    # END SOLUTION
