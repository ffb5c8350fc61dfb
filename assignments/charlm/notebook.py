# Source of the student notebook starter/charlm/charlm.ipynb (regenerate: autograder notebooks charlm).

# %% [markdown]
# # A character-level language model in numpy
#
# You implement the functions in `char_rnn.py`; this notebook explains each one and checks it.
# **Work in the `.py` file, not here.** Each `check(...)` cell runs the public checks of one
# function through the grading engine; `pytest` in this folder runs all of them.

# %% [setup]

# %% [markdown]
# ## 1. Data: streams and chunks
#
# The text (indices $c_1 \dots c_M$) is cut into $N$ contiguous streams; chunk $k$ of length $T$
# reads positions $kT \dots kT+T-1$ and predicts the next character at each one.

# %%
check("batchify")
check("get_chunk")
check("num_chunks")

# %% [markdown]
# ## 2. The stacked RNN
#
# Layer $l$: $h^{(l)}_t = \tanh(h^{(l-1)}_t W_x^{(l)} + h^{(l)}_{t-1} W_h^{(l)} + b^{(l)})$, with
# $h^{(-1)}_t = x_t$. The backward pass adds the gradient from the layer above and from the next
# step, and $\partial L/\partial h_T$ enters at the last step.

# %%
check("stacked_rnn_forward")
check("stacked_rnn_backward")

# %% [markdown]
# ## 3. Loss, clipping and one epoch of truncated BPTT
#
# $L = -\frac{1}{NT}\sum_{n,t} \log \mathrm{softmax}(h_t W_{out} + b_{out})_{c_{t+1}}$. The state
# is carried from chunk to chunk but no gradient flows back into the previous chunk, so a step
# costs $O(T)$ however long the text is.

# %%
check("softmax_cross_entropy")
check("lm_loss")
check("clip_by_global_norm")
check("train_epoch")

# %% [markdown]
# ## 4. Sampling
#
# $p = \mathrm{softmax}(s / \tau)$; top-k keeps the $k$ largest scores; `draw` inverts the
# cumulative distribution: the smallest $i$ with $\sum_{j \le i} p_j > u$.

# %%
check("temperature_probs")
check("top_k_probs")
check("draw")
check("sample")

# %% [markdown]
# ## 5. Training on the sonnets
#
# `train_lm.train` cuts the sonnets into 4 contiguous streams and runs `train_epoch` over them:
# chunks of T = 25 characters, the hidden state carried from chunk to chunk, gradients clipped
# to a global norm of 5. Truncation is what bounds the cost of a step: the backward pass of a
# chunk goes back T steps and stops (dhT = 0 into the previous chunk), so each update costs
# O(N T H^2) however long the text is, while the carried state still lets the forward pass see
# context from before the chunk. The price is that no gradient teaches the model to use
# dependencies longer than T.

# %%
import char_rnn
import train_lm

text = train_lm.load_text()

# %% tags=["figure:loss-curve"]
history, params, chars = train_lm.train(char_rnn, text, **train_lm.CONFIG)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(np.arange(1, len(history) + 1), history)
ax.set_xlabel("epoch")
ax.set_ylabel("mean loss per character (nats)")
ax.set_title(f"2-layer char-RNN on the sonnets ({len(chars)} characters)")
plt.show()

# %% [markdown]
# Samples of the trained model, 120 characters each from the first character of the text:
# low temperatures repeat the likeliest characters; high ones produce noise; top-k removes the
# unlikely tail.

# %%
L, H = train_lm.CONFIG["L"], train_lm.CONFIG["H"]
first = char_rnn.encode(text[:1], chars)
for label, kwargs in [("greedy", {}),
                      ("temperature 0.5", dict(strategy="temperature", temperature=0.5)),
                      ("temperature 1.0", dict(strategy="temperature", temperature=1.0)),
                      ("temperature 2.0", dict(strategy="temperature", temperature=2.0)),
                      ("top-k, k = 5", dict(strategy="top_k", k=5))]:
    out = char_rnn.sample(params, np.zeros((L, 1, H)), first, 120, np.random.default_rng(0), **kwargs)
    print(f"--- {label}\n{text[0]}{char_rnn.decode(out, chars)}\n")

# %% [markdown]
# ## 6. The vanishing gradient
#
# Put a gradient on the top layer's output at the last step only and run the backward pass:
# the norm of what reaches the input $x_t$ shows how much the loss at step $T$ can teach step
# $t$. Every step back multiplies by $W_h^\top \operatorname{diag}(1 - h_t^2)$; with tanh units
# and weights of this scale the product shrinks geometrically, and each extra layer adds more
# such factors on the way down.

# %% tags=["figure:vanishing-gradients"]
rng = np.random.default_rng(0)
N, T, E, H = 16, 40, 16, 32
x, upstream = rng.standard_normal((N, T, E)), rng.standard_normal((N, H))
fig, ax = plt.subplots(figsize=(6, 3.5))
for L in (1, 3):
    p = char_rnn.init_params(2, E, H, L, seed=1)
    _, hT, cache = char_rnn.stacked_rnn_forward(x, np.zeros((L, N, H)), p)
    dh = np.zeros((N, T, H))
    dh[:, -1] = upstream
    dx, _, _ = char_rnn.stacked_rnn_backward(dh, np.zeros_like(hT), cache)
    norms = np.sqrt((dx ** 2).sum(axis=(0, 2)))
    ax.semilogy(np.arange(T), norms, label=f"{L} layer{'s' if L > 1 else ''}")
ax.set_xlabel("input step t (the loss is at the last step)")
ax.set_ylabel(r"$\|\partial L_T / \partial x_t\|$")
ax.legend()
plt.show()
