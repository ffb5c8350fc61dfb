"""Python probes for `vit`: those a declaration in assignment.yaml (`probes:`) cannot say.

Run in the sandboxed child; `probe(m, c, p)` gets the student's module, the case's arrays and its
parameters. Modules are loaded by name (kit.torch.load_strict: float64, eval mode). Dropout
placement is checked with the kit's pinned-mask dropouts in place of the module's own nn.Dropout
submodules (the reference gets the same masks).
"""

import numpy as np
import torch

from autograder.kit import ContractError
from autograder.kit import torch as kt

_t = kt.tensor


def mhsa_dropout(m, c, p):
    module = kt.load_strict(m.MultiHeadSelfAttention(p["E"], p["h"], dropout=0.3), c)
    out, weights = kt.fix_dropout(module, int(c["drop_seed"]), ["attn_drop"], dims={"attn_drop": 2})(
        _t(c["x"]), return_weights=True)
    return {"out": out, "weights": weights}


def mlp_dropout(m, c, p):
    module = kt.fix_dropout(kt.load_strict(m.MLP(p["E"], p["F"], dropout=0.3), c), int(c["drop_seed"]), ["drop"])
    return {"out": module(_t(c["x"]))}


def _vit(m, c, p):
    return kt.load_strict(m.VisionTransformer(p["img"], p["p"], p["C"], p["K"], p["E"], p["depth"], p["h"],
                                              mlp_ratio=2.0, dropout=0.3), c)


def vit_permuted(m, c, p):
    """With pos_embed zeroed: logits and the final normed tokens (read from `norm`) for the
    images and for the images with their patches permuted (verify: tokens permute, logits stay)."""
    model = _vit(m, c, p)
    with torch.no_grad():
        model.pos_embed.zero_()
    seen = []
    model.norm.register_forward_hook(lambda mod, inp, out: seen.append(out))
    out = {"logits": model(_t(c["images"])), "logits_perm": model(_t(c["images_perm"]))}
    if len(seen) != 2:
        raise ContractError(f"VisionTransformer.forward called its `norm` {len(seen) // 2} times per image batch, "
                            "expected once, on all the tokens after the last block")
    return {**out, "tokens": seen[0], "tokens_perm": seen[1]}


def rollout(m, c, p):
    return {"rollout": m.attention_rollout(list(_t(c["weights"])))}


def vit_train(m, c, p):
    """`steps` steps of image_task.train (its batches, Adam and schedule) from the case's weights,
    in float64; one loss per step."""
    import dataclasses

    import image_task

    config = dataclasses.replace(image_task.CONFIG, batch_size=p["batch_size"])
    model = kt.load_strict(image_task.build_model(m, seed=p["seed"], config=config), c)
    return {"losses": np.asarray(image_task.train(model, steps=p["steps"], seed=p["seed"], config=config))}
