"""Recurrent layers for sequences in numpy, each forward with its hand-written backward."""

import numpy as np

__all__ = [
    "rnn_step_forward",
    "rnn_step_backward",
    "rnn_forward",
    "rnn_backward",
    "word_embedding_forward",
    "word_embedding_backward",
    "sigmoid",
    "lstm_step_forward",
    "lstm_step_backward",
    "lstm_forward",
    "lstm_backward",
    "gru_step_forward",
    "gru_step_backward",
    "gru_forward",
    "gru_backward",
    "temporal_affine_forward",
    "temporal_affine_backward",
    "temporal_softmax_loss",
    "clip_grad_norm",
]

# Shapes used throughout: N batch size, T sequence length, D input size, H hidden size,
# V vocabulary size, M output size. Every array keeps the dtype it was given: do not
# convert float32 inputs to float64 or the other way round.


# ---------------------------------------------------------------------------------------
# Vanilla RNN
# ---------------------------------------------------------------------------------------

def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """One time step of a vanilla tanh RNN.

    Computes
        next_h = tanh(x @ Wx + prev_h @ Wh + b)

    Args:
        x: input at this step, shape (N, D).
        prev_h: hidden state from the previous step, shape (N, H).
        Wx: input-to-hidden weights, shape (D, H).
        Wh: hidden-to-hidden weights, shape (H, H).
        b: bias, shape (H,).

    Returns:
        next_h: new hidden state, shape (N, H).
        cache: anything rnn_step_backward needs (a tuple is fine), for instance the
            inputs and next_h. tanh'(a) = 1 - tanh(a)**2, so keeping next_h saves
            recomputing the tanh in the backward pass.
    """
    # BEGIN SOLUTION
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)  # (N, H)
    cache = (x, prev_h, Wx, Wh, next_h)
    return next_h, cache
    # END SOLUTION


def rnn_step_backward(dnext_h, cache):
    """Backward pass of rnn_step_forward.

    With a = x @ Wx + prev_h @ Wh + b and next_h = tanh(a), the chain rule gives
        da = dnext_h * (1 - next_h**2)
        dx = da @ Wx.T,  dprev_h = da @ Wh.T,  dWx = x.T @ da,  dWh = prev_h.T @ da,
        db = sum of da over the batch.

    Args:
        dnext_h: upstream gradient of the loss with respect to next_h, shape (N, H).
        cache: the cache returned by rnn_step_forward.

    Returns:
        dx (N, D), dprev_h (N, H), dWx (D, H), dWh (H, H), db (H,): gradients of the
        loss with respect to each input of rnn_step_forward.

    Do not modify dnext_h or anything in the cache in place.
    """
    # BEGIN SOLUTION
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h**2)  # (N, H) through the tanh
    dx = da @ Wx.T                  # (N, D)
    dprev_h = da @ Wh.T             # (N, H)
    dWx = x.T @ da                  # (D, H)
    dWh = prev_h.T @ da             # (H, H)
    db = da.sum(axis=0)             # (H,)
    return dx, dprev_h, dWx, dWh, db
    # END SOLUTION


def rnn_forward(x, h0, Wx, Wh, b):
    """Run a vanilla RNN over a whole sequence.

    Starting from h_{-1} = h0, for t = 0 .. T-1:
        h_t = tanh(x[:, t] @ Wx + h_{t-1} @ Wh + b)
    The same weights are used at every step. Use rnn_step_forward in a loop over time.

    Args:
        x: input sequence, shape (N, T, D).
        h0: initial hidden state, shape (N, H).
        Wx: input-to-hidden weights, shape (D, H).
        Wh: hidden-to-hidden weights, shape (H, H).
        b: bias, shape (H,).

    Returns:
        h: hidden states of every step, shape (N, T, H) (h0 itself is not included).
        cache: anything rnn_backward needs, for instance the weights and the list of
            the per-step caches.
    """
    # BEGIN SOLUTION
    T = x.shape[1]
    hs, steps = [], []
    prev_h = h0
    for t in range(T):
        prev_h, step_cache = rnn_step_forward(x[:, t], prev_h, Wx, Wh, b)  # (N, H)
        hs.append(prev_h)
        steps.append(step_cache)
    h = np.stack(hs, axis=1)  # (N, T, H)
    return h, (Wx, Wh, b, steps)
    # END SOLUTION


def rnn_backward(dh, cache):
    """Backward pass of rnn_forward (backpropagation through time).

    dh[:, t] is the gradient that reaches h_t from outside the RNN (for example from the
    output layer). h_t also feeds step t+1, so the total gradient of h_t is
        dh[:, t] + (gradient flowing back from step t+1).
    Walk the steps from t = T-1 down to 0 with rnn_step_backward. The weights are shared
    by all steps, so their gradients are the sums of the per-step gradients.

    Args:
        dh: upstream gradients of all hidden states, shape (N, T, H).
        cache: the cache returned by rnn_forward.

    Returns:
        dx (N, T, D), dh0 (N, H), dWx (D, H), dWh (H, H), db (H,).

    Do not modify dh or the cache in place (note that dh[:, t] is a view into dh, so
    "dh[:, t] += ..." would change the caller's array).
    """
    # BEGIN SOLUTION
    Wx, Wh, b, steps = cache
    T = dh.shape[1]
    dxs = [None] * T
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dprev_h = np.zeros_like(dh[:, 0])  # (N, H) nothing flows in after the last step
    for t in reversed(range(T)):
        dx_t, dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dprev_h, steps[t])
        dxs[t] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    dx = np.stack(dxs, axis=1)  # (N, T, D)
    return dx, dprev_h, dWx, dWh, db
    # END SOLUTION


# ---------------------------------------------------------------------------------------
# Word embeddings
# ---------------------------------------------------------------------------------------

def word_embedding_forward(x, W):
    """Look up the embedding vector of every word index.

    out[n, t] = W[x[n, t]]

    Args:
        x: integer word indices in [0, V), shape (N, T).
        W: embedding matrix, one row per word, shape (V, D).

    Returns:
        out: embedded words, shape (N, T, D).
        cache: anything word_embedding_backward needs (the indices and W's shape).
    """
    # BEGIN SOLUTION
    out = W[x]  # (N, T, D)
    return out, (x, W.shape)
    # END SOLUTION


def word_embedding_backward(dout, cache):
    """Backward pass of word_embedding_forward.

    Row v of dW is the sum of dout[n, t] over every position (n, t) with x[n, t] == v;
    rows of words that do not occur are zero. There is no gradient for the integer
    indices x.

    Args:
        dout: upstream gradient, shape (N, T, D).
        cache: the cache returned by word_embedding_forward.

    Returns:
        dW: gradient with respect to the embedding matrix, shape (V, D).

    Pitfall: the same word usually occurs more than once, and repeated indices must
    accumulate. "dW[x] += dout" silently keeps only one of the contributions of a
    repeated index; look for numpy's unbuffered in-place addition.
    """
    # BEGIN SOLUTION
    x, W_shape = cache
    dW = np.zeros(W_shape, dtype=dout.dtype)  # (V, D)
    np.add.at(dW, x, dout)
    return dW
    # END SOLUTION


# ---------------------------------------------------------------------------------------
# LSTM
# ---------------------------------------------------------------------------------------

def sigmoid(x):
    """Numerically stable logistic function, elementwise: 1 / (1 + exp(-x)).

    Args:
        x: array of any shape (or a scalar).

    Returns:
        Array of the same shape and floating dtype, with values in [0, 1].

    Pitfall: for x = -1000, exp(-x) overflows. Never exponentiate a large positive
    number: with e = exp(-|x|), which lies in (0, 1], sigmoid is 1 / (1 + e) where
    x >= 0 and e / (1 + e) where x < 0. The result must not raise or warn for
    x = +-1000, and must keep float32 inputs in float32.
    """
    # BEGIN SOLUTION
    x = np.asarray(x)
    with np.errstate(under="ignore"):  # exp(-1000) rounding to 0 is the right answer
        e = np.exp(-np.abs(x))         # in [0, 1], cannot overflow
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    # END SOLUTION


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    """One time step of an LSTM.

    The pre-activation a = x @ Wx + prev_h @ Wh + b, of shape (N, 4H), is split into four
    blocks of H columns, in this order: input gate, forget gate, output gate, candidate:
        i = sigmoid(a[:, 0:H])      f = sigmoid(a[:, H:2H])
        o = sigmoid(a[:, 2H:3H])    g = tanh(a[:, 3H:4H])
        next_c = f * prev_c + i * g
        next_h = o * tanh(next_c)

    Args:
        x: input at this step, shape (N, D).
        prev_h: previous hidden state, shape (N, H).
        prev_c: previous cell state, shape (N, H).
        Wx: input-to-gates weights, shape (D, 4H).
        Wh: hidden-to-gates weights, shape (H, 4H).
        b: gate biases, shape (4H,).

    Returns:
        next_h: new hidden state, shape (N, H).
        next_c: new cell state, shape (N, H).
        cache: anything lstm_step_backward needs, for instance the inputs, the four gate
            activations and tanh(next_c).

    Pitfall: the gate order i, f, o, g is part of the interface; weights laid out in
    another order give different results.
    """
    # BEGIN SOLUTION
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b  # (N, 4H)
    i = sigmoid(a[:, 0 * H:1 * H])
    f = sigmoid(a[:, 1 * H:2 * H])
    o = sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:4 * H])
    next_c = f * prev_c + i * g  # (N, H)
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c          # (N, H)
    cache = (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c)
    return next_h, next_c, cache
    # END SOLUTION


def lstm_step_backward(dnext_h, dnext_c, cache):
    """Backward pass of lstm_step_forward.

    next_c gets gradient both directly (dnext_c, from the next step) and through
    next_h = o * tanh(next_c); add the two. Then go back through the gates, using
    sigmoid'(a) = s * (1 - s) and tanh'(a) = 1 - t**2 written with the saved activations,
    join the four gate gradients in the order i, f, o, g into da of shape (N, 4H), and
    finish as for an affine layer.

    Args:
        dnext_h: upstream gradient of next_h, shape (N, H).
        dnext_c: upstream gradient of next_c, shape (N, H).
        cache: the cache returned by lstm_step_forward.

    Returns:
        dx (N, D), dprev_h (N, H), dprev_c (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).

    Do not modify the upstream gradients or the cache in place.
    """
    # BEGIN SOLUTION
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c = cache
    dc = dnext_c + dnext_h * o * (1 - tanh_c**2)  # (N, H) both paths into next_c
    di = dc * g
    df = dc * prev_c
    do = dnext_h * tanh_c
    dg = dc * i
    dprev_c = dc * f
    da = np.concatenate([di * i * (1 - i),  # (N, 4H) back through the nonlinearities
                         df * f * (1 - f),
                         do * o * (1 - o),
                         dg * (1 - g**2)], axis=1)
    dx = da @ Wx.T       # (N, D)
    dprev_h = da @ Wh.T  # (N, H)
    dWx = x.T @ da       # (D, 4H)
    dWh = prev_h.T @ da  # (H, 4H)
    db = da.sum(axis=0)  # (4H,)
    return dx, dprev_h, dprev_c, dWx, dWh, db
    # END SOLUTION


def lstm_forward(x, h0, Wx, Wh, b):
    """Run an LSTM over a whole sequence.

    The initial hidden state is h0 and the initial cell state is zero. At each step
    t = 0 .. T-1 apply lstm_step_forward to x[:, t] with the same weights. Only the
    hidden states are returned; the cell states stay internal.

    Args:
        x: input sequence, shape (N, T, D).
        h0: initial hidden state, shape (N, H).
        Wx: shape (D, 4H), Wh: shape (H, 4H), b: shape (4H,), gate order i, f, o, g.

    Returns:
        h: hidden states of every step, shape (N, T, H).
        cache: anything lstm_backward needs (for instance the weights and the per-step
            caches).
    """
    # BEGIN SOLUTION
    T = x.shape[1]
    hs, steps = [], []
    prev_h, prev_c = h0, np.zeros_like(h0)  # (N, H) the cell starts empty
    for t in range(T):
        prev_h, prev_c, step_cache = lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b)
        hs.append(prev_h)
        steps.append(step_cache)
    h = np.stack(hs, axis=1)  # (N, T, H)
    return h, (Wx, Wh, b, steps)
    # END SOLUTION


def lstm_backward(dh, cache):
    """Backward pass of lstm_forward.

    As for rnn_backward, the gradient of h_t is dh[:, t] plus what flows back from step
    t+1; in addition the cell state carries its own gradient from step t+1 back to step
    t. Both start at zero after the last step. The initial cell state is a constant, so
    its gradient is not returned.

    Args:
        dh: upstream gradients of all hidden states, shape (N, T, H).
        cache: the cache returned by lstm_forward.

    Returns:
        dx (N, T, D), dh0 (N, H), dWx (D, 4H), dWh (H, 4H), db (4H,).

    Do not modify dh or the cache in place.
    """
    # BEGIN SOLUTION
    Wx, Wh, b, steps = cache
    T = dh.shape[1]
    dxs = [None] * T
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dprev_h = np.zeros_like(dh[:, 0])  # (N, H)
    dprev_c = np.zeros_like(dh[:, 0])  # (N, H)
    for t in reversed(range(T)):
        dx_t, dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(
            dh[:, t] + dprev_h, dprev_c, steps[t])
        dxs[t] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    dx = np.stack(dxs, axis=1)  # (N, T, D)
    return dx, dprev_h, dWx, dWh, db
    # END SOLUTION


# ---------------------------------------------------------------------------------------
# GRU
# ---------------------------------------------------------------------------------------

def gru_step_forward(x, prev_h, Wx, Wh, b):
    """One time step of a GRU.

    Wx, Wh and b hold three blocks of H columns, in the order reset r, update z,
    candidate n (write Wx_r = Wx[:, 0:H], Wx_z = Wx[:, H:2H], Wx_n = Wx[:, 2H:3H], and
    the same for Wh and b):
        r = sigmoid(x @ Wx_r + prev_h @ Wh_r + b_r)
        z = sigmoid(x @ Wx_z + prev_h @ Wh_z + b_z)
        n = tanh(x @ Wx_n + (r * prev_h) @ Wh_n + b_n)
        next_h = z * prev_h + (1 - z) * n

    Args:
        x: input at this step, shape (N, D).
        prev_h: previous hidden state, shape (N, H).
        Wx: input weights, shape (D, 3H).
        Wh: hidden weights, shape (H, 3H).
        b: biases, shape (3H,).

    Returns:
        next_h: new hidden state, shape (N, H).
        cache: anything gru_step_backward needs (for instance the inputs, r, z, n and
            r * prev_h).

    Pitfall: the reset gate multiplies prev_h before the product with Wh_n, so the
    candidate block cannot be computed with the same prev_h @ Wh product as r and z.
    (This is not the variant torch.nn.GRU uses, which applies r after the product.)
    """
    # BEGIN SOLUTION
    H = prev_h.shape[1]
    ax = x @ Wx + b                   # (N, 3H) input part of all three blocks
    ah = prev_h @ Wh[:, :2 * H]       # (N, 2H) hidden part of r and z
    r = sigmoid(ax[:, :H] + ah[:, :H])
    z = sigmoid(ax[:, H:2 * H] + ah[:, H:])
    rh = r * prev_h                   # (N, H)
    n = np.tanh(ax[:, 2 * H:] + rh @ Wh[:, 2 * H:])
    next_h = z * prev_h + (1 - z) * n  # (N, H)
    cache = (x, prev_h, Wx, Wh, r, z, n, rh)
    return next_h, cache
    # END SOLUTION


def gru_step_backward(dnext_h, cache):
    """Backward pass of gru_step_forward.

    prev_h reaches next_h along three paths: directly through z * prev_h, through
    r * prev_h inside the candidate, and through the matrix products that feed r and z.
    Its gradient is the sum of all three. As for the LSTM, join the pre-activation
    gradients of the blocks in the order r, z, n to get dWx, db and dx.

    Args:
        dnext_h: upstream gradient of next_h, shape (N, H).
        cache: the cache returned by gru_step_forward.

    Returns:
        dx (N, D), dprev_h (N, H), dWx (D, 3H), dWh (H, 3H), db (3H,).

    Do not modify dnext_h or the cache in place.
    """
    # BEGIN SOLUTION
    x, prev_h, Wx, Wh, r, z, n, rh = cache
    H = prev_h.shape[1]
    Wh_rz, Wh_n = Wh[:, :2 * H], Wh[:, 2 * H:]
    dz = dnext_h * (prev_h - n)
    dn = dnext_h * (1 - z)
    dan = dn * (1 - n**2)                 # (N, H) candidate pre-activation
    drh = dan @ Wh_n.T                    # (N, H)
    dr = drh * prev_h
    dar = dr * r * (1 - r)                # (N, H) reset pre-activation
    daz = dz * z * (1 - z)                # (N, H) update pre-activation
    da_rz = np.concatenate([dar, daz], axis=1)       # (N, 2H)
    da = np.concatenate([dar, daz, dan], axis=1)     # (N, 3H)
    dx = da @ Wx.T                                   # (N, D)
    dprev_h = dnext_h * z + drh * r + da_rz @ Wh_rz.T  # (N, H) the three paths
    dWx = x.T @ da                                   # (D, 3H)
    dWh = np.concatenate([prev_h.T @ da_rz, rh.T @ dan], axis=1)  # (H, 3H)
    db = da.sum(axis=0)                              # (3H,)
    return dx, dprev_h, dWx, dWh, db
    # END SOLUTION


def gru_forward(x, h0, Wx, Wh, b):
    """Run a GRU over a whole sequence.

    Starting from h0, apply gru_step_forward to x[:, t] for t = 0 .. T-1 with the same
    weights (block order r, z, n).

    Args:
        x: input sequence, shape (N, T, D).
        h0: initial hidden state, shape (N, H).
        Wx: shape (D, 3H), Wh: shape (H, 3H), b: shape (3H,).

    Returns:
        h: hidden states of every step, shape (N, T, H).
        cache: anything gru_backward needs.
    """
    # BEGIN SOLUTION
    T = x.shape[1]
    hs, steps = [], []
    prev_h = h0
    for t in range(T):
        prev_h, step_cache = gru_step_forward(x[:, t], prev_h, Wx, Wh, b)  # (N, H)
        hs.append(prev_h)
        steps.append(step_cache)
    h = np.stack(hs, axis=1)  # (N, T, H)
    return h, (Wx, Wh, b, steps)
    # END SOLUTION


def gru_backward(dh, cache):
    """Backward pass of gru_forward (backpropagation through time).

    Exactly as rnn_backward, with gru_step_backward for the single steps: the gradient of
    h_t is dh[:, t] plus what flows back from step t+1, and the weight gradients are
    summed over the steps.

    Args:
        dh: upstream gradients of all hidden states, shape (N, T, H).
        cache: the cache returned by gru_forward.

    Returns:
        dx (N, T, D), dh0 (N, H), dWx (D, 3H), dWh (H, 3H), db (3H,).

    Do not modify dh or the cache in place.
    """
    # BEGIN SOLUTION
    Wx, Wh, b, steps = cache
    T = dh.shape[1]
    dxs = [None] * T
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dprev_h = np.zeros_like(dh[:, 0])  # (N, H)
    for t in reversed(range(T)):
        dx_t, dprev_h, dWx_t, dWh_t, db_t = gru_step_backward(dh[:, t] + dprev_h, steps[t])
        dxs[t] = dx_t
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    dx = np.stack(dxs, axis=1)  # (N, T, D)
    return dx, dprev_h, dWx, dWh, db
    # END SOLUTION


# ---------------------------------------------------------------------------------------
# Output layer, loss and gradient clipping
# ---------------------------------------------------------------------------------------

def temporal_affine_forward(x, w, b):
    """Apply the same affine map at every time step.

    out[n, t] = x[n, t] @ w + b

    Args:
        x: inputs, shape (N, T, D).
        w: weights, shape (D, M).
        b: bias, shape (M,).

    Returns:
        out: shape (N, T, M).
        cache: anything temporal_affine_backward needs (x and w).
    """
    # BEGIN SOLUTION
    out = x @ w + b  # (N, T, M)
    return out, (x, w)
    # END SOLUTION


def temporal_affine_backward(dout, cache):
    """Backward pass of temporal_affine_forward.

    w and b are shared by all N * T positions, so their gradients sum over batch and
    time; reshaping x to (N*T, D) and dout to (N*T, M) turns dw into one matrix product.

    Args:
        dout: upstream gradient, shape (N, T, M).
        cache: the cache returned by temporal_affine_forward.

    Returns:
        dx (N, T, D), dw (D, M), db (M,).
    """
    # BEGIN SOLUTION
    x, w = cache
    D, M = w.shape
    dx = dout @ w.T                                  # (N, T, D)
    dw = x.reshape(-1, D).T @ dout.reshape(-1, M)    # (D, M)
    db = dout.sum(axis=(0, 1))                       # (M,)
    return dx, dw, db
    # END SOLUTION


def temporal_softmax_loss(x, y, mask, verbose=False):
    """Softmax cross-entropy at every time step, with a mask, averaged over the batch.

    With p[n, t] = softmax(x[n, t]) over the V scores,
        loss = -(1 / N) * sum over n, t with mask[n, t] of log p[n, t, y[n, t]]
    i.e. summed over time and over the unmasked steps, divided by N (not by the number
    of unmasked steps). Masked steps (for instance padding after the end of a caption)
    contribute neither loss nor gradient, whatever their target; a row that is masked
    everywhere contributes 0.

    Args:
        x: scores, shape (N, T, V).
        y: integer targets in [0, V), shape (N, T).
        mask: boolean, shape (N, T); True where the step counts.
        verbose: if True, print shape information (for debugging).

    Returns:
        loss: scalar (a Python float).
        dx: gradient of the loss with respect to x, shape (N, T, V), same dtype as x.

    Pitfall: exp of large scores overflows. Subtract the largest score of each row
    before exponentiating (softmax does not change) and compute log p as
    shifted - log(sum(exp(shifted))) rather than log(exp(...) / ...).
    """
    # BEGIN SOLUTION
    N, T, V = x.shape
    shifted = x - x.max(axis=2, keepdims=True)                        # (N, T, V) max is 0
    log_p = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
    m = mask.astype(x.dtype)                                          # (N, T)
    n_idx, t_idx = np.arange(N)[:, None], np.arange(T)[None, :]
    loss = -(log_p[n_idx, t_idx, y] * m).sum() / N
    dx = np.exp(log_p)                                                # (N, T, V) softmax
    dx[n_idx, t_idx, y] -= 1
    dx *= m[:, :, None] / N
    if verbose:
        print(f"temporal_softmax_loss: x {x.shape}, {int(mask.sum())} unmasked steps, "
              f"dx {dx.shape}")
    return float(loss), dx
    # END SOLUTION


def clip_grad_norm(grads, max_norm):
    """Rescale a set of gradients so that their global L2 norm is at most max_norm.

    total_norm = sqrt(sum over every array g in grads of sum(g**2))
    If total_norm > max_norm, every array is multiplied by max_norm / total_norm, so the
    direction of the whole update is kept; otherwise the values are returned unchanged.

    Args:
        grads: dict name -> gradient array.
        max_norm: positive float, the largest allowed global norm.

    Returns:
        clipped: a new dict with the same keys, holding new arrays with the same shapes
            and dtypes as the inputs.
        total_norm: the global norm before clipping, as a Python float.

    Pitfall: clip all arrays by the same factor (not each by its own norm), and never
    modify the input dict or its arrays in place ("g *= scale" would).
    """
    # BEGIN SOLUTION
    total_norm = float(np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64)))
                                   for g in grads.values())))
    scale = float(max_norm) / total_norm if total_norm > max_norm else 1.0
    clipped = {name: g * scale for name, g in grads.items()}  # new arrays, same dtypes
    return clipped, total_norm
    # END SOLUTION
