# Source of the student notebook starter/vit/vit.ipynb (regenerate: autograder notebooks vit).
# Percent format: "# %%" starts a code cell, "# %% [markdown]" a markdown cell, "# %% [setup]"
# the setup cell (autograder/templates/notebook_setup.py.tmpl, then the lines below it). CI runs
# it top to bottom against solutions/vit.

# %% [markdown]
# # Attention for images, in torch
#
# You implement, in `vit.py`, the pieces of a vision transformer ("an image is worth 16x16
# words"): cutting images into patches, embedding them, multi-head self-attention, the MLP, the
# pre-norm block and the classifier; then attention rollout, which traces how much each patch
# flows into the class token, and self-attention over the positions of a CNN feature map.
#
# **Work in `vit.py`, not here.** Each `check(...)` cell runs the public checks of one class or
# function through the same engine that grades your submission (on the file as saved on disk);
# `pytest` in this folder runs all of them. Not allowed (checked): `torch.nn.MultiheadAttention`,
# `torch.nn.functional.scaled_dot_product_attention` and the `torch.nn.Transformer*` classes.

# %% [setup]
import torch

torch.set_num_threads(1)  # the grader's setting; results are then reproducible

# %% [markdown]
# ## 1. Patches
#
# An image (C, H, W) becomes a sequence of $P = (H/p)(W/p)$ patches of $p \times p$ pixels, row
# by row from the top left; each patch is flattened in (C, p, p) order to a vector of $C p^2$
# numbers, and `PatchEmbedding` maps each one to $E$ numbers with one linear layer.

# %%
check("patchify")
check("PatchEmbedding")

# %% tags=["figure:patches"]
import vit

image = torch.linspace(0, 1, 12 * 16).reshape(1, 1, 12, 16)
patches = vit.patchify(image, 4)  # (1, 12, 16)
fig, ax = plt.subplots(figsize=(4, 3))
ax.imshow(image[0, 0], cmap="viridis")
for k in range(patches.shape[1]):
    r, c = divmod(k, 16 // 4)
    ax.add_patch(plt.Rectangle((c * 4 - 0.5, r * 4 - 0.5), 4, 4, fill=False, color="white"))
    ax.text(c * 4 + 1.5, r * 4 + 1.5, str(k), color="white", ha="center", va="center")
ax.set_title("patch grid, p = 4: patch numbers in row-major order")
plt.show()

# %% [markdown]
# ## 2. Multi-head self-attention
#
# One linear layer `qkv` makes queries, keys and values; each is split into $h$ heads of size
# $d = E/h$, and every head computes
# $$\mathrm{softmax}\!\left(\frac{Q_j K_j^\top}{\sqrt d}\right) V_j,$$
# with the softmax over the keys. The heads are concatenated and projected by `proj`.

# %%
check("MultiHeadSelfAttention")

# %% [markdown]
# ## 3. The block and the vision transformer
#
# `MLP` is fc1, GELU, dropout, fc2, dropout. A block is pre-norm:
# $x \leftarrow x + \mathrm{attn}(\mathrm{norm}_1(x))$, then $x \leftarrow x + \mathrm{mlp}(\mathrm{norm}_2(x))$.
# The model puts a learned class token in front of the patch embeddings, adds `pos_embed`,
# runs the blocks and classifies from the class token.

# %%
check("MLP")
check("ViTBlock")
check("VisionTransformer")

# %% [markdown]
# ## 4. Attention rollout and spatial self-attention

# %%
check("attention_rollout")
check("SpatialSelfAttention")

# %% [markdown]
# ## 5. Where is the square?
#
# `image_task.py` draws 16 x 16 noise images with one bright square filling exactly one 4 x 4
# patch of the grid; the label is the quadrant the square is in. A patch's content is the same
# wherever it is, so only `pos_embed` tells the model where a patch sits. We train the same
# model twice: with a learned `pos_embed`, and with `pos_embed` frozen at zero.

# %%
import image_task

images, labels = image_task.make_data(8, seed=5)
fig, axes = plt.subplots(1, 8, figsize=(12, 1.8))
for ax, img, y in zip(axes, images, labels):
    ax.imshow(img[0], cmap="gray")
    ax.set_title(f"quadrant {int(y)}")
    ax.axis("off")
plt.show()

models = {}
for pos in (True, False):
    model = image_task.build_model(vit, seed=0, pos_embed=pos)
    losses = image_task.train(model, seed=0)
    models[pos] = model
    print(f"pos_embed {'learned     ' if pos else 'frozen at 0'}: loss {losses[0]:.3f} -> {losses[-1]:.3f}, "
          f"test accuracy {image_task.accuracy(model):.1%} (target {image_task.TARGET:.0%}, chance 25%)")

# %% [markdown]
# ### What the trained model attends to
#
# Each head's attention of the class token over the 16 patches in the last block, drawn as a
# 4 x 4 grid, and the rollout through both blocks over the image.

# %% tags=["figure:attention"]
model, g = models[True], image_task.CONFIG.image // image_task.CONFIG.patch
with torch.no_grad():
    _, weights = model(images[:1], return_weights=True)
    rollout = vit.attention_rollout(weights)[0].reshape(g, g)
heads = weights[-1][0, :, 0, 1:].reshape(-1, g, g)
fig, axes = plt.subplots(1, len(heads) + 2, figsize=(14, 2.4))
axes[0].imshow(images[0, 0], cmap="gray")
axes[0].set_title(f"image (quadrant {int(labels[0])})")
for j, (ax, w) in enumerate(zip(axes[1:], heads)):
    ax.imshow(w, cmap="magma")
    ax.set_title(f"head {j}")
axes[-1].imshow(images[0, 0], cmap="gray")
axes[-1].imshow(rollout.repeat_interleave(4, 0).repeat_interleave(4, 1), cmap="magma", alpha=0.6)
axes[-1].set_title("rollout over the image")
for ax in axes:
    ax.axis("off")
plt.show()

# %% [markdown]
# ### Spatial self-attention on a feature map
#
# `SpatialSelfAttention` lets every position of a feature map look at every other one. Below,
# one query position of a random layer over a smooth 2-channel map, and the weights it gives
# to all positions.

# %%
torch.manual_seed(0)
layer = vit.SpatialSelfAttention(2, 4)
yy, xx = torch.meshgrid(torch.linspace(-1, 1, 8), torch.linspace(-1, 1, 8), indexing="ij")
fmap = torch.stack([yy, xx])[None]  # (1, 2, 8, 8)
with torch.no_grad():
    _, w = layer(fmap)
query = 2 * 8 + 5  # row 2, column 5
fig, ax = plt.subplots(figsize=(4, 4))
ax.imshow(w[0, query].reshape(8, 8), cmap="magma")
ax.scatter([5], [2], marker="x", color="cyan")
ax.set_title("weights of query (2, 5)")
plt.show()

# %% [markdown]
# When you are done, run `pytest` in this folder for the whole public self-check, then upload
# `vit.py` to Gradescope. The hidden tests use other shapes (one channel, non-square images,
# patches of one pixel and of the whole image, one head, one block and three), so make your
# code work for any valid input.
