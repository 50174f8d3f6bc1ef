"""Sentiment data: the generated review corpus, IMDB (TFDS or aclImdb), CSV/TSV.

- :mod:`~dltoolkit.data.sentiment.core`: :class:`SentimentData` /
  :class:`TextSplit`, keyword tags and the batch pipelines;
- :mod:`~dltoolkit.data.sentiment.reviews`: the generated review corpus;
- :mod:`~dltoolkit.data.sentiment.files`: aclImdb folders and CSV/TSV tables;
- :mod:`~dltoolkit.data.sentiment.loaders`: :func:`load_sentiment`, which
  dispatches between the sources;
- :mod:`~dltoolkit.data.sentiment.vectorizer`: :class:`ReviewVectorizer`, raw
  text to token ids inside the model;
- :mod:`~dltoolkit.data.sentiment.ngrams`: word n-gram vocabularies,
  naive-Bayes log-count ratios and :class:`NgramVectorizer` (raw text to
  sparse binary n-gram features inside the model).
"""

from dltoolkit.data.sentiment.core import (
    CLASS_NAMES,
    TAGGER_NOTE,
    SentimentData,
    TextSplit,
    make_pipeline,
    negated_sentiment,
    sentiment_lexicon,
    tag_reviews,
    text_batches,
)
from dltoolkit.data.sentiment.loaders import (
    IMDB_TFDS,
    load_acl_imdb,
    load_generated,
    load_sentiment,
    load_table,
    load_tfds_reviews,
)
from dltoolkit.data.sentiment.reviews import TAGS

__all__ = [
    "CLASS_NAMES",
    "IMDB_TFDS",
    "TAGS",
    "TAGGER_NOTE",
    "SentimentData",
    "TextSplit",
    "load_acl_imdb",
    "load_generated",
    "load_sentiment",
    "load_table",
    "load_tfds_reviews",
    "make_pipeline",
    "negated_sentiment",
    "sentiment_lexicon",
    "tag_reviews",
    "text_batches",
]
