"""Image-captioning data shared by every source: splits, vocabulary, pipelines.

Every loader (:mod:`dltoolkit.data.captions.loaders`) returns
:class:`CaptionData`. Captions are normalized (:func:`normalize_caption`) and
mapped to ids with one vocabulary whose first ids are fixed: 0 padding,
1 ``[UNK]``, 2 ``[start]``, 3 ``[end]``.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import re

import numpy as np
import tensorflow as tf

from dltoolkit.data.captions.scenes import Scene
from dltoolkit.data.images import augment_layer, decode_image, prepare_image

PAD_ID, UNK_ID, START_ID, END_ID = 0, 1, 2, 3
SPECIAL_TOKENS = ("", "[UNK]", "[start]", "[end]")
FIRST_WORD_ID = 4
_NOT_WORD = re.compile(r"[^a-z0-9']+")


@dataclasses.dataclass
class CaptionSplit:
    """Images with their reference captions.

    Attributes:
        images: ``uint8 [n, h, w, 3]`` (embedded data) or a list of image file
            paths (real data, decoded when the pipeline runs).
        references: normalized reference captions per image (one or more).
        scenes: the ground truth per image (embedded data), else None.
    """

    images: np.ndarray | list[str]
    references: list[list[str]]
    scenes: list[Scene] | None = None

    def __len__(self) -> int:
        return len(self.references)


@dataclasses.dataclass
class CaptionData:
    """The three splits, the vocabulary and a description of the source."""

    train: CaptionSplit
    val: CaptionSplit
    test: CaptionSplit
    source: str
    vocabulary: list[str] = dataclasses.field(default_factory=list)

    @property
    def sizes(self) -> dict[str, int]:
        return {k: len(getattr(self, k)) for k in ("train", "val", "test")}


def normalize_caption(text: str) -> str:
    """Lowercase words: punctuation and other symbols become spaces."""
    return " ".join(_NOT_WORD.sub(" ", text.lower()).split())


def build_vocabulary(references, max_size: int) -> list[str]:
    """Special tokens, then the training words by frequency (ties: alphabetical).

    Args:
        references: the training split's captions (lists per image).
        max_size: vocabulary size cap, special tokens included (rarer words
            become ``[UNK]``).
    """
    if max_size <= FIRST_WORD_ID:
        raise ValueError(
            f"vocab_size must be more than {FIRST_WORD_ID}. Received: {max_size}"
        )
    counts = collections.Counter(
        w for refs in references for c in refs for w in c.split()
    )
    words = sorted(counts, key=lambda w: (-counts[w], w))
    return [*SPECIAL_TOKENS, *words[: max_size - FIRST_WORD_ID]]


def encode_captions(references, vocabulary, max_length: int, num_refs: int):
    """Caption ids ``int32 [n, num_refs, max_length + 2]`` and reference counts.

    Each row is ``[start] words... [end]`` then padding (cut to
    ``max_length`` words). Images with fewer than ``num_refs`` references
    repeat them; :func:`make_pipeline` draws among the first ``counts[i]``.
    """
    index = {w: i for i, w in enumerate(vocabulary)}
    ids = np.zeros((len(references), num_refs, max_length + 2), np.int32)
    counts = np.zeros(len(references), np.int32)
    for i, refs in enumerate(references):
        counts[i] = min(len(refs), num_refs)
        for j in range(num_refs):
            words = refs[j % len(refs)].split()[:max_length]
            row = [START_ID, *(index.get(w, UNK_ID) for w in words), END_ID]
            ids[i, j, : len(row)] = row
    return ids, counts


def image_dataset(split: CaptionSplit, image_size: int) -> tf.data.Dataset:
    """``float32 [image_size, image_size, 3]`` images of a split, in order."""
    if isinstance(split.images, np.ndarray):
        ds = tf.data.Dataset.from_tensor_slices(split.images)
    else:
        paths = tf.data.Dataset.from_tensor_slices(list(split.images))
        ds = paths.map(lambda p: decode_image(tf.io.read_file(p)))
    return ds.map(
        lambda x: prepare_image(x, image_size, 3), num_parallel_calls=tf.data.AUTOTUNE
    )


def make_pipeline(
    split: CaptionSplit,
    vocabulary: list[str],
    *,
    image_size: int,
    max_length: int,
    batch_size: int,
    shuffle: bool,
    seed: int = 0,
    num_refs: int = 5,
    captions_per_image: int = 1,
    augment: float = 0.0,
) -> tf.data.Dataset:
    """Batches of ``({"image", "tokens"}, labels)`` for teacher forcing.

    Each epoch pairs every image with ``captions_per_image`` of its
    references: distinct ones drawn at random when ``shuffle`` (an image
    with fewer references repeats them), else the first ones in order;
    ``tokens`` is ``[start] words``, the labels are ``words [end]``, both
    ``int32 [max_length + 1]``, 0-padded. ``augment`` > 0 flips, shifts and
    rotates the images of each batch at random (see
    :func:`dltoolkit.data.images.augment_layer`); a caption names what it
    names on either side, so a mirrored photo keeps its references.
    """
    if captions_per_image < 1:
        raise ValueError(
            f"captions_per_image must be >= 1. Received: {captions_per_image}"
        )
    ids, counts = encode_captions(split.references, vocabulary, max_length, num_refs)
    images = image_dataset(split, image_size).cache()
    captions = tf.data.Dataset.from_tensor_slices((ids, counts))
    ds = tf.data.Dataset.zip(images, captions)
    k = captions_per_image
    if shuffle:
        ds = ds.shuffle(min(len(split), 8192), seed=seed, reshuffle_each_iteration=True)

    def pairs(image, caption):
        caption_ids, count = caption
        if shuffle:
            order = tf.random.shuffle(tf.range(count))
        else:
            order = tf.range(count)
        rows = tf.gather(caption_ids, tf.gather(order, tf.range(k) % count))
        images = tf.repeat(image[tf.newaxis], k, axis=0)
        return tf.data.Dataset.from_tensor_slices(
            ({"image": images, "tokens": rows[:, :-1]}, rows[:, 1:])
        )

    ds = ds.flat_map(pairs)
    if shuffle and k > 1:  # the k captions of an image apart in the batches
        ds = ds.shuffle(min(len(split) * k, 4096), seed=seed + 1)
    ds = ds.batch(batch_size)
    if augment > 0:
        move = augment_layer(augment, seed, flip=True)
        ds = ds.map(
            lambda x, y: ({**x, "image": move(x["image"], training=True)}, y),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    ds = ds.apply(
        tf.data.experimental.assert_cardinality(
            count_batches(split, batch_size, captions_per_image)
        )
    )
    return ds.prefetch(tf.data.AUTOTUNE)


def count_batches(split: CaptionSplit, batch_size: int, captions_per_image: int = 1):
    return math.ceil(len(split) * captions_per_image / batch_size)
