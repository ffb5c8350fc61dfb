"""Toy translation task for the attention assignment: dates "day/month/year" -> ISO.

    source  "7/3/2024"    (day and month without leading zeros, 8 to 10 characters)
    target  "2024-03-07"  (always 10 characters)

The alignment depends on the content (where the slashes are), the source is padded, and a
zero must sometimes be invented: small, but a real job for attention. An attention model
reaches near-perfect exact match in a few hundred steps on one CPU thread.

Everything is deterministic: the data come from a seed through random.Random(seed).random()
(whose output Python keeps stable across versions), batches likewise. torch, the standard
library and the Adam of autograder.kit (in the autograder folder beside this file, written out
because the grader runs this loop: the first torch.optim optimizer a process builds imports
torch's compiler stack, seconds of every grade); nothing is downloaded.

Use (the model is a Seq2Seq from attention.py):

    train_src, train_tgt, test_src, test_tgt = make_splits()
    model = make_model(attention_module, "additive")
    train(model, train_src, train_tgt)
    exact_match(model, test_src, test_tgt)      # >= TARGET_EXACT_MATCH

or from a folder holding attention.py:  python toy_task.py [--attention dot] [--seed 0]
"""

import datetime
import importlib
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

from autograder.kit.optim import Adam  # torch.optim.Adam's update, op for op

__all__ = [
    "PAD_ID", "SOS_ID", "EOS_ID", "VOCAB", "STOI", "VOCAB_SIZE", "SRC_LEN", "TGT_LEN",
    "FIRST_DAY", "NUM_DAYS", "MODEL_CONFIG", "TRAIN_CONFIG", "N_TRAIN", "N_TEST",
    "DATA_SEED", "TARGET_EXACT_MATCH",
    "date_pair", "encode", "decode", "to_tensors", "make_splits", "batches", "loss_fn",
    "make_model", "train", "fit", "Adam", "exact_match",
]

PAD_ID, SOS_ID, EOS_ID = 0, 1, 2              # the same ids as in attention.py
VOCAB = ("<pad>", "<sos>", "<eos>") + tuple("0123456789") + ("/", "-")
STOI = {tok: i for i, tok in enumerate(VOCAB)}
VOCAB_SIZE = len(VOCAB)                       # 15, shared by source and target
SRC_LEN = 10                                  # longest source, "dd/mm/yyyy"
TGT_LEN = 12                                  # SOS + "yyyy-mm-dd" + EOS

FIRST_DAY = datetime.date(1000, 1, 1)         # dates 1000-01-01 .. 2999-12-31
NUM_DAYS = (datetime.date(2999, 12, 31) - FIRST_DAY).days + 1

N_TRAIN, N_TEST, DATA_SEED = 20000, 1000, 0
TARGET_EXACT_MATCH = 0.9

MODEL_CONFIG = dict(src_vocab_size=VOCAB_SIZE, tgt_vocab_size=VOCAB_SIZE,
                    embed_dim=32, hidden_dim=64, attn_dim=32)
TRAIN_CONFIG = dict(steps=100, batch_size=128, lr=2e-2, clip=1.0, seed=0)


# ----------------------------------------------------------------------------------------
# data

def date_pair(day):
    """The (source, target) strings of the date FIRST_DAY + day days."""
    d = FIRST_DAY + datetime.timedelta(days=day)
    return f"{d.day}/{d.month}/{d.year}", d.isoformat()


def encode(text):
    """Characters -> token ids (no SOS_ID / EOS_ID added)."""
    return [STOI[ch] for ch in text]


def decode(ids):
    """Token ids -> text; stops at the first EOS_ID, skips PAD_ID and SOS_ID."""
    out = []
    for i in (int(i) for i in ids):
        if i == EOS_ID:
            break
        if i not in (PAD_ID, SOS_ID):
            out.append(VOCAB[i])
    return "".join(out)


def to_tensors(pairs):
    """(source, target) strings -> src (n, SRC_LEN) and tgt (n, TGT_LEN) long tensors.

    src holds the source ids right-padded with PAD_ID; tgt holds SOS_ID, the target ids,
    EOS_ID, right-padded with PAD_ID. Teacher forcing feeds tgt[:, :-1] and predicts
    tgt[:, 1:].
    """
    def pad(ids, length):
        return ids + [PAD_ID] * (length - len(ids))
    src = [pad(encode(s), SRC_LEN) for s, _ in pairs]
    tgt = [pad([SOS_ID] + encode(t) + [EOS_ID], TGT_LEN) for _, t in pairs]
    return (torch.tensor(src, dtype=torch.long).reshape(-1, SRC_LEN),
            torch.tensor(tgt, dtype=torch.long).reshape(-1, TGT_LEN))


def make_splits(n_train=N_TRAIN, n_test=N_TEST, seed=DATA_SEED):
    """Disjoint train and test sets of distinct dates, shuffled by seed.

    Returns train_src (n_train, SRC_LEN), train_tgt (n_train, TGT_LEN),
    test_src (n_test, SRC_LEN), test_tgt (n_test, TGT_LEN), all long.
    """
    if n_train + n_test > NUM_DAYS:
        raise ValueError(f"n_train + n_test is {n_train + n_test}, "
                         f"there are only {NUM_DAYS} dates")
    rng = random.Random(seed)
    days, seen = [], set()
    while len(days) < n_train + n_test:                  # distinct days, in drawing order
        day = int(rng.random() * NUM_DAYS)
        if day not in seen:
            seen.add(day)
            days.append(day)
    pairs = [date_pair(day) for day in days]
    return to_tensors(pairs[:n_train]) + to_tensors(pairs[n_train:])


def batches(src, tgt, batch_size, steps, seed=0):
    """Yield `steps` random batches (src_b, tgt_b), drawn with replacement, from seed."""
    rng = random.Random(seed)
    n = src.shape[0]
    for _ in range(steps):
        idx = torch.tensor([int(rng.random() * n) for _ in range(batch_size)])
        yield src[idx], tgt[idx]


# ----------------------------------------------------------------------------------------
# training and evaluation

def loss_fn(model, src, tgt):
    """Mean cross-entropy of the teacher-forced next-token logits; PAD_ID targets ignored."""
    logits = model(src, tgt[:, :-1], src != PAD_ID)                     # (N, T, V)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt[:, 1:].reshape(-1),
                           ignore_index=PAD_ID)


def make_model(module, attention="additive", seed=0, **overrides):
    """module.Seq2Seq(**MODEL_CONFIG, attention=attention), initialised from torch seed.

    The global torch RNG is left as it was.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return module.Seq2Seq(**{**MODEL_CONFIG, **overrides}, attention=attention)


def train(model, src, tgt, steps=TRAIN_CONFIG["steps"], batch_size=TRAIN_CONFIG["batch_size"],
          lr=TRAIN_CONFIG["lr"], clip=TRAIN_CONFIG["clip"], seed=TRAIN_CONFIG["seed"],
          log_every=0):
    """Train with Adam and teacher forcing for exactly `steps` steps; returns the losses.

    Every step: a batch from batches(..., seed), loss_fn, backward, global gradient-norm
    clipping at `clip`, an Adam step with learning rate `lr` (see fit). The data are moved
    to the model's device. log_every > 0 prints the loss every log_every steps.
    """
    return fit(model, batches(src, tgt, batch_size, steps, seed), lr=lr, clip=clip, log_every=log_every)


def fit(model, batch_iter, lr=TRAIN_CONFIG["lr"], clip=TRAIN_CONFIG["clip"], log_every=0):
    """The training loop of `train`, on the given (src_b, tgt_b) batches: one step each.

    A step is loss_fn, backward, clip_grad_norm_(clip), an Adam step. Returns the losses
    (floats), one per batch. The grader runs this loop for a few steps on batches drawn with
    `batches` and compares every loss with the reference's.
    """
    device = next(model.parameters()).device
    adam = Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    for step, (src_b, tgt_b) in enumerate(batch_iter, 1):
        loss = loss_fn(model, src_b.to(device), tgt_b.to(device))
        adam.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        adam.step()
        losses.append(loss.item())
        if log_every and step % log_every == 0:
            print(f"step {step:4d}  loss {losses[-1]:.4f}")
    return losses


def exact_match(model, src, tgt, decode_fn=None, batch_size=1000):
    """Fraction of examples whose greedy decoding equals the target exactly.

    decode_fn(model, src, src_mask, max_len) -> (tokens, scores) defaults to the
    greedy_decode of the module that defines type(model). A row counts when its tokens
    (EOS_ID and the PAD_ID after it included) equal tgt[:, 1:].
    """
    if decode_fn is None:
        decode_fn = importlib.import_module(type(model).__module__).greedy_decode
    device = next(model.parameters()).device
    model.eval()
    hits = 0
    for i in range(0, src.shape[0], batch_size):
        s, t = src[i:i + batch_size].to(device), tgt[i:i + batch_size, 1:].to(device)
        tokens, _ = decode_fn(model, s, s != PAD_ID, t.shape[1])
        hits += int((tokens == t).all(dim=1).sum())
    return hits / src.shape[0]


def main(argv=None):
    """python toy_task.py [--attention additive|dot] [--seed S]: train attention.py's model."""
    import argparse
    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("--attention", default="additive")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    sys.path.insert(0, os.getcwd())
    module = importlib.import_module("attention")
    train_src, train_tgt, test_src, test_tgt = make_splits()
    model = make_model(module, args.attention, seed=args.seed)
    t0 = time.perf_counter()
    losses = train(model, train_src, train_tgt, seed=args.seed,
                   log_every=TRAIN_CONFIG["steps"] // 5)
    t1 = time.perf_counter()
    acc = exact_match(model, test_src, test_tgt)
    print(f"{args.attention}: final loss {losses[-1]:.4f}, train {t1 - t0:.1f}s, "
          f"exact match {acc:.3f} (target {TARGET_EXACT_MATCH})")
    return 0 if acc >= TARGET_EXACT_MATCH else 1


if __name__ == "__main__":
    sys.exit(main())
