# Source of the student notebook starter/attention/attention.ipynb (regenerate: autograder
# notebooks attention). Percent format: "# %%" starts a code cell, "# %% [markdown]" a markdown
# cell, "# %% [setup]" the setup cell (autograder/templates/notebook_setup.py.tmpl, then the lines
# below it). CI runs it top to bottom against solutions/attention; training stays at toy_task's
# 100 steps (a few seconds on one CPU thread).

# %% [markdown]
# # Attention for sequence-to-sequence models, in torch
#
# You implement everything in `attention.py`: attention over image features and over
# sequences, an LSTM that takes an attention vector, an encoder-decoder with attention, and
# greedy and beam-search decoding. This notebook explains each piece, checks it as soon as
# you have written it, trains your model to translate dates, and shows **where it looks**
# while it writes each character.
#
# **Work in `attention.py`, not here.** Each `check(...)` cell runs the public checks of one
# function through the same engine that grades your submission (on the file as saved on
# disk) and prints one line per check; `pytest` in this folder runs all of them. Autograd
# does every backward pass. Not allowed (checked): `torch.nn.LSTM`, `torch.nn.LSTMCell`,
# `torch.nn.MultiheadAttention`, `torch.nn.functional.scaled_dot_product_attention`.

# %% [setup]
import torch

torch.set_num_threads(1)  # the grader's setting; results are then reproducible

# %% [markdown]
# ## 1. Attention is a soft lookup
#
# A *query* $q$ scores every *key* $k_l$, a softmax turns the scores into weights, and the
# result is the weighted average of the keys (here the keys are also the values):
#
# $$e_l = \operatorname{score}(q, k_l), \qquad \alpha = \operatorname{softmax}(e), \qquad
# \text{context} = \sum_l \alpha_l\, k_l, \qquad \alpha_l \ge 0,\; \sum_l \alpha_l = 1.$$
#
# **Dot-product attention over an image.** For captioning, the keys are the $P \times P$
# feature vectors $A_{:, i, j} \in \mathbb{R}^H$ of a convolutional feature map, and the
# query is the decoder's previous hidden state:
#
# $$s_{ij} = \frac{h_{t-1} \cdot A_{:, i, j}}{\sqrt{H}}, \qquad
# \alpha = \operatorname{softmax}\text{ over all } P^2 \text{ positions jointly}, \qquad
# \text{attn} = \sum_{i, j} \alpha_{ij} A_{:, i, j}.$$
#
# The $1/\sqrt{H}$ keeps the scores' spread independent of $H$. Implement
# `dot_product_attention`.

# %%
check("dot_product_attention")

# %% [markdown]
# **Additive (Bahdanau) attention** scores with a one-hidden-layer MLP, so query and keys may
# have different sizes, and takes a mask of the positions that may be attended to (padding
# may not):
#
# $$e_l = v^\top \tanh\!\left(W_q^\top q + W_k^\top k_l\right), \qquad
# \alpha_l = \frac{m_l\, e^{e_l}}{\sum_{l'} m_{l'}\, e^{e_{l'}}}.$$
#
# Mask *before* the softmax by setting the masked scores to $-\infty$
# (`masked_fill`), so that masked positions get exactly 0 and the rest still sums to 1.

# %%
check("additive_attention")

# %% [markdown]
# `masked_dot_attention` is the sequence version of dot-product attention, with a mask:
# $e_l = q \cdot k_l / \sqrt{H}$, masked softmax as above.

# %%
check("masked_dot_attention")

# %% [markdown]
# ## 2. An LSTM that reads an attention vector
#
# The LSTM step of the first assignment, in torch, with one more input: the attention
# vector enters the gates through its own weights,
#
# $$a = x_t W_x + h_{t-1} W_h + b + \text{attn}_t\, W_{\text{attn}}, \qquad
# i, f, o = \sigma(\cdot), \; g = \tanh(\cdot) \text{ (blocks in the order i, f, o, g)},$$
# $$c_t = f \odot c_{t-1} + i \odot g, \qquad h_t = o \odot \tanh(c_t).$$

# %%
check("lstm_step_forward")

# %%
check("lstm_forward")

# %% [markdown]
# `attention_forward` runs the captioning decoder: it starts from the mean feature,
# $h_0 = c_0 = \frac{1}{P^2}\sum_{ij} A_{:, i, j}$, and at every step attends with the
# **previous** hidden state before updating the LSTM.

# %%
check("attention_forward")

# %% [markdown]
# ## 3. An encoder-decoder with attention
#
# `Seq2Seq` translates a token sequence into another. The encoder embeds the source and runs
# your `lstm_forward`, giving one state $\bar h_s$ per source position. The decoder starts
# from the mean of the encoder states over the real (unpadded) positions and, at every step,
#
# $$\text{ctx}_t, \alpha_t = \operatorname{attend}(h_{t-1}, \bar h_{1:S}), \qquad
# h_t, c_t = \operatorname{LSTM}(E[y_{t-1}], h_{t-1}, c_{t-1}, \text{ctx}_t), \qquad
# \text{logits}_t = [h_t; \text{ctx}_t]\, W_{\text{out}} + b_{\text{out}}.$$
#
# Training feeds the true previous token (*teacher forcing*). The checks compare `encode`,
# `decode_step` and `forward` with the reference on the same weights, and run ten training
# steps of the date task below from given weights, comparing every loss with the reference's.

# %%
check("Seq2Seq")

# %% [markdown]
# ## 4. Decoding
#
# At test time there is no true previous token. **Greedy** decoding feeds back the most
# likely token; a sequence's score is its log-probability
# $\log p(y \mid x) = \sum_t \log p(y_t \mid y_{<t}, x)$.

# %%
check("greedy_decode")

# %% [markdown]
# **Beam search** keeps the $k$ best partial hypotheses instead of one: at each step it
# extends every unfinished hypothesis by every token, keeps the $k$ best candidates
# (finished ones compete too), and stops when all $k$ are finished. With $k = 1$ it is
# greedy decoding; with $k$ large enough it is exhaustive search.

# %%
check("beam_search")

# %% [markdown]
# ## 5. Translating dates
#
# The toy task (`toy_task.py`) writes dates the way people do and asks for ISO 8601:
# `7/3/2024` becomes `2024-03-07`. The model has to find the slashes, copy the year first,
# and insert a zero where the day or month has one digit: the alignment between source and
# target depends on the content, which is exactly what attention is for.

# %%
import attention
import toy_task

train_src, train_tgt, test_src, test_tgt = toy_task.make_splits()
for i in range(4):
    print(f"{toy_task.decode(train_src[i]):>12}  ->  {toy_task.decode(train_tgt[i])}")
print(f"{len(train_src)} training and {len(test_src)} test dates; vocabulary {toy_task.VOCAB}")

# %% [markdown]
# 100 steps of Adam on batches of 128 dates (about 5 s on one CPU thread):

# %%
model = toy_task.make_model(attention, "additive", seed=0)
losses = toy_task.train(model, train_src, train_tgt)
accuracy = toy_task.exact_match(model, test_src, test_tgt)
print(f"final loss {losses[-1]:.4f}; exact match on {len(test_src)} unseen dates: {accuracy:.1%}")

fig, ax = plt.subplots(figsize=(6, 3))
ax.semilogy(np.arange(1, len(losses) + 1), losses, lw=2)
ax.set_xlabel("training step")
ax.set_ylabel("cross-entropy per token")
ax.set_title("Training the date translator (additive attention)")
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# ## 6. Where does it look?
#
# For a few unseen dates, decode greedily and record the attention weights of every output
# step (teacher forcing on the model's own output gives the same steps). Each row is one
# output character, each column one source character; bright means a large weight.

# %%
def attention_map(model, src_row):
    """Greedy output tokens of one source row, and the weights (steps, S) that produced them."""
    tokens, _ = attention.greedy_decode(model, src_row[None], max_len=toy_task.TGT_LEN - 1)
    steps = int((tokens[0] != toy_task.PAD_ID).sum())               # up to and including EOS
    tgt_in = torch.cat([torch.tensor([[toy_task.SOS_ID]]), tokens[:, :steps - 1]], dim=1)
    with torch.no_grad():
        _, weights = model(src_row[None], tgt_in, return_weights=True)  # (1, steps, S)
    return tokens[0, :steps], weights[0]


# %% tags=["figure:heatmaps"]
examples = [3, 10, 25, 42]
fig, axes = plt.subplots(1, len(examples), figsize=(13, 4.2))
for ax, i in zip(axes, examples):
    tokens, weights = attention_map(model, test_src[i])
    src_len = int((test_src[i] != toy_task.PAD_ID).sum())
    ax.imshow(weights[:, :src_len].numpy(), cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(src_len), [toy_task.VOCAB[t] for t in test_src[i, :src_len]])
    ax.set_yticks(range(len(tokens)), [toy_task.VOCAB[t].replace("<eos>", "end") for t in tokens])
    ax.set_xlabel("source")
    ax.set_title(f"{toy_task.decode(test_src[i])} -> {toy_task.decode(tokens)}", fontsize=10)
axes[0].set_ylabel("output, one row per step")
fig.suptitle("Attention weights of each output step over the source characters")
plt.tight_layout()
plt.show()

# %% [markdown]
# The year is copied along a clean diagonal; then the model jumps back to the month and
# the day. Where it inserts a leading zero, it mostly looks at the slash right after the
# one-digit field: the slash is what tells it that the field is short.
#
# *Exercise (ungraded).* How often does the attention point at the character being copied?
# Write `copy_alignment(source)`: for the ISO date that `source` ("d/m/yyyy") translates to,
# return one entry per output character, the index in `source` of the character it copies,
# or -1 for characters that copy nothing (the dashes and inserted zeros). For example
# `copy_alignment("7/3/2024")` is `[4, 5, 6, 7, -1, -1, 2, -1, -1, 0]`.

# %%
def copy_alignment(source):
    """For each character of the ISO translation of source ("d/m/yyyy"), the source index it copies, or -1."""
    # BEGIN SOLUTION
    day, month, year = source.split("/")
    start_month, start_year = len(day) + 1, len(day) + len(month) + 2
    out = [start_year + k for k in range(4)] + [-1]
    out += [-1] * (2 - len(month)) + [start_month + k for k in range(len(month))] + [-1]
    out += [-1] * (2 - len(day)) + list(range(len(day)))
    return out
    # END SOLUTION


print(copy_alignment("7/3/2024"), copy_alignment("29/11/2515"))

# %%
src = test_src[:200]
tokens, _ = attention.greedy_decode(model, src, max_len=toy_task.TGT_LEN - 1)   # (200, 11)
tgt_in = torch.cat([torch.full((len(src), 1), toy_task.SOS_ID), tokens[:, :-1]], dim=1)
with torch.no_grad():
    _, weights = model(src, tgt_in, return_weights=True)                          # (200, 11, S)
looked_at = weights.argmax(dim=2)                                                 # (200, 11)
hits = total = 0
for i in range(len(src)):
    for step, j in enumerate(copy_alignment(toy_task.decode(src[i]))):
        if j >= 0:
            hits += int(looked_at[i, step]) == j
            total += 1
print(f"the largest weight is on the copied character at {hits / total:.0%} of {total} copying steps")

# %% [markdown]
# ## 7. Beam search on a trained model
#
# The four best translations of one date with their log-probabilities: the model is sure of
# the first, and the alternatives change the digits it was least sure of.

# %%
source = test_src[7]
tokens, scores = attention.beam_search(model, source, beam_width=4, max_len=toy_task.TGT_LEN - 1)
print("source:", toy_task.decode(source))
for row, score in zip(tokens, scores):
    print(f"  {toy_task.decode(row):<12} log p = {float(score):8.3f}   p = {float(score.exp()):.4f}")

# %% [markdown]
# When you are done, run `pytest` in this folder for the whole public self-check, then upload
# `attention.py` to Gradescope. The hidden tests use other shapes and seeds (batch size 1,
# one source position, float64 and other devices), so make your code work for any valid
# shape.
