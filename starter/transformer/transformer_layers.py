"""Self-attention and transformer layers, written from plain torch ops.

Every module works on batch-first tensors: N is the batch size, S the length of the
sequence that asks (queries), T the length of the sequence that is looked at (keys and
values), E the embedding size, H the number of heads and D = E // H the size of one head.

Masks use one polarity everywhere in this file: a mask entry that is 0 (or False) BLOCKS,
a non-zero (or True) entry lets the query attend. That is the opposite of the "additive"
float masks of torch.nn (0 = keep, -inf = block), so do not mix the two.

Not allowed here (the grader checks): torch.nn.MultiheadAttention,
torch.nn.functional.scaled_dot_product_attention, torch.nn.LayerNorm,
torch.nn.functional.layer_norm and the torch.nn.Transformer* classes.
"""

# Note for course developers (the generator keeps comments outside solution blocks):
# every __init__ that creates submodules is given to students unchanged, so the stub
# builds modules with the contract's attribute names in the contract's creation order
# and the grader can load reference weights by name and report "forward not
# implemented" instead of crashing at construction. The one piece of construction that
# is an exercise, the sinusoid table of PositionalEncoding, is the private helper
# _sinusoid_table (its body is a solution block); PositionalEncoding.__init__ calls it
# inside try/except NotImplementedError, so in the stub the buffer `pe` stays all zeros
# and the constructor still works. Names starting with `_` are not part of the contract.

import math

import torch
import torch.nn as nn

__all__ = [
    "PositionalEncoding",
    "MultiHeadAttention",
    "scaled_dot_product_attention",
    "causal_mask",
    "LayerNorm",
    "FeedForward",
    "TransformerEncoderLayer",
    "TransformerDecoderLayer",
    "TransformerLM",
]


def _sinusoid_table(max_len, embed_dim):
    """The sinusoidal position table of "Attention Is All You Need".

    For position p and pair index i (0 <= 2i < E):

        table[p, 2i]     = sin(p / 10000^(2i / E))
        table[p, 2i + 1] = cos(p / 10000^(2i / E))

    Even columns hold sines, odd columns cosines, and both columns of one pair share
    the same frequency. When E is odd the last column is a sine with no cosine partner.

    Args:
        max_len: number of positions P.
        embed_dim: embedding size E.

    Returns:
        table: (P, E) tensor of the default dtype (float32 unless changed).

    Pitfalls: the exponent is 2i/E where 2i is the (even) column index, not i/E. At
    positions in the thousands, float32 rounding of the angle p / 10000^(2i/E) moves
    sin/cos by up to about 1e-3; computing the angles in float64 and casting at the end
    avoids that.
    """
    raise NotImplementedError("_sinusoid_table: not implemented yet")


class PositionalEncoding(nn.Module):
    """Adds the fixed sinusoidal position table to a sequence of embeddings.

    Self-attention by itself treats its input as a set: permuting the tokens permutes
    the outputs in the same way. Adding a position-dependent vector to each embedding
    gives the layers a way to tell "the cat bit" from "bit the cat".

    The table is a buffer `pe` of shape (1, max_len, E) (not a parameter: it is not
    learned, but it moves with .to(device) and is saved in state_dict):

        pe[0, p, 2i]     = sin(p / 10000^(2i / E))
        pe[0, p, 2i + 1] = cos(p / 10000^(2i / E))

    It is built by _sinusoid_table (your exercise); until that is implemented the buffer
    stays all zeros.

    Args:
        embed_dim: embedding size E.
        dropout: dropout probability applied after the addition.
        max_len: longest sequence the table covers.
    """

    def __init__(self, embed_dim, dropout=0.1, max_len=5000):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        pe = torch.zeros(1, max_len, embed_dim)
        try:
            pe[0] = _sinusoid_table(max_len, embed_dim)
        except NotImplementedError:
            pass  # stub: the table stays zero until _sinusoid_table is written
        self.register_buffer("pe", pe)

    def forward(self, x):
        """Returns dropout(x + pe[:, :S]).

        Args:
            x: (N, S, E) embeddings, S <= max_len.

        Returns:
            (N, S, E), same dtype as x.

        Pitfalls: slice the table to the first S positions (pe[:, :S]); do not add the
        whole (1, max_len, E) table, and do not write into x or pe in place.
        """
        raise NotImplementedError("forward: not implemented yet")


def scaled_dot_product_attention(q, k, v, mask=None):
    """Softmax attention of queries over keys, averaging the values.

        scores  = q k^T / sqrt(d)                    (..., S, T)
        scores  = -inf where mask == 0
        weights = softmax(scores) over the last axis (..., S, T), each row sums to 1
        out     = weights v                          (..., S, dv)

    Args:
        q: (..., S, d) queries.
        k: (..., T, d) keys.
        v: (..., T, dv) values.
        mask: optional, broadcastable to (..., S, T); an entry that is 0 or False blocks
            query i from key j, anything else allows it.

    Returns:
        out: (..., S, dv).
        weights: (..., S, T), the attention weights after the softmax.

    Pitfalls:
        - Why 1/sqrt(d): with entries of q and k of unit variance, q.k is a sum of d
          terms and has variance d. Unscaled, the softmax saturates for large d (almost
          one-hot, tiny gradients); dividing by sqrt(d) keeps the variance at 1.
        - Block BEFORE the softmax (fill with -inf), so blocked keys get weight exactly 0
          and the remaining weights still sum to 1. Zeroing weights after the softmax
          breaks the normalisation.
        - Polarity: 0/False blocks. A row where every key is blocked has no valid
          softmax (you get NaN); callers must leave at least one key per query.
        - Softmax over the keys (last axis, T), not over the queries.
    """
    raise NotImplementedError("scaled_dot_product_attention: not implemented yet")


def causal_mask(T, device=None):
    """The lower-triangular "no peeking" mask for a sequence of length T.

        mask[i, j] = True  if j <= i  (position i may attend to itself and the past)
        mask[i, j] = False if j >  i  (the future is blocked)

    Args:
        T: sequence length.
        device: where to create the mask (pass your input's device; never assume CPU
            or CUDA).

    Returns:
        mask: (T, T) torch.bool.

    Pitfalls: the diagonal is allowed (a token attends to itself); a strict triangle
    would leave row 0 with no key at all.
    """
    raise NotImplementedError("causal_mask: not implemented yet")


class MultiHeadAttention(nn.Module):
    """Multi-head scaled dot-product attention.

    The E-dimensional inputs are projected to queries, keys and values, split into H
    heads of size D = E / H, each head attends on its own, and the heads are
    concatenated and projected back:

        Q = query Wq^T + bq,  K = key Wk^T + bk,  V = value Wv^T + bv   (Linear(E, E))
        head_h = attn_drop(softmax(Q_h K_h^T / sqrt(D) + blocked)) V_h
        out    = concat(head_1, ..., head_H) Wp^T + bp

    Submodules (created in this order, names are part of the contract): `key`,
    `query`, `value`, `proj` (each nn.Linear(E, E)) and `attn_drop` (nn.Dropout).

    Args:
        embed_dim: E, must be divisible by num_heads.
        num_heads: H.
        dropout: dropout probability on the attention weights.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.1):
        super().__init__()
        if embed_dim % num_heads != 0:
            raise ValueError(f"embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
        self.key = nn.Linear(embed_dim, embed_dim)
        self.query = nn.Linear(embed_dim, embed_dim)
        self.value = nn.Linear(embed_dim, embed_dim)
        self.proj = nn.Linear(embed_dim, embed_dim)
        self.attn_drop = nn.Dropout(dropout)
        self.num_heads = num_heads
        self.embed_dim = embed_dim
        self.head_dim = embed_dim // num_heads

    def forward(self, query, key, value, attn_mask=None):
        """Attends from `query` over `key`/`value`.

        Args:
            query: (N, S, E).
            key: (N, T, E).
            value: (N, T, E).
            attn_mask: optional (S, T); attn_mask[i, j] == 0 (or False) blocks query i
                from key j, the same mask for every example and every head.

        Returns:
            (N, S, E).

        Pitfalls:
            - Scale by 1/sqrt(D) with D = E / H, the size of ONE head (the dot products
              are taken per head), not 1/sqrt(E).
            - Split heads with view(N, S, H, D).transpose(1, 2), not view(N, H, S, D):
              the latter mixes positions into heads.
            - Dropout goes on the attention weights (after the softmax, before
              multiplying by V), through self.attn_drop.
            - Merge heads back with transpose(1, 2) then reshape (the tensor is no
              longer contiguous, so .view fails).
        """
        raise NotImplementedError("forward: not implemented yet")


class LayerNorm(nn.Module):
    """Layer normalisation over the last dimension.

        mean = x.mean(-1)
        var  = ((x - mean)^2).mean(-1)        (biased: divide by dim, not dim - 1)
        y    = (x - mean) / sqrt(var + eps) * weight + bias

    Parameters `weight` (initialised to ones) and `bias` (zeros), each of shape (dim,).

    Args:
        dim: size of the last dimension.
        eps: added to the variance for numerical safety.
    """

    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))
        self.eps = eps

    def forward(self, x):
        """Normalises each vector x[..., :] on its own.

        Args:
            x: (..., dim).

        Returns:
            (..., dim).

        Pitfalls: torch.var defaults to the unbiased estimate (divide by dim - 1); layer
        norm uses the biased one. eps goes inside the square root. Statistics are per
        example and position, never over the batch (that would be batch norm).
        """
        raise NotImplementedError("forward: not implemented yet")


class FeedForward(nn.Module):
    """The position-wise feed-forward block: linear2(dropout(relu(linear1(x)))).

    Submodules (in this order): `linear1` (Linear(E, hidden)), `activation` (ReLU),
    `dropout`, `linear2` (Linear(hidden, E)).

    Args:
        embed_dim: E.
        hidden_dim: width of the hidden layer.
        dropout: dropout probability after the activation.
    """

    def __init__(self, embed_dim, hidden_dim, dropout=0.1):
        super().__init__()
        self.linear1 = nn.Linear(embed_dim, hidden_dim)
        self.activation = nn.ReLU()
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(hidden_dim, embed_dim)

    def forward(self, x):
        """Applies the block to every position independently.

        Args:
            x: (N, S, E) (any leading dimensions work).

        Returns:
            (N, S, E).
        """
        raise NotImplementedError("forward: not implemented yet")


class TransformerEncoderLayer(nn.Module):
    """One post-norm encoder layer: self-attention, then feed-forward.

        x = norm1(x + dropout1(self_attn(x, x, x, src_mask)))
        x = norm2(x + dropout2(ffn(x)))

    Submodules (in this order): `self_attn` (MultiHeadAttention), `ffn` (FeedForward),
    `norm1`, `norm2` (LayerNorm), `dropout1`, `dropout2` (nn.Dropout).

    Args:
        embed_dim: E.
        num_heads: H.
        dim_feedforward: hidden width of the feed-forward block.
        dropout: dropout probability used everywhere in the layer.
    """

    def __init__(self, embed_dim, num_heads, dim_feedforward=2048, dropout=0.1):
        super().__init__()
        self.self_attn = MultiHeadAttention(embed_dim, num_heads, dropout)
        self.ffn = FeedForward(embed_dim, dim_feedforward, dropout)
        self.norm1 = LayerNorm(embed_dim)
        self.norm2 = LayerNorm(embed_dim)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)

    def forward(self, src, src_mask=None):
        """Args:
            src: (N, S, E).
            src_mask: optional (S, S), 0/False blocks (see MultiHeadAttention).

        Returns:
            (N, S, E).

        Pitfall: post-norm means the LayerNorm is applied AFTER the residual addition,
        norm(x + sublayer(x)), not x + sublayer(norm(x)) (pre-norm, as in GPT-2).
        """
        raise NotImplementedError("forward: not implemented yet")


class TransformerDecoderLayer(nn.Module):
    """One post-norm decoder layer: masked self-attention, cross-attention, feed-forward.

        x = norm1(x + dropout1(self_attn(x, x, x, tgt_mask)))
        x = norm2(x + dropout2(cross_attn(x, memory, memory)))
        x = norm3(x + dropout3(ffn(x)))

    Submodules (in this order): `self_attn`, `cross_attn` (MultiHeadAttention), `ffn`,
    `norm1`, `norm2`, `norm3`, `dropout1`, `dropout2`, `dropout3`.

    Args:
        embed_dim: E.
        num_heads: H.
        dim_feedforward: hidden width of the feed-forward block.
        dropout: dropout probability used everywhere in the layer.
    """

    def __init__(self, embed_dim, num_heads, dim_feedforward=2048, dropout=0.1):
        super().__init__()
        self.self_attn = MultiHeadAttention(embed_dim, num_heads, dropout)
        self.cross_attn = MultiHeadAttention(embed_dim, num_heads, dropout)
        self.ffn = FeedForward(embed_dim, dim_feedforward, dropout)
        self.norm1 = LayerNorm(embed_dim)
        self.norm2 = LayerNorm(embed_dim)
        self.norm3 = LayerNorm(embed_dim)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.dropout3 = nn.Dropout(dropout)

    def forward(self, tgt, memory, tgt_mask=None):
        """Args:
            tgt: (N, S, E), the sequence being decoded.
            memory: (N, T, E), the encoder output.
            tgt_mask: optional (S, S) mask for the self-attention, 0/False blocks; when
                None no mask is applied (the layer does not add a causal mask itself).

        Returns:
            (N, S, E).

        Pitfall: in the cross-attention the queries come from the decoder (x) and the
        keys and values from `memory`; it is never masked here.
        """
        raise NotImplementedError("forward: not implemented yet")


class TransformerLM(nn.Module):
    """A decoder-only (GPT-style) language model built from encoder layers.

        x      = positional_encoding(embedding(tokens))     (N, T, E)
        x      = layer(x, causal_mask(T))  for each layer    (N, T, E)
        logits = output(x)                                   (N, T, V)

    logits[:, t] scores the token at position t + 1 and may depend only on tokens[:, :t+1].
    The embeddings are NOT multiplied by sqrt(E), and there is no extra LayerNorm before
    `output` (the post-norm layers already end in one).

    Submodules (in this order): `embedding` (nn.Embedding(V, E)), `positional_encoding`
    (PositionalEncoding(E, dropout, max_len)), `layers` (nn.ModuleList of num_layers
    TransformerEncoderLayer(E, H, dim_feedforward, dropout)) and `output` (nn.Linear(E, V)).

    Args:
        vocab_size: V.
        embed_dim: E.
        num_heads: H.
        num_layers: number of encoder layers.
        max_len: longest sequence the model accepts.
        dim_feedforward: feed-forward width; None means 4 * embed_dim.
        dropout: dropout probability used everywhere.
    """

    def __init__(self, vocab_size, embed_dim, num_heads, num_layers, max_len,
                 dim_feedforward=None, dropout=0.1):
        super().__init__()
        if dim_feedforward is None:
            dim_feedforward = 4 * embed_dim
        self.max_len = max_len
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.positional_encoding = PositionalEncoding(embed_dim, dropout, max_len)
        self.layers = nn.ModuleList(
            TransformerEncoderLayer(embed_dim, num_heads, dim_feedforward, dropout)
            for _ in range(num_layers)
        )
        self.output = nn.Linear(embed_dim, vocab_size)

    def forward(self, tokens):
        """Args:
            tokens: (N, T) integer token ids, T <= max_len.

        Returns:
            logits: (N, T, V), unnormalised scores for the next token at every position.

        Raises:
            ValueError: when T > max_len; the message names both numbers, e.g.
                "sequence of length 40 is longer than max_len 32".

        Pitfalls: without the causal mask training still "works" (the loss falls fast)
        because every position can read the token it is asked to predict; the model is
        then useless for generation. Build the mask on tokens.device.
        """
        raise NotImplementedError("forward: not implemented yet")
