# Source of the student notebook starter/transformer/transformer.ipynb (regenerate: autograder
# notebooks transformer). Percent format: "# %%" starts a code cell, "# %% [markdown]" a markdown
# cell, "# %% [setup]" the setup cell (autograder/templates/notebook_setup.py.tmpl, then the lines
# below it). CI runs it top to bottom against solutions/transformer; training stays at lm_task's
# 200 steps (a few seconds on one CPU thread).

# %% [markdown]
# # Self-attention and transformers, in torch
#
# You implement the pieces of a transformer in `transformer_layers.py`: positional encoding,
# scaled dot-product and multi-head attention, layer normalisation, the feed-forward block,
# encoder and decoder layers, and a character-level language model. This notebook explains
# each piece, checks it as soon as you have written it, trains your model on two Shakespeare
# sonnets, lets it write, and shows **what each attention head looks at**.
#
# **Work in `transformer_layers.py`, not here.** Each `check(...)` cell runs the public checks
# of one class or function through the same engine that grades your submission (on the file
# as saved on disk) and prints one line per check; `pytest` in this folder runs all of them.
# Not allowed (checked): `torch.nn.MultiheadAttention`,
# `torch.nn.functional.scaled_dot_product_attention`, `torch.nn.LayerNorm`,
# `torch.nn.functional.layer_norm` and the `torch.nn.Transformer*` classes.

# %% [setup]
import torch

torch.set_num_threads(1)  # the grader's setting; results are then reproducible

# %% [markdown]
# ## 1. Positions
#
# Self-attention treats its input as a set: permute the tokens and the outputs are permuted
# the same way. To tell *the dog bit* from *bit the dog*, a fixed vector that depends on the
# position $p$ is added to each embedding:
#
# $$\mathrm{PE}_{p, 2i} = \sin\!\left(\frac{p}{10000^{2i/E}}\right), \qquad
# \mathrm{PE}_{p, 2i+1} = \cos\!\left(\frac{p}{10000^{2i/E}}\right).$$
#
# Each pair of columns is a clock with its own frequency, from one turn every $2\pi$
# positions down to one every $2\pi \cdot 10000$. Implement `_sinusoid_table` and
# `PositionalEncoding.forward` ($x + \mathrm{PE}_{:S}$, then dropout).

# %%
check("PositionalEncoding")

# %%
import transformer_layers as tl

pe = tl.PositionalEncoding(64, dropout=0.0, max_len=100).pe[0]  # (100, 64)
fig, ax = plt.subplots(figsize=(8, 3))
im = ax.imshow(pe.T.numpy(), cmap="RdBu", aspect="auto", vmin=-1, vmax=1)
ax.set_xlabel("position $p$")
ax.set_ylabel("column of the encoding")
ax.set_title("Sinusoidal positional encoding, E = 64: fast clocks on top, slow ones below")
fig.colorbar(im, ax=ax)
plt.show()

# %% [markdown]
# ## 2. Scaled dot-product attention
#
# Queries $Q \in \mathbb{R}^{S \times d}$ look at keys $K \in \mathbb{R}^{T \times d}$ and read
# values $V \in \mathbb{R}^{T \times d_v}$:
#
# $$\operatorname{Attention}(Q, K, V) = \operatorname{softmax}\!\left(\frac{Q K^\top}{\sqrt{d}} + M\right) V,
# \qquad M_{ij} = \begin{cases} 0 & \text{query } i \text{ may see key } j \\ -\infty & \text{blocked} \end{cases}$$
#
# Dividing by $\sqrt{d}$ keeps the scores' variance at about 1 whatever the head size, so the
# softmax does not saturate. In this file a mask entry that is 0 or `False` **blocks**.
# `scaled_dot_product_attention` returns the output and the weights.

# %%
check("scaled_dot_product_attention")

# %% [markdown]
# A language model may not look ahead: position $i$ sees positions $j \le i$ only.
# `causal_mask(T)` is the boolean lower-triangular $(T, T)$ matrix of allowed pairs.

# %%
check("causal_mask")

# %% [markdown]
# ## 3. Multi-head attention
#
# One attention looks for one kind of relation. Multi-head attention projects the $E$-dimensional
# inputs to $H$ heads of size $D = E / H$, lets each attend on its own, and mixes the results:
#
# $$\text{head}_h = \operatorname{Attention}\!\left(X_q W^Q_h,\; X_k W^K_h,\; X_v W^V_h\right), \qquad
# \operatorname{MHA} = [\text{head}_1; \dots; \text{head}_H]\, W^O.$$
#
# In code: one `nn.Linear(E, E)` per projection, then `view(N, S, H, D).transpose(1, 2)`;
# scale by $1/\sqrt{D}$ (one head's size); dropout on the attention weights.

# %%
check("MultiHeadAttention")

# %% [markdown]
# ## 4. The rest of a transformer layer
#
# **Layer normalisation** normalises each position's vector over its $E$ features, then
# rescales: $\operatorname{LN}(x) = \gamma \odot \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta$,
# with the mean $\mu$ and the biased variance $\sigma^2$ of the last dimension.

# %%
check("LayerNorm")

# %% [markdown]
# The **feed-forward block** works on each position separately:
# $\operatorname{FFN}(x) = W_2\, \operatorname{dropout}(\operatorname{ReLU}(W_1 x + b_1)) + b_2$.

# %%
check("FeedForward")

# %% [markdown]
# An **encoder layer** (post-norm, as in the original paper) wraps both in residual
# connections: $x \leftarrow \operatorname{LN}_1(x + \operatorname{MHA}(x, x, x))$, then
# $x \leftarrow \operatorname{LN}_2(x + \operatorname{FFN}(x))$. A **decoder layer** adds
# cross-attention over the encoder's output between the two.

# %%
check("TransformerEncoderLayer")

# %%
check("TransformerDecoderLayer")

# %% [markdown]
# ## 5. A character-level language model
#
# `TransformerLM` embeds characters, adds positions, runs encoder layers with the causal mask
# and scores the next character at every position:
# $p(c_{t+1} \mid c_{\le t}) = \operatorname{softmax}(\text{logits}_t)$. The checks include
# ten training steps on the sonnets from given weights, every loss compared with the reference's.

# %%
check("TransformerLM")

# %% [markdown]
# ### Training on two sonnets
#
# `lm_task.py` trains on random 32-character windows of Shakespeare's sonnets 1 and 2 (1240
# characters) with Adam, 200 steps. The score is the cross-entropy of the character *after*
# each window: a model that ignores context scores the unigram entropy, about 3.07 nats.

# %%
import lm_task

vocab, data = lm_task.load_data()
print(f"{len(data)} characters, {len(vocab)} distinct; unigram entropy {lm_task.unigram_entropy():.2f} nats")
print(lm_task.load_text()[:180])

model = lm_task.build_model(tl, seed=0)
losses = lm_task.train(model, seed=0)
print(f"final training loss {losses[-1]:.3f}; score {lm_task.evaluate(model):.3f} nats "
      f"(test_training.py asks for less than {lm_task.THRESHOLD})")

# %% tags=["figure:loss"]
fig, ax = plt.subplots(figsize=(6, 3))
ax.semilogy(np.arange(1, len(losses) + 1), losses, lw=2, label="training loss")
ax.axhline(lm_task.unigram_entropy(), color="gray", ls="--", label="no context (unigram entropy)")
ax.set_xlabel("training step")
ax.set_ylabel("cross-entropy (nats per character)")
ax.set_title("Training the character-level transformer")
ax.grid(alpha=0.3)
ax.legend()
plt.show()

# %% [markdown]
# ### Let it write
#
# Sampling feeds the model its own output: take the last 32 characters, turn the last
# position's logits into probabilities $\operatorname{softmax}(\text{logits} / \tau)$ and
# draw the next character. A temperature $\tau < 1$ makes it more conservative. It has
# memorised most of two sonnets; where it is unsure, it stitches them together.

# %%
@torch.no_grad()
def generate(model, prompt, length, temperature=0.8, seed=0):
    generator = torch.Generator().manual_seed(seed)
    ids = vocab.encode(prompt)
    for _ in range(length):
        logits = model(ids[-lm_task.CONFIG.block_size:][None])[0, -1]  # (V,) next-character scores
        probs = torch.softmax(logits / temperature, dim=-1)
        ids = torch.cat([ids, torch.multinomial(probs, 1, generator=generator)])
    return vocab.decode(ids)


for seed, prompt in enumerate(["From fairest", "When forty", "Thy"]):
    print(generate(model, prompt, 160, seed=seed), end="\n---\n")

# %% [markdown]
# ## 6. What do the heads look at?
#
# *Exercise (ungraded).* Write `head_attention_weights(mha, x, mask)`: the attention weights
# of every head of a `MultiHeadAttention` in self-attention on `x` $(N, S, E)$, shape
# $(N, H, S, S)$. Project with `mha.query` and `mha.key`, split into heads as in your
# `forward`, and let your `tl.scaled_dot_product_attention` compute the weights (the values
# do not matter for the weights).

# %%
def head_attention_weights(mha, x, mask=None):
    """Attention weights (N, H, S, S) of each head of mha attending from x to x."""
    # BEGIN SOLUTION
    N, S, E = x.shape
    heads, size = mha.num_heads, E // mha.num_heads
    queries = mha.query(x).view(N, S, heads, size).transpose(1, 2)  # (N, H, S, D)
    keys = mha.key(x).view(N, S, heads, size).transpose(1, 2)       # (N, H, S, D)
    _, weights = tl.scaled_dot_product_attention(queries, keys, keys, mask)
    return weights
    # END SOLUTION


# %% [markdown]
# A forward pre-hook records what enters each layer; the self-attention of a post-norm
# encoder layer attends from that input to itself. Each panel is one head: row $i$ is the
# character being read, column $j$ a character it looks at (only $j \le i$ are allowed).

# %% tags=["figure:heads"]
text = "When forty winters shall besiege"[:lm_task.CONFIG.block_size]
tokens = vocab.encode(text)[None]                      # (1, S)
layer_inputs = []
hooks = [layer.register_forward_pre_hook(
             lambda module, args, kwargs: layer_inputs.append(args[0] if args else kwargs["src"]),
             with_kwargs=True)
         for layer in model.layers]
with torch.no_grad():
    model(tokens)
    mask = tl.causal_mask(tokens.shape[1])
    weights = [head_attention_weights(layer.self_attn, x, mask)[0] for layer, x in zip(model.layers, layer_inputs)]
for hook in hooks:
    hook.remove()

n_layers, n_heads = len(weights), weights[0].shape[0]
fig, axes = plt.subplots(n_layers, n_heads, figsize=(3.4 * n_heads, 3.5 * n_layers))
for l in range(n_layers):
    for h in range(n_heads):
        ax = axes[l, h]
        ax.imshow(weights[l][h].numpy(), cmap="magma", vmin=0, vmax=1)
        ax.set_title(f"layer {l + 1}, head {h + 1}", fontsize=10)
        ax.set_xticks(range(len(text)), list(text) if l == n_layers - 1 else [], fontsize=6)
        ax.set_yticks(range(len(text)), list(text) if h == 0 else [], fontsize=6)
fig.suptitle(f"Self-attention of each head on “{text}” (row: reading, column: looked at)")
plt.tight_layout()
plt.show()

# %% [markdown]
# Heads specialise. Several follow a line just below the diagonal: they read the previous
# character or two, which is what spelling needs. Others return again and again to a few
# earlier characters (the vertical stripes), collecting which word this is. Everything above
# the diagonal is black: the causal mask at work.
#
# When you are done, run `pytest` in this folder for the whole public self-check, then upload
# `transformer_layers.py` to Gradescope. The hidden tests use other shapes and seeds (one
# position, odd head sizes, masks of every kind), so make your code work for any valid shape.
