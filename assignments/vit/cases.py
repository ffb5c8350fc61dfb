"""Case builders for `vit`: each makes the inputs of one case from a private generator.

`builder(rng, **params) -> {name: array}`; params come from assignment.yaml, `rng` is seeded
from the case's name. Everything is float64. Naming: `param.<name>` is a parameter of the
module under test by its state_dict name (loaded by name, strictly); `d<output>` the upstream
gradient of an output; `drop_seed` seeds the pinned dropout masks; `perm` a permutation of
the S token positions that keeps the class token (position 0) in place, and `images_perm` the
images with their patches moved accordingly.
"""

import importlib.util
from pathlib import Path

import numpy as np

from autograder.kit import normal, permutation

HERE = Path(__file__).resolve().parent


def _hw(img):
    return (img, img) if isinstance(img, int) else tuple(img)


def _linear(rng, prefix, fan_in, fan_out, gain=1.0):
    return {f"param.{prefix}weight": normal(rng, fan_out, fan_in, scale=gain / np.sqrt(fan_in)),
            f"param.{prefix}bias": normal(rng, fan_out, scale=0.1)}


def _norm(rng, prefix, E):
    return {f"param.{prefix}weight": 1.0 + normal(rng, E, scale=0.2), f"param.{prefix}bias": normal(rng, E, scale=0.2)}


def _attn(rng, prefix, E):
    # gain 2 on qkv: attention far from uniform, so a wrong scale or axis shows
    return {**_linear(rng, f"{prefix}qkv.", E, 3 * E, gain=2.0), **_linear(rng, f"{prefix}proj.", E, E)}


def _mlp(rng, prefix, E, F):
    return {**_linear(rng, f"{prefix}fc1.", E, F), **_linear(rng, f"{prefix}fc2.", F, E)}


def _block(rng, prefix, E, F):
    return {**_norm(rng, f"{prefix}norm1.", E), **_attn(rng, f"{prefix}attn.", E),
            **_norm(rng, f"{prefix}norm2.", E), **_mlp(rng, f"{prefix}mlp.", E, F)}


def _seed(rng):
    return {"drop_seed": np.asarray(int(rng.integers(0, 2**31 - 1)), dtype=np.int64)}


def _patches(images, p):
    N, C, H, W = images.shape
    x = images.reshape(N, C, H // p, p, W // p, p).transpose(0, 2, 4, 1, 3, 5)
    return x.reshape(N, (H // p) * (W // p), C, p, p)


def _unpatches(patches, H, W):
    N, P, C, p, _ = patches.shape
    x = patches.reshape(N, H // p, W // p, C, p, p).transpose(0, 3, 1, 4, 2, 5)
    return x.reshape(N, C, H, W)


# --- builders --------------------------------------------------------------------------------

def patchify(rng, N, C, img, p):
    H, W = _hw(img)
    return {"images": normal(rng, N, C, H, W)}


def patch_embed(rng, N, C, img, p, E):
    H, W = _hw(img)
    P = (H // p) * (W // p)
    return {"images": normal(rng, N, C, H, W), **_linear(rng, "proj.", C * p * p, E), "dout": normal(rng, N, P, E)}


def mhsa(rng, N, S, E, h):
    return {"x": normal(rng, N, S, E), **_attn(rng, "", E), "dout": normal(rng, N, S, E),
            "dweights": normal(rng, N, h, S, S), **_seed(rng)}


def mlp(rng, N, S, E, F):
    return {"x": normal(rng, N, S, E), **_mlp(rng, "", E, F), "dout": normal(rng, N, S, E), **_seed(rng)}


def block(rng, N, S, E, h):
    return {"x": normal(rng, N, S, E), **_block(rng, "", E, 4 * E), "dout": normal(rng, N, S, E)}


def vit(rng, N, C, img, p, K, E, depth, h):
    """A VisionTransformer's parameters (mlp_ratio 2), images, the upstream gradient of the
    logits, and for the permutation test a token permutation and the permuted images."""
    H, W = _hw(img)
    P = (H // p) * (W // p)
    images = normal(rng, N, C, H, W)
    out = {"images": images, **_vit_params(rng, C, P, p, K, E, depth), "dout": normal(rng, N, K)}
    perm = np.concatenate([[0], 1 + permutation(rng, P)]).astype(np.int64)
    images_perm = _unpatches(_patches(images, p)[:, perm[1:] - 1], H, W)
    return {**out, "perm": perm, "images_perm": images_perm, **_seed(rng)}


def _vit_params(rng, C, P, p, K, E, depth):
    return {**_linear(rng, "patch_embed.proj.", C * p * p, E),
            "param.cls_token": normal(rng, 1, 1, E), "param.pos_embed": normal(rng, 1, P + 1, E),
            **{k: v for i in range(depth) for k, v in _block(rng, f"blocks.{i}.", E, 2 * E).items()},
            **_norm(rng, "norm.", E), **_linear(rng, "head.", E, K)}


def vit_train(rng, seed, steps, batch_size):
    """Initial weights of image_task's model (mlp_ratio 2); `seed`, `steps` and `batch_size`
    are arguments of image_task.train."""
    spec = importlib.util.spec_from_file_location("_vit_image_task", HERE / "image_task.py")
    task = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(task)
    cfg = task.CONFIG
    g = cfg.image // cfg.patch
    return _vit_params(rng, 1, g * g, cfg.patch, cfg.classes, cfg.embed_dim, cfg.depth)


def rollout(rng, N, S, h, depth):
    """Attention weights of `depth` blocks, (depth, N, h, S, S), each row a softmax."""
    scores = normal(rng, depth, N, h, S, S, scale=2.0)
    w = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return {"weights": w / w.sum(axis=-1, keepdims=True)}


def spatial(rng, N, C, H, W, K):
    out = {"x": normal(rng, N, C, H, W), "dout": normal(rng, N, C, H, W)}
    for name, k in (("query", K), ("key", K), ("value", C)):
        out[f"param.{name}.weight"] = normal(rng, k, C, 1, 1, scale=2.0 / np.sqrt(C))
        out[f"param.{name}.bias"] = normal(rng, k, scale=0.1)
    return {**out, "param.gamma": 0.5 + np.abs(normal(rng, 1))}
