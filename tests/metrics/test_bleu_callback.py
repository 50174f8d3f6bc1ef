"""BleuCallback: val_bleu in the logs, usable by EarlyStopping and keras-tuner."""

import keras
import keras_tuner as kt
import numpy as np
import pytest

from dltoolkit.metrics import corpus_bleu
from dltoolkit.metrics.callbacks import BleuCallback

SOURCES = ["a b c d", "e f g h", "i j k l"]
REFERENCES = ["the cat sat on the mat", "a dog ran in the park", "we like green tea"]


def _tiny_model():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    return model


def _data():
    x = np.zeros((8, 2), "float32")
    return x, np.zeros((8, 1), "float32")


class _Schedule:
    """Translations that keep the first n reference words, n set per epoch."""

    def __init__(self, words_per_epoch):
        self.words = words_per_epoch
        self.epoch = 0
        self.calls = 0

    def __call__(self, sources):
        self.calls += 1
        n = self.words[min(self.epoch, len(self.words) - 1)]
        refs = dict(zip(SOURCES, REFERENCES))
        return [" ".join(refs[s].split()[:n]) for s in sources]


class _Tick(keras.callbacks.Callback):
    def __init__(self, schedule):
        super().__init__()
        self.schedule = schedule

    def on_epoch_end(self, epoch, logs=None):
        self.schedule.epoch += 1


def test_logs_val_bleu_equal_to_corpus_bleu():
    translate = _Schedule([4, 5, 6])
    callback = BleuCallback(translate, SOURCES, REFERENCES, batch_size=2)
    history = _tiny_model().fit(
        *_data(), epochs=3, verbose=0, callbacks=[callback, _Tick(translate)]
    )
    scores = history.history["val_bleu"]
    assert len(scores) == 3 and scores[0] < scores[1] < scores[2]
    final = [" ".join(r.split()[:6]) for r in REFERENCES]
    assert scores[-1] == pytest.approx(corpus_bleu(final, [REFERENCES]).score)
    assert translate.calls == 3 * 2  # two batches per epoch


def test_early_stopping_on_val_bleu():
    translate = _Schedule([4, 6, 5])
    callback = BleuCallback(translate, SOURCES, REFERENCES)
    stop = keras.callbacks.EarlyStopping(monitor="val_bleu", mode="max", patience=1)
    history = _tiny_model().fit(
        *_data(), epochs=10, verbose=0, callbacks=[callback, stop, _Tick(translate)]
    )
    assert len(history.history["val_bleu"]) == 3  # best at epoch 2, stop at 3


def test_keras_tuner_objective(tmp_path):
    class Model(kt.HyperModel):
        def build(self, hp):
            hp.Int("words", 4, 6)
            return _tiny_model()

        def fit(self, hp, model, *args, callbacks=None, **kwargs):
            translate = _Schedule([hp["words"]])
            bleu = BleuCallback(translate, SOURCES, REFERENCES)
            return model.fit(
                *_data(), epochs=2, verbose=0, callbacks=[bleu, *(callbacks or [])]
            )

    tuner = kt.RandomSearch(
        Model(),
        objective=kt.Objective("val_bleu", "max"),
        max_trials=3,
        directory=str(tmp_path),
        seed=1,
    )
    tuner.search(verbose=0)
    best = tuner.oracle.get_best_trials(1)[0]
    assert best.score == pytest.approx(
        max(t.score for t in tuner.oracle.trials.values())
    )
    assert best.score > 0


def test_bad_input():
    with pytest.raises(ValueError, match="3 sources, 2 references"):
        BleuCallback(lambda s: s, SOURCES, REFERENCES[:2])
    callback = BleuCallback(lambda s: ["x"], SOURCES, REFERENCES)
    with pytest.raises(ValueError, match="translate returned 1 outputs for 3"):
        callback.score()
