"""Attention for sequence-to-sequence models and captioning, in torch.

Everything here is built from plain tensor operations and autograd does the backward pass.
The LSTM and the attention are yours: torch.nn.LSTM, torch.nn.LSTMCell,
torch.nn.MultiheadAttention and torch.nn.functional.scaled_dot_product_attention are not
allowed (the grader checks at run time).

Conventions: N batch, T time steps, D input size, H hidden size, S source length,
L number of attended positions, V vocabulary size. Boolean masks are True where a position
may be attended to. Token ids PAD_ID, SOS_ID, EOS_ID are fixed (see CONTRACT.md).
"""

import math

import torch
import torch.nn as nn

__all__ = [
    "PAD_ID", "SOS_ID", "EOS_ID", "ATTENTION_KINDS",
    "dot_product_attention", "additive_attention", "masked_dot_attention",
    "lstm_step_forward", "lstm_forward", "attention_forward",
    "Seq2Seq", "greedy_decode", "beam_search",
]

PAD_ID, SOS_ID, EOS_ID = 0, 1, 2          # padding, start of sequence, end of sequence
ATTENTION_KINDS = ("additive", "dot")


# ----------------------------------------------------------------------------------------
# attention functions

def dot_product_attention(prev_h, A):
    """Scaled dot-product attention of a hidden state over a P x P grid of features.

    For every grid position (i, j) the score is the dot product of the query with the
    feature vector there, scaled by 1/sqrt(H); a softmax over all P*P positions turns the
    scores into weights, and the result is the weighted sum of the feature vectors:

        s[n, i, j] = sum_h prev_h[n, h] * A[n, h, i, j] / sqrt(H)
        w[n]       = softmax over all (i, j) of s[n]
        attn[n, h] = sum_{i, j} w[n, i, j] * A[n, h, i, j]

    Args:
        prev_h: (N, H) query, the previous hidden state.
        A: (N, H, P, P) projected spatial features.

    Returns:
        attn: (N, H) attention-weighted features.
        attn_weights: (N, P, P) weights; each sample's P*P weights sum to 1.

    Pitfalls: the softmax runs over the P*P positions jointly (flatten them), not over
    rows or columns separately; H is the feature size, A.shape[1].
    """
    raise NotImplementedError("dot_product_attention: not implemented yet")


def additive_attention(query, keys, Wq, Wk, v, mask=None):
    """Additive (MLP, "Bahdanau") attention of one query over L keys.

    A one-hidden-layer MLP scores every key against the query, a softmax over the allowed
    positions turns the scores into weights, and the context is the weighted sum of keys:

        e[n, l]   = tanh(query[n] Wq + keys[n, l] Wk) v
        w[n]      = softmax over l of e[n], with w[n, l] = 0 exactly where mask[n, l] is False
        ctx[n]    = sum_l w[n, l] keys[n, l]

    Args:
        query: (N, Hq) one query per sample (e.g. the decoder's previous hidden state).
        keys: (N, L, Hk) the vectors attended over (e.g. the encoder states).
        Wq: (Hq, A) query projection.
        Wk: (Hk, A) key projection.
        v: (A,) scoring vector.
        mask: optional bool (N, L), True where a key may be attended to. Every row must
            contain at least one True (a fully masked row has no defined weights).

    Returns:
        context: (N, Hk) weighted sum of the keys.
        weights: (N, L) attention weights; each row sums to 1, masked positions are 0.

    Pitfalls: mask before the softmax by setting the masked scores to -inf (masked_fill),
    not by multiplying the weights afterwards (they would no longer sum to 1); the query
    projection is broadcast over the L positions.
    """
    raise NotImplementedError("additive_attention: not implemented yet")


def masked_dot_attention(query, keys, mask=None):
    """Scaled dot-product attention of one query over a sequence of L keys, with a mask.

    The sequence counterpart of dot_product_attention, used by Seq2Seq(attention="dot"):

        e[n, l] = query[n] . keys[n, l] / sqrt(H)
        w[n]    = softmax over l of e[n], with w[n, l] = 0 exactly where mask[n, l] is False
        ctx[n]  = sum_l w[n, l] keys[n, l]

    Args:
        query: (N, H) one query per sample.
        keys: (N, L, H) the vectors attended over; same size H as the query.
        mask: optional bool (N, L), True where a key may be attended to. Every row must
            contain at least one True.

    Returns:
        context: (N, H) weighted sum of the keys.
        weights: (N, L) attention weights; each row sums to 1, masked positions are 0.

    Pitfalls: scale by sqrt(H) with H = query.shape[1]; mask the scores with -inf before
    the softmax.
    """
    raise NotImplementedError("masked_dot_attention: not implemented yet")


# ----------------------------------------------------------------------------------------
# LSTM

def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b, attn=None, Wattn=None):
    """One LSTM step, optionally conditioned on an attention vector.

    The gate pre-activations are split into four blocks of H in the order i, f, o, g:

        a  = x Wx + prev_h Wh + b  (+ attn Wattn when attn is given)       (N, 4H)
        i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2H]), sigmoid(a[:, 2H:3H])
        g  = tanh(a[:, 3H:])
        next_c = f * prev_c + i * g
        next_h = o * tanh(next_c)

    Args:
        x: (N, D) input.
        prev_h: (N, H) previous hidden state.
        prev_c: (N, H) previous cell state.
        Wx: (D, 4H) input-to-gates weights.
        Wh: (H, 4H) hidden-to-gates weights.
        b: (4H,) gate biases.
        attn: optional (N, H) attention vector (a context).
        Wattn: (H, 4H) attention-to-gates weights; required when attn is given.

    Returns:
        next_h: (N, H) and next_c: (N, H).

    Pitfalls: the gate order is i, f, o, g (not i, f, g, o); g uses tanh, the other three
    the sigmoid. Passing attn without Wattn is a ValueError.
    """
    raise NotImplementedError("lstm_step_forward: not implemented yet")


def lstm_forward(x, h0, Wx, Wh, b):
    """Run an LSTM over a whole sequence; the initial cell state is zero.

        c_0 = 0,  (h_t, c_t) = lstm_step_forward(x[:, t], h_{t-1}, c_{t-1}, Wx, Wh, b)

    Args:
        x: (N, T, D) inputs.
        h0: (N, H) initial hidden state.
        Wx: (D, 4H), Wh: (H, 4H), b: (4H,) as in lstm_step_forward.

    Returns:
        h: (N, T, H) hidden states h_1 .. h_T (h0 itself is not included).

    Pitfalls: create the zero cell state on h0's device and dtype (torch.zeros_like);
    collect the steps in a list and torch.stack them, which keeps autograd simple.
    """
    raise NotImplementedError("lstm_forward: not implemented yet")


def attention_forward(x, A, Wx, Wh, Wattn, b):
    """Run an attention LSTM over a sequence, attending over spatial features A.

        h_0 = c_0 = A.mean over the P x P positions                        (N, H)
        attn_t, _ = dot_product_attention(h_{t-1}, A)
        (h_t, c_t) = lstm_step_forward(x[:, t], h_{t-1}, c_{t-1}, Wx, Wh, b, attn_t, Wattn)

    Args:
        x: (N, T, D) inputs (e.g. word embeddings).
        A: (N, H, P, P) projected spatial features.
        Wx: (D, 4H), Wh: (H, 4H), Wattn: (H, 4H), b: (4H,).

    Returns:
        h: (N, T, H) hidden states h_1 .. h_T.

    Pitfalls: each step attends with the previous hidden state h_{t-1}, not h_t; both the
    initial hidden and the initial cell state are the mean feature.
    """
    raise NotImplementedError("attention_forward: not implemented yet")


# ----------------------------------------------------------------------------------------
# sequence-to-sequence model

def _param(*shape, scale):
    """A parameter drawn from N(0, scale^2) with torch's global generator."""
    return nn.Parameter(torch.randn(*shape) * scale)


def _lstm_bias(H):
    """LSTM gate biases: zero, except 1 for the forget gate (block 1 of i, f, o, g)."""
    b = torch.zeros(4 * H)
    b[H:2 * H] = 1.0
    return nn.Parameter(b)


class Seq2Seq(nn.Module):
    """An LSTM encoder and an attention LSTM decoder over token sequences.

    The encoder embeds the source and runs lstm_forward from h0 = 0. The decoder starts
    from the masked mean of the encoder states (h0 = c0) and at every step attends over
    the encoder states with its previous hidden state, feeds the context into the LSTM
    gates (lstm_step_forward with attn) and predicts the next token from [h_t, context].

    The parameters (names and shapes are part of the contract; all are nn.Parameter):
        src_embed (Vs, D), tgt_embed (Vt, D),
        enc_Wx (D, 4H), enc_Wh (H, 4H), enc_b (4H,),
        dec_Wx (D, 4H), dec_Wh (H, 4H), dec_Wattn (H, 4H), dec_b (4H,),
        attn_Wq (H, A), attn_Wk (H, A), attn_v (A,)      -- only when attention="additive"
        out_W (2H, Vt), out_b (Vt,)
    """

    def __init__(self, src_vocab_size, tgt_vocab_size, embed_dim=32, hidden_dim=64,
                 attn_dim=32, attention="additive"):
        super().__init__()
        if attention not in ATTENTION_KINDS:
            raise ValueError(f"unknown attention {attention!r}; choose one of "
                             + ", ".join(repr(k) for k in ATTENTION_KINDS))
        for name, value in (("src_vocab_size", src_vocab_size),
                            ("tgt_vocab_size", tgt_vocab_size)):
            if value <= EOS_ID:
                raise ValueError(f"{name} is {value}, it must be at least {EOS_ID + 1} "
                                 "to hold PAD_ID, SOS_ID and EOS_ID")
        D, H, A = embed_dim, hidden_dim, attn_dim
        self.attention = attention
        self.hidden_dim = H
        self.src_embed = _param(src_vocab_size, D, scale=1.0)
        self.tgt_embed = _param(tgt_vocab_size, D, scale=1.0)
        self.enc_Wx = _param(D, 4 * H, scale=D ** -0.5)
        self.enc_Wh = _param(H, 4 * H, scale=H ** -0.5)
        self.enc_b = _lstm_bias(H)
        self.dec_Wx = _param(D, 4 * H, scale=D ** -0.5)
        self.dec_Wh = _param(H, 4 * H, scale=H ** -0.5)
        self.dec_Wattn = _param(H, 4 * H, scale=H ** -0.5)
        self.dec_b = _lstm_bias(H)
        if attention == "additive":
            self.attn_Wq = _param(H, A, scale=H ** -0.5)
            self.attn_Wk = _param(H, A, scale=H ** -0.5)
            self.attn_v = _param(A, scale=A ** -0.5)
        self.out_W = _param(2 * H, tgt_vocab_size, scale=(2 * H) ** -0.5)
        self.out_b = nn.Parameter(torch.zeros(tgt_vocab_size))

    def attend(self, query, enc_h, src_mask=None):
        """Attend with query (N, H) over enc_h (N, S, H); returns context (N, H), weights (N, S)."""
        if self.attention == "additive":
            return additive_attention(query, enc_h, self.attn_Wq, self.attn_Wk, self.attn_v,
                                      src_mask)
        return masked_dot_attention(query, enc_h, src_mask)

    def encode(self, src, src_mask=None):
        """Encode a padded batch of source sequences.

            x      = src_embed[src]                                        (N, S, D)
            enc_h  = lstm_forward(x, 0, enc_Wx, enc_Wh, enc_b)             (N, S, H)
            h0 = c0 = sum_s mask[n, s] enc_h[n, s] / sum_s mask[n, s]      (N, H)

        Args:
            src: (N, S) long token ids, padded on the right with PAD_ID.
            src_mask: optional bool (N, S), True at real tokens; defaults to src != PAD_ID.
                Every row needs at least one True.

        Returns:
            enc_h: (N, S, H) encoder states (also computed at padded positions; the
                decoder never attends to those).
            h0: (N, H) and c0: (N, H), the decoder's initial states (equal tensors).

        Pitfalls: the initial state is the mean over the real positions only; the
        encoder's own initial hidden state is zeros on src's device and the
        parameters' dtype.
        """
        raise NotImplementedError("encode: not implemented yet")

    def decode_step(self, y_prev, prev_h, prev_c, enc_h, src_mask=None):
        """One decoder step: attend, update the LSTM, predict the next token.

            x         = tgt_embed[y_prev]                                   (N, D)
            ctx, w    = self.attend(prev_h, enc_h, src_mask)                (N, H), (N, S)
            h, c      = lstm_step_forward(x, prev_h, prev_c, dec_Wx, dec_Wh, dec_b,
                                          attn=ctx, Wattn=dec_Wattn)
            logits    = [h, ctx] out_W + out_b                              (N, Vt)

        Args:
            y_prev: (N,) long, the previous target token (SOS_ID at the first step).
            prev_h, prev_c: (N, H) decoder states.
            enc_h: (N, S, H) encoder states.
            src_mask: optional bool (N, S), True where the decoder may attend.

        Returns:
            logits: (N, Vt) unnormalised next-token scores.
            next_h, next_c: (N, H) new decoder states.
            weights: (N, S) attention weights of this step.

        Pitfalls: attend with the previous hidden state; concatenate h before ctx.
        """
        raise NotImplementedError("decode_step: not implemented yet")

    def forward(self, src, tgt_in, src_mask=None, return_weights=False):
        """Teacher-forced decoding: next-token logits for every target position.

        Encodes src, then runs decode_step T times, feeding tgt_in[:, t] as y_prev at
        step t (tgt_in starts with SOS_ID; the training targets are tgt_in shifted left).

        Args:
            src: (N, S) long source ids, right-padded with PAD_ID.
            tgt_in: (N, T) long decoder inputs.
            src_mask: optional bool (N, S); defaults to src != PAD_ID.
            return_weights: also return the attention weights.

        Returns:
            logits: (N, T, Vt); and, when return_weights, weights (N, T, S).

        Pitfalls: compute the default mask once and pass the same mask to encode and to
        every decode_step; PAD_ID inputs in tgt_in are embedded like any other token
        (the loss ignores those positions).
        """
        raise NotImplementedError("forward: not implemented yet")


# ----------------------------------------------------------------------------------------
# decoding

def greedy_decode(model, src, src_mask=None, max_len=20):
    """Greedy decoding: at every step emit the most probable token.

    Starts from SOS_ID and the encoder's initial state; at step t picks
    y_t = argmax log_softmax(logits_t) (the lowest id on ties) and feeds it back. A row
    is finished after it emits EOS_ID; its later positions hold PAD_ID and add nothing to
    its score. Runs at most max_len steps (it may stop early once every row is finished).

    Args:
        model: a Seq2Seq.
        src: (N, S) long source ids, right-padded with PAD_ID.
        src_mask: optional bool (N, S); defaults to src != PAD_ID.
        max_len: number of tokens to generate at most (EOS_ID included).

    Returns:
        tokens: (N, max_len) long, the emitted tokens (SOS_ID not included), the EOS_ID
            included when emitted, PAD_ID after it.
        scores: (N,) float, the sum of the log-probabilities of the emitted tokens (EOS_ID
            included, the PAD_ID filling excluded).

    Pitfalls: run under torch.no_grad(); a finished row must not change any more; make
    every new tensor on src's device.
    """
    raise NotImplementedError("greedy_decode: not implemented yet")


def beam_search(model, src, beam_width=4, max_len=20):
    """Beam search for one source sequence, scored by the total log-probability.

    A hypothesis is a token sequence y_1..y_t (after SOS_ID) with score
    sum_i log p(y_i | y_<i, src); there is no length normalisation. It is finished once
    it ends in EOS_ID. The beam starts as the empty hypothesis (score 0). Each of at most
    max_len steps forms the candidates
        - every finished hypothesis of the beam, unchanged, and
        - every unfinished hypothesis of the beam extended by every token id in [0, Vt),
    and keeps the beam_width candidates with the highest scores (fewer when there are
    fewer candidates). The search stops after max_len steps or as soon as every hypothesis
    in the beam is finished. The beam is returned best first; unfinished hypotheses left
    after max_len steps are returned as they are (length max_len, no EOS_ID).

    Consequences (checked by the grader): beam_width 1 returns exactly the greedy_decode
    result; when beam_width is at least the number of possible results (sequences ending
    in their first EOS_ID within max_len tokens, plus all EOS-free sequences of length
    max_len) the first row is the exhaustive-search optimum. Ties are broken arbitrarily.

    Args:
        model: a Seq2Seq.
        src: (S,) long, one source sequence (trailing PAD_ID allowed, masked out).
        beam_width: k >= 1, the number of hypotheses kept.
        max_len: number of tokens to generate at most (EOS_ID included).

    Returns:
        tokens: (K, max_len) long, K <= beam_width, best first; each row as in
            greedy_decode (EOS_ID included when present, PAD_ID after it).
        scores: (K,) float, descending.

    Pitfalls: run under torch.no_grad(); the decoder state of a kept hypothesis must be
    the state of its parent; finished hypotheses stay in the beam and compete with the
    unfinished ones; beam_width < 1 is a ValueError.
    """
    raise NotImplementedError("beam_search: not implemented yet")
