"""Sinusoidal positional encoding and the token + position embedding."""

import math

import keras
import numpy as np
import pytest

from dltoolkit.layers.positional_encoding import PositionalEncoding
from dltoolkit.layers.token_and_position_embedding import TokenAndPositionEmbedding


def _paper_table(length, depth):
    """PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(...), by loops."""
    table = np.zeros((length, depth))
    for pos in range(length):
        for j in range(depth):
            i = j // 2
            angle = pos / 10000 ** (2 * i / depth)
            table[pos, j] = math.sin(angle) if j % 2 == 0 else math.cos(angle)
    return table


@pytest.mark.parametrize("length, depth", [(7, 6), (50, 16), (3, 5)])
def test_positional_encoding_matches_the_formula(length, depth):
    layer = PositionalEncoding()
    zeros = np.zeros((2, length, depth), "float32")
    out = keras.ops.convert_to_numpy(layer(zeros))
    np.testing.assert_allclose(out[0], _paper_table(length, depth), atol=1e-5)
    np.testing.assert_array_equal(out[0], out[1])
    ones = keras.ops.convert_to_numpy(layer(zeros + 1.0))
    np.testing.assert_allclose(ones, out + 1.0, atol=1e-6)  # added to the inputs


def test_positional_encoding_config_round_trip():
    layer = PositionalEncoding(max_wavelength=500.0, name="pe")
    clone = PositionalEncoding.from_config(layer.get_config())
    assert clone.max_wavelength == 500.0 and clone.name == "pe"
    with pytest.raises(ValueError, match="max_wavelength"):
        PositionalEncoding(max_wavelength=0)


def test_token_and_position_embedding_sums_its_parts():
    ids = np.array([[1, 2, 3, 0], [4, 4, 4, 4]])
    learned = TokenAndPositionEmbedding(5, 6, 8)
    out = keras.ops.convert_to_numpy(learned(ids))
    tokens = keras.ops.convert_to_numpy(learned.token_embedding(ids))
    positions = keras.ops.convert_to_numpy(learned.position_embedding(np.arange(4)))
    assert out.shape == (2, 4, 8)
    np.testing.assert_allclose(out, tokens + positions[None], atol=1e-6)

    sine = TokenAndPositionEmbedding(
        5, 6, 8, position_encoding="sinusoidal", scale_embeddings=True
    )
    out = keras.ops.convert_to_numpy(sine(ids))
    tokens = keras.ops.convert_to_numpy(sine.token_embedding(ids))
    np.testing.assert_allclose(
        out, tokens * math.sqrt(8) + _paper_table(4, 8)[None], atol=1e-5
    )


def test_token_and_position_embedding_checks_and_config():
    with pytest.raises(ValueError, match="position_encoding"):
        TokenAndPositionEmbedding(5, 6, 8, position_encoding="rotary")
    with pytest.raises(ValueError, match="vocab_size"):
        TokenAndPositionEmbedding(0, 6, 8)
    with pytest.raises(ValueError, match="sequence_length=6"):
        TokenAndPositionEmbedding(5, 6, 8)(keras.Input((7,), dtype="int32"))
    layer = TokenAndPositionEmbedding(5, 6, 8, position_encoding="sinusoidal")
    config = TokenAndPositionEmbedding.from_config(layer.get_config()).get_config()
    assert config == layer.get_config()
