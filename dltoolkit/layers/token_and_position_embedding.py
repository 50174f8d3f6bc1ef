"""Token embedding plus a learned or sinusoidal position embedding."""

from __future__ import annotations

import math

import keras
from keras import layers, ops

from dltoolkit.layers.positional_encoding import PositionalEncoding

POSITION_ENCODINGS = ("learned", "sinusoidal")


@keras.saving.register_keras_serializable(package="dltoolkit")
class TokenAndPositionEmbedding(keras.layers.Layer):
    """Embeds token ids and adds where each token is.

    ``(batch, time) int -> (batch, time, embed_dim)``: the token embedding
    (times ``sqrt(embed_dim)`` if ``scale_embeddings``) plus a learned
    embedding of the position (BERT, GPT) or the fixed sinusoidal encoding
    (the original Transformer).

    Args:
        vocab_size: number of token ids.
        sequence_length: the longest sequence; the size of the learned
            position table (sinusoidal encodings accept any length).
        embed_dim: size of the embeddings.
        position_encoding: ``"learned"`` or ``"sinusoidal"``.
        scale_embeddings: multiply the token embeddings by ``sqrt(embed_dim)``
            before adding the positions, as the Transformer paper does.

    References:
        Vaswani et al., "Attention Is All You Need", 2017, Sections 3.4-3.5;
        Devlin et al., "BERT", 2019, Figure 2 (learned position embeddings).
        DSE 3151, "BERT": every input embedding combines token, segment
        and position embeddings.
    """

    def __init__(
        self,
        vocab_size,
        sequence_length,
        embed_dim,
        position_encoding="learned",
        scale_embeddings=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for argument, value in (
            ("vocab_size", vocab_size),
            ("sequence_length", sequence_length),
            ("embed_dim", embed_dim),
        ):
            if not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"{argument} must be a positive integer. "
                    f"Received: {argument}={value!r}"
                )
        if position_encoding not in POSITION_ENCODINGS:
            raise ValueError(
                f"position_encoding must be one of {POSITION_ENCODINGS}. "
                f"Received: position_encoding={position_encoding!r}"
            )
        self.vocab_size = vocab_size
        self.sequence_length = sequence_length
        self.embed_dim = embed_dim
        self.position_encoding = position_encoding
        self.scale_embeddings = bool(scale_embeddings)
        self.token_embedding = layers.Embedding(
            vocab_size, embed_dim, name="token_embedding"
        )
        if position_encoding == "learned":
            self.position_embedding = layers.Embedding(
                sequence_length, embed_dim, name="position_embedding"
            )
        else:
            self.position_embedding = PositionalEncoding(name="position_encoding")

    def build(self, input_shape):
        length = input_shape[-1]
        if length is not None and length > self.sequence_length:
            raise ValueError(
                f"Sequences of length {length} exceed "
                f"sequence_length={self.sequence_length}."
            )
        self.token_embedding.build(input_shape)
        if self.position_encoding == "learned":
            self.position_embedding.build((None,))

    def call(self, inputs):
        x = self.token_embedding(inputs)  # (B, T, d)
        if self.scale_embeddings:
            x = x * ops.cast(math.sqrt(self.embed_dim), x.dtype)
        if self.position_encoding == "sinusoidal":
            return self.position_embedding(x)
        positions = ops.arange(ops.shape(inputs)[-1])  # (T,)
        return x + ops.cast(self.position_embedding(positions), x.dtype)[None]

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.embed_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocab_size": self.vocab_size,
                "sequence_length": self.sequence_length,
                "embed_dim": self.embed_dim,
                "position_encoding": self.position_encoding,
                "scale_embeddings": self.scale_embeddings,
            }
        )
        return config
