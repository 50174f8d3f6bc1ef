"""The English-Spanish grammar behind the embedded translation corpus.

:mod:`~dltoolkit.data.translation.en_es.lexicon` (the bilingual word tables),
:mod:`~dltoolkit.data.translation.en_es.morphology` (word forms: plurals,
agreement, conjugation), :mod:`~dltoolkit.data.translation.en_es.grammar`
(sentence structures rendered into both languages) and
:mod:`~dltoolkit.data.translation.en_es.corpus` (a seeded draw of distinct
pairs: :func:`generate_pairs`).
"""

from dltoolkit.data.translation.en_es.corpus import generate_pairs

__all__ = ["generate_pairs"]
