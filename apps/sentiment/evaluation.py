"""Test metrics, the bag-of-words baseline, samples and attention for the report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse
import tensorflow as tf

from dltoolkit.apps.sentiment.models import companion_config
from dltoolkit.apps.sentiment.plots import plot_han_attention
from dltoolkit.data.sentiment import TAGGER_NOTE, TAGS, text_batches
from dltoolkit.data.sentiment.ngrams import (
    binary_features,
    log_count_ratios,
    ngram_documents,
    ngram_vocabulary,
)
from dltoolkit.data.sentiment.vectorizer import tokenize
from dltoolkit.training.report import markdown_table


def binary_metrics(labels, probabilities, prefix: str = "") -> dict:
    """Accuracy, precision, recall, F1 (positive class) and ROC AUC.

    ``probabilities`` is ``(n, 2)``; the prediction is its argmax.
    """
    from sklearn.metrics import (
        accuracy_score,
        precision_recall_fscore_support,
        roc_auc_score,
    )

    labels = np.asarray(labels)
    pred = np.asarray(probabilities).argmax(axis=1)
    precision, recall, f1, _ = precision_recall_fscore_support(
        labels, pred, average="binary", pos_label=1, zero_division=0
    )
    both = len(np.unique(labels)) == 2
    auc = roc_auc_score(labels, probabilities[:, 1]) if both else None
    values = {
        "accuracy": accuracy_score(labels, pred),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "roc_auc": auc,
    }
    return {f"{prefix}{k}": None if v is None else float(v) for k, v in values.items()}


def subset_accuracies(labels, pred, tags: dict, prefix: str = "") -> dict:
    """``accuracy_<tag>`` on each tagged subset (None when it is empty)."""
    out = {}
    for tag in TAGS:
        mask = tags.get(tag, np.zeros(len(labels), bool))
        out[f"{prefix}accuracy_{tag}"] = (
            float((pred[mask] == labels[mask]).mean()) if mask.any() else None
        )
    return out


def bag_of_words_baseline(data, config):
    """Logistic regression on binary word counts, trained on the train split.

    The words are the model's own (:func:`tokenize`), capped at
    ``vocab_size``. Returns the test probabilities ``(n, 2)``.
    """
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    counts = CountVectorizer(
        analyzer=_identity, binary=True, max_features=config.vocab_size
    )
    x_train = counts.fit_transform(tokenize(data.train.texts))
    classifier = LogisticRegression(C=config.baseline_c, max_iter=2000)
    classifier.fit(x_train, data.train.labels)
    return classifier.predict_proba(counts.transform(tokenize(data.test.texts)))


def _identity(words):
    return words


# The n-gram baselines' features: word uni+bigrams, every one in the training
# split (Wang and Manning's NBSVM-bi; the same whatever the model reads).
BASELINE_NGRAMS, BASELINE_MIN_COUNT = 2, 1


def ngram_baselines(data, config) -> dict:
    """Two logistic regressions on binary word uni+bigrams.

    ``ngram``: plain logistic regression; ``nb``: NB-weighted (each feature
    times its naive-Bayes log-count ratio, Wang and Manning 2012), the
    classic strong baseline of movie-review sentiment. Both read nblr's words
    (:func:`~dltoolkit.data.sentiment.ngrams.ngram_tokenize`) and are trained
    on the train split with ``C = baseline_c`` (ratios smoothed by
    ``nb_alpha``). Returns name -> test probabilities ``(n, 2)``.
    """
    from sklearn.linear_model import LogisticRegression

    documents = ngram_documents(data.train.texts, BASELINE_NGRAMS)
    vocabulary = ngram_vocabulary(documents, min_count=BASELINE_MIN_COUNT)
    x_train = binary_features(documents, vocabulary)
    test = ngram_documents(data.test.texts, BASELINE_NGRAMS)
    x_test = binary_features(test, vocabulary)
    labels = data.train.labels
    out = {}
    plain = LogisticRegression(C=config.baseline_c, max_iter=2000)
    out["ngram"] = plain.fit(x_train, labels).predict_proba(x_test)
    r = log_count_ratios(x_train, labels, alpha=config.nb_alpha)
    ratios = scipy.sparse.diags(r)
    weighted = LogisticRegression(C=config.baseline_c, max_iter=2000)
    out["nb"] = weighted.fit(x_train @ ratios, labels).predict_proba(x_test @ ratios)
    return out


def member_accuracies(model, test, config) -> dict:
    """nblr with a companion: each member's own test accuracy
    (``nblr_accuracy``, ``companion_accuracy``); empty otherwise."""
    if config.model != "nblr" or config.companion is None:
        return {}
    vectorizer, nblr = model.get_layer("vectorizer"), model.get_layer("nblr")
    members = {
        "nblr": lambda texts: nblr(vectorizer(texts), training=False),
        "companion": model.get_layer(f"sentiment_{companion_config(config).model}"),
    }
    out = {}
    for name, member in members.items():
        probs = [member(texts) for texts in text_batches(test.texts, config.batch_size)]
        pred = np.concatenate([np.asarray(p) for p in probs]).argmax(axis=1)
        out[f"{name}_accuracy"] = float((pred == test.labels).mean())
    return out


def evaluate_sentiment(model, data, config, run_dir: Path):
    """Metrics, report sections and plots for a trained sentiment model."""
    from sklearn.metrics import confusion_matrix

    from dltoolkit.training.plots import plot_confusion_matrix

    test = data.test
    probs = model.predict(text_batches(test.texts, config.batch_size), verbose=0)
    probs = np.asarray(probs, dtype="float64").reshape(len(test), 2)
    pred = probs.argmax(axis=1)
    baselines = {"": bag_of_words_baseline(data, config)}
    baselines.update(ngram_baselines(data, config))
    base = baselines[""]
    metrics = {
        **binary_metrics(test.labels, probs),
        **subset_accuracies(test.labels, pred, test.tags),
    }
    for name, p in baselines.items():
        prefix = f"{name}_baseline_" if name else "baseline_"
        metrics.update(binary_metrics(test.labels, p, prefix=prefix))
        metrics.update(subset_accuracies(test.labels, p.argmax(1), test.tags, prefix))
    metrics.update(member_accuracies(model, test, config))
    metrics["test_examples"] = len(test)
    metrics.update(
        {f"test_{t}": int(test.tags[t].sum()) for t in TAGS if t in test.tags}
    )
    names = list(data.class_names)
    matrix = confusion_matrix(test.labels, pred, labels=[0, 1])
    plots = [plot_confusion_matrix(matrix, names, run_dir / "confusion_matrix.png")]
    sections = [
        ("Model vs baselines (test split)", _subset_table(metrics, data)),
        ("Sample predictions (test split)", _samples(test, probs, base, names)),
    ]
    if config.model == "han":
        path, text = han_attention_section(model, test, run_dir / "han_attention.png")
        plots.append(path)
        sections.append(("HAN attention", text))
    return metrics, sections, plots


def _subset_table(metrics: dict, data) -> str:
    kind = "exact (generator)" if data.exact_tags else TAGGER_NOTE
    prefixes = ("", "baseline_", "ngram_baseline_", "nb_baseline_")
    rows = [["all", metrics["test_examples"]]]
    rows[0] += [metrics.get(f"{p}accuracy") for p in prefixes]
    for tag in TAGS:
        row = [tag, metrics.get(f"test_{tag}", 0)]
        rows.append(row + [metrics.get(f"{p}accuracy_{tag}") for p in prefixes])
    header = ["subset", "reviews", "model", "bag-of-words LR", "uni+bigram LR", "NB-LR"]
    table = markdown_table(header, rows)
    return (
        f"{table}\n\nAccuracy per subset; tags: {kind}. The baselines are "
        "scikit-learn logistic regressions on the training split: binary "
        "words (the model's vocabulary), binary word uni+bigrams, and the same "
        "uni+bigrams weighted by their naive-Bayes log-count ratios (NB-LR, "
        "Wang and Manning 2012)."
    )


def _pick_samples(test, per_tag: int = 2, total: int = 8) -> list[int]:
    """A few test reviews: ``per_tag`` of each tag, then untagged ones."""
    chosen: list[int] = []
    for tag in TAGS:
        hits = np.flatnonzero(test.tags.get(tag, np.zeros(len(test), bool)))
        chosen += [int(i) for i in hits if i not in chosen][:per_tag]
    tagged = np.zeros(len(test), bool)
    for mask in test.tags.values():
        tagged |= mask
    plain = [int(i) for i in np.flatnonzero(~tagged) if i not in chosen]
    return chosen + plain[: max(0, total - len(chosen))]


def _samples(test, probs, base, names) -> str:
    rows = []
    for i in sorted(_pick_samples(test)):
        text = test.texts[i]
        short = text if len(text) <= 160 else text[:157] + "..."
        tags = ", ".join(t for t in TAGS if test.tags.get(t, [False] * len(test))[i])
        rows.append(
            [
                short,
                tags or "-",
                names[test.labels[i]],
                f"{names[probs[i].argmax()]} ({probs[i, 1]:.3f})",
                names[base[i].argmax()],
            ]
        )
    header = ["review", "tags", "true", "model (P positive)", "baseline"]
    return markdown_table(header, rows)


def han_attention_section(model, test, path: Path, count: int = 4):
    """Draws the HAN's word and sentence attention over a few test reviews."""
    from dltoolkit.models.han import han_attention_model

    vectorizer = model.get_layer("vectorizer")
    attention = han_attention_model(model.get_layer("han"))
    index = _pick_samples(test, per_tag=1, total=count)[:count]
    texts = [test.texts[i] for i in index]
    ids = vectorizer(tf.constant(texts, tf.string)).numpy()  # (n, S, W)
    probs, words, sentences = (np.asarray(t) for t in attention(ids))
    lookup = ["", "[UNK]", *vectorizer.vocabulary]
    samples = []
    for k, i in enumerate(index):
        rows = [r for r in range(ids.shape[1]) if ids[k, r].any()]
        samples.append(
            {
                "title": f"test #{i} (true {test.labels[i]}, "
                f"P(positive) = {probs[k, 1]:.3f})",
                "sentences": [[lookup[t] for t in ids[k, r] if t] for r in rows],
                "word_weights": [words[k, r][ids[k, r] > 0] for r in rows],
                "sentence_weights": [sentences[k, r] for r in rows],
            }
        )
    out = plot_han_attention(samples, path)
    text = (
        f"`{out.name}`: {len(samples)} test reviews as the model saw them "
        "(lower case, truncated); sentence weights in red, word weights in blue."
    )
    return out, text
