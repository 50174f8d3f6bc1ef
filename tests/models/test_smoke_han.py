"""Hierarchical attention networks: smoke test, attention weights, learnability."""

import keras
import numpy as np
import pytest

from dltoolkit.models import get_builder, list_builders
from dltoolkit.models.han import han_attention_model

NUM_CLASSES = 3
SHAPE = (3, 4)  # 3 sentences of 4 words
# Unrolled loops: tracing a train step is about twice as fast at these sizes.
TINY = dict(vocab_size=11, embedding_dim=8, word_units=4, sentence_units=4, unroll=True)
# Sentence 3 of document 1 is fully padded; id 0 pads words.
DOCS = np.array(
    [
        [[1, 2, 3, 0], [4, 5, 0, 0], [0, 0, 0, 0]],
        [[6, 7, 8, 9], [10, 1, 2, 3], [4, 0, 0, 0]],
    ],
    dtype="int32",
)


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def _build(name="han", **options):
    return get_builder(name)(SHAPE, NUM_CLASSES, **{**TINY, **options})


def _masked_softmax(scores, mask):
    exp = np.exp(scores - scores.max(axis=-1, keepdims=True)) * mask
    total = exp.sum(axis=-1, keepdims=True)
    return exp / np.where(total > 0, total, 1.0)


# === Smoke test ===


@pytest.mark.parametrize("name", list_builders("han"))
def test_builder_smoke(name, tmp_path):
    model = _build(name)
    probs = _numpy(model(DOCS, training=False))
    assert probs.shape == (2, NUM_CLASSES)
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-5)

    model.compile("adam", "sparse_categorical_crossentropy")
    assert np.isfinite(model.train_on_batch(DOCS, np.array([0, 2])))
    expected = _numpy(model(DOCS, training=False))

    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(_numpy(clone(DOCS)), expected, atol=1e-6)

    model.save(tmp_path / "han.keras")
    reloaded = keras.models.load_model(tmp_path / "han.keras")
    np.testing.assert_allclose(_numpy(reloaded(DOCS)), expected, atol=1e-6)
    _, words, sentences = han_attention_model(reloaded)(DOCS)
    assert words.shape == (2, *SHAPE) and sentences.shape == (2, SHAPE[0])


@pytest.mark.parametrize(
    "options, match",
    [
        ({"vocab_size": None}, "vocab_size"),
        ({"cell": "tree"}, "cell"),
        ({"word_units": 0}, "word_units"),
        ({"dropout": 1.0}, "dropout"),
    ],
)
def test_bad_options_name_the_argument(options, match):
    with pytest.raises(ValueError, match=match):
        _build(**options)


def test_input_shape_must_be_sentences_by_words():
    with pytest.raises(ValueError, match=r"input_shape=\(12,\)"):
        get_builder("han")((12,), NUM_CLASSES, **TINY)


def test_han_attention_model_rejects_other_models():
    model = get_builder("mlp")((4,), NUM_CLASSES)
    with pytest.raises(ValueError, match="build_han"):
        han_attention_model(model)


# === Attention weights ===


def test_unidirectional_lstm_builds():
    model = _build(cell="lstm", bidirectional=False, unroll=False, attention_units=5)
    assert model.get_layer("word_attention").context.shape == (5,)
    assert _numpy(model(DOCS)).shape == (2, NUM_CLASSES)


def test_weights_sum_to_one_and_are_zero_on_padding():
    model = _build()
    probs, words, sentences = (_numpy(t) for t in han_attention_model(model)(DOCS))
    np.testing.assert_allclose(probs, _numpy(model(DOCS)), atol=1e-6)
    padded = DOCS == 0
    assert np.all(words[padded] == 0.0) and np.all(words[~padded] > 0.0)
    real_sentences = ~padded.all(axis=-1)  # (2, 3)
    np.testing.assert_allclose(words.sum(axis=-1)[real_sentences], 1.0, atol=1e-6)
    assert np.all(words.sum(axis=-1)[~real_sentences] == 0.0)
    assert sentences[0, 2] == 0.0 and np.all(sentences[real_sentences] > 0.0)
    np.testing.assert_allclose(sentences.sum(axis=-1), 1.0, atol=1e-6)


def test_attention_matches_numpy_recomputation():
    model = _build()
    # A random context vector and bias, so the weights are far from uniform.
    rng = np.random.default_rng(1)
    for level in ("word_attention", "sentence_attention"):
        layer = model.get_layer(level)
        layer.set_weights([w + rng.normal(size=w.shape) for w in layer.get_weights()])
    probe = keras.Model(
        model.input,
        [
            model.get_layer("word_encoder").output,  # (B*S, W, Hw)
            model.get_layer("sentence_vectors").output,  # (B, S, Hw)
            model.get_layer("sentence_encoder").output,  # (B, S, Hs)
        ],
    )
    h_words, s, h_sentences = (_numpy(t) for t in probe(DOCS))
    _, words, sentences = (_numpy(t) for t in han_attention_model(model)(DOCS))

    # Word level: u_it = tanh(W_w h_it + b_w), alpha_it = softmax_t(u_it . u_w).
    kernel, bias, u_w = model.get_layer("word_attention").get_weights()
    mask = (DOCS != 0).reshape(-1, SHAPE[1])
    alpha = _masked_softmax(np.tanh(h_words @ kernel + bias) @ u_w, mask)
    np.testing.assert_allclose(words.reshape(-1, SHAPE[1]), alpha, atol=1e-5)
    s_numpy = (alpha[..., None] * h_words).sum(axis=1).reshape(s.shape)
    np.testing.assert_allclose(s, s_numpy, atol=1e-5)

    # Sentence level, with u_s; the fully padded sentence is masked.
    kernel, bias, u_s = model.get_layer("sentence_attention").get_weights()
    mask = (DOCS != 0).any(axis=-1)
    alpha = _masked_softmax(np.tanh(h_sentences @ kernel + bias) @ u_s, mask)
    np.testing.assert_allclose(sentences, alpha, atol=1e-5)


# === Learnability ===


def test_learns_documents_with_a_key_token():
    # Class 1 iff token 7 occurs somewhere; sentences and words are padded.
    rng = np.random.default_rng(0)
    docs = rng.choice([1, 2, 3, 4, 5, 6, 8, 9, 10], size=(96, *SHAPE))
    docs[rng.random(docs.shape) < 0.2] = 0
    labels = np.arange(96) % 2
    for i in np.flatnonzero(labels):
        docs[i, rng.integers(SHAPE[0]), rng.integers(SHAPE[1])] = 7
    model = get_builder("han")(SHAPE, 2, **TINY)
    model.compile(keras.optimizers.Adam(0.03), "sparse_categorical_crossentropy")
    model.fit(docs[:64], labels[:64], epochs=15, batch_size=32, verbose=0)
    accuracy = (_numpy(model(docs[64:])).argmax(-1) == labels[64:]).mean()
    assert accuracy >= 0.9
    # The attention finds the key word: its weight is its sentence's largest.
    _, words, _ = (_numpy(t) for t in han_attention_model(model)(docs[64:]))
    keyed = docs[64:] == 7
    assert (words[keyed] >= words.max(axis=-1)[keyed.any(-1)] - 1e-6).mean() >= 0.8
