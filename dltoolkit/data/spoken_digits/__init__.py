"""Spoken digit strings: an embedded synthetic corpus plus real-data loaders.

- :mod:`~dltoolkit.data.spoken_digits.core`: the digit words,
  :class:`Utterance`, :class:`SpokenDigits`, the cache folder and
  :func:`combine` (several sources as one corpus);
- :mod:`~dltoolkit.data.spoken_digits.synthetic`: the embedded corpus, spoken
  by eSpeak NG (:mod:`dltoolkit.audio.espeak`) and cached;
- :mod:`~dltoolkit.data.spoken_digits.files`: the Free Spoken Digit Dataset
  folder layout (index or speaker split) and TFDS ``spoken_digit`` /
  ``speech_commands``.
"""

from dltoolkit.data.spoken_digits.core import (
    DIGIT_WORDS,
    SpokenDigits,
    Utterance,
    cache_dir,
    combine,
)
from dltoolkit.data.spoken_digits.files import (
    fsdd_speakers,
    held_out_speakers,
    load_fsdd_folder,
    load_tfds_digits,
)
from dltoolkit.data.spoken_digits.synthetic import (
    ACCENTS,
    GENERATOR_VERSION,
    SNRS_DB,
    VARIANTS,
    VOICE_SETS,
    embedded_corpus,
    synthesize_split,
)

__all__ = [
    "ACCENTS",
    "DIGIT_WORDS",
    "GENERATOR_VERSION",
    "SNRS_DB",
    "VARIANTS",
    "VOICE_SETS",
    "SpokenDigits",
    "Utterance",
    "cache_dir",
    "combine",
    "embedded_corpus",
    "fsdd_speakers",
    "held_out_speakers",
    "load_fsdd_folder",
    "load_tfds_digits",
    "synthesize_split",
]
