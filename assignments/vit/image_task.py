"""Where is the square? A synthetic image task that a vision transformer solves only with
its positional embedding.

Each image is 1 x 16 x 16 noise with one bright 4 x 4 square that fills one patch of the 4 x 4
patch grid exactly (aligned to the grid). The label is the quadrant of the image the square is
in (0 top left, 1 top right, 2 bottom left, 3 bottom right). Every patch is either noise or the
square, wherever it is, so a patch's content says nothing about its position: with pos_embed
frozen at zero the model treats its patches as a set and cannot do better than chance (25%).

    import vit, image_task
    model = image_task.build_model(vit, seed=0)
    image_task.train(model, seed=0)
    assert image_task.accuracy(model) >= image_task.TARGET

Everything is drawn from a seed; nothing is downloaded. Only torch, the standard library and
the autograder kit's Adam (torch.optim's first optimizer imports torch's compiler stack).
"""

import argparse
import importlib.util
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from autograder.kit.optim import Adam

__all__ = ["TARGET", "Config", "CONFIG", "make_data", "build_model", "train", "accuracy"]

TARGET = 0.9  # test accuracy the model must reach; chance is 0.25


@dataclass(frozen=True)
class Config:
    """Data, model size and training budget (a few seconds on one CPU thread)."""

    image: int = 16
    patch: int = 4
    classes: int = 4
    noise: float = 0.5  # background: N(0, noise^2)
    embed_dim: int = 32
    depth: int = 2
    num_heads: int = 4
    mlp_ratio: float = 2.0
    pos_std: float = 1.0  # pos_embed starts at N(0, pos_std^2): position is visible from step 0
    steps: int = 200
    batch_size: int = 64
    lr: float = 5e-3  # Adam, decayed linearly to 0 over the steps
    test_size: int = 512


CONFIG = Config()


def make_data(n, seed, config=CONFIG):
    """n images (n, 1, H, W) float32 and their labels (n,) int64, drawn from `seed`."""
    gen = torch.Generator().manual_seed(seed)
    g, p = config.image // config.patch, config.patch
    images = config.noise * torch.randn(n, 1, config.image, config.image, generator=gen)
    cell = torch.randint(0, g * g, (n,), generator=gen)
    rows, cols = cell // g, cell % g
    for i in range(n):
        r, c = int(rows[i]) * p, int(cols[i]) * p
        images[i, 0, r:r + p, c:c + p] = 2.0 + config.noise * torch.randn(p, p, generator=gen)
    labels = (rows >= g // 2).long() * 2 + (cols >= g // 2).long()
    return images, labels


def build_model(module, seed=0, pos_embed=True, config=CONFIG):
    """module.VisionTransformer for this task, initialised from `seed` (pos_embed drawn anew
    from N(0, pos_std^2), whatever the constructor did); with pos_embed=False its pos_embed is
    zero and frozen (the model then cannot tell where a patch is)."""
    torch.manual_seed(seed)
    model = module.VisionTransformer(config.image, config.patch, 1, config.classes, config.embed_dim,
                                     config.depth, config.num_heads, mlp_ratio=config.mlp_ratio)
    with torch.no_grad():
        if pos_embed:
            model.pos_embed.normal_(0.0, config.pos_std)
        else:
            model.pos_embed.zero_()
    model.pos_embed.requires_grad_(pos_embed)
    return model


def train(model, steps=None, seed=0, config=CONFIG):
    """Adam on fresh batches from seeds 1000 + step, on the model's device; returns the losses
    (floats, one per step) and leaves the model in eval mode."""
    steps = config.steps if steps is None else steps
    device = next(model.parameters()).device
    torch.manual_seed(seed)
    adam = Adam(model.parameters())
    losses = []
    model.train()
    for step in range(steps):
        x, y = (t.to(device) for t in make_data(config.batch_size, seed * 100003 + 1000 + step, config))
        loss = F.cross_entropy(model(x.to(next(model.parameters()).dtype)), y)
        adam.zero_grad()
        loss.backward()
        adam.step(config.lr * (1.0 - step / steps))
        losses.append(loss.item())
    model.eval()
    return losses


@torch.no_grad()
def accuracy(model, seed=1, config=CONFIG):
    """Accuracy on config.test_size images drawn from `seed` (never a training seed)."""
    model.eval()
    param = next(model.parameters())
    x, y = make_data(config.test_size, seed, config)
    return (model(x.to(param.device, param.dtype)).argmax(dim=1).cpu() == y).double().mean().item()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("solution", nargs="?", default="vit.py", help="the file with VisionTransformer")
    args = ap.parse_args()
    spec = importlib.util.spec_from_file_location("vit", args.solution)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch.set_num_threads(1)
    for pos in (True, False):
        start = time.perf_counter()
        model = build_model(module, seed=0, pos_embed=pos)
        losses = train(model, seed=0)
        print(f"pos_embed {'learned' if pos else 'frozen at 0'}: loss {losses[0]:.3f} -> {losses[-1]:.3f}, "
              f"test accuracy {accuracy(model):.1%} ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
