"""The pieces the decoding apps (translation, captioning) share."""

import gc

import keras
import numpy as np
import pytest
import sacrebleu
import tensorflow as tf

from dltoolkit.training.decoders import (
    TracedFunctions,
    decode_all,
    export_beam_and_greedy,
    reference_streams,
    val_bleu_callback,
)

SPEC = tf.TensorSpec([None], tf.string, name="sentences")


class _Config:
    val_bleu_size = 3
    val_bleu_every = 1


def _upper(sentences):
    return {"text": tf.strings.upper(sentences), "length": tf.strings.length(sentences)}


def test_traced_functions_trace_once_per_model_and_key():
    traced = TracedFunctions()
    made = []

    def make():
        made.append(1)
        return _upper

    a, b = keras.Sequential([keras.layers.Dense(1)]), keras.Sequential()
    first = traced.get(a, 1, make, [SPEC])
    assert traced.get(a, 1, make, [SPEC]) is first and len(made) == 1
    assert traced.get(a, 2, make, [SPEC]) is not first
    assert traced.get(b, 1, make, [SPEC]) is not first and len(made) == 3
    assert first(tf.constant(["ab"]))["text"].numpy().tolist() == [b"AB"]
    del a, first
    gc.collect()
    assert len(traced._traced) == 1  # the model's traces go with it


def test_decode_all_batches_strings_and_arrays():
    texts = ["a", "bé", "", "c\x00d", "e"]
    assert decode_all(_upper, texts, "text", batch_size=2) == [
        "A",
        "Bé",
        "",
        "C\x00D",
        "E",
    ]
    images = np.arange(5 * 2 * 2, dtype="float32").reshape(5, 2, 2)

    def total(batch):
        return {"text": tf.strings.as_string(tf.reduce_sum(batch, axis=[1, 2]))}

    sums = decode_all(total, list(images), "text", batch_size=3)
    assert [float(s) for s in sums] == images.sum(axis=(1, 2)).tolist()
    assert decode_all(_upper, [], "text") == []


def test_reference_streams_pad_with_none():
    assert reference_streams([["a", "b"], ["c"]]) == [["a", "c"], ["b", None]]


@pytest.mark.parametrize(
    "references",
    [
        ["THE CAT SAT", "A DOG", "NO", "UNUSED"],  # one string per source
        [["THE CAT SAT"], ["A DOG", "ONE DOG"], ["NO"], ["UNUSED"]],  # lists
    ],
)
def test_val_bleu_callback_scores_greedy_output(references):
    calls = []

    def greedy(batch):
        calls.append(int(batch.shape[0]))
        return _upper(batch)

    sources = ["the cat sat", "a dog", "yes", "not scored"]
    callback = val_bleu_callback(greedy, "text", sources, references, _Config())
    logs = {}
    callback.on_epoch_end(0, logs)
    assert calls == [3]  # the first val_bleu_size sources, one batch
    streams = [[r] if isinstance(r, str) else r for r in references[:3]]
    expected = sacrebleu.corpus_bleu(
        ["THE CAT SAT", "A DOG", "YES"], reference_streams(streams)
    ).score
    assert logs["val_bleu"] == pytest.approx(expected)


def test_export_beam_and_greedy_writes_both_signatures(tmp_path):
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])

    def decoder(width):
        def decode(sentences):
            return {"text": tf.strings.join([sentences, f"/{width}"])}

        return tf.function(decode, input_signature=[SPEC])

    export_beam_and_greedy(
        tmp_path / "export", model, decoder, beam_width=4, input_spec=SPEC
    )
    signatures = tf.saved_model.load(str(tmp_path / "export")).signatures
    assert set(signatures) == {"serving_default", "greedy"}
    batch = tf.constant(["x"])
    assert signatures["serving_default"](sentences=batch)["text"][0] == b"x/4"
    assert signatures["greedy"](sentences=batch)["text"][0] == b"x/1"
