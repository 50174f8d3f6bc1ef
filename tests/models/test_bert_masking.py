"""BERT's masked-LM corruption: proportions, special tokens, seeding."""

import numpy as np
import pytest
import tensorflow as tf

from dltoolkit.models.bert import mask_tokens

PAD, CLS, SEP, MASK, VOCAB = 0, 1, 2, 3, 1000
SPECIAL = (PAD, CLS, SEP, MASK)


def _batch(rng, rows=200, length=512):
    ids = rng.integers(4, VOCAB, size=(rows, length)).astype("int32")
    ids[:, 0], ids[:, length // 2], ids[:, -length // 10 :] = CLS, SEP, PAD
    return ids


def test_proportions_follow_bert():
    ids = _batch(np.random.default_rng(0))
    masked, labels, weights = (
        t.numpy()
        for t in mask_tokens(
            ids, vocab_size=VOCAB, mask_id=MASK, special_ids=SPECIAL, seed=0
        )
    )
    np.testing.assert_array_equal(labels, ids)
    chosen = weights == 1.0
    assert set(np.unique(weights)) == {0.0, 1.0}
    ordinary = ~np.isin(ids, SPECIAL)
    assert not chosen[~ordinary].any()  # special tokens are never chosen
    assert abs(chosen.sum() / ordinary.sum() - 0.15) < 0.01
    np.testing.assert_array_equal(masked[~chosen], ids[~chosen])

    as_mask = (masked == MASK)[chosen].mean()
    random = ((masked != MASK) & (masked != ids))[chosen].mean()
    unchanged = (masked == ids)[chosen].mean()
    assert abs(as_mask - 0.8) < 0.02
    # A random draw equals the original token with probability 1 / VOCAB.
    assert abs(random - 0.1) < 0.02
    assert abs(unchanged - 0.1) < 0.02
    replaced = masked[chosen & (masked != MASK) & (masked != ids)]
    assert replaced.min() >= 0 and replaced.max() < VOCAB


def test_seeded_and_usable_in_tf_data():
    ids = _batch(np.random.default_rng(1), rows=4, length=32)

    def corrupt(seed):
        return mask_tokens(
            ids, vocab_size=VOCAB, mask_id=MASK, special_ids=SPECIAL, seed=seed
        )[0].numpy()

    np.testing.assert_array_equal(corrupt(3), corrupt(3))
    np.testing.assert_array_equal(corrupt(3), corrupt(tf.constant([0, 3])))
    assert not np.array_equal(corrupt(3), corrupt(4))

    data = (
        tf.data.Dataset.from_tensor_slices(ids)
        .enumerate()
        .map(
            lambda i, x: mask_tokens(
                x, vocab_size=VOCAB, mask_id=MASK, special_ids=SPECIAL, seed=i
            )
        )
    )
    masked, labels, weights = next(iter(data.batch(4)))
    assert masked.shape == (4, 32) and weights.dtype == tf.float32
    np.testing.assert_array_equal(labels, ids)


def test_bad_rate_names_the_argument():
    with pytest.raises(ValueError, match="rate"):
        mask_tokens([[5]], vocab_size=9, mask_id=3, special_ids=(0,), seed=0, rate=0)
