"""Attention for images, written from plain torch ops: a vision transformer, attention
rollout and self-attention over a CNN feature map.

Shapes: N images, C channels, H x W pixels, p the side of a square patch, P = (H/p)(W/p)
patches, S = P + 1 tokens (the class token first), E the embedding size, h heads and
d = E / h the size of one head.

The module and attribute names follow the most widely used ViT code (`patch_embed`,
`cls_token`, `pos_embed`, `blocks`, `qkv`, `proj`, `norm1`, `mlp`, `head`); the grader loads
its reference weights into your modules by these names, so keep them.

Not allowed here (the grader checks): torch.nn.MultiheadAttention,
torch.nn.functional.scaled_dot_product_attention,
torch.nn.functional.multi_head_attention_forward, torch._native_multi_head_attention and the
torch.nn.Transformer* classes. nn.LayerNorm, nn.GELU and F.unfold are allowed.
"""

# Note for course developers: every __init__ is given to students unchanged (no solution
# blocks in constructors), so the stub builds modules with the contract's names and the
# grader can load weights by name and report "forward not implemented".

import math

import torch
import torch.nn as nn

__all__ = [
    "patchify",
    "PatchEmbedding",
    "MultiHeadSelfAttention",
    "MLP",
    "ViTBlock",
    "VisionTransformer",
    "attention_rollout",
    "SpatialSelfAttention",
]


def _pair(size):
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def _check_divisible(H, W, p):
    if H % p or W % p:
        raise ValueError(f"image size {H}x{W} is not divisible by patch size {p}")


def patchify(images, patch_size):
    """Cuts images into non-overlapping square patches and flattens each one.

    Args:
        images: (N, C, H, W); H and W divisible by p = patch_size.
        patch_size: p.

    Returns:
        patches: (N, P, C*p*p). Patch r*(W/p) + c (row-major, top-left first) is
        images[n, :, r*p:(r+1)*p, c*p:(c+1)*p] flattened in (C, p, p) order.

    Raises:
        ValueError: when H or W is not divisible by p; the message names the sizes.

    Pitfalls: a plain images.reshape(N, P, -1) mixes pixels of different patches; the
    patches go row by row (not column by column), and inside a patch the channel is the
    slowest index, as in images[n, :, rows, cols].flatten().
    """
    raise NotImplementedError("patchify: not implemented yet")


class PatchEmbedding(nn.Module):
    """Embeds each patch linearly: proj(patchify(images, p)).

    Submodule `proj` = nn.Linear(in_chans * p * p, embed_dim); attribute `num_patches` = P.
    """

    def __init__(self, img_size, patch_size, in_chans, embed_dim):
        super().__init__()
        H, W = _pair(img_size)
        _check_divisible(H, W, patch_size)
        self.img_size = (H, W)
        self.patch_size = patch_size
        self.num_patches = (H // patch_size) * (W // patch_size)
        self.proj = nn.Linear(in_chans * patch_size * patch_size, embed_dim)

    def forward(self, images):
        """images (N, C, H, W) -> (N, P, E)."""
        raise NotImplementedError("forward: not implemented yet")


class MultiHeadSelfAttention(nn.Module):
    """Multi-head self-attention over a sequence of tokens.

        q, k, v = split(qkv(x), E, along the last axis)      each (N, S, E)
        each viewed as (N, S, h, d): head j owns columns j*d:(j+1)*d
        weights = attn_drop(softmax(q k^T / sqrt(d), over the keys))   (N, h, S, S)
        out     = proj(concat over heads of weights v)                 (N, S, E)

    Submodules, in this order: `qkv` nn.Linear(E, 3E), `attn_drop` nn.Dropout, `proj`
    nn.Linear(E, E).
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0):
        super().__init__()
        if embed_dim % num_heads != 0:
            raise ValueError(f"embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.qkv = nn.Linear(embed_dim, 3 * embed_dim)
        self.attn_drop = nn.Dropout(dropout)
        self.proj = nn.Linear(embed_dim, embed_dim)

    def forward(self, x, return_weights=False):
        """x (N, S, E) -> out (N, S, E), or (out, weights (N, h, S, S)) with return_weights.

        The weights returned are the ones applied to v (after dropout).

        Pitfalls:
            - q, k, v are the first, second and third E columns of qkv(x), not columns
              interleaved three by three.
            - Scale by 1/sqrt(d), the size of one head, and take the softmax over the keys
              (the last axis).
            - Dropout goes on the weights, before they multiply v, not on the output.
        """
        raise NotImplementedError("forward: not implemented yet")


class MLP(nn.Module):
    """The transformer's feed-forward part: drop(fc2(drop(act(fc1(x))))).

    Submodules `fc1` nn.Linear(E, hidden), `act` nn.GELU (exact), `drop` nn.Dropout, `fc2`
    nn.Linear(hidden, E).
    """

    def __init__(self, embed_dim, hidden_dim, dropout=0.0):
        super().__init__()
        self.fc1 = nn.Linear(embed_dim, hidden_dim)
        self.act = nn.GELU()
        self.drop = nn.Dropout(dropout)
        self.fc2 = nn.Linear(hidden_dim, embed_dim)

    def forward(self, x):
        """x (N, S, E) -> (N, S, E)."""
        raise NotImplementedError("forward: not implemented yet")


class ViTBlock(nn.Module):
    """A pre-norm transformer block:

        x = x + attn(norm1(x))
        x = x + mlp(norm2(x))

    Submodules `norm1`, `attn` (MultiHeadSelfAttention), `norm2`, `mlp` (MLP with hidden size
    int(E * mlp_ratio)); every norm is nn.LayerNorm(E).
    """

    def __init__(self, embed_dim, num_heads, mlp_ratio=4.0, dropout=0.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(embed_dim)
        self.attn = MultiHeadSelfAttention(embed_dim, num_heads, dropout)
        self.norm2 = nn.LayerNorm(embed_dim)
        self.mlp = MLP(embed_dim, int(embed_dim * mlp_ratio), dropout)

    def forward(self, x, return_weights=False):
        """x (N, S, E) -> x (N, S, E), or (x, weights (N, h, S, S)) with return_weights.

        Pitfall: the norm goes inside each residual branch (pre-norm), not after the sum.
        """
        raise NotImplementedError("forward: not implemented yet")


class VisionTransformer(nn.Module):
    """A vision transformer classifier.

        tokens = cat(cls_token, patch_embed(images)) + pos_embed     (N, S, E), class token first
        tokens = blocks(pos_drop(tokens)); logits = head(norm(tokens)[:, 0])

    Submodules and parameters: `patch_embed`, `cls_token` (1, 1, E), `pos_embed` (1, S, E),
    `pos_drop`, `blocks` (nn.ModuleList of `depth` ViTBlocks), `norm`, `head`.
    """

    def __init__(self, img_size, patch_size, in_chans, num_classes, embed_dim, depth, num_heads,
                 mlp_ratio=4.0, dropout=0.0):
        super().__init__()
        self.in_chans = in_chans
        self.patch_embed = PatchEmbedding(img_size, patch_size, in_chans, embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(0.02 * torch.randn(1, self.patch_embed.num_patches + 1, embed_dim))
        self.pos_drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([ViTBlock(embed_dim, num_heads, mlp_ratio, dropout) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim)
        self.head = nn.Linear(embed_dim, num_classes)

    def forward(self, images, return_weights=False):
        """images (N, C, H, W) -> logits (N, num_classes), or (logits, [weights of each
        block, (N, h, S, S)]) with return_weights.

        Raises:
            ValueError: for images of another size or channel count; the message says which
                shape (C, H, W) is expected.

        Pitfalls: the class token goes first and the head reads token 0 (not the mean of
        the tokens); pos_embed is added to every token, the class token included.
        """
        raise NotImplementedError("forward: not implemented yet")


def attention_rollout(weights):
    """How much each patch flows into the class token through all the blocks.

    For each block: A = the mean of its weights over the heads, B = (A + I) / 2 with each row
    renormalised to sum to 1 (the identity stands for the residual path). Then
    R = B_last @ ... @ B_first.

    Args:
        weights: list of depth tensors (N, h, S, S), the first block first.

    Returns:
        (N, P): R[:, 0, 1:], the share of each patch in the class token. Non-negative, and
        with R[:, 0, 0] (the class token's own share) it sums to 1.

    Raises:
        ValueError: for an empty list.

    Pitfalls: later blocks multiply from the left; without the identity the residual path
    is ignored.
    """
    raise NotImplementedError("attention_rollout: not implemented yet")


class SpatialSelfAttention(nn.Module):
    """Self-attention over the positions of a CNN feature map (as in SAGAN).

        q = query(x), k = key(x): (N, key_channels, H, W); v = value(x): (N, C, H, W)
        positions flattened row-major: HW of them
        weights = softmax over keys of q^T k / sqrt(key_channels)     (N, HW, HW)
        out = x + gamma * (v weighted by weights), reshaped to (N, C, H, W)

    Submodules `query`, `key` (nn.Conv2d(C, key_channels, 1)), `value` (nn.Conv2d(C, C, 1)),
    parameter `gamma` of shape (1,), initialised to 0 (so the layer starts as the identity).
    """

    def __init__(self, channels, key_channels):
        super().__init__()
        self.key_channels = key_channels
        self.query = nn.Conv2d(channels, key_channels, 1)
        self.key = nn.Conv2d(channels, key_channels, 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        """x (N, C, H, W) -> (out (N, C, H, W), weights (N, HW, HW)).

        Pitfall: keep the residual x + gamma * ...; weights[n, i, j] is how much position i
        (the query) takes from position j.
        """
        raise NotImplementedError("forward: not implemented yet")
