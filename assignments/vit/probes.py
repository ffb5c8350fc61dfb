"""Python probes for `vit`: those a declaration in assignment.yaml (`probes:`) cannot say.

Run in the sandboxed child; `probe(m, c, p)` gets the student's module, the case's arrays and its
parameters. Modules are loaded by name (kit.torch.load_strict: float64, eval mode). Dropout
placement is checked with the kit's pinned-mask dropouts in place of the module's own nn.Dropout
submodules (the reference gets the same masks).
"""

import re

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


def rollout_meta(m, c, p):
    """The rollout of CPU weights while torch's default device is 'meta': a tensor made without
    device= (the identity) lands there and cannot be combined with the weights, as a CPU tensor
    cannot with a GPU's."""
    weights = list(_t(c["weights"]))
    with torch.device("meta"):
        out = m.attention_rollout(weights)
    if torch.is_tensor(out) and out.device != weights[0].device:
        raise ContractError(f"the rollout came back on the {out.device.type} device, not on the weights' device")
    return {"rollout": out}


def _raised(call, *sizes):
    """0: no error, 1: a ValueError that names every one of `sizes`, 2: one that does not,
    3: another exception (the stub's NotImplementedError goes through)."""
    try:
        call()
    except NotImplementedError:
        raise
    except ValueError as exc:
        return 1 if all(re.search(rf"(?<!\d){n}(?!\d)", str(exc)) for n in sizes) else 2
    except Exception:
        return 3
    return 0


def errors(m, c, p):
    """patchify of an image whose height is not a multiple of p, a model given images with one
    channel too many, an empty rollout: each must be a ValueError naming the sizes."""
    C, (H, W), q = p["C"], ((p["img"],) * 2 if isinstance(p["img"], int) else p["img"]), p["p"]
    model = _vit(m, c, p)
    bad = torch.zeros(1, C, H + 1, W, dtype=torch.float64)
    return {"patchify_error": _raised(lambda: m.patchify(bad, q), H + 1, W, q),
            "shape_error": _raised(lambda: model(torch.zeros(1, C + 1, H, W, dtype=torch.float64)), C, H, W),
            "rollout_error": _raised(lambda: m.attention_rollout([]))}


def vit_dropout(m, c, p):
    """Only pos_drop: the blocks' dropouts have their own tests."""
    model = kt.fix_dropout(_vit(m, c, p), int(c["drop_seed"]), ["pos_drop"])
    return {"logits": model(_t(c["images"]))}
