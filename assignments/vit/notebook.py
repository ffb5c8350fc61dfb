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

# %%
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
# When you are done, run `pytest` in this folder for the whole public self-check, then upload
# `vit.py` to Gradescope. The hidden tests use other shapes (one channel, non-square images,
# patches of one pixel and of the whole image, one head, one block and three), so make your
# code work for any valid input.
