"""Parallel text for translation: embedded corpus, pair files, TFDS; tokenization.

- :mod:`~dltoolkit.data.translation.core`: :class:`TranslationData`, the
  splits, tokenization (``TextVectorization`` with :func:`standardize`,
  :func:`detokenize`) and the teacher-forcing pipelines;
- :mod:`~dltoolkit.data.translation.files`: Tatoeba/Anki pair files and TFDS;
- :mod:`~dltoolkit.data.translation.subwords`: SentencePiece subword
  vocabularies learned from the train split, run in the graph (cased text);
- :mod:`~dltoolkit.data.translation.loaders`: the embedded corpus and
  :func:`load_translation`, which dispatches between the sources;
- :mod:`~dltoolkit.data.translation.en_es`: the English-Spanish grammar that
  generates the embedded corpus.
"""

from dltoolkit.data.translation.core import (
    BUCKETS,
    END,
    END_ID,
    FIRST_WORD_ID,
    PAD_ID,
    START,
    START_ID,
    UNK_ID,
    TranslationData,
    build_vocabulary,
    count_batches,
    detokenize,
    make_pipeline,
    split_pairs,
    standardize,
    target_labels,
    token_count,
    tokenize,
    vectorizer,
    with_vocabularies,
)
from dltoolkit.data.translation.files import (
    load_pairs_file,
    load_tfds_translation,
    read_pairs_file,
)
from dltoolkit.data.translation.loaders import load_embedded, load_translation
from dltoolkit.data.translation.subwords import (
    SubwordVectorizer,
    train_subwords,
    with_subwords,
)

__all__ = [
    "BUCKETS",
    "END",
    "END_ID",
    "FIRST_WORD_ID",
    "PAD_ID",
    "START",
    "START_ID",
    "SubwordVectorizer",
    "UNK_ID",
    "TranslationData",
    "build_vocabulary",
    "count_batches",
    "detokenize",
    "load_embedded",
    "load_pairs_file",
    "load_tfds_translation",
    "load_translation",
    "make_pipeline",
    "read_pairs_file",
    "split_pairs",
    "standardize",
    "target_labels",
    "token_count",
    "tokenize",
    "train_subwords",
    "vectorizer",
    "with_subwords",
    "with_vocabularies",
]
