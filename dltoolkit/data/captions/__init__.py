"""Image-captioning data: embedded scenes, Flickr8k folders, TFDS; pipelines.

- :mod:`~dltoolkit.data.captions.core`: :class:`CaptionData` /
  :class:`CaptionSplit`, caption normalization, the vocabulary and the
  teacher-forcing pipelines;
- :mod:`~dltoolkit.data.captions.scenes`: the embedded scene generator;
- :mod:`~dltoolkit.data.captions.files`: the Flickr8k layout and TFDS;
- :mod:`~dltoolkit.data.captions.loaders`: :func:`load_captions`, which
  dispatches between the sources.
"""

from dltoolkit.data.captions.core import (
    END_ID,
    FIRST_WORD_ID,
    PAD_ID,
    SPECIAL_TOKENS,
    START_ID,
    UNK_ID,
    CaptionData,
    CaptionSplit,
    build_vocabulary,
    count_batches,
    encode_captions,
    image_dataset,
    make_pipeline,
    normalize_caption,
)
from dltoolkit.data.captions.files import (
    load_flickr8k,
    load_tfds_captions,
    read_captions_file,
)
from dltoolkit.data.captions.loaders import load_captions, load_scenes

__all__ = [
    "END_ID",
    "FIRST_WORD_ID",
    "PAD_ID",
    "SPECIAL_TOKENS",
    "START_ID",
    "UNK_ID",
    "CaptionData",
    "CaptionSplit",
    "build_vocabulary",
    "count_batches",
    "encode_captions",
    "image_dataset",
    "load_captions",
    "load_flickr8k",
    "load_scenes",
    "load_tfds_captions",
    "make_pipeline",
    "normalize_caption",
    "read_captions_file",
]
