"""Image captioning: image features set the initial state of an RNN, LSTM or GRU language model."""

import numpy as np

from rnn_layers import (
    gru_backward,
    gru_forward,
    gru_step_forward,
    lstm_backward,
    lstm_forward,
    lstm_step_forward,
    rnn_backward,
    rnn_forward,
    rnn_step_forward,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)

__all__ = ["CaptioningRNN"]

CELL_TYPES = {"rnn": 1, "lstm": 4, "gru": 3}  # cell type -> number of H-column blocks in Wx, Wh, b
SPECIAL_TOKENS = ("<NULL>", "<START>", "<END>")


class CaptioningRNN:
    """Generates captions from image features with a recurrent network.

    The image feature vector (D,) is projected to the initial hidden state; the words of
    the caption, embedded as vectors of size W, are the inputs of the recurrent cell;
    at every step an affine layer turns the hidden state (H,) into scores over the V
    words of the vocabulary.

    Attributes (set up for you by __init__):
        params: dict of parameters
            W_embed (V, W)   word embeddings
            W_proj (D, H), b_proj (H,)   image features -> initial hidden state
            Wx (W, kH), Wh (H, kH), b (kH,)   the recurrent cell, k = 1 (rnn), 4 (lstm,
                gate order i, f, o, g) or 3 (gru, block order r, z, n)
            W_vocab (H, V), b_vocab (V,)   hidden state -> word scores
        cell_type: "rnn", "lstm" or "gru".
        word_to_idx, idx_to_word: the vocabulary in both directions.
        _null, _start, _end: indices of "<NULL>" (padding), "<START>" and "<END>".
        dtype: the floating dtype of every parameter.
    """

    def __init__(self, word_to_idx, input_dim=512, wordvec_dim=128, hidden_dim=128,
                 cell_type="rnn", dtype=np.float32):
        """Create the model with random weights and zero biases.

        Args:
            word_to_idx: dict word -> index in [0, V); must contain "<NULL>",
                "<START>" and "<END>".
            input_dim: size D of the image feature vectors.
            wordvec_dim: size W of the word vectors.
            hidden_dim: size H of the hidden state.
            cell_type: "rnn", "lstm" or "gru".
            dtype: floating dtype of the parameters (np.float32 to train, np.float64
                for numerical gradient checks).
        """
        if cell_type not in CELL_TYPES:
            raise ValueError(f"invalid cell_type {cell_type!r}; valid choices are "
                             + ", ".join(repr(c) for c in CELL_TYPES))
        missing = [tok for tok in SPECIAL_TOKENS if tok not in word_to_idx]
        if missing:
            raise ValueError(f"word_to_idx lacks the special tokens {missing}; "
                             f"it must contain all of {list(SPECIAL_TOKENS)}")
        self.cell_type = cell_type
        self.dtype = dtype
        self.word_to_idx = word_to_idx
        self.idx_to_word = {i: w for w, i in word_to_idx.items()}
        self._null = word_to_idx["<NULL>"]
        self._start = word_to_idx["<START>"]
        self._end = word_to_idx["<END>"]

        V, D, W, H = len(word_to_idx), input_dim, wordvec_dim, hidden_dim
        kH = CELL_TYPES[cell_type] * H
        randn = np.random.randn
        self.params = {
            # A lookup is a product with a one-hot vector, whose fan-in is 1.
            "W_embed": randn(V, W),
            "W_proj": randn(D, H) / np.sqrt(D),
            "b_proj": np.zeros(H),
            "Wx": randn(W, kH) / np.sqrt(W),
            "Wh": randn(H, kH) / np.sqrt(H),
            "b": np.zeros(kH),
            "W_vocab": randn(H, V) / np.sqrt(H),
            "b_vocab": np.zeros(V),
        }
        self.params = {name: p.astype(dtype) for name, p in self.params.items()}

    def loss(self, features, captions):
        """Training loss of a batch of captions, and its gradient for every parameter.

        The forward pass:
            h0 = features @ W_proj + b_proj                       (N, H)
            captions_in = captions[:, :-1]  (the words fed in, starting with <START>)
            captions_out = captions[:, 1:]  (the word to predict at each step)
            mask = captions_out != <NULL>   (padding is not scored)
            x = word embedding of captions_in                     (N, T, W)
            h = rnn / lstm / gru forward of x from h0             (N, T, H)
            scores = temporal affine of h with W_vocab, b_vocab   (N, T, V)
            loss = temporal_softmax_loss(scores, captions_out, mask)
        then the backward pass through the same layers in reverse order. Use the
        functions of rnn_layers for every layer; only the projection to h0 is written
        here.

        Args:
            features: image features, shape (N, D).
            captions: integer word indices, shape (N, T + 1); each row starts with
                <START> and is padded with <NULL>.

        Returns:
            loss: scalar.
            grads: dict with exactly the keys of self.params, each gradient with the
                shape of its parameter.

        Pitfall: the target of step t is the input of step t+1; feeding captions_out
        as input, or scoring captions_in, lets the model copy its input and teaches
        it nothing.
        """
        # BEGIN SOLUTION
        p = self.params
        forward, backward = {"rnn": (rnn_forward, rnn_backward),
                             "lstm": (lstm_forward, lstm_backward),
                             "gru": (gru_forward, gru_backward)}[self.cell_type]
        captions_in, captions_out = captions[:, :-1], captions[:, 1:]  # (N, T) each
        mask = captions_out != self._null                              # (N, T)

        h0 = features @ p["W_proj"] + p["b_proj"]                           # (N, H)
        x, cache_embed = word_embedding_forward(captions_in, p["W_embed"])  # (N, T, W)
        h, cache_rnn = forward(x, h0, p["Wx"], p["Wh"], p["b"])             # (N, T, H)
        scores, cache_vocab = temporal_affine_forward(h, p["W_vocab"], p["b_vocab"])  # (N, T, V)
        loss, dscores = temporal_softmax_loss(scores, captions_out, mask)

        grads = {}
        dh, grads["W_vocab"], grads["b_vocab"] = temporal_affine_backward(dscores, cache_vocab)
        dx, dh0, grads["Wx"], grads["Wh"], grads["b"] = backward(dh, cache_rnn)
        grads["W_embed"] = word_embedding_backward(dx, cache_embed)
        grads["W_proj"] = features.T @ dh0  # (D, H)
        grads["b_proj"] = dh0.sum(axis=0)   # (H,)
        return loss, grads
        # END SOLUTION

    def sample(self, features, max_length=30):
        """Greedy decoding: generate one caption for every image.

        h starts at features @ W_proj + b_proj (and, for the LSTM, the cell state c at
        zero), and the first input word is <START>. At every step, embed the current
        word, advance the cell by one step (rnn_step_forward, lstm_step_forward or
        gru_step_forward), score the vocabulary with W_vocab, b_vocab, and take the
        highest-scoring word: it is both the output of this step and the input of the
        next. Run all max_length steps, even after <END> (callers trim the captions).

        Args:
            features: image features, shape (N, D).
            max_length: number of words to generate.

        Returns:
            captions: integer array of shape (N, max_length); captions[:, t] is the word
                chosen at step t (the <START> fed in first is not included).
        """
        # BEGIN SOLUTION
        p = self.params
        N = features.shape[0]
        captions = np.full((N, max_length), self._null, dtype=np.int64)
        h = features @ p["W_proj"] + p["b_proj"]  # (N, H)
        c = np.zeros_like(h)                      # (N, H) LSTM cell state
        word = np.full(N, self._start)            # (N,)
        for t in range(max_length):
            x = p["W_embed"][word]                # (N, W)
            if self.cell_type == "rnn":
                h, _ = rnn_step_forward(x, h, p["Wx"], p["Wh"], p["b"])
            elif self.cell_type == "lstm":
                h, c, _ = lstm_step_forward(x, h, c, p["Wx"], p["Wh"], p["b"])
            else:
                h, _ = gru_step_forward(x, h, p["Wx"], p["Wh"], p["b"])
            scores = h @ p["W_vocab"] + p["b_vocab"]  # (N, V)
            word = scores.argmax(axis=1)              # (N,)
            captions[:, t] = word
        return captions
        # END SOLUTION
