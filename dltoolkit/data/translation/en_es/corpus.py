"""Random sentences from the English-Spanish grammar: the embedded parallel corpus.

    >>> pairs = generate_pairs(3, seed=0)
    >>> len(pairs), len({en for en, _ in pairs})
    (3, 3)

The draw is deterministic for a seed. Sentences pick their words by meaning
(a verb's objects, an adjective's nouns, a preposition's places), so the
corpus reads like simple real text; with the lexicon's several hundred words
per language it holds far more than 50,000 distinct pairs.
"""

from __future__ import annotations

import random

from dltoolkit.data.translation.en_es import lexicon as lex
from dltoolkit.data.translation.en_es.grammar import (
    ANIMAL_VERBS,
    MOTION_PREPS,
    Clause,
    NounPhrase,
    Sentence,
    render,
)
from dltoolkit.data.translation.en_es.morphology import ADJECTIVES, NOUNS, TENSES, VERBS

# How often each sentence form is drawn.
FORM_WEIGHTS = {
    "statement": 0.55,
    "question": 0.15,
    "what": 0.08,
    "who": 0.06,
    "where": 0.05,
    "there": 0.08,
    "is_there": 0.03,
}
MAX_WORDS = 18  # tokens, punctuation included, on either side


def _of_kinds(kinds) -> list:
    return [n for n in NOUNS if n.kinds & set(kinds)]


_BY_KIND = {}


def _nouns(kinds) -> list:
    key = frozenset(kinds)
    if key not in _BY_KIND:
        _BY_KIND[key] = _of_kinds(kinds)
    return _BY_KIND[key]


class _Drawer:
    """Draws sentence structures with one ``random.Random``."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.transitive = [v for v in VERBS if v.objects]
        self.intransitive = [v for v in VERBS if not v.objects]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def noun_phrase(self, kinds, *, indefinite=False, adjective=0.3) -> NounPhrase:
        rng = self.rng
        noun = rng.choice(_nouns(kinds))
        plural = self.chance(0.35)
        dets = [
            d
            for d, (_, numbers) in lex.DETERMINERS.items()
            if ("p" if plural else "s") in numbers
            and (d in lex.INDEFINITE) >= indefinite
        ]
        det = "the" if not indefinite and self.chance(0.5) else rng.choice(dets)
        adj = None
        if self.chance(adjective):
            fitting = [a for a in ADJECTIVES if a.kinds & noun.kinds]
            adj = rng.choice(fitting) if fitting else None
        return NounPhrase(noun, plural, det, adj)

    def subject(self, verb, *, pronoun=0.35) -> NounPhrase:
        if self.chance(pronoun):
            return NounPhrase(pronoun=self.rng.choice(list(lex.PRONOUNS)))
        kinds = ["person", "animal"] if verb.en in ANIMAL_VERBS else ["person"]
        return self.noun_phrase(kinds)

    def tense(self, verb) -> str:
        tenses = [t for t in TENSES if not (t == "past" and verb.tag("nopast"))]
        return self.rng.choice(tenses)

    def pp(self, verb):
        rng = self.rng
        if verb is not None and verb.motion:
            prep = rng.choice(MOTION_PREPS.get(verb.en, ("to", "from")))
            return prep, self.noun_phrase(["place"], adjective=0.15)
        prep = rng.choice(list(lex.PREPOSITIONS))
        return prep, self.noun_phrase(lex.PREPOSITIONS[prep][1], adjective=0.15)

    def adverb(self, tense: str):
        return self.rng.choice(list(lex.ADVERBS[tense])) if self.chance(0.15) else None

    def clause(self, *, transitive=None, negation=0.25) -> Clause:
        if transitive is None:
            transitive = self.chance(0.7)
        verb = self.rng.choice(self.transitive if transitive else self.intransitive)
        tense = self.tense(verb)
        clause = Clause(self.subject(verb), verb, tense, self.chance(negation))
        if verb.objects:
            clause.obj = self.noun_phrase(verb.objects)
        if self.chance(0.9 if verb.motion else 0.3 if verb.objects else 0.6):
            clause.pp = self.pp(verb)
        clause.adverb = self.adverb(tense)
        return clause

    def copula(self, *, negation=0.25) -> Clause:
        adjective = self.rng.choice(ADJECTIVES)
        if "person" in adjective.kinds and self.chance(0.3):
            subject = NounPhrase(pronoun=self.rng.choice(list(lex.PRONOUNS)))
        else:
            subject = self.noun_phrase(adjective.kinds, adjective=0.0)
        tense = self.rng.choice(TENSES)
        clause = Clause(subject, None, tense, self.chance(negation))
        clause.adjective = adjective
        clause.adverb = self.adverb(tense)
        return clause

    def relative(self, np: NounPhrase) -> None:
        """Attaches a subject relative (who/that ...) or an object relative."""
        takes_object = [v for v in self.transitive if v.objects & np.noun.kinds]
        if takes_object and self.chance(0.4):  # the book that my brother bought
            verb = self.rng.choice(takes_object)
            subject = self.subject(verb, pronoun=0.4)
            clause = Clause(subject, verb, self.tense(verb), self.chance(0.1), np)
        else:  # the man who eats the bread
            animate = np.noun.kinds & {"person", "animal"}
            verbs = [
                v
                for v in VERBS
                if animate
                and ("person" in animate or v.en in ANIMAL_VERBS)
                and not v.motion
            ]
            if not verbs:
                return
            verb = self.rng.choice(verbs)
            clause = Clause(np, verb, self.tense(verb), self.chance(0.1))
            if verb.objects:
                clause.obj = self.noun_phrase(verb.objects, adjective=0.1)
        np.relative = clause

    def sentence(self) -> Sentence:
        forms, weights = zip(*FORM_WEIGHTS.items())
        form = self.rng.choices(forms, weights)[0]
        if form == "statement":
            clause = self.copula() if self.chance(0.2) else self.clause()
            phrases = [p for p in (clause.subject, clause.obj) if p and p.noun]
            if phrases and self.chance(0.25):
                self.relative(self.rng.choice(phrases))
            return Sentence(clause, form)
        if form in ("there", "is_there"):
            tense = self.rng.choice(TENSES)
            clause = Clause(None, None, tense)
            clause.obj = self.noun_phrase(
                ["person", "animal", "object", "food", "vehicle"], indefinite=True
            )
            clause.pp = self.pp(None)
            clause.adverb = self.adverb(tense)
            return Sentence(clause, form)
        if form == "question":
            clause = self.copula(negation=0) if self.chance(0.25) else None
            return Sentence(clause or self.clause(negation=0), form)
        if form == "what":
            return Sentence(self.clause(transitive=True, negation=0), form)
        if form == "who":
            clause = self.clause(negation=0)
            clause.subject = NounPhrase(pronoun="3s_m")  # replaced by who/quién
            return Sentence(clause, form)
        clause = self.clause(negation=0)  # where
        while clause.verb.motion:
            clause = self.clause(negation=0)
        clause.pp = None
        return Sentence(clause, form)


def generate_pairs(n: int, *, seed: int = 0) -> list[tuple[str, str]]:
    """``n`` distinct (English, Spanish) sentence pairs, the same for a seed.

    No English and no Spanish sentence occurs twice, and no sentence is longer
    than :data:`MAX_WORDS` tokens on either side.

    Args:
        n: the number of pairs.
        seed: the random seed.

    Returns:
        A list of ``(english, spanish)`` strings, e.g. ``("The red cars are
        fast.", "Los coches rojos son rápidos.")``.
    """
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative integer. Received: n={n!r}")
    drawer = _Drawer(random.Random(seed))
    pairs, seen_en, seen_es = [], set(), set()
    misses = 0
    while len(pairs) < n:
        en, es = render(drawer.sentence())
        if en in seen_en or es in seen_es or _too_long(en) or _too_long(es):
            misses += 1
            if misses > 20 * n + 1000:
                raise ValueError(f"The grammar cannot produce {n} distinct pairs.")
            continue
        seen_en.add(en)
        seen_es.add(es)
        pairs.append((en, es))
    return pairs


def _too_long(text: str) -> bool:
    return len(text.split()) + 1 + text.startswith("¿") > MAX_WORDS
