"""The author kit: everything an assignment's own Python (cases.py, probes.py, verify.py) may use.

Assignments import nothing from the engine but `autograder.kit`. What is here:

Case builders (cases.py, run at build time; `rng` is the case's seeded generator)
    normal(rng, *shape, scale=1.0)      float64 N(0, scale^2) array
    ints(rng, high, *shape, low=0, repeat=True)
                                        int64 indices, with a repeated value (catches lost updates)
    mask(rng, N, L, kind)               bool mask with an open entry in every row
                                        (random, single, prefix, leading)
    permutation(rng, n)                 a permutation that is never the identity (n >= 2)
    one_hot(indices, n)                 one-hot vectors
    Edge-case shapes (N = 1, T = 1) are declared once per case set in assignment.yaml with
    `edges: {N: 1, T: 1}` (see kit.cases).

Probes (probes.py, run in the sandboxed child next to the student's module)
    Most probes need no Python: declare them in assignment.yaml under `probes:` (docs/kit.md).
    Python probes, `probe(m, c, p) -> {output: array}`, use:
    to_array(value, name)               numpy / scalar / tensor -> plain numpy array (NotArray else)
    leaves(obj, path)                   (path, array) for every array in a nested tuple/list/dict
    prefixed(arrays, prefix)            the arrays named PREFIX..., under the rest of their names
    watch(call, **values)               run call(); before/after copies of the arrays in values
    adam_step(params, grads, state, step, lr)
                                        one numpy Adam update, for training checks
    ContractError                       raise it with a message the student sees as it is

Torch probes (kit.torch, imported by itself: `from autograder.kit.torch import ...`; it imports torch)
    tensor(a, share=False), leaf(a)     case arrays as tensors (copies unless shared), leaves needing grad
    load_strict(module, arrays)         weights by name from `param.` arrays, float64, eval mode
    scalar_backward(out, dout)          backward of sum(out * dout) (or of a list of such pairs)
    grads_of(inputs, module)            gradients by name, zeros where none reached
    FixedDrop, fix_dropout(module, seed, names)
                                        dropout with pinned masks, the same for student and reference
    Adam (kit.optim)                    torch.optim.Adam's update, written out (no compiler import)

Judges (kit.judges; property tests, run in the grader on plain arrays)
    verify: {kit: NAME, setting: value} in assignment.yaml uses one without Python: distribution,
    masked_zero, permutation, causal, loss_below, frequencies, finite. verify.py's own judges can
    use first_mismatch, first_nonfinite and index_text.
"""

from autograder.core.errors import ContractError
from autograder.kit.arrays import NotArray, leaves, prefixed, to_array
from autograder.kit.cases import edge_cases, ints, mask, normal, one_hot, permutation
from autograder.kit.optim import adam_step
from autograder.kit.watch import MISSING, watch

__all__ = [
    "ContractError", "NotArray", "to_array", "leaves", "prefixed", "watch", "MISSING",
    "normal", "ints", "mask", "permutation", "one_hot", "edge_cases", "adam_step",
]
