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
