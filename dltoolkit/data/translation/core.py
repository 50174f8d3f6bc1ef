"""Translation data shared by every source: pairs, splits, tokenization, pipelines.

Every loader returns :class:`TranslationData`: train/validation/test lists of
``(source, target)`` strings (split by :func:`split_pairs`). Text is tokenized
by Keras ``TextVectorization`` with :func:`standardize` (inside the model, so
an export takes raw strings); :func:`detokenize` turns decoded tokens back into
a sentence. The loaders are in :mod:`dltoolkit.data.translation.loaders`.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter

import keras
import tensorflow as tf

from dltoolkit.errors import DataError

START, END = "[start]", "[end]"
# TextVectorization ids: 0 padding, 1 [UNK], then the vocabulary given to it.
PAD_ID, UNK_ID, START_ID, END_ID = 0, 1, 2, 3
FIRST_WORD_ID = 4
_PUNCTUATION = r"""([.,!?¿¡;:"()«»…])"""
_OPENING = "¿¡(«"
# Length boundaries (tokens) of the batches of similar-length pairs.
BUCKETS = (6, 8, 10, 12, 14, 17, 21, 30)


@dataclasses.dataclass
class TranslationData:
    """Train/validation/test sentence pairs and their vocabularies.

    Attributes:
        train, val, test: lists of ``(source, target)`` strings.
        source: a one-line description of where the pairs came from.
        source_lang, target_lang: language names or codes.
        source_vocab, target_vocab: token lists for ``TextVectorization``
            (set by :func:`with_vocabularies`; the target's starts with
            ``[start]`` and ``[end]``).
        splits: how the splits were made, for reports.
        subword_model: the serialized SentencePiece model both sides share
            (set by :func:`~dltoolkit.data.translation.subwords.with_subwords`),
            or None for word vocabularies.
    """

    train: list
    val: list
    test: list
    source: str
    source_lang: str = "source"
    target_lang: str = "target"
    source_vocab: list = dataclasses.field(default_factory=list)
    target_vocab: list = dataclasses.field(default_factory=list)
    splits: str = "no sentence shared between splits"
    subword_model: bytes | None = None

    @property
    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


# === Tokenization ===


@keras.saving.register_keras_serializable(package="dltoolkit", name="standardize")
def standardize(text):
    """Lowercases and splits punctuation off words (a ``TextVectorization`` step).

    Invalid UTF-8 bytes become U+FFFD instead of failing; ``"¿Dónde está?"``
    becomes ``"¿ dónde está ?"``.
    """
    text = tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace")
    text = tf.strings.lower(text, encoding="utf-8")
    text = tf.strings.regex_replace(text, _PUNCTUATION, r" \1 ")
    text = tf.strings.regex_replace(text, r"\s+", " ")
    return tf.strings.strip(text)


def detokenize(text, *, english: bool = False):
    """Joins punctuation back to words and capitalizes the sentence.

    ``"¿ dónde está el perro ?"`` becomes ``"¿Dónde está el perro?"``; with
    ``english``, the pronoun ``i`` becomes ``I``. Works on string tensors.
    """
    text = tf.strings.regex_replace(text, r" ([.,!?;:…)»])", r"\1")
    text = tf.strings.regex_replace(text, r"([¿¡(«]) ", r"\1")
    if english:
        text = tf.strings.regex_replace(text, r"(^|[ ¿¡(«])i([ .,!?;:']|$)", r"\1I\2")
    prefix = tf.strings.regex_replace(text, f"^([{_OPENING}]*)(?s:.*)$", r"\1")
    rest = tf.strings.regex_replace(text, f"^[{_OPENING}]*", "")
    first = tf.strings.substr(rest, 0, 1, unit="UTF8_CHAR")
    tail = tf.strings.regex_replace(rest, "^(?s:.)", "")
    return tf.strings.join([prefix, tf.strings.upper(first, encoding="utf-8"), tail])


def tokenize(texts: list[str]) -> list[list[str]]:
    """The tokens ``TextVectorization`` sees for each text (standardized, split)."""
    if not texts:
        return []
    out = standardize(tf.constant(texts)).numpy()
    return [t.decode("utf-8").split() for t in out]


def build_vocabulary(texts: list[str], max_size: int, *, reserved=()) -> list[str]:
    """The most frequent tokens of ``texts`` (ties in alphabetical order).

    Args:
        texts: training sentences.
        max_size: the vocabulary size with padding and ``[UNK]`` counted.
        reserved: tokens placed first (e.g. ``[start]``, ``[end]``).

    Returns:
        The list for ``TextVectorization(vocabulary=...)`` (padding and
        ``[UNK]`` excluded: the layer adds them).
    """
    if max_size < len(reserved) + 3:
        raise DataError(
            f"A vocabulary needs room for padding, [UNK], {len(reserved)} reserved "
            f"tokens and one word. Received: size {max_size}"
        )
    counts = Counter(t for tokens in tokenize(texts) for t in tokens)
    for token in (*reserved, "", "[UNK]"):
        counts.pop(token, None)
    ordered = sorted(counts, key=lambda t: (-counts[t], t))
    return [*reserved, *ordered[: max_size - 2 - len(reserved)]]


def with_vocabularies(data: TranslationData, source_size: int, target_size: int):
    """Sets ``data.source_vocab`` and ``data.target_vocab`` from the train split."""
    data.source_vocab = build_vocabulary([s for s, _ in data.train], source_size)
    data.target_vocab = build_vocabulary(
        [t for _, t in data.train], target_size, reserved=(START, END)
    )
    return data


def vectorizer(vocabulary: list[str], length: int | None, name: str | None = None):
    """A ``TextVectorization`` layer: strings ``(B,)`` -> int ids.

    Args:
        vocabulary: the tokens (from :func:`build_vocabulary`).
        length: the output length ``(B, length)``; None pads each batch to its
            longest sentence.
        name: the layer name.
    """
    return keras.layers.TextVectorization(
        standardize=standardize,
        split="whitespace",
        output_mode="int",
        output_sequence_length=length,
        vocabulary=vocabulary,
        name=name,
    )


def token_count(text):
    """Tokens of one sentence after standardization (a scalar int32)."""
    return tf.size(tf.strings.split(standardize(text)), out_type=tf.int32)


def target_labels(ids):
    """Word ids ``(B, T)`` -> labels ``(B, T + 1)``: the words, then ``[end]``.

    The decoder input is ``[start]`` then the words; at every step the label is
    the next token, so the label sequence ends with ``[end]`` (then padding).
    """
    ids = tf.cast(ids, tf.int32)
    lengths = tf.math.count_nonzero(ids, axis=1, dtype=tf.int32)  # (B,)
    padded = tf.pad(ids, [[0, 0], [0, 1]])  # (B, T + 1)
    return padded + END_ID * tf.one_hot(lengths, tf.shape(padded)[1], dtype=tf.int32)


def count_batches(pairs, batch_size: int, *, fixed_length: bool = False) -> int:
    """Batches :func:`make_pipeline` yields per epoch (buckets end with a part)."""
    if fixed_length:
        return -(-len(pairs) // batch_size)
    sources = tokenize([s for s, _ in pairs])
    targets = tokenize([t for _, t in pairs])
    sizes = [max(len(a), len(b)) for a, b in zip(sources, targets)]
    buckets = Counter(sum(n >= b for b in BUCKETS) for n in sizes)
    return sum(-(-count // batch_size) for count in buckets.values())


def make_pipeline(
    pairs,
    target_vocab: list[str],
    max_target_length: int,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int = 0,
    fixed_length: bool = False,
) -> tf.data.Dataset:
    """Batches ``({"source": s, "target": t}, labels)`` for teacher forcing.

    Args:
        pairs: ``(source, target)`` strings.
        target_vocab: the target vocabulary (``[start]``, ``[end]`` first),
            or a layer that turns target strings ``(B,)`` into ids ``(B, T)``
            (a :class:`~dltoolkit.data.translation.subwords.SubwordVectorizer`).
        max_target_length: targets are cut to this many tokens.
        batch_size: pairs per batch.
        shuffle: reshuffle each epoch.
        seed: the shuffle seed.
        fixed_length: labels always ``(B, max_target_length + 1)``; otherwise
            pairs of similar length are batched together and each batch is
            padded to its longest target only (much less padding to run RNNs
            over).

    Returns:
        A dataset of ``({"source": (B,), "target": (B,)}, labels (B, T + 1))``.
    """
    if callable(target_vocab):
        targets = target_vocab
    else:
        length = max_target_length if fixed_length else None
        targets = vectorizer(target_vocab, length)
    ds = tf.data.Dataset.from_tensor_slices(
        ([s for s, _ in pairs], [t for _, t in pairs])
    )
    if shuffle:
        ds = ds.shuffle(len(pairs), seed=seed, reshuffle_each_iteration=True)
    if fixed_length:
        ds = ds.batch(batch_size)
    else:
        ds = ds.bucket_by_sequence_length(
            lambda s, t: tf.maximum(token_count(s), token_count(t)),
            bucket_boundaries=list(BUCKETS),
            bucket_batch_sizes=[batch_size] * (len(BUCKETS) + 1),
        )
        # Known cardinality: Keras then counts steps and warns of nothing.
        ds = ds.apply(
            tf.data.experimental.assert_cardinality(count_batches(pairs, batch_size))
        )

    def to_inputs(s, t):
        ids = targets(t)[:, :max_target_length]  # (B, T)
        return {"source": s, "target": t}, target_labels(ids)

    ds = ds.map(to_inputs, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


# === Splits ===


def split_pairs(pairs, *, seed: int, val_fraction: float, test_fraction: float):
    """Train/validation/test lists that share no source and no target sentence.

    Pairs are grouped by their (standardized) source, so the translations of
    one sentence stay in one split; validation and test pairs whose target
    also occurs in training are dropped.
    """
    groups: dict[str, list] = {}
    for pair in pairs:
        groups.setdefault(" ".join(pair[0].lower().split()), []).append(pair)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    n = len(keys)
    n_test = max(1, round(n * test_fraction))
    n_val = max(1, round(n * val_fraction))
    if n < n_test + n_val + 1:
        raise DataError(
            f"{n} distinct source sentences are too few to split into train, "
            "validation and test (at least 3)."
        )
    chunks = [keys[n_test + n_val :], keys[n_test : n_test + n_val], keys[:n_test]]
    train, val, test = ([p for k in chunk for p in groups[k]] for chunk in chunks)
    seen = {" ".join(t.lower().split()) for _, t in train}
    val = [p for p in val if " ".join(p[1].lower().split()) not in seen]
    test = [p for p in test if " ".join(p[1].lower().split()) not in seen]
    if not val or not test:
        raise DataError("Too few distinct pairs left for validation and test.")
    return train, val, test
