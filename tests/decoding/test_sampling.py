"""Sampling: limits that equal greedy, seeding, and softmax frequencies."""

import numpy as np
import pytest
import tensorflow as tf

from dltoolkit.decoding import greedy_search, sample

V, END = 5, 4


@pytest.fixture
def step(toys):
    return toys.markov_step(np.random.default_rng(0).normal(size=(V, V)) * 2)


START = [[0], [1], [2], [3]]


@pytest.mark.parametrize(
    "options",
    [{"temperature": 0}, {"temperature": 1e-4}, {"top_k": 1, "temperature": 5.0}],
)
def test_limits_equal_greedy(step, options):
    greedy = greedy_search(step, START, max_length=7, end_id=END)
    drawn = sample(step, START, max_length=7, end_id=END, seed=3, **options)
    np.testing.assert_array_equal(drawn, greedy)


def test_seeded_sampling_is_reproducible(step):
    start = np.zeros((16, 1), "int32")
    first = sample(step, start, max_length=8, seed=7)
    np.testing.assert_array_equal(sample(step, start, max_length=8, seed=7), first)
    np.testing.assert_array_equal(
        sample(step, start, max_length=8, seed=tf.constant([0, 7])), first
    )
    assert not np.array_equal(sample(step, start, max_length=8, seed=8), first)
    assert sample(step, start, max_length=8).shape == (16, 8)  # seed=None


def test_positions_after_the_end_hold_pad(toys):
    table = np.zeros((V, V))
    table[:, END] = 3.0  # the end is likely
    ids = sample(
        toys.markov_step(table),
        np.zeros((64, 1)),
        max_length=6,
        end_id=END,
        seed=1,
        pad_id=2,
    ).numpy()
    for row in ids:
        ends = np.flatnonzero(row[1:] == END)
        if ends.size:
            assert np.all(row[2 + ends[0] :] == 2)


@pytest.mark.parametrize("temperature, top_k", [(1.0, None), (2.0, None), (0.5, 2)])
def test_frequencies_match_the_softmax(temperature, top_k):
    logits = np.array([1.0, 0.5, 0.0, -0.5, 2.0], "float32")
    n = 20_000

    def next_logits(ids, index, state):
        return tf.tile(logits[None], [tf.shape(ids)[0], 1]), state

    ids = sample(
        next_logits,
        np.zeros((n, 1)),
        max_length=2,
        temperature=temperature,
        top_k=top_k,
        seed=0,
    )
    freq = np.bincount(ids[:, 1].numpy(), minlength=V) / n
    expected = np.exp(logits / temperature)
    if top_k is not None:
        expected[np.argsort(logits)[:-top_k]] = 0.0
    expected /= expected.sum()
    np.testing.assert_allclose(freq, expected, atol=0.015)


def test_bad_arguments_name_themselves(step):
    with pytest.raises(ValueError, match="temperature"):
        sample(step, START, max_length=3, temperature=-1.0)
    with pytest.raises(ValueError, match="top_k"):
        sample(step, START, max_length=3, top_k=0)
