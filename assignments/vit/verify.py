"""Property judges for `vit` that the kit's standard judges do not cover, run in the grader on
plain arrays. `judge(inputs, outputs, params) -> None | str` (None passes)."""

import numpy as np

from autograder.kit.judges import first_nonfinite, index_text


def rollout_share(inputs, outputs, params):
    """The rollout R[:, 0, 1:] is non-negative and sums to less than 1 per image (the rest,
    R[:, 0, 0], is the class token's own share)."""
    found = first_nonfinite(outputs, ["rollout"])
    if found:
        return f"'rollout' is not finite at {index_text(found[1])}"
    r = np.asarray(outputs["rollout"], dtype=np.float64)
    if (r < 0).any():
        i = np.unravel_index(int(np.argmin(r)), r.shape)
        return f"the rollout at {index_text(i)} is {r[i]:.9g}, but a share of the class token is never negative"
    sums = r.sum(axis=1)
    n = int(np.argmax(sums))
    if sums[n] >= 1:
        return (f"the patches' shares of image {n} sum to {sums[n]:.9g}, but they must leave the class token a "
                "share of its own (less than 1 in all): add the identity to each block's mean attention and "
                "renormalise the rows")
    return None


WHAT = {"patchify_error": ("patchify of a {H1}x{W} image with patch size {p}", "the image size and the patch size"),
        "shape_error": ("VisionTransformer({C}, {H}x{W} images) given images with {C1} channels",
                        "the expected shape (C, H, W)"),
        "rollout_error": ("attention_rollout([])", "")}


def raises_value_errors(inputs, outputs, params):
    """Every invalid argument of the `errors` probe was a ValueError that names its sizes."""
    H, W = (params["img"],) * 2 if isinstance(params["img"], int) else params["img"]
    sizes = dict(H=H, W=W, H1=H + 1, C=params["C"], C1=params["C"] + 1, p=params["p"])
    for name, (call, named) in WHAT.items():
        code, call = int(outputs[name]), call.format(**sizes)
        if code == 0:
            return f"{call} raised no error; raise ValueError there, with a message that names the sizes"
        if code == 3:
            return f"{call} raised an exception other than ValueError; check the sizes yourself and raise ValueError"
        if code == 2:
            return f"the ValueError of {call} must name {named} in its message"
    return None
