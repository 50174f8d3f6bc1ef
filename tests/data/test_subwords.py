"""Subword vocabularies: SentencePiece learned from text, run in the graph."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from dltoolkit.data.translation import (
    END_ID,
    START_ID,
    SubwordVectorizer,
    TranslationData,
    make_pipeline,
    train_subwords,
    with_subwords,
)
from dltoolkit.errors import DataError

CORPUS = [
    "Tom is reading a book.",
    "Mary doesn't like green apples.",
    "¿Dónde está el perro de Tom?",
    "Ken compró 3 manzanas en Kioto.",
    "I can't believe it's already 10 o'clock!",
    "Ella dijo: «No quiero ir».",
    "Espera… ¿qué?",
] * 20


@pytest.fixture(scope="module")
def model():
    return train_subwords(CORPUS, 400)


def _texts(strings):
    return [s.decode("utf-8") for s in strings.numpy()]


def test_cased_text_round_trips_exactly(model):
    layer = SubwordVectorizer(model)
    texts = [*CORPUS[:7], "Zorbly Quaffle met Tom in Ōsaka."]  # unseen words
    ids = layer(tf.constant(texts))
    assert ids.dtype == tf.int32 and ids.shape[0] == len(texts)
    # Characters never seen in training (Z, Q, f, Ō) are spelled as bytes.
    assert _texts(layer.detokenize(ids)) == texts
    assert 1 not in ids.numpy()  # nothing is [UNK]
    assert int(tf.reduce_min(ids)) == 0  # padding, the shorter sentences
    # The special ids are never produced by tokenization.
    assert not np.isin(ids.numpy(), [START_ID, END_ID]).any()


def test_ids_follow_the_word_vectorizers_convention(model):
    vocabulary = SubwordVectorizer(model).get_vocabulary()
    assert vocabulary[:4] == ["<pad>", "<unk>", "<s>", "</s>"]
    assert len(vocabulary) == SubwordVectorizer(model).vocabulary_size()


def test_fixed_length_pads_and_cuts(model):
    layer = SubwordVectorizer(model, sequence_length=5)
    ids = layer(tf.constant(["Tom", CORPUS[1]])).numpy()
    assert ids.shape == (2, 5)
    tom = layer.tokenize(tf.constant(["Tom"]))[0].numpy().tolist()
    assert ids[0].tolist() == tom + [0] * (5 - len(tom))
    whole = layer.tokenize(tf.constant([CORPUS[1]]))[0].numpy().tolist()
    assert len(whole) > 5 and ids[1].tolist() == whole[:5]


def test_detokenize_skips_special_ids(model):
    layer = SubwordVectorizer(model)
    ids = layer(tf.constant(["Tom is reading a book."])).numpy()
    noisy = np.concatenate([[[START_ID]], ids, [[END_ID, 0, 0]]], axis=1)
    assert _texts(layer.detokenize(noisy)) == ["Tom is reading a book."]


def test_invalid_utf8_becomes_replacement_not_an_error(model):
    layer = SubwordVectorizer(model)
    ids = layer(tf.constant([b"Tom \xff is"]))
    assert _texts(layer.detokenize(ids)) == ["Tom \ufffd is"]


def test_unknown_words_are_counted_against_the_training_words(model):
    layer = SubwordVectorizer(model, known_words=["tom", "is", "reading", "."])
    counts = layer.count_unknown(tf.constant(["Tom is reading.", "Tom is zorbly.", ""]))
    assert counts.numpy().tolist() == [0, 1, 0]
    none = SubwordVectorizer(model).count_unknown(tf.constant(["zorbly words"]))
    assert none.numpy().tolist() == [0]


def test_layer_survives_keras_serialization(model, tmp_path):
    inputs = keras.Input(shape=(), dtype="string")
    layer = SubwordVectorizer(model, 7, known_words=["tom"], name="vec")
    outputs = layer(inputs)
    saved = keras.Model(inputs, outputs)
    saved.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    texts = tf.constant(CORPUS[:3])
    assert np.array_equal(loaded(texts), saved(texts))
    again = loaded.get_layer("vec")
    assert again.known_words == ["tom"] and again.sequence_length == 7


def test_with_subwords_learns_one_vocabulary_from_the_train_split(model):
    pairs = [(CORPUS[i], CORPUS[i + 1]) for i in (0, 2, 4)] * 20
    data = TranslationData(pairs, pairs[:2], pairs[:2], source="test")
    with_subwords(data, 400)
    assert data.subword_model and data.target_vocab == []
    assert "tom" in data.source_vocab and "mary" not in data.source_vocab
    # One model for both sides: a target-side word is one piece or a few.
    layer = SubwordVectorizer(data.subword_model)
    assert _texts(layer.detokenize(layer(tf.constant(["Mary"])))) == ["Mary"]


def test_pipeline_labels_from_a_subword_layer(model):
    layer = SubwordVectorizer(model)
    pairs = [("a", "Tom is reading a book."), ("b", "Ken")]
    seen = {}
    for inputs, labels in make_pipeline(pairs, layer, 4, batch_size=2, shuffle=False):
        for target, row in zip(inputs["target"].numpy(), labels.numpy()):
            seen[target.decode()] = row.tolist()
    for _, target in pairs:
        pieces = [int(i) for i in layer(tf.constant([target])).numpy()[0]][:4]
        assert seen[target][: len(pieces) + 1] == [*pieces, END_ID]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(vocab_size=4), "subword_vocab_size must be an integer >= 300"),
        (
            dict(vocab_size=300, texts=[chr(0x4E00 + i) for i in range(80)]),
            "subword_vocab_size=300 is below the 3",
        ),
        (dict(vocab_size=400, model_type="char"), "Unknown subword model 'char'"),
    ],
)
def test_bad_settings_raise_one_line(kwargs, message):
    texts = kwargs.pop("texts", CORPUS)
    with pytest.raises(DataError, match=message) as error:
        train_subwords(texts, **kwargs)
    assert "\n" not in str(error.value)


def test_no_text_raises():
    with pytest.raises(DataError, match="No training text"):
        train_subwords(["", "  "], 400)


def test_small_corpus_gets_a_smaller_vocabulary():
    layer = SubwordVectorizer(train_subwords(["ab ba", "abba"], 4000))
    assert 260 <= layer.vocabulary_size() < 4000
