"""The sentiment models: raw strings -> ReviewVectorizer -> a registered builder.

Every model kind takes a batch of review strings and returns the two class
probabilities (negative, positive); the builder's token model is nested under
its own name (``rnn``, ``text_cnn``, ``han``, ``bert_like``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import keras
import tensorflow as tf

from dltoolkit.data.sentiment.vectorizer import CLS, MASK, ReviewVectorizer
from dltoolkit.errors import ConfigError
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
}
# Sizes for 2 CPU cores, used for options left None (others: the builder's).
KIND_DEFAULTS = {
    "lstm": dict(embedding_dim=32, units=32),
    "gru": dict(embedding_dim=32, units=32),
    "cnn": dict(embedding_dim=64, filters=64, kernel_sizes=(3, 5), conv_layers=2),
    "han": dict(embedding_dim=32, units=32),
    "bert_like": dict(num_layers=2, d_model=64, num_heads=4, d_ff=128, dropout=0.1),
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


def build_sentiment_model(config, data, encoder: Path | None = None) -> keras.Model:
    """Strings ``(batch,)`` -> probabilities ``(batch, 2)``.

    For ``bert_like`` with ``pretrain_epochs > 0``, ``encoder`` is the weights
    file :func:`pretrain_encoder` wrote; the model starts from it.
    """
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
