"""Sentiment classification of reviews: BiLSTM, GRU, 1D CNN, HAN, BERT-like,
NB-weighted logistic regression over word n-grams.

python -m apps.sentiment train --profile quick          # BiLSTM, generated reviews
python -m apps.sentiment train --set model=han --set data=imdb
python -m apps.sentiment train --profile real --set data=PATH/aclImdb
python -m apps.sentiment predict --run-dir DIR "Not bad at all." reviews.txt
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import keras
import tensorflow as tf

from dltoolkit.apps.sentiment.evaluation import evaluate_sentiment
from dltoolkit.apps.sentiment.models import (
    NgramFeatures,
    build_sentiment_model,
    check_companion,
    companion_config,
    model_options,
    pretrain_encoder,
    uses_pretraining,
)
from dltoolkit.data.inputs import read_text_inputs
from dltoolkit.data.sentiment import TAGS, load_sentiment, make_pipeline
from dltoolkit.data.sentiment.ngrams import MAX_CHARS
from dltoolkit.data.sentiment.vectorizer import build_vocabulary
from dltoolkit.errors import ConfigError
from dltoolkit.training import runner
from dltoolkit.training.app import App, Evaluation, Pipelines, config_key
from dltoolkit.training.config import TrainConfig
from dltoolkit.training.export import EXPORT_DIR, export_saved_model, load_export


@dataclasses.dataclass
class SentimentConfig(TrainConfig):
    """Config of the sentiment app.

    Attributes:
        data: ``reviews`` (generated, default), ``imdb`` (TFDS
            ``imdb_reviews`` from the TFDS data dir), ``tfds:NAME``, an
            aclImdb folder (``train/pos``, ``train/neg``, ``test/...``) or a
            ``.csv`` / ``.tsv`` file with a header row.
        data_dir: the TFDS data dir (default: TFDS's own).
        num_reviews: size of the generated corpus (all splits).
        max_examples: cap on each real split (None: all).
        text_column, label_column: CSV/TSV columns (None: text/review/
            sentence/content and label/sentiment/polarity).
        val_fraction, test_fraction: held-out shares (test: generated and
            CSV data; IMDB has its own test split).
        model: ``lstm`` (bidirectional, default), ``gru`` (bidirectional),
            ``cnn``, ``han``, ``bert_like`` or ``nblr`` (NB-weighted logistic
            regression over binary word n-grams, Wang and Manning 2012).
        vocab_size: the most frequent training words kept (ids 0 and 1 are
            padding and unknown; 2 and 3 ``[CLS]`` and ``[MASK]``).
        max_tokens: words kept per review; the rest is truncated (bert_like:
            the fixed input length, ``[CLS]`` included).
        max_sentences, max_words: han only: sentences kept per review and
            words kept per sentence.
        embedding_dim, units, num_layers, dropout, filters, kernel_sizes,
            conv_layers, d_model, num_heads, d_ff, l2: model options (see
            ``apps/sentiment/models.py``: MODELS lists which kind takes
            which); None takes the kind's CPU-sized default, then the
            builder's.
        pretrain_epochs: bert_like only: epochs of masked-LM pretraining on
            the training (and unlabeled) text before fine-tuning.
        mask_rate: share of words the masked LM predicts.
        ngrams: nblr: the longest word n-gram.
        min_count: nblr: n-grams kept occur in at least this many training
            reviews.
        nb_alpha: smoothing of the naive-Bayes log-count ratios.
        companion: nblr only: ``cnn`` (or ``cnn_wide``) trains a CNN first
            (prepare stage, ``companion/``, settings in
            ``apps/sentiment/models.py: COMPANIONS``) and averages its
            probabilities with nblr's.
        companion_weight: the companion's share of the average.
        companion_epochs: the companion's most epochs (early stopping on
            validation loss, patience 1).
        baseline_c: inverse regularization of the logistic-regression
            baselines (bag of words, word uni+bigrams, NB-weighted
            uni+bigrams).
    """

    data: str = "reviews"
    data_dir: str | None = None
    num_reviews: int = 12000
    max_examples: int | None = None
    text_column: str | None = None
    label_column: str | None = None
    val_fraction: float = 0.1
    test_fraction: float = 0.2
    model: str = "lstm"
    vocab_size: int = 20000
    max_tokens: int = 256
    max_sentences: int = 16
    max_words: int = 32
    embedding_dim: int | None = None
    units: int | None = None
    num_layers: int | None = None
    dropout: float | None = None
    filters: int | None = None
    kernel_sizes: tuple[int, ...] | None = None
    conv_layers: int | None = None
    d_model: int | None = None
    num_heads: int | None = None
    d_ff: int | None = None
    l2: float | None = None
    pretrain_epochs: int = 0
    mask_rate: float = 0.15
    ngrams: int = 2
    min_count: int = 1
    nb_alpha: float = 1.0
    companion: str | None = None
    companion_weight: float = 0.3
    companion_epochs: int = 4
    baseline_c: float = 1.0


# quick: a BiLSTM of 32 units on 12,000 generated reviews, enough negation and
# contrast examples to learn how they compose, in about a minute on a CPU.
# full: more reviews and epochs, with the performance schedule.
PROFILES = {
    "smoke": dict(num_reviews=240, epochs=1, batch_size=32, max_tokens=64),
    "quick": dict(num_reviews=12000, epochs=10, early_stopping_patience=3),
    "full": dict(
        num_reviews=40000,
        epochs=30,
        early_stopping_patience=5,
        schedule="performance",
        perf_patience=2,
    ),
    # real: for a corpus of real reviews (IMDB-sized: ~20k labelled reviews of
    # ~230 words) on 2 CPU cores within 15 minutes. Word n-grams with
    # naive-Bayes weights (NB-LR) beat every neural model of the app there and
    # fit in a few epochs; trigrams (in >= 2 reviews) add a little, and a CNN
    # companion, averaged in, reads word order. Test: 10% of a folder without
    # a test split.
    "real": dict(
        model="nblr",
        ngrams=3,
        min_count=2,
        companion="cnn",
        companion_epochs=3,
        companion_weight=0.3,
        val_fraction=0.1,
        test_fraction=0.1,
        batch_size=64,
        epochs=4,
        early_stopping_patience=2,
    ),
    # real-full: real with a wider CNN companion (window widths 3, 4 and 5,
    # the first 800 words), for a larger budget.
    "real-full": dict(
        model="nblr",
        ngrams=3,
        min_count=2,
        companion="cnn_wide",
        companion_epochs=4,
        companion_weight=0.3,
        val_fraction=0.1,
        test_fraction=0.1,
        batch_size=64,
        epochs=4,
        early_stopping_patience=2,
    ),
}


PRETRAINED_FILE = "pretrained_encoder.weights.h5"
NGRAM_FOLDER = "ngram_features"
COMPANION_DIR = "companion"


class SentimentApp(App):
    name = "sentiment"
    config_cls = SentimentConfig
    data_fields = (
        "data",
        "data_dir",
        "num_reviews",
        "max_examples",
        "text_column",
        "label_column",
        "val_fraction",
        "test_fraction",
    )
    profiles = PROFILES
    headline = "accuracy"
    objective = "val_accuracy"

    def __init__(self):
        self._encoders = {}  # config key -> pretrained encoder weights
        self._ngram_features = {}  # config key -> NgramFeatures (nblr)
        self._companions = {}  # config key -> the companion's run dir (nblr)

    # === Data ===

    def load_data(self, config):
        model_options(config)  # an unknown model or option fails before loading
        check_companion(config)
        for key, least in (("ngrams", 1), ("min_count", 1)):
            if getattr(config, key) < least:
                raise ConfigError(
                    f"{key} must be >= {least}. Received: {getattr(config, key)}"
                )
        if config.nb_alpha <= 0:
            raise ConfigError(f"nb_alpha must be > 0. Received: {config.nb_alpha}")
        for key in ("val_fraction", "test_fraction"):
            if not 0.0 < getattr(config, key) < 0.5:
                raise ConfigError(
                    f"{key} must be in (0, 0.5). Received: {getattr(config, key)}"
                )
        data = load_sentiment(
            config.data,
            data_dir=config.data_dir,
            num_reviews=config.num_reviews,
            seed=config.seed,
            val_fraction=config.val_fraction,
            test_fraction=config.test_fraction,
            max_examples=config.max_examples,
            text_column=config.text_column,
            label_column=config.label_column,
        )
        try:
            data.vocabulary = build_vocabulary(data.train.texts, config.vocab_size)
        except ValueError as err:
            raise ConfigError(str(err)) from None
        return data

    def describe_data(self, data) -> str:
        sizes = ", ".join(f"{k} {v:,}" for k, v in data.sizes.items())
        positive = {k: float(s.labels.mean()) for k, s in self._splits(data)}
        balance = ", ".join(f"{k} {v:.1%}" for k, v in positive.items())
        tags = ", ".join(f"{t} {int(data.test.tags[t].sum())}" for t in TAGS)
        kind = "exact" if data.exact_tags else "heuristics"
        lines = [
            f"{data.source}; {sizes} reviews; positive share: {balance}.",
            f"Tagged test reviews ({kind}): {tags}.",
            f"Vocabulary: {len(data.vocabulary) + 2:,} ids (padding and unknown "
            "included), from the training texts.",
        ]
        if data.unlabeled:
            lines.append(f"Unlabeled reviews (pretraining): {len(data.unlabeled):,}.")
        return "\n\n".join(lines)

    @staticmethod
    def _splits(data):
        return [(k, s) for k, s in (("train", data.train), ("val", data.val),
                                    ("test", data.test)) if len(s)]  # fmt: skip

    def pipelines(self, config, data) -> Pipelines:
        kwargs = dict(batch_size=config.batch_size, seed=config.seed)
        return Pipelines(
            train=make_pipeline(data.train, shuffle=True, **kwargs),
            val=make_pipeline(data.val, shuffle=False, **kwargs),
            steps_per_epoch=math.ceil(len(data.train) / config.batch_size),
        )

    # === Model ===

    def prepare(self, config, data, run_dir: Path) -> None:
        """bert_like with ``pretrain_epochs > 0``: masked-LM pretraining of the
        encoder, kept in ``run_dir/pretrained_encoder.weights.h5``; nblr: the
        training split's n-gram vocabulary and naive-Bayes ratios, kept in
        ``run_dir/ngram_features/``, then its companion model (if any),
        trained in ``run_dir/companion/``."""
        if config.model == "nblr":
            self._prepare_nblr(config, data, Path(run_dir))
            return
        if not uses_pretraining(config):
            return
        path = Path(run_dir) / PRETRAINED_FILE
        if not path.is_file():
            print(f"masked-LM pretraining: {config.pretrain_epochs} epoch(s)")
            pretrain_encoder(config, data, path)
        self._encoders[config_key(config)] = path

    def _prepare_nblr(self, config, data, run_dir: Path) -> None:
        """The n-gram features, then the companion model (if any), trained
        through the runner in ``run_dir/companion/`` (resumable)."""
        folder = run_dir / NGRAM_FOLDER
        if (folder / NgramFeatures.RATIOS_FILE).is_file():
            features = NgramFeatures.load(folder)
        else:
            features = NgramFeatures.compute(
                config, data.train.texts, data.train.labels
            )
            features.save(folder)
        key = config_key(config)
        self._ngram_features[key] = features
        if config.companion is None:
            return
        companion = companion_config(config)
        where = run_dir / COMPANION_DIR
        if not runner.finished(where, companion):
            print(f"companion model: {config.companion}, {companion.epochs} epoch(s)")
            self.fit(companion, data, where)
        self._companions[key] = where

    def build_model(self, config, data):
        key = config_key(config)
        companion = None
        if config.model == "nblr" and config.companion is not None:
            if key not in self._companions:
                raise ValueError("the companion model is trained in the prepare stage")
            path = self._companions[key] / runner.MODEL_FILE
            companion = keras.saving.load_model(path, compile=False)
        return build_sentiment_model(
            config,
            data,
            self._encoders.get(key),
            ngram_features=self._ngram_features.get(key),
            companion=companion,
        )

    def loss_and_metrics(self, config):
        return "sparse_categorical_crossentropy", ["accuracy"]

    def chance_loss(self, config, data):
        return math.log(2.0)

    # === Evaluation ===

    def evaluate(self, model, data, config, run_dir: Path) -> Evaluation:
        metrics, sections, plots = evaluate_sentiment(model, data, config, run_dir)
        sections.append(("Input handling", _input_handling(config, data, model)))
        return Evaluation(metrics=metrics, sections=sections, plots=plots)

    # === Export and predict ===

    def export(self, model, data, config, path: Path) -> Path:
        class_names = tf.constant(list(data.class_names))

        def serve(texts):
            # (batch,) strings -> (batch, 2) probabilities
            probabilities = tf.cast(model(texts, training=False), tf.float32)
            class_id = tf.argmax(probabilities, axis=-1)
            return {
                "label": tf.gather(class_names, class_id),
                "class_id": class_id,
                "probability": probabilities[:, 1],
                "probabilities": probabilities,
            }

        return export_saved_model(
            path, model, serve, [tf.TensorSpec([None], tf.string, name="texts")]
        )

    def predict(self, run_dir: Path, inputs: list[str]) -> list[str]:
        """One ``source<TAB>label<TAB>P(positive)`` line per review.

        An input naming a file stands for its lines, one review a line
        (:func:`dltoolkit.data.inputs.read_text_inputs`; the source is
        ``PATH:LINE``); any other input is a review itself.
        """
        serve = load_export(Path(run_dir) / EXPORT_DIR)
        items = read_text_inputs(inputs)
        texts = [text for text, _ in items]
        sources = [origin or _shortened(text) for text, origin in items]
        out = serve(texts=tf.constant(texts, tf.string))
        labels = [s.decode() for s in out["label"].numpy()]
        probs = out["probability"].numpy()
        return [f"{s}\t{label}\t{p:.4f}" for s, label, p in zip(sources, labels, probs)]


def _shortened(text: str) -> str:
    """A review as the source column shows it: at most 60 characters."""
    return (text if len(text) <= 60 else text[:57] + "...") or '""'


def _input_handling(config, data, model) -> str:
    if config.model == "nblr":
        size = model.get_layer("vectorizer").vocabulary_size
        return (
            "Reviews are lower-cased in the model, `<br />` and punctuation "
            "other than ! and ? dropped; the features are the review's distinct "
            f"word n-grams of 1 to {config.ngrams} words among the {size:,} of "
            f"the training split (in at least {config.min_count} reviews); "
            "others are ignored. An empty review has no feature (the bias "
            f"decides). Only the first {MAX_CHARS:,} characters are read."
            + _companion_text(config)
        )
    return (
        "Reviews are lower-cased and stripped of punctuation in the model; "
        f"words outside the {len(data.vocabulary) + 2:,}-id vocabulary map to "
        "[UNK]; an empty review is all padding. " + _truncation(config)
    )


def _companion_text(config) -> str:
    if config.companion is None:
        return ""
    settings = companion_config(config)
    return (
        f" The {config.companion} companion, a {settings.model} (weight "
        f"{config.companion_weight}), "
        f"reads the first {settings.max_tokens} words of each review, with "
        f"the {settings.vocab_size:,}-id word vocabulary of the training split."
    )


def _truncation(config) -> str:
    if config.model == "han":
        return (
            f"Only the first {config.max_sentences} sentences, of at most "
            f"{config.max_words} words each, are read."
        )
    words = config.max_tokens - (config.model == "bert_like")
    return f"Only the first {words} words are read; the rest is truncated."


APP = SentimentApp()
