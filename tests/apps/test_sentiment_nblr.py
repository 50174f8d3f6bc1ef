"""The sentiment app's nblr model: prepare products, ensemble, export, resume,
and the n-gram baselines against scikit-learn."""

import json
import math
import textwrap

import numpy as np
import pytest
import tensorflow as tf
from app_helpers import run_fresh_process, train_error

from dltoolkit.apps.sentiment.app import APP
from dltoolkit.apps.sentiment.evaluation import ngram_baselines
from dltoolkit.data.sentiment.ngrams import ngram_set, ngram_tokenize
from dltoolkit.training.runner import load_trained_model, read_state

# nblr with a CNN companion on 300 generated reviews: seconds, not accuracy.
TINY = [
    "model=nblr",
    "companion=cnn",
    "companion_epochs=1",
    "num_reviews=300",
    "epochs=2",
    "batch_size=32",
]
TEXTS = [
    b"Not good, not good at all!",
    b"A great film<br />I loved it?",
    b"",
    b"zyzzyva quixotic flibbertigibbet",
    b"The acting was not good. " * 40_000,
    b"I loved the plot \xff\xfe but \xc3",
]


@pytest.fixture(scope="module")
def nblr_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("nblr_run")
    config = APP.resolve("smoke", TINY)
    metrics = APP.train(config, run_dir, profile="smoke", verbose=0)
    return run_dir, config, metrics


def test_prepare_keeps_the_training_ngrams_and_their_nb_ratios(nblr_run):
    run_dir, config, _ = nblr_run
    folder = run_dir / "ngram_features"
    vocabulary = (
        (folder / "vocabulary.txt").read_text(encoding="utf-8").split("\n")[:-1]
    )
    ratios = np.load(folder / "nb_ratios.npy")
    data = APP.load_data(config)
    documents = [ngram_set(words, 2) for words in ngram_tokenize(data.train.texts)]
    assert set(vocabulary) == set().union(*documents)
    # Brute force: p_j = 1 + positive reviews holding n-gram j, q_j likewise,
    # r_j = log(p_j / sum p) - log(q_j / sum q).
    labels = data.train.labels
    p = np.array(
        [
            1 + sum(g in d for d, y in zip(documents, labels) if y == 1)
            for g in vocabulary
        ],
        float,
    )
    q = np.array(
        [
            1 + sum(g in d for d, y in zip(documents, labels) if y == 0)
            for g in vocabulary
        ],
        float,
    )
    expected = np.log(p / p.sum()) - np.log(q / q.sum())
    np.testing.assert_allclose(ratios, expected, rtol=1e-5, atol=1e-6)
    # The model multiplies feature i + 1 (vocabulary[i]) by its ratio.
    model = load_trained_model(run_dir)
    scale = model.get_layer("nblr").get_layer("scaled_dense").scale.numpy()
    np.testing.assert_allclose(scale, np.concatenate([[0.0], ratios]))
    # The companion trained first, in the prepare stage, in its own run dir.
    assert read_state(run_dir / "companion")["done"]
    assert json.loads((run_dir / "prepare.json").read_text())["complete"]


def test_ensemble_is_the_weighted_average_of_its_members(nblr_run):
    run_dir, config, metrics = nblr_run
    model = load_trained_model(run_dir)
    texts = tf.constant(TEXTS[:4])
    nblr = model.get_layer("nblr")(model.get_layer("vectorizer")(texts))
    companion = model.get_layer("sentiment_cnn")(texts)
    w = config.companion_weight
    np.testing.assert_allclose(
        model(texts), (1 - w) * np.asarray(nblr) + w * np.asarray(companion), atol=1e-6
    )
    # Training fits nblr on its own: the ensemble layer passes it through.
    np.testing.assert_allclose(model(texts, training=True), nblr, atol=1e-6)
    for key in ("nblr_accuracy", "companion_accuracy", "nb_baseline_accuracy"):
        assert 0.0 <= metrics[key] <= 1.0, key


def test_export_takes_raw_strings_and_matches_the_model(nblr_run, tmp_path):
    run_dir, _, _ = nblr_run
    blobs = tmp_path / "texts.npy"
    np.save(blobs, np.array(TEXTS, dtype=object), allow_pickle=True)
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        import tensorflow as tf
        texts = np.load({str(blobs)!r}, allow_pickle=True).tolist()
        serve = tf.saved_model.load({str(run_dir / "export")!r}).signatures[
            "serving_default"]
        out = serve(texts=tf.constant(texts, tf.string))
        assert "dltoolkit" not in sys.modules
        np.save({str(tmp_path / "p.npy")!r}, out["probabilities"].numpy())
        """
    )
    run_fresh_process(script, tmp_path)
    exported = np.load(tmp_path / "p.npy")
    expected = load_trained_model(run_dir).predict(tf.constant(TEXTS), verbose=0)
    assert exported.shape == (len(TEXTS), 2) and np.all(np.isfinite(exported))
    np.testing.assert_allclose(exported, expected, atol=1e-5)


def test_resume_reuses_the_prepare_products(nblr_run):
    run_dir, _, metrics = nblr_run
    features = run_dir / "ngram_features" / "nb_ratios.npy"
    stamp = features.stat().st_mtime_ns
    companion = read_state(run_dir / "companion")
    prepare = json.loads((run_dir / "prepare.json").read_text())
    config = APP.resolve("smoke", [*TINY[:-2], "epochs=3", "batch_size=32"])
    again = APP.train(config, run_dir, profile="smoke", verbose=0)
    assert again["epochs"] == 3
    assert features.stat().st_mtime_ns == stamp  # not recomputed
    assert read_state(run_dir / "companion") == companion  # not retrained
    assert json.loads((run_dir / "prepare.json").read_text()) == prepare
    assert again["prepare_seconds"] == pytest.approx(metrics["prepare_seconds"])


def test_ngram_baselines_equal_a_direct_scikit_learn_computation():
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    config = APP.resolve("smoke", ["num_reviews=200", "baseline_c=0.5"])
    data = APP.load_data(config)
    ours = ngram_baselines(data, config)
    # scikit-learn's own n-grams over the same words (another column order).
    counts = CountVectorizer(
        tokenizer=str.split,
        token_pattern=None,
        lowercase=False,
        ngram_range=(1, 2),
        binary=True,
    )
    joined = [" ".join(w) for w in ngram_tokenize(data.train.texts)]
    x_train = counts.fit_transform(joined).astype("float32")
    x_test = counts.transform([" ".join(w) for w in ngram_tokenize(data.test.texts)])
    x_test = x_test.astype("float32")
    y = data.train.labels
    plain = LogisticRegression(C=0.5, max_iter=2000).fit(x_train, y)
    np.testing.assert_allclose(ours["ngram"], plain.predict_proba(x_test), atol=1e-4)
    p = 1 + np.asarray(x_train[y == 1].sum(axis=0)).ravel()
    q = 1 + np.asarray(x_train[y == 0].sum(axis=0)).ravel()
    r = np.log(p / p.sum()) - np.log(q / q.sum())
    weighted = LogisticRegression(C=0.5, max_iter=2000)
    weighted.fit(x_train.multiply(r).tocsr(), y)
    expected = weighted.predict_proba(x_test.multiply(r).tocsr())
    np.testing.assert_allclose(ours["nb"], expected, atol=1e-4)
    assert math.isclose(ours["nb"].sum(), len(data.test), rel_tol=1e-9)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            ["model=nblr", "companion=rnn"],
            "Unknown companion 'rnn'. Valid companions: cnn",
        ),
        (["model=nblr", "companion=cnn", "companion_weight=1.5"], "companion_weight"),
        (["model=nblr", "filters=8"], "Model 'nblr' takes no option 'filters'"),
        (["model=nblr", "min_count=0"], "min_count must be >= 1"),
        (["model=nblr", "nb_alpha=0"], "nb_alpha must be > 0"),
    ],
)
def test_bad_nblr_settings_exit_with_one_line(overrides, message, tmp_path, capsys):
    assert message in train_error(APP, tmp_path / "run", capsys, overrides)
