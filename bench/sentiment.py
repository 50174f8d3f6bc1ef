"""Sentiment on real reviews: the app's ``real`` profile against its baselines
and two Keras example recipes, on one split, for one wall-clock budget.

    .venv/bin/python bench/sentiment.py --data PATH/aclImdb [--budget 900]
                                        [--profile real] [--set KEY=VALUE ...]
                                        [--run-dir DIR] [--threads T] [--force]
                                        [--out FILE.json] [--smoke]

One split for everyone: the app's loader with the profile's settings (the
aclImdb folder's ``test/`` when it has one, else 10% of ``train/``; the
validation share of the rest). Every contender trains on the training part
(the Keras recipes validate on the validation part, as the app does) and is
scored on the test part:

- ``dltoolkit real``: ``python -m apps.sentiment train --profile real``
  through the app (prepare stage, fit, export), scored through its exported
  SavedModel on the raw test reviews; its seconds are the run's
  ``train_seconds`` (prepare + fit). The profile is its own recipe: it is
  not cut at the budget, which the table shows it kept or not.
- ``bag-of-words LR``, ``uni+bigram LR``, ``NB-LR``: the app's scikit-learn
  baselines (binary words capped at the vocabulary size; binary word
  uni+bigrams; the same weighted by naive-Bayes log-count ratios, Wang and
  Manning 2012), with the app's tokens and settings; seconds: features and fit.
- ``Keras BiLSTM``: "Bidirectional LSTM on IMDB" (F. Chollet, 2020,
  https://keras.io/examples/nlp/bidirectional_lstm_imdb/): the 20,000 most
  frequent words, the last 200 of each review (``pad_sequences``' defaults),
  Embedding 128, two bidirectional LSTM(64), a sigmoid unit; Adam, binary
  cross-entropy, batch 32, 2 epochs.
- ``Keras Transformer``: "Text classification with Transformer" (A. Nandan,
  2020, https://keras.io/examples/nlp/text_classification_with_transformer/):
  the same 20,000 words and 200 tokens, token + position embeddings of 32,
  one post-norm Transformer block (2 heads, key size 32, feed-forward 32,
  dropout 0.1), global average pooling, dropout 0.1, Dense(20, relu),
  dropout 0.1, softmax over 2; Adam, sparse cross-entropy, batch 32, 2 epochs.

Both recipes are written here from those pages (the examples read Keras's
pre-tokenized IMDB; here the words are the app's lower-cased tokens). Each
trains until its published epochs or the budget, whichever comes first (the
budget is checked after every batch). The table gives accuracy, training
seconds and the accuracy ratio to the best peer (every contender but ours).
Threads are pinned equally for all (``bench/_harness.py``); the JSON goes to
``bench/results/sentiment.json`` (or ``--out``). ``--smoke`` writes a tiny
aclImdb-layout folder itself and runs everything at toy sizes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import _harness  # noqa: E402

OURS = "dltoolkit real"
MAX_FEATURES, MAXLEN = 20_000, 200  # both Keras examples
SMOKE_WORDS = {
    1: "great superb wonderful loved moving brilliant fun charming".split(),
    0: "awful boring dull hated waste terrible bland clumsy".split(),
}
FILLER = "the film plot cast story scene music director acting ending".split()


def write_smoke_corpus(root: Path, per_class: int = 60, seed: int = 0) -> Path:
    """A tiny aclImdb folder (``train/{pos,neg}/*.txt``): short reviews of
    filler words and a few polar ones, some negated."""
    import random

    rng = random.Random(seed)
    for label, name in ((1, "pos"), (0, "neg")):
        folder = root / "train" / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            words = rng.choices(FILLER, k=rng.randint(6, 14))
            for _ in range(rng.randint(1, 3)):
                words.insert(
                    rng.randrange(len(words) + 1), rng.choice(SMOKE_WORDS[label])
                )
            if rng.random() < 0.2:
                words += ["not", rng.choice(SMOKE_WORDS[1 - label]), "!"]
            text = " ".join(words).capitalize() + ".<br /><br />" + rng.choice(FILLER)
            (folder / f"{i}_{7 if label else 2}.txt").write_text(text, encoding="utf-8")
    return root


class Budget:
    """A Keras callback stopping training once ``seconds`` have passed."""

    def __init__(self, seconds: float):
        import keras

        class _Stop(keras.callbacks.Callback):
            def on_train_begin(cb, logs=None):
                cb.start = time.perf_counter()
                cb.stopped = False

            def on_train_batch_end(cb, batch, logs=None):
                if time.perf_counter() - cb.start > seconds:
                    cb.model.stop_training = True
                    cb.stopped = True

        self.callback = _Stop()


# === Contenders ===


def run_ours(data_path, profile, overrides, run_dir: Path, test) -> dict:
    """Trains the app's profile in ``run_dir``; scores its export on ``test``."""
    from dltoolkit.apps.sentiment.app import APP

    config = APP.resolve(profile, [f"data={data_path}", *overrides])
    metrics, wall, serve = _harness.train_through_app(APP, config, profile, run_dir)
    tf = sys.modules["tensorflow"]
    probabilities = []
    for i in range(0, len(test), 256):
        out = serve(texts=tf.constant(test.texts[i : i + 256], tf.string))
        probabilities.extend(out["probability"].numpy().tolist())
    predicted = [int(p >= 0.5) for p in probabilities]
    return {
        "accuracy": _accuracy(predicted, test.labels),
        "seconds": metrics["train_seconds"],
        "wall_seconds": round(wall, 1),
        "epochs": metrics["epochs"],
        "app_accuracy": metrics["accuracy"],
        "app_metrics": {
            k: metrics.get(k)
            for k in (
                "prepare_seconds",
                "nblr_accuracy",
                "companion_accuracy",
                "accuracy_negation",
                "test_negation",
            )
        },
    }


def run_baselines(data, config) -> dict:
    """The app's three scikit-learn baselines, each timed (features + fit)."""
    import scipy.sparse
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    from dltoolkit.apps.sentiment.evaluation import BASELINE_MIN_COUNT, BASELINE_NGRAMS
    from dltoolkit.data.sentiment.ngrams import (
        binary_features,
        log_count_ratios,
        ngram_documents,
        ngram_vocabulary,
    )
    from dltoolkit.data.sentiment.vectorizer import tokenize

    rows = {}
    y = data.train.labels
    start = time.perf_counter()
    counts = CountVectorizer(
        analyzer=lambda words: words, binary=True, max_features=config.vocab_size
    )
    x_train = counts.fit_transform(tokenize(data.train.texts))
    bow = LogisticRegression(C=config.baseline_c, max_iter=2000).fit(x_train, y)
    seconds = time.perf_counter() - start
    predicted = bow.predict(counts.transform(tokenize(data.test.texts)))
    rows["bag-of-words LR"] = {
        "accuracy": _accuracy(predicted, data.test.labels),
        "seconds": seconds,
    }

    start = time.perf_counter()
    documents = ngram_documents(data.train.texts, BASELINE_NGRAMS)
    vocabulary = ngram_vocabulary(documents, min_count=BASELINE_MIN_COUNT)
    x_train = binary_features(documents, vocabulary)
    shared = time.perf_counter() - start
    test = ngram_documents(data.test.texts, BASELINE_NGRAMS)
    x_test = binary_features(test, vocabulary)
    start = time.perf_counter()
    plain = LogisticRegression(C=config.baseline_c, max_iter=2000).fit(x_train, y)
    seconds = shared + time.perf_counter() - start
    rows["uni+bigram LR"] = {
        "accuracy": _accuracy(plain.predict(x_test), data.test.labels),
        "seconds": seconds,
    }
    start = time.perf_counter()
    ratios = scipy.sparse.diags(log_count_ratios(x_train, y, alpha=config.nb_alpha))
    weighted = LogisticRegression(C=config.baseline_c, max_iter=2000)
    weighted.fit(x_train @ ratios, y)
    seconds = shared + time.perf_counter() - start
    rows["NB-LR"] = {
        "accuracy": _accuracy(weighted.predict(x_test @ ratios), data.test.labels),
        "seconds": seconds,
        "features": len(vocabulary),
    }
    return rows


def keras_ids(data):
    """Each split as ``(n, 200)`` int32 ids, as ``keras.datasets.imdb`` with
    ``num_words=20000`` and ``pad_sequences(maxlen=200)``: 1 starts a review,
    2 is a word outside the vocabulary, words from 3 by frequency; the last
    200 ids kept, zeros in front."""
    import collections

    import keras
    import numpy as np

    from dltoolkit.data.sentiment.vectorizer import tokenize

    splits = {"train": data.train, "val": data.val, "test": data.test}
    words = {name: tokenize(split.texts) for name, split in splits.items()}
    counts = collections.Counter(w for review in words["train"] for w in review)
    ranked = sorted(counts, key=lambda w: (-counts[w], w))[: MAX_FEATURES - 3]
    index = {w: i + 3 for i, w in enumerate(ranked)}
    out = {}
    for name, reviews in words.items():
        ids = [[1, *(index.get(w, 2) for w in review)] for review in reviews]
        out[name] = keras.utils.pad_sequences(ids, maxlen=MAXLEN).astype(np.int32)
    return out


def keras_bilstm():
    import keras
    from keras import layers

    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(MAX_FEATURES, 128)(inputs)
    x = layers.Bidirectional(layers.LSTM(64, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(64))(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs, name="keras_bilstm")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def keras_transformer():
    import keras
    from keras import layers, ops

    embed_dim, num_heads, ff_dim, rate = 32, 2, 32, 0.1
    inputs = layers.Input(shape=(MAXLEN,))
    tokens = layers.Embedding(MAX_FEATURES, embed_dim)(inputs)
    positions = layers.Embedding(MAXLEN, embed_dim)(ops.arange(MAXLEN))
    x = tokens + positions
    attention = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)(x, x)
    x = layers.LayerNormalization(epsilon=1e-6)(x + layers.Dropout(rate)(attention))
    ffn = layers.Dense(embed_dim)(layers.Dense(ff_dim, activation="relu")(x))
    x = layers.LayerNormalization(epsilon=1e-6)(x + layers.Dropout(rate)(ffn))
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    model = keras.Model(inputs, outputs, name="keras_transformer")
    model.compile(
        optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model


def run_keras(build, ids, data, budget: float, epochs: int = 2) -> dict:
    """Trains a recipe for its epochs or the budget; scores the test split."""
    import numpy as np

    model = build()
    stop = Budget(budget).callback
    start = time.perf_counter()
    model.fit(
        ids["train"],
        data.train.labels,
        batch_size=32,
        epochs=epochs,
        validation_data=(ids["val"], data.val.labels),
        callbacks=[stop],
        verbose=0,
    )
    seconds = time.perf_counter() - start
    out = np.asarray(model.predict(ids["test"], batch_size=256, verbose=0))
    predicted = (out[:, 0] >= 0.5) if out.shape[1] == 1 else out.argmax(axis=1)
    return {
        "accuracy": _accuracy(predicted.astype(int), data.test.labels),
        "seconds": seconds,
        "epochs_run": len(model.history.epoch),
        "stopped_by_budget": bool(stop.stopped),
    }


def _accuracy(predicted, labels) -> float:
    import numpy as np

    return float((np.asarray(predicted) == np.asarray(labels)).mean())


# === Main ===


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _harness.add_app_arguments(parser, "an aclImdb folder", smoke_profile="real")
    parser.add_argument(
        "--budget", type=float, default=900.0, help="training seconds per contender"
    )
    _harness.add_arguments(parser)
    args = parser.parse_args(argv)
    args.profile = _harness.profile(args)
    if args.data is None and not args.smoke:
        parser.error("--data PATH (an aclImdb folder) is required without --smoke")
    run = _harness.Run("sentiment", args)
    tf = run.tensorflow()
    tf.keras.utils.set_random_seed(0)

    from dltoolkit.apps.sentiment.app import APP

    scratch = Path(tempfile.mkdtemp(prefix="bench-sentiment-"))
    try:
        data_path = args.data
        if args.smoke:
            data_path = data_path or str(write_smoke_corpus(scratch / "aclImdb"))
            args.budget = min(args.budget, 60.0)
        config = APP.resolve(args.profile, [f"data={data_path}", *args.overrides])
        data = APP.load_data(config)
        print(f"[bench] data: {data.source}; {data.sizes}; budget {args.budget:g} s")
        run.print_threads()
        rows = {}
        run_dir = Path(args.run_dir) if args.run_dir else scratch / "run"
        rows[OURS] = run_ours(
            data_path, args.profile, args.overrides, run_dir, data.test
        )
        rows.update(run_baselines(data, config))
        ids = keras_ids(data)
        rows["Keras BiLSTM"] = run_keras(keras_bilstm, ids, data, args.budget)
        rows["Keras Transformer"] = run_keras(keras_transformer, ids, data, args.budget)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    best_peer = max(r["accuracy"] for name, r in rows.items() if name != OURS)
    for row in rows.values():
        row["ratio_to_best_peer"] = row["accuracy"] / best_peer
        row["within_budget"] = row["seconds"] <= args.budget
    print(
        "\n| contender | test accuracy | train seconds | accuracy / best peer |\n"
        "|---|---|---|---|"
    )
    for name, row in rows.items():
        flag = "" if row["within_budget"] else " (over budget)"
        print(
            f"| {name} | {row['accuracy']:.4f} | {row['seconds']:.1f}{flag} | "
            f"{row['ratio_to_best_peer']:.3f} |"
        )
    run.write(
        {
            "data": f"aclImdb folder {Path(data_path).name}",
            "split": {**data.sizes, "seed": config.seed},
            "profile": args.profile,
            "overrides": _harness.shown(args.overrides),
            "budget_seconds": args.budget,
            "best_peer_accuracy": best_peer,
            "rows": rows,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
