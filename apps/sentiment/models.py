"""The sentiment models: raw strings -> a vectorizer -> a registered builder.

Every model kind takes a batch of review strings and returns the two class
probabilities (negative, positive). The token models (``ReviewVectorizer``
-> ids) are nested under their builder's name (``rnn``, ``text_cnn``,
``han``, ``bert_like``); ``nblr`` is ``NgramVectorizer`` (binary word
n-grams) -> ``nb_logistic_regression`` over the n-gram vocabulary and
naive-Bayes ratios that the app's prepare stage computed
(:class:`NgramFeatures`).
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from dltoolkit.data.sentiment.ngrams import (
    NgramVectorizer,
    binary_features,
    log_count_ratios,
    ngram_documents,
    ngram_vocabulary,
)
from dltoolkit.data.sentiment.vectorizer import CLS, MASK, ReviewVectorizer
from dltoolkit.errors import ConfigError
from dltoolkit.layers import EnsembleAverage
from dltoolkit.models import get_builder
from dltoolkit.models.bert import mask_tokens
from dltoolkit.optim import make_optimizer

# Model kind -> (registered builder, config options it takes).
MODELS = {
    "lstm": ("rnn", ("embedding_dim", "units", "num_layers", "dropout")),
    "gru": ("rnn", ("embedding_dim", "units", "num_layers", "dropout")),
    "cnn": (
        "text_cnn",
        ("embedding_dim", "filters", "kernel_sizes", "conv_layers", "dropout"),
    ),
    "han": ("han", ("embedding_dim", "units", "dropout")),
    "bert_like": (
        "bert_like",
        ("num_layers", "d_model", "num_heads", "d_ff", "dropout"),
    ),
    "nblr": ("nb_logistic_regression", ("l2", "dropout")),
}
# nblr: l2 about 1 / (2 n) for IMDB's n = 20,250 training reviews
# (scikit-learn's C = 1); other L2 weights and feature dropout did no better.
NBLR_L2, NBLR_DROPOUT = 2e-5, 0.0
# Sizes for 2 CPU cores, used for options left None (others: the builder's).
KIND_DEFAULTS = {
    "lstm": dict(embedding_dim=32, units=32),
    "gru": dict(embedding_dim=32, units=32),
    "cnn": dict(embedding_dim=64, filters=64, kernel_sizes=(3, 5), conv_layers=2),
    "han": dict(embedding_dim=32, units=32),
    "bert_like": dict(num_layers=2, d_model=64, num_heads=4, d_ff=128, dropout=0.1),
    "nblr": dict(l2=NBLR_L2, dropout=NBLR_DROPOUT),
}


def model_options(config) -> dict:
    """The config's options for its model kind, defaults filled in.

    Raises:
        ConfigError: an unknown kind, or an option set that the kind does not take.
    """
    if config.model not in MODELS:
        raise ConfigError(
            f"Unknown model {config.model!r}. Valid models: {', '.join(MODELS)}."
        )
    _, accepted = MODELS[config.model]
    every = {name for _, names in MODELS.values() for name in names}
    options = dict(KIND_DEFAULTS[config.model])
    for name in sorted(every):
        value = getattr(config, name)
        if value is None:
            continue
        if name not in accepted:
            raise ConfigError(
                f"Model {config.model!r} takes no option {name!r}; "
                f"it takes: {', '.join(accepted)}."
            )
        options[name] = value
    return options


def _token_model(config, vocab_size: int, options: dict, masked_lm: bool):
    """The builder's model over token ids."""
    builder_name, _ = MODELS[config.model]
    builder = get_builder(builder_name)
    kind = config.model
    if kind in ("lstm", "gru"):
        return builder(
            (None,), 2, vocab_size=vocab_size, cell=kind, bidirectional=True, **options
        )
    if kind == "cnn":
        return builder((None,), 2, vocab_size=vocab_size, **options)
    if kind == "han":
        units = options.pop("units", None)
        if units is not None:
            options.update(word_units=units, sentence_units=units)
        shape = (config.max_sentences, config.max_words)
        return builder(shape, 2, vocab_size=vocab_size, **options)
    return builder(
        (config.max_tokens,),
        2,
        vocab_size=vocab_size,
        num_segments=0,
        masked_lm=masked_lm,
        **options,
    )


def make_vectorizer(config, vocabulary) -> ReviewVectorizer:
    """The text-to-ids layer for the config's model kind."""
    if config.model == "han":
        return ReviewVectorizer(
            vocabulary,
            max_sentences=config.max_sentences,
            max_words=config.max_words,
            name="vectorizer",
        )
    return ReviewVectorizer(
        vocabulary,
        max_tokens=config.max_tokens,
        cls_token=config.model == "bert_like",
        fixed_length=config.model == "bert_like",
        name="vectorizer",
    )


def uses_pretraining(config) -> bool:
    """Whether the config asks for masked-LM pretraining (bert_like only)."""
    return config.model == "bert_like" and config.pretrain_epochs > 0


@dataclasses.dataclass
class NgramFeatures:
    """What ``nblr`` is built from: the training split's n-gram vocabulary
    and each n-gram's naive-Bayes log-count ratio."""

    vocabulary: list[str]
    ratios: np.ndarray

    VOCABULARY_FILE = "vocabulary.txt"
    RATIOS_FILE = "nb_ratios.npy"

    @classmethod
    def compute(cls, config, texts: list[str], labels) -> NgramFeatures:
        """From the training texts: n-grams up to ``config.ngrams`` words in
        at least ``config.min_count`` reviews; ratios smoothed by ``nb_alpha``."""
        documents = ngram_documents(texts, config.ngrams)
        try:
            vocabulary = ngram_vocabulary(documents, min_count=config.min_count)
            features = binary_features(documents, vocabulary)
            ratios = log_count_ratios(features, labels, alpha=config.nb_alpha)
        except ValueError as err:
            raise ConfigError(str(err)) from None
        if not vocabulary:
            raise ConfigError(
                f"No n-gram occurs in min_count={config.min_count} training reviews."
            )
        return cls(vocabulary, ratios.astype("float32"))

    def save(self, folder: Path) -> Path:
        """Writes the folder (via a temporary one, renamed into place)."""
        folder = Path(folder)
        tmp = folder.with_name(f"tmp-{folder.name}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        (tmp / self.VOCABULARY_FILE).write_text(
            "\n".join(self.vocabulary) + "\n", encoding="utf-8"
        )
        np.save(tmp / self.RATIOS_FILE, self.ratios)
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
        return folder

    @classmethod
    def load(cls, folder: Path) -> NgramFeatures:
        folder = Path(folder)
        text = (folder / cls.VOCABULARY_FILE).read_text(encoding="utf-8")
        vocabulary = text.split("\n")[:-1]
        return cls(vocabulary, np.load(folder / cls.RATIOS_FILE))


# Companions of nblr (``companion=NAME``): a neural model trained first, in
# the prepare stage, and averaged with nblr's probabilities. ``cnn``: the best
# of the CNN settings tried on IMDB-sized data (wider embedding and filters,
# one layer, 600 words: about 2 validation points above the default CNN; it
# peaks after 2 epochs). ``cnn_wide``: Kim's three window widths over 800
# words, for a larger budget.
COMPANIONS = {
    "cnn": dict(
        model="cnn",
        embedding_dim=128,
        filters=128,
        kernel_sizes=(3, 5),
        conv_layers=1,
        dropout=0.5,
        max_tokens=600,
        batch_size=32,
        early_stopping_patience=1,
    ),
    "cnn_wide": dict(
        model="cnn",
        embedding_dim=128,
        filters=128,
        kernel_sizes=(3, 4, 5),
        conv_layers=1,
        dropout=0.5,
        max_tokens=800,
        batch_size=32,
        early_stopping_patience=1,
    ),
}


def companion_config(config):
    """The config the companion of an ``nblr`` config trains with: its
    :data:`COMPANIONS` settings, ``companion_epochs``, no schedule, and the
    rest of ``config`` (data, seed, vocabulary, optimizer)."""
    values = {name: None for _, names in MODELS.values() for name in names}
    values.update(companion=None, epochs=config.companion_epochs, schedule="constant")
    values.update(COMPANIONS[config.companion])
    return dataclasses.replace(config, **values)


def check_companion(config) -> None:
    """Raises ConfigError for a companion other than those of COMPANIONS (other
    kinds than nblr ignore the setting, so ``--set model=cnn`` works with the
    profiles that set one)."""
    if config.companion is None:
        return
    if config.companion not in COMPANIONS:
        raise ConfigError(
            f"Unknown companion {config.companion!r}. Valid companions: "
            f"{', '.join(COMPANIONS)}."
        )
    if not 0.0 < config.companion_weight < 1.0:
        raise ConfigError(
            f"companion_weight must be in (0, 1). Received: {config.companion_weight}"
        )


def build_nblr(config, features: NgramFeatures, companion=None) -> keras.Model:
    """Strings -> binary n-grams -> NB-weighted logistic regression; with a
    trained ``companion`` model (strings -> probabilities, frozen), its
    probabilities averaged in at inference (:class:`EnsembleAverage`)."""
    options = model_options(config)
    vectorizer = NgramVectorizer(
        ngrams=config.ngrams,
        vocabulary_size=len(features.vocabulary),
        name="vectorizer",
    )
    vectorizer.set_vocabulary(features.vocabulary)
    # Feature 0 is every n-gram outside the vocabulary: ratio 0, no weight.
    scale = np.concatenate([[0.0], features.ratios]).astype("float32")
    try:
        inner = get_builder("nb_logistic_regression")(
            (len(scale),), 2, scale=scale, name="nblr", **options
        )
    except ValueError as err:
        raise ConfigError(str(err)) from None
    texts = keras.Input(shape=(), dtype="string", name="texts")
    probabilities = inner(vectorizer(texts))
    if companion is not None:
        companion.trainable = False
        weight = config.companion_weight
        probabilities = EnsembleAverage([1.0 - weight, weight], name="ensemble")(
            [probabilities, companion(texts)]
        )
    return keras.Model(texts, probabilities, name="sentiment_nblr")


def build_sentiment_model(
    config, data, encoder: Path | None = None, ngram_features=None, companion=None
) -> keras.Model:
    """Strings ``(batch,)`` -> probabilities ``(batch, 2)``.

    For ``bert_like`` with ``pretrain_epochs > 0``, ``encoder`` is the weights
    file :func:`pretrain_encoder` wrote; the model starts from it. ``nblr``
    needs ``ngram_features`` (:class:`NgramFeatures`, from the prepare stage)
    and, with ``config.companion``, the trained ``companion`` model.
    """
    if config.model == "nblr":
        if ngram_features is None:
            raise ValueError(
                "model nblr needs the n-gram features of the prepare stage"
            )
        if (companion is None) != (config.companion is None):
            raise ValueError("companion model and config.companion go together")
        return build_nblr(config, ngram_features, companion)
    options = model_options(config)
    vectorizer = make_vectorizer(config, data.vocabulary)
    pretrain = uses_pretraining(config)
    try:
        inner = _token_model(config, vectorizer.vocabulary_size, options, pretrain)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    if pretrain:
        if encoder is None:
            raise ValueError("pretrain_epochs > 0 needs the pretrained encoder file")
        inner.load_weights(encoder)
        inner = keras.Model(
            inner.input, inner.output["classification"], name="bert_like"
        )
    texts = keras.Input(shape=(), dtype="string", name="texts")
    outputs = inner(vectorizer(texts))
    return keras.Model(texts, outputs, name=f"sentiment_{config.model}")


def pretrain_encoder(config, data, path: Path) -> Path:
    """Masked-LM pretraining of the ``bert_like`` model on the training and
    unlabeled texts; writes its weights to ``path`` (atomically)."""
    options = model_options(config)
    vectorizer = make_vectorizer(config, data.vocabulary)
    try:
        bert = _token_model(config, vectorizer.vocabulary_size, options, True)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    pretrain_masked_lm(bert, vectorizer, data.train.texts + data.unlabeled, config)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"tmp-{path.name}")
    bert.save_weights(tmp)
    tmp.replace(path)
    return path


def pretrain_masked_lm(bert, vectorizer, texts: list[str], config) -> keras.Model:
    """Trains ``bert``'s masked-LM head and encoder on ``texts`` (in place).

    BERT's corruption (:func:`~dltoolkit.models.bert.mask_tokens`): 15% of
    the words (``mask_rate``) are chosen, 80% of them become ``[MASK]``, 10% a
    random id; the loss counts the chosen positions only. Masks differ per
    batch and epoch (stateless seeds from the config seed and the step).
    """
    vocab = vectorizer.vocabulary
    mask_id, cls_id = vocab.index(MASK) + 2, vocab.index(CLS) + 2
    batches = max(1, -(-len(texts) // config.batch_size))
    ds = tf.data.Dataset.from_tensor_slices(tf.constant(texts, tf.string))
    ds = ds.shuffle(len(texts), seed=config.seed).batch(config.batch_size)
    ds = ds.map(vectorizer).repeat(config.pretrain_epochs).enumerate()

    def corrupt(step, ids):
        seed = tf.stack([tf.constant(config.seed, tf.int64), step])
        masked, labels, weights = mask_tokens(
            ids,
            vocab_size=vectorizer.vocabulary_size,
            mask_id=mask_id,
            special_ids=(0, cls_id),
            seed=seed,
            rate=config.mask_rate,
        )
        return masked, labels, weights

    ds = ds.map(corrupt).prefetch(tf.data.AUTOTUNE)
    mlm = keras.Model(bert.input, bert.output["masked_lm"], name="masked_lm_model")
    steady = dataclasses.replace(config, schedule="constant")
    optimizer, _ = make_optimizer(steady, batches)
    mlm.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    mlm.fit(ds, epochs=1, shuffle=False, verbose=0)
    return mlm
