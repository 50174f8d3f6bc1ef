"""Bahdanau attention and the attention cell, against NumPy re-computations."""

import keras
import numpy as np
import pytest

from dltoolkit.layers import BahdanauAttention, BahdanauAttentionCell

B, S, DQ, DM, A = 2, 5, 3, 4, 6


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    query = rng.normal(size=(B, DQ)).astype("float32")
    memory = rng.normal(size=(B, S, DM)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype="float32")
    return query, memory, mask


def _reference(layer, query, memory, mask):
    """The course's formulas, one source position at a time."""
    w, u = _np(layer.query_kernel), _np(layer.memory_kernel)
    v = _np(layer.score_vector)
    context = np.zeros((B, DM))
    alpha = np.zeros((B, S))
    for b in range(B):
        valid = [j for j in range(S) if mask[b, j]]
        # e_jt = v^T tanh(U h_j + W s_t)
        e = {j: v @ np.tanh(memory[b, j] @ u + query[b] @ w) for j in valid}
        total = sum(np.exp(e[j]) for j in valid)
        for j in valid:
            alpha[b, j] = np.exp(e[j]) / total
        context[b] = sum(alpha[b, j] * memory[b, j] for j in valid)
    return context, alpha


# === BahdanauAttention ===


def test_attention_matches_the_course_formula():
    query, memory, mask = _inputs()
    layer = BahdanauAttention(A)
    context, weights = layer(query, memory, mask)
    ref_context, ref_alpha = _reference(layer, query, memory, mask)
    np.testing.assert_allclose(_np(weights), ref_alpha, atol=1e-6)
    np.testing.assert_allclose(_np(context), ref_context, atol=1e-5)
    assert _np(context).shape == (B, DM)


def test_weights_sum_to_one_and_skip_padding():
    query, memory, mask = _inputs()
    memory[0, 3:] = 1e3  # padded positions with large values get no weight
    _, weights = BahdanauAttention(A)(query, memory, mask)
    weights = _np(weights)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(weights[0, 3:], 0.0)
    assert np.all(weights[mask == 1] > 0)


def test_a_sequence_of_queries_equals_one_query_at_a_time():
    query, memory, mask = _inputs()
    queries = np.stack([query, 2 * query, -query], axis=1)  # (B, 3, DQ)
    layer = BahdanauAttention(A)
    context, weights = layer(queries, memory, mask)
    assert _np(context).shape == (B, 3, DM) and _np(weights).shape == (B, 3, S)
    for t in range(3):
        c, w = layer(queries[:, t], memory, mask)
        np.testing.assert_allclose(_np(context)[:, t], _np(c), atol=1e-6)
        np.testing.assert_allclose(_np(weights)[:, t], _np(w), atol=1e-6)


def test_attention_config_round_trip():
    layer = BahdanauAttention(A, name="att")
    clone = BahdanauAttention.from_config(layer.get_config())
    assert clone.units == A and clone.name == "att"
    with pytest.raises(ValueError, match="units"):
        BahdanauAttention(0)


# === BahdanauAttentionCell ===


@pytest.mark.parametrize("cell_class", [keras.layers.GRUCell, keras.layers.LSTMCell])
def test_cell_step_feeds_the_context_into_the_rnn_input(cell_class):
    _, memory, mask = _inputs()
    units, embed = DQ, 2
    cell = BahdanauAttentionCell(cell_class(units), memory_dim=DM, attention_units=A)
    x = np.random.default_rng(1).normal(size=(B, embed)).astype("float32")
    inner = [np.random.default_rng(2).normal(size=(B, units)).astype("float32")]
    if cell_class is keras.layers.LSTMCell:
        inner.append(np.ones((B, units), dtype="float32"))
    output, states = cell(x, [*inner, memory, mask])

    # c_t from s_{t-1}, then s_t = RNN(s_{t-1}, [x_t, c_t]).
    context, _ = _reference(cell.attention, inner[0], memory, mask)
    step_input = np.concatenate([x, context], axis=-1).astype("float32")
    ref_output, ref_states = cell.cell(step_input, inner)
    np.testing.assert_allclose(_np(output), _np(ref_output), atol=1e-5)
    for got, want in zip(states[: len(inner)], ref_states):
        np.testing.assert_allclose(_np(got), _np(want), atol=1e-5)
    np.testing.assert_array_equal(_np(states[-2]), memory)  # passed through
    np.testing.assert_array_equal(_np(states[-1]), mask)


def test_cell_runs_in_an_rnn_and_returns_attention():
    _, memory, mask = _inputs()
    cell = BahdanauAttentionCell(
        keras.layers.GRUCell(DQ), memory_dim=DM, return_attention=True, memory_length=S
    )
    rnn = keras.layers.RNN(cell, return_sequences=True)
    x = np.random.default_rng(3).normal(size=(B, 4, 2)).astype("float32")
    outputs = _np(rnn(x, initial_state=[np.zeros((B, DQ)), memory, mask]))
    assert outputs.shape == (B, 4, DQ + S)
    weights = outputs[..., DQ:]
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(weights[0, :, 3:], 0.0)


def test_cell_config_round_trip():
    cell = BahdanauAttentionCell(
        keras.layers.LSTMCell(DQ), memory_dim=DM, attention_units=A
    )
    clone = BahdanauAttentionCell.from_config(cell.get_config())
    assert isinstance(clone.cell, keras.layers.LSTMCell)
    assert (clone.memory_dim, clone.attention_units) == (DM, A)
    assert clone.state_size[:2] == [DQ, DQ]


def test_cell_errors():
    with pytest.raises(ValueError, match="memory_length"):
        BahdanauAttentionCell(keras.layers.GRUCell(3), 4, return_attention=True)
    with pytest.raises(ValueError, match="cell"):
        BahdanauAttentionCell(keras.layers.Dense(3), 4)
