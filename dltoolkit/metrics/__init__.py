"""Evaluation metrics for machine translation and speech recognition.

Pure Python/NumPy functions. BLEU and chrF equal sacreBLEU's, WER and CER
jiwer's, NIST NLTK's; METEOR (exact matching) and LEPOR follow their papers
and the course (DSE 3151, "Evaluation of machine translation"). Corpus
functions take hypotheses and sacreBLEU-style reference streams:
``references[k][i]`` is the k-th reference of segment i.
"""

from dltoolkit.metrics.bleu import BLEUScore, compute_bleu, corpus_bleu, sentence_bleu
from dltoolkit.metrics.chrf import CHRFScore, corpus_chrf, sentence_chrf
from dltoolkit.metrics.lepor import corpus_lepor, sentence_lepor
from dltoolkit.metrics.meteor import corpus_meteor, sentence_meteor
from dltoolkit.metrics.nist import corpus_nist, sentence_nist
from dltoolkit.metrics.tokenizers import TOKENIZERS, get_tokenizer, tokenize
from dltoolkit.metrics.wer import cer, edit_distance, wer

__all__ = [
    "BLEUScore",
    "CHRFScore",
    "TOKENIZERS",
    "cer",
    "compute_bleu",
    "corpus_bleu",
    "corpus_chrf",
    "corpus_lepor",
    "corpus_meteor",
    "corpus_nist",
    "edit_distance",
    "get_tokenizer",
    "sentence_bleu",
    "sentence_chrf",
    "sentence_lepor",
    "sentence_meteor",
    "sentence_nist",
    "tokenize",
    "wer",
]
