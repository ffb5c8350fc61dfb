"""What enforcing bans costs per training step, and what the rejected designs would have cost.

    python benchmarks/ban_overhead.py [--rounds 5] [--steps 20]

One Adam step (forward, cross-entropy, backward) of the transformer reference's TransformerLM
(vocabulary 50, E=32, 4 heads, 2 layers, batch 8 x 32 tokens, one thread), timed four ways,
alternating within each round so that the ratios hold on a busy machine:
  none      no ban installed (in a forked process, as `bans`)
  bans      the transformer spec's bans installed as a child installs them (autograder/sandbox/bans.py:
            refusing kernels for the banned operations only), in a forked process
  function  a pass-through torch.overrides.TorchFunctionMode (sees every torch call)
  dispatch  a pass-through TorchDispatchMode (sees every aten operation; importing it loads
            torch._dynamo)
Prints the median CPU milliseconds per step (process time: less sensitive than wall time to a
busy machine) and each ratio to `none`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "solutions" / "transformer"))

import torch  # noqa: E402
import yaml  # noqa: E402

import transformer_layers as T  # noqa: E402
from autograder.sandbox.bans import ban_plan, install_bans  # noqa: E402


def make_step():
    torch.manual_seed(0)
    model = T.TransformerLM(50, 32, 4, 2, 64)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x = torch.randint(0, 50, (8, 32))

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, 50), x.reshape(-1))
        loss.backward()
        opt.step()
    return step


def timed(step, steps: int, mode=None) -> float:
    step()
    start = time.process_time()
    for _ in range(steps):
        if mode is None:
            step()
        else:
            with mode():
                step()
    return (time.process_time() - start) / steps * 1e3


def timed_in_child(step, steps: int, banned) -> float:
    """In a forked child (bans installed when `banned`), which keeps what it patches to itself."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        if banned:
            install_bans(ban_plan(banned), [])
        os.write(w, repr(timed(step, steps)).encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        value = float(f.read())
    os.waitpid(pid, 0)
    return value


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    from torch.overrides import TorchFunctionMode
    from torch.utils._python_dispatch import TorchDispatchMode

    class Function(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))

    class Dispatch(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))

    spec = yaml.safe_load((ROOT / "assignments" / "transformer" / "assignment.yaml").read_text())
    banned = tuple(spec["defaults"]["banned"])
    ban_plan(banned)  # made before forking, as the grader does
    step = make_step()
    times = {"none": [], "bans": [], "function": [], "dispatch": []}
    for i in range(args.rounds):
        for name in ("none", "bans") if i % 2 == 0 else ("bans", "none"):  # neither always goes first
            times[name].append(timed_in_child(step, args.steps, banned if name == "bans" else ()))
        times["function"].append(timed(step, args.steps, Function))
        times["dispatch"].append(timed(step, args.steps, Dispatch))
    base = statistics.median(times["none"])
    print(f"one training step, median of {args.rounds} rounds of {args.steps} steps (load {os.getloadavg()[0]:.1f})")
    for name, values in times.items():
        ms = statistics.median(values)
        print(f"  {name:9s} {ms:7.2f} ms   {ms / base:5.2f} x none")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
