# Source of the student notebook starter/rnn/rnn.ipynb (regenerate: autograder notebooks rnn).
# Percent format: "# %%" starts a code cell, "# %% [markdown]" a markdown cell, "# %% [setup]"
# the setup cell (autograder/templates/notebook_setup.py.tmpl, then the lines below it). CI runs it
# top to bottom against solutions/rnn; keep every training run to a few seconds on one CPU thread.

# %% [markdown]
# # Recurrent networks in numpy: RNN, LSTM, GRU and image captioning
#
# You implement the layers in `rnn_layers.py` and the model in `captioning_rnn.py`; this
# notebook explains what each function computes, checks it as soon as you have written it,
# and then puts the pieces to work: it measures how gradients vanish through time, and it
# trains a small captioning model that describes pictures in words.
#
# **Work in the `.py` files, not here.** Each `check(...)` cell runs the public checks of one
# function through the same engine that grades your submission (on the files as saved on
# disk) and prints one line per check. `pytest` in this folder runs all of them at once.
# Cells in this notebook marked *exercise* are for you to fill in, and are not graded.

# %% [setup]
plt.rcParams.update({"axes.grid": True, "grid.alpha": 0.3})

# %% [markdown]
# ## 1. The vanilla RNN
#
# A recurrent network reads a sequence $x_1, \dots, x_T$ one step at a time and carries a
# hidden state $h_t$ from each step to the next. The vanilla (Elman) cell is one affine map
# followed by a $\tanh$:
#
# $$h_t = \tanh\left(x_t W_x + h_{t-1} W_h + b\right), \qquad x_t \in \mathbb{R}^{D},\; h_t \in \mathbb{R}^{H}.$$
#
# Rows are examples: `x` is $(N, D)$, `prev_h` is $(N, H)$, `Wx` is $(D, H)$, `Wh` is $(H, H)$.
# Implement `rnn_step_forward`.

# %%
check("rnn_step_forward")

# %% [markdown]
# With $a = x W_x + h_{t-1} W_h + b$ and $\tanh'(a) = 1 - \tanh^2(a)$, the backward pass is
# one elementwise product and the gradients of an affine map:
#
# $$\frac{\partial L}{\partial a} = \frac{\partial L}{\partial h_t} \odot \left(1 - h_t^2\right),\quad
# \frac{\partial L}{\partial x} = \frac{\partial L}{\partial a} W_x^\top,\quad
# \frac{\partial L}{\partial h_{t-1}} = \frac{\partial L}{\partial a} W_h^\top,\quad
# \frac{\partial L}{\partial W_x} = x^\top \frac{\partial L}{\partial a},\quad
# \frac{\partial L}{\partial W_h} = h_{t-1}^\top \frac{\partial L}{\partial a}.$$
#
# The check compares your gradients with the reference and with central differences of your
# own forward pass. Implement `rnn_step_backward`.

# %%
check("rnn_step_backward")

# %% [markdown]
# Over a whole sequence the same weights are used at every step: `rnn_forward` loops
# `rnn_step_forward` over $t = 1 \dots T$ and returns every hidden state, $(N, T, H)$.

# %%
check("rnn_forward")

# %% [markdown]
# **Backpropagation through time.** $h_t$ reaches the loss twice: directly (the upstream
# gradient `dh[:, t]`) and through $h_{t+1}$. So walk backwards,
#
# $$g_t = \texttt{dh}_t + \frac{\partial h_{t+1}}{\partial h_t}^{\!\top} g_{t+1}, \qquad g_{T+1} = 0,$$
#
# and add up the weight gradients of all steps, because every step shares the weights.
# Implement `rnn_backward`.

# %%
check("rnn_backward")

# %% [markdown]
# ## 2. Word embeddings and a stable sigmoid
#
# A word index $w \in \{0, \dots, V-1\}$ becomes the row $W_{w}$ of an embedding matrix
# $W \in \mathbb{R}^{V \times D}$. The gradient of a row collects every position where the
# word occurs (`np.add.at` does exactly that; `dW[x] += dout` does not).

# %%
check("word_embedding_forward")

# %%
check("word_embedding_backward")

# %% [markdown]
# The gates of LSTMs and GRUs use $\sigma(x) = 1 / (1 + e^{-x})$. For $x = -1000$,
# $e^{-x}$ overflows; write it with $e^{-|x|} \in (0, 1]$ instead:
# $\sigma(x) = \frac{1}{1 + e^{-|x|}}$ for $x \ge 0$ and $\frac{e^{-|x|}}{1 + e^{-|x|}}$ for $x < 0$.

# %%
check("sigmoid")

# %% [markdown]
# ## 3. The LSTM
#
# The LSTM adds a cell state $c_t$ that is updated additively, with gates deciding what to
# forget, what to write and what to show. One matrix product gives all four pre-activations,
# split in the order **i, f, o, g**:
#
# $$\begin{aligned}
# a &= x_t W_x + h_{t-1} W_h + b \in \mathbb{R}^{4H}, \\
# i &= \sigma(a_{[0:H]}), \quad f = \sigma(a_{[H:2H]}), \quad o = \sigma(a_{[2H:3H]}), \quad g = \tanh(a_{[3H:4H]}), \\
# c_t &= f \odot c_{t-1} + i \odot g, \qquad h_t = o \odot \tanh(c_t).
# \end{aligned}$$

# %%
check("lstm_step_forward")

# %% [markdown]
# Backward: $c_t$ receives gradient from the next step *and* through $h_t$,
# $\;\delta c = \frac{\partial L}{\partial c_t} + \frac{\partial L}{\partial h_t} \odot o \odot (1 - \tanh^2 c_t)$;
# then $\frac{\partial L}{\partial c_{t-1}} = \delta c \odot f$, and each gate's pre-activation
# gets its product rule times $\sigma' = \sigma(1-\sigma)$ or $\tanh' = 1 - \tanh^2$.

# %%
check("lstm_step_backward")

# %%
check("lstm_forward")

# %%
check("lstm_backward")

# %% [markdown]
# ## 4. The GRU
#
# The GRU merges cell and hidden state and uses two gates, blocks in the order **r, z, n**;
# the reset gate multiplies $h_{t-1}$ *before* its matrix product:
#
# $$\begin{aligned}
# r &= \sigma(x_t W_{x,r} + h_{t-1} W_{h,r} + b_r), \qquad z = \sigma(x_t W_{x,z} + h_{t-1} W_{h,z} + b_z), \\
# n &= \tanh\left(x_t W_{x,n} + (r \odot h_{t-1}) W_{h,n} + b_n\right), \qquad h_t = z \odot h_{t-1} + (1 - z) \odot n.
# \end{aligned}$$

# %%
check("gru_step_forward")

# %%
check("gru_step_backward")

# %%
check("gru_forward")

# %%
check("gru_backward")

# %% [markdown]
# ## 5. Vanishing gradients: why the LSTM exists
#
# Through a vanilla RNN, the gradient that reaches step $t$ from a loss at the last step $T$
# is a product of $T - t$ Jacobians,
#
# $$\frac{\partial h_T}{\partial h_t} = \prod_{k=t+1}^{T} \operatorname{diag}\!\left(1 - h_k^2\right) W_h^\top ,$$
#
# and with $\|W_h\|$ around 1 and $\tanh' \le 1$ it shrinks geometrically: the network cannot
# learn what an early input means for a late output. In the LSTM the cell state is carried by
# $c_t = f \odot c_{t-1} + \dots$, so along that path the product is just
# $\prod_k \operatorname{diag}(f_k)$: as long as the forget gates stay near 1, the gradient
# survives. The forget gate's bias $b_f$ sets where it starts.
#
# *Exercise (ungraded).* Write `input_gradient_norms`: put the upstream gradient `dh_last`
# on the last hidden state only (zeros everywhere else), run the given backward function,
# and return $\left\|\partial L / \partial x_t\right\|$ for every step $t$ (the norm over the
# batch and the input features), an array of shape $(T,)$.

# %%
from rnn_layers import lstm_backward, lstm_forward, rnn_backward, rnn_forward


def input_gradient_norms(backward, cache, dh_last, T):
    """||dL/dx_t|| for t = 0 .. T-1 when the loss depends on the last hidden state only.

    backward: rnn_backward or lstm_backward; cache: what the matching forward returned;
    dh_last: (N, H) gradient of the loss with respect to the last hidden state.
    """
    # BEGIN SOLUTION
    N, H = dh_last.shape
    upstream = np.zeros((N, T, H), dtype=dh_last.dtype)
    upstream[:, -1] = dh_last
    grad_inputs = backward(upstream, cache)[0]            # (N, T, D)
    return np.sqrt((grad_inputs ** 2).sum(axis=(0, 2)))   # (T,)
    # END SOLUTION


# %%
rng = np.random.default_rng(0)
N, T, D, H = 32, 60, 16, 32
x = rng.standard_normal((N, T, D))
h0 = np.zeros((N, H))
dh_last = rng.standard_normal((N, H))

curves = {}
Wx, Wh = rng.standard_normal((D, H)) / np.sqrt(D), rng.standard_normal((H, H)) / np.sqrt(H)
_, cache = rnn_forward(x, h0, Wx, Wh, np.zeros(H))
curves["vanilla RNN"] = input_gradient_norms(rnn_backward, cache, dh_last, T)
Wx, Wh = rng.standard_normal((D, 4 * H)) / np.sqrt(D), rng.standard_normal((H, 4 * H)) / np.sqrt(H)
for forget_bias in (0.0, 3.0):
    b = np.zeros(4 * H)
    b[H:2 * H] = forget_bias  # the f block of the gate order i, f, o, g
    _, cache = lstm_forward(x, h0, Wx, Wh, b)
    curves[f"LSTM, forget-gate bias {forget_bias:g}"] = input_gradient_norms(lstm_backward, cache, dh_last, T)

# %% tags=["figure:vanishing-gradients"]
fig, ax = plt.subplots(figsize=(7, 4))
steps_back = T - 1 - np.arange(T)
for (label, norms), style in zip(curves.items(), ("-", "--", "-")):
    ax.semilogy(steps_back, norms / norms[-1], style, lw=2, label=label)
ax.set_xlabel("steps between the input $x_t$ and the loss at step $T$")
ax.set_ylabel(r"$\|\partial L/\partial x_t\|$, relative to the last step")
ax.set_title("Gradient reaching each input, random weights, T = 60")
ax.invert_xaxis()
ax.legend()
plt.show()

# %% [markdown]
# Read it from right to left: at the last step every model gets the full gradient; 30 steps
# back the vanilla RNN passes on a millionth of it. An LSTM whose forget gates start half open
# ($b_f = 0$, $f \approx 0.5$) vanishes just as fast; with $b_f = 3$ ($f \approx 0.95$) the
# gradient still arrives after 60 steps. That is why LSTM implementations initialise the
# forget bias to a positive value.
#
# ## 6. The output layer, the loss and gradient clipping
#
# At every step an affine map turns $h_t$ into scores over the vocabulary,
# $s_t = h_t W_{\text{vocab}} + b_{\text{vocab}}$: the same map at every step
# (`temporal_affine_forward` / `temporal_affine_backward`).

# %%
check("temporal_affine_forward")

# %%
check("temporal_affine_backward")

# %% [markdown]
# The loss is softmax cross-entropy at every unmasked step, summed over time and averaged over
# the batch (padding after a caption's end is masked out):
#
# $$L = -\frac{1}{N} \sum_{n=1}^{N} \sum_{t=1}^{T} m_{nt} \log \operatorname{softmax}(s_{nt})_{y_{nt}},
# \qquad \frac{\partial L}{\partial s_{nt}} = \frac{m_{nt}}{N}\left(\operatorname{softmax}(s_{nt}) - e_{y_{nt}}\right).$$
#
# Subtract each row's maximum before exponentiating.

# %%
check("temporal_softmax_loss")

# %% [markdown]
# Recurrent networks also suffer the opposite problem, exploding gradients. Clipping rescales
# *all* gradients by one factor when their global norm
# $\|g\| = \sqrt{\sum_k \|g_k\|^2}$ exceeds a threshold $\tau$:
# $g_k \leftarrow g_k \cdot \tau / \|g\|$.

# %%
check("clip_grad_norm")

# %% [markdown]
# ## 7. Image captioning
#
# `CaptioningRNN` puts the layers together. The image's feature vector sets the initial
# state, $h_0 = f W_{\text{proj}} + b_{\text{proj}}$; the caption, shifted by one word, is both
# the input and the target (*teacher forcing*): the model reads `<START> a red circle` and
# must predict `a red circle <END>`. `sample` decodes greedily: it feeds back its own most
# likely word at every step.

# %%
check("CaptioningRNN")

# %% [markdown]
# ### A small captioning task
#
# Real captioning models read features from a convolutional network trained on millions of
# photos. Ours are generated: 20×20 pictures with one or two shapes of one colour, captioned
# `a red circle`, `two blue squares`, ... A fixed random projection with a ReLU stands in for
# the convolutional network (it is not trained).

# %%
from captioning_rnn import CaptioningRNN
from rnn_layers import clip_grad_norm

SIZE = 20
COLOURS = {"red": (0.9, 0.15, 0.1), "green": (0.1, 0.75, 0.2), "blue": (0.15, 0.3, 0.95),
           "yellow": (0.95, 0.85, 0.1)}
SHAPES = ("square", "circle", "triangle")
VOCAB = ["<NULL>", "<START>", "<END>", "a", "two", *COLOURS, *SHAPES, *(s + "s" for s in SHAPES)]
word_to_idx = {w: i for i, w in enumerate(VOCAB)}


def draw_shape(shape, radius, cy, cx):
    """Boolean (SIZE, SIZE) mask of one shape centred at (cy, cx)."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] + 0.5
    dy, dx = yy - cy, xx - cx
    if shape == "square":
        return (abs(dy) <= 0.85 * radius) & (abs(dx) <= 0.85 * radius)
    if shape == "circle":
        return dy ** 2 + dx ** 2 <= radius ** 2
    return (dy <= 0.8 * radius) & (dy >= -radius) & (abs(dx) <= 0.6 * (dy + radius))  # triangle


def make_dataset(n, seed):
    """n pictures (n, SIZE, SIZE, 3) in [0, 1] and their captions (n, 5) as word indices."""
    rng = np.random.default_rng(seed)
    images, captions = [], []
    for _ in range(n):
        count, colour, shape = rng.integers(1, 3), rng.choice(list(COLOURS)), rng.choice(SHAPES)
        image = 0.1 + 0.05 * rng.standard_normal((SIZE, SIZE, 3))
        centres = [(10, 10)] if count == 1 else [(10, 5.5), (10, 14.5)]
        for cy, cx in centres:
            mask = draw_shape(shape, 5.0 if count == 1 else 3.75, cy + rng.uniform(-.5, .5), cx + rng.uniform(-.5, .5))
            image[mask] = np.array(COLOURS[colour]) + 0.05 * rng.standard_normal((mask.sum(), 3))
        words = ["<START>", "a" if count == 1 else "two", colour, shape + ("s" if count == 2 else ""), "<END>"]
        images.append(np.clip(image, 0, 1))
        captions.append([word_to_idx[w] for w in words])
    return np.stack(images), np.array(captions)


train_images, train_captions = make_dataset(1000, seed=0)
test_images, test_captions = make_dataset(200, seed=1)

projection = np.random.default_rng(42).standard_normal((SIZE * SIZE * 3, 512)) / np.sqrt(SIZE * SIZE * 3)
def extract(images):  # the stand-in for a convolutional network: fixed random features
    return np.maximum(0, (images.reshape(len(images), -1) - 0.3) @ projection)
mean, std = extract(train_images).mean(0), extract(train_images).std(0) + 1e-6
train_features = (extract(train_images) - mean) / std
test_features = (extract(test_images) - mean) / std
print("features", train_features.shape, "captions", train_captions.shape, "vocabulary", len(VOCAB))

# %% [markdown]
# Training uses Adam (given below) with your `clip_grad_norm`: 250 steps of 64 captions,
# a few seconds per model. We train all three cell types from the same start.

# %%
def adam_step(params, grads, state, lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam update of every array in params, in place; state holds the moments."""
    state["t"] = t = state.get("t", 0) + 1
    for k, g in grads.items():
        m = state[f"m_{k}"] = beta1 * state.get(f"m_{k}", 0) + (1 - beta1) * g
        v = state[f"v_{k}"] = beta2 * state.get(f"v_{k}", 0) + (1 - beta2) * g * g
        params[k] -= lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)


def train(cell_type, steps=250, batch_size=64, seed=0):
    np.random.seed(seed)  # CaptioningRNN draws its initial weights from np.random
    model = CaptioningRNN(word_to_idx, input_dim=train_features.shape[1], wordvec_dim=16,
                          hidden_dim=32, cell_type=cell_type, dtype=np.float64)
    rng, state, losses = np.random.default_rng(seed), {}, []
    for _ in range(steps):
        idx = rng.integers(0, len(train_features), batch_size)
        loss, grads = model.loss(train_features[idx], train_captions[idx])
        grads, _ = clip_grad_norm(grads, 5.0)
        adam_step(model.params, grads, state)
        losses.append(float(loss))
    return model, losses


def accuracy(model, features, captions):
    """Fraction of pictures whose whole greedy caption (3 words and <END>) is right."""
    return float((model.sample(features, max_length=4) == captions[:, 1:]).all(axis=1).mean())


models, histories = {}, {}
for cell_type in ("rnn", "lstm", "gru"):
    models[cell_type], histories[cell_type] = train(cell_type)
    print(f"{cell_type:>4}: final loss {np.mean(histories[cell_type][-20:]):.3f}, "
          f"test accuracy {accuracy(models[cell_type], test_features, test_captions):.1%}")

# %% tags=["figure:loss"]
fig, ax = plt.subplots(figsize=(7, 3.5))
for cell_type, losses in histories.items():
    smooth = np.convolve(losses, np.ones(10) / 10, mode="valid")
    ax.plot(np.arange(len(smooth)) + 10, smooth, lw=2, label=cell_type.upper())
ax.set_yscale("log")
ax.set_xlabel("training step")
ax.set_ylabel("loss per caption (moving average)")
ax.set_title("Training the captioning model")
ax.legend()
plt.show()

# %% [markdown]
# ### What did it learn?
#
# Pictures the model never saw, with its greedy caption (green when every word is right).

# %% tags=["figure:captions"]
def caption_text(indices):
    words = [VOCAB[i] for i in indices]
    return " ".join(words[:words.index("<END>")] if "<END>" in words else words)


model = models["lstm"]
shown = np.arange(12)
predicted = model.sample(test_features[shown], max_length=4)
fig, axes = plt.subplots(2, 6, figsize=(12, 5))
for ax, i, pred in zip(axes.flat, shown, predicted):
    ax.imshow(test_images[i], interpolation="nearest")
    right = np.array_equal(pred, test_captions[i, 1:])
    ax.set_title(caption_text(pred), color="tab:green" if right else "tab:red", fontsize=10)
    ax.axis("off")
fig.suptitle("Greedy captions of unseen pictures (LSTM)")
plt.tight_layout()
plt.show()

# %% [markdown]
# When you are done, run `pytest` in this folder for the whole public self-check, then upload
# `rnn_layers.py` and `captioning_rnn.py` to Gradescope. The hidden tests use other shapes
# and seeds (batch size 1, a single time step, repeated words), so make your code work for
# any valid shape.
