"""Train the character-level language model of char_rnn.py on sonnets.txt (given; not graded).

    python train_lm.py [--epochs 30] [--module char_rnn.py]

prints the mean loss of each epoch and a greedy sample. The grader runs `train` with the
settings of CONFIG for a few epochs and compares each epoch's loss and the final parameters
with the reference's.
"""

import argparse
import importlib.util
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CONFIG = dict(epochs=30, N=4, T=25, E=16, H=32, L=2, lr=0.5, max_norm=5.0, seed=0)


def load_text():
    return (HERE / "sonnets.txt").read_text(encoding="utf-8")


def train(m, text, epochs, N, T, E, H, L, lr, max_norm, seed):
    """Per-epoch mean losses (epochs,), the trained params and the vocabulary."""
    chars = m.build_vocab(text)
    params = m.init_params(len(chars), E, H, L, seed)
    streams = m.batchify(m.encode(text, chars), N)
    history = [float(np.mean(m.train_epoch(params, streams, T, lr, max_norm)[0])) for _ in range(epochs)]
    return np.asarray(history), params, chars


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=CONFIG["epochs"])
    parser.add_argument("--module", default=str(HERE / "char_rnn.py"))
    args = parser.parse_args()
    spec = importlib.util.spec_from_file_location("char_rnn", args.module)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    text = load_text()
    history, params, chars = train(m, text, **{**CONFIG, "epochs": args.epochs})
    for i, loss in enumerate(history, 1):
        print(f"epoch {i:3d}  loss {loss:.4f}")
    h0 = np.zeros((CONFIG["L"], 1, CONFIG["H"]))
    first = m.encode(text[:1], chars)
    print(text[0] + m.decode(m.sample(params, h0, first, 200, np.random.default_rng(0)), chars))


if __name__ == "__main__":
    main()
